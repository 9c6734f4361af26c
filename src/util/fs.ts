import { randomBytes } from "node:crypto";
import { closeSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeFileSync, writeSync } from "node:fs";
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

/**
 * A file written piece by piece and published atomically, for outputs too large to hold in memory (a detect run's
 * predictions over any number of images): the pieces go to a temporary file beside the target, {@link commit} renames
 * it over the target, {@link abort} removes it. Until the commit the target is untouched, as with
 * {@link writeFileAtomic}; a failed write removes the temporary file and throws a {@link FileWriteError}.
 */
export class AtomicFileWriter {
  readonly #path: string;
  readonly #tmp: string;
  #fd: number | null;

  constructor(path: string) {
    this.#path = path;
    this.#tmp = tempPath(path);
    try {
      mkdirSync(dirname(path), { recursive: true });
      this.#fd = openSync(this.#tmp, "w");
    } catch (err) {
      throw writeError(path, err);
    }
  }

  /** The target's path. */
  get path(): string {
    return this.#path;
  }

  /** Appends `text` (UTF-8). */
  write(text: string): void {
    if (this.#fd === null) throw new Error(`${this.#path}: written after commit or abort`);
    try {
      const bytes = Buffer.from(text, "utf8");
      for (let at = 0; at < bytes.length; ) at += writeSync(this.#fd, bytes, at); // a short write continues
    } catch (err) {
      this.abort();
      throw writeError(this.#path, err);
    }
  }

  /** Closes the temporary file and renames it over the target. */
  commit(): void {
    if (this.#fd === null) throw new Error(`${this.#path}: committed after commit or abort`);
    try {
      closeSync(this.#fd);
      this.#fd = null;
      renameSync(this.#tmp, this.#path);
    } catch (err) {
      this.abort();
      rmSync(this.#tmp, { force: true });
      throw writeError(this.#path, err);
    }
  }

  /** Drops what was written (the target keeps its old content, if any); does nothing after a commit. */
  abort(): void {
    if (this.#fd !== null) {
      try {
        closeSync(this.#fd);
      } catch {
        // closing is best effort: the file is removed next
      }
      this.#fd = null;
      rmSync(this.#tmp, { force: true });
    }
  }
}
