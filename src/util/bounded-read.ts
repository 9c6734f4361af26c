/**
 * Reading a user's input file with a bound: only regular files (a FIFO would block the open or the read forever,
 * `/dev/zero` and `/dev/urandom` never end), at most a given number of bytes (checked before reading, and again while
 * reading, for a file that grows). The limits of each kind of file are in docs/input-contract.md.
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from "node:fs";

/** A file that is not a regular file, or larger than its limit: `reason` says which (the message names the file). */
export class InputFileError extends Error {
  override name = "InputFileError";
  constructor(
    readonly path: string,
    readonly reason: string,
    /** True for a file past its size limit; false for a folder, FIFO, device or socket. */
    readonly tooLarge = false,
  ) {
    super(`${path}: ${reason}`);
  }
}

/** Bytes read per call: the read stops as soon as the limit is passed. */
const CHUNK_BYTES = 1 << 20;

/** `n` bytes for a message: "512 bytes", "3.2 MiB". */
export function describeBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(1)} GiB`;
}

function fileKind(s: Stats): string {
  if (s.isDirectory()) return "a folder";
  if (s.isFIFO()) return "a FIFO (named pipe)";
  if (s.isCharacterDevice()) return "a character device";
  if (s.isBlockDevice()) return "a block device";
  if (s.isSocket()) return "a socket";
  return "another kind of file";
}

/**
 * The bytes of the regular file `path`, at most `maxBytes` of them. Throws an {@link InputFileError} for anything
 * else (a folder, FIFO, device, socket; a larger file) and the system's error (ENOENT, EACCES) when it cannot be opened.
 * The open does not block on a FIFO (O_NONBLOCK).
 */
export function readBoundedFile(path: string, maxBytes: number): Buffer {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new InputFileError(path, `not a regular file: ${fileKind(stats)}`);
    const tooLarge = (size: number) =>
      new InputFileError(path, `${describeBytes(size)}, more than the limit of ${describeBytes(maxBytes)}`, true);
    if (stats.size > maxBytes) throw tooLarge(stats.size);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, maxBytes + 1 - total));
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      chunks.push(chunk.subarray(0, n));
      total += n;
      if (total > maxBytes) throw tooLarge(total);
    }
    return Buffer.concat(chunks, total);
  } finally {
    closeSync(fd);
  }
}

/** {@link readBoundedFile} decoded as UTF-8. */
export function readBoundedText(path: string, maxBytes: number): string {
  return readBoundedFile(path, maxBytes).toString("utf8");
}

/** Largest YAML file read (dataset, hyp, model YAMLs): the seed's are 1–3 KiB. */
export const MAX_YAML_BYTES = 1024 * 1024;
