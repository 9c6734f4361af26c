import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { FileWriteError } from "./errors.js";

/** What the system says a write error code means, for the codes a user can act on. */
const WRITE_ERROR_DETAILS: Readonly<Record<string, string>> = {
  ENOSPC: "no space left on the device",
  EDQUOT: "disk quota exceeded",
  EROFS: "read-only file system",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EISDIR: "a folder is in the way",
  ENOTDIR: "a file is in the way of a folder",
};

/** Temporary files of {@link writeFileAtomic}: `.<target name>.<12 hex digits>.tmp` beside the target. */
const TEMP_FILE = /^\.(?:.+\.)?[0-9a-f]{12}\.tmp$/;

/** The temporary file name of a write to `path`. */
function tempPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
}

/** A write failure as a {@link FileWriteError} naming `path` (errors without a system code are returned as they are). */
function writeError(path: string, err: unknown): Error {
  const code = (err as NodeJS.ErrnoException).code;
  if (typeof code !== "string" || !code.startsWith("E")) return err as Error;
  return new FileWriteError(path, code, WRITE_ERROR_DETAILS[code] ?? (err as Error).message);
}

/**
 * Writes `data` to `path` atomically: the bytes go to a temporary file in the same folder, which is then renamed over
 * the target. A crash or a kill leaves either the old file or the new one, never a half-written file (a kill -9 may
 * leave the temporary file: {@link removeStaleTempFiles}). A failed write (a full disk) removes the temporary file,
 * leaves the old file as it was, and throws a {@link FileWriteError} naming `path` and the system's code.
 */
export function writeFileAtomic(path: string, data: string | NodeJS.ArrayBufferView): void {
  const tmp = tempPath(path);
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw writeError(path, err);
  }
}

/**
 * Removes the temporary files that writes interrupted by a kill -9 left in `dir` (`.<name>.<hex>.tmp`, and the `.<hex>.tmp` of earlier versions); returns their
 * names. Call it where one process owns the folder (a run's weights/ when the run starts or resumes).
 */
export function removeStaleTempFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => TEMP_FILE.test(n));
  } catch {
    return []; // no folder yet: nothing to clean
  }
  for (const n of names) rmSync(join(dir, n), { force: true });
  return names;
}
