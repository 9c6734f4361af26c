/** Test helpers for the data tests: temporary folders and small generated images. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import sharp from "sharp";

/** Creates a temporary folder, runs `fn` with it, removes it afterwards (kept when KEEP_TMP is set, for debugging). */
export async function withTempDir<T>(prefix: string, fn: (dir: string) => Promise<T> | T): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), `sladet-${prefix}-`));
  try {
    return await fn(dir);
  } finally {
    if (!process.env["KEEP_TMP"]) rmSync(dir, { recursive: true, force: true });
  }
}

/** Writes a file, creating its folder. */
export function put(path: string, data: string | Uint8Array): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, data);
  return path;
}

/** Encodes a solid-colour RGB image of the given size in `format`. */
export async function makeImage(
  width: number,
  height: number,
  format: "png" | "jpeg" | "webp" | "tiff" = "png",
  colour = { r: 200, g: 100, b: 50 },
): Promise<Buffer> {
  const base = sharp({ create: { width, height, channels: 3, background: colour } });
  return base.toFormat(format).toBuffer();
}
