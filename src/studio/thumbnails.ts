/**
 * Thumbnails for the browse list: made on first request with sharp (EXIF orientation applied) and cached on disk,
 * keyed by the image's path, size and modification time, so a changed image gets a new one.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import sharp from "sharp";
import { writeFileAtomic } from "../util/fs.js";

/** Long side of a thumbnail in pixels. */
export const THUMBNAIL_SIZE = 128;
/** JPEG quality of thumbnails. */
export const THUMBNAIL_QUALITY = 70;

/** A thumbnail cache in `dir` (created when needed). */
export class ThumbnailCache {
  constructor(readonly dir: string) {}

  /** The JPEG thumbnail of `image`, from the cache or made now. */
  async get(image: string): Promise<Buffer> {
    const s = statSync(image);
    const key = createHash("sha1").update(`${image}\0${s.size}\0${s.mtimeMs}`).digest("hex").slice(0, 24);
    const file = join(this.dir, `${key}.jpg`);
    try {
      return readFileSync(file);
    } catch {
      const bytes = await sharp(image)
        .rotate()
        .resize(THUMBNAIL_SIZE, THUMBNAIL_SIZE, { fit: "inside" })
        .jpeg({ quality: THUMBNAIL_QUALITY })
        .toBuffer();
      try {
        mkdirSync(this.dir, { recursive: true });
        writeFileAtomic(file, bytes);
      } catch {
        // only a cache: an unwritable folder costs a new thumbnail next time
      }
      return bytes;
    }
  }
}
