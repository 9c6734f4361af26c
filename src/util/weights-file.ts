/**
 * Reading a weights file (a sladet checkpoint, a YOLOv5 `.pt`, the seed's `.pth`) into memory, with the errors a user
 * can act on: a missing file, a folder, a FIFO or a device (`/dev/zero` would be read forever), a file too large to
 * hold. Every reader of weights goes through here, so that `--weights` and `--resume` fail as `val` and `detect` do.
 */
import { constants } from "node:buffer";
import { closeSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import { ConfigError } from "./errors.js";

/**
 * Largest weights file read: Node's largest buffer (4 GiB on 64-bit). A checkpoint is read whole; YOLOv5x6's `.pt`
 * with its optimizer state is about 0.5 GiB.
 */
export const MAX_WEIGHTS_FILE_BYTES = constants.MAX_LENGTH;

/** `${path}: cannot read the <what> (<why>)`. */
function unreadable(path: string, what: string, why: string): ConfigError {
  return new ConfigError(`${path}: cannot read the ${what} (${why})`);
}

/**
 * Checks that `path` is a regular file of at most {@link MAX_WEIGHTS_FILE_BYTES}; otherwise throws a
 * {@link ConfigError} naming the file and why (`ENOENT`, a folder, not a regular file, too large). `what` names the
 * file's role in the message. Returns its size.
 */
export function checkWeightsFile(path: string, what = "weights"): number {
  let size: number;
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw unreadable(path, what, "a folder, not a file");
    if (!st.isFile()) throw unreadable(path, what, "not a regular file: a FIFO, a socket or a device");
    size = st.size;
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw unreadable(path, what, (err as NodeJS.ErrnoException).code ?? (err as Error).message);
  }
  if (size > MAX_WEIGHTS_FILE_BYTES) {
    throw unreadable(path, what, `${size} bytes, more than the ${MAX_WEIGHTS_FILE_BYTES} a weights file may have`);
  }
  return size;
}

/** The bytes of a weights file, checked first by {@link checkWeightsFile}. */
export function readWeightsFile(path: string, what = "weights"): Buffer {
  checkWeightsFile(path, what);
  try {
    return readFileSync(path);
  } catch (err) {
    throw unreadable(path, what, (err as NodeJS.ErrnoException).code ?? (err as Error).message);
  }
}

/** The first `n` bytes (fewer for a shorter file) of a weights file checked by {@link checkWeightsFile}. */
export function weightsFileMagic(path: string, n = 4, what = "weights"): Uint8Array {
  checkWeightsFile(path, what);
  const out = new Uint8Array(n);
  let fd: number | null = null;
  try {
    fd = openSync(path, "r");
    return out.subarray(0, readSync(fd, out, 0, n, 0));
  } catch (err) {
    throw unreadable(path, what, (err as NodeJS.ErrnoException).code ?? (err as Error).message);
  } finally {
    if (fd !== null) closeSync(fd);
  }
}
