import { randomBytes } from "node:crypto";
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

/**
 * Writes `data` to `path` atomically: the bytes go to a temporary file in the same folder, which is then renamed over
 * the target. A crash or a kill leaves either the old file or the new one, never a half-written file.
 */
export function writeFileAtomic(path: string, data: string | NodeJS.ArrayBufferView): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${randomBytes(6).toString("hex")}.tmp`);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
