/**
 * Image reading for datasets: JPEG, PNG, TIFF, WebP (sharp) and BMP (our decoder), EXIF orientation applied, any
 * grey/RGBA/16-bit input turned into 8-bit RGB. Box and region coordinates refer to the image as displayed, i.e.
 * after EXIF orientation.
 */
import { extname } from "node:path";
import sharp from "sharp";
import { InputFileError, readBoundedFile } from "../util/bounded-read.js";
import { decodeBmp, isBmp, type RgbImage } from "./bmp.js";
import { MAX_IMAGE_FILE_BYTES, MAX_IMAGE_PIXELS } from "./limits.js";

export type { RgbImage } from "./bmp.js";

/** File extensions taken as images when a split is a folder (lower case, with the dot). */
export const IMAGE_EXTENSIONS = [".bmp", ".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp"] as const;

/** True when `path` has one of {@link IMAGE_EXTENSIONS} (any case). */
export function isImagePath(path: string): boolean {
  return (IMAGE_EXTENSIONS as readonly string[]).includes(extname(path).toLowerCase());
}

/** Options of {@link readImageRgb}. */
export interface ReadImageOptions {
  /**
   * How strict decoding is (sharp's `failOn`): "warning" also refuses images the decoder warns about (corrupt
   * entropy data), "error" refuses only broken or truncated ones.
   * @default "error"
   */
  strictness?: "error" | "warning";
}

/** The bytes of an image file: a regular file of at most MAX_IMAGE_FILE_BYTES (an InputFileError otherwise). */
function readImageFile(path: string): Buffer {
  return readBoundedFile(path, MAX_IMAGE_FILE_BYTES);
}

/** Throws when `width × height` is past {@link MAX_IMAGE_PIXELS} (checked from the header, before decoding). */
function checkPixels(width: number, height: number): void {
  if (width * height > MAX_IMAGE_PIXELS)
    throw new Error(`${width}×${height} pixels, more than the limit of ${MAX_IMAGE_PIXELS} (16383²)`);
}

/** Decodes an image file into 8-bit RGB (EXIF orientation applied, alpha dropped). Throws on unreadable files. */
export async function readImageRgb(path: string, options: ReadImageOptions = {}): Promise<RgbImage> {
  return decodeImageBytes(readImageFile(path), options);
}

/** Decodes an encoded image (JPEG, PNG, TIFF, WebP, BMP bytes) into 8-bit RGB, as {@link readImageRgb} does a file. */
export async function decodeImageBytes(bytes: Uint8Array, options: ReadImageOptions = {}): Promise<RgbImage> {
  if (bytes.length === 0) throw new Error("an empty file");
  if (isBmp(bytes)) {
    if (bytes.length >= 26) checkPixels(...bmpSize(bytes));
    return decodeBmp(bytes);
  }
  const { data, info } = await sharp(bytes, {
    failOn: options.strictness ?? "error",
    limitInputPixels: MAX_IMAGE_PIXELS,
  })
    .autoOrient()
    .removeAlpha()
    .toColourspace("srgb")
    .raw({ depth: "uchar" })
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels, expected 3`);
  return {
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    width: info.width,
    height: info.height,
  };
}

/** Width and height in a BMP header (at least 26 bytes). */
function bmpSize(bytes: Uint8Array): [number, number] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return [view.getInt32(18, true), Math.abs(view.getInt32(22, true))];
}

/** Outcome of {@link verifyImage}. */
export type ImageVerdict =
  | { ok: true; width: number; height: number /** Decoder warning of a usable image. */; warning?: string }
  | { ok: false; reason: string };

function firstLine(e: unknown): string {
  if (e instanceof InputFileError) return e.reason;
  return (e instanceof Error ? e.message : String(e)).split("\n")[0] ?? "unknown error";
}

/**
 * Decodes the whole image to find unreadable, truncated and corrupt files. An image the decoder only warns about
 * (and can still decode) is usable and comes back with a `warning`.
 */
export async function verifyImage(path: string): Promise<ImageVerdict> {
  try {
    const image = await readImageRgb(path, { strictness: "warning" });
    return { ok: true, width: image.width, height: image.height };
  } catch (strictError) {
    try {
      const image = await readImageRgb(path, { strictness: "error" });
      return { ok: true, width: image.width, height: image.height, warning: firstLine(strictError) };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return { ok: false, reason: code === "ENOENT" ? "no such file" : firstLine(e) };
    }
  }
}

/**
 * Reads an image's size (after EXIF orientation) from its header, without decoding the pixels. Throws on files that
 * are not images.
 */
export async function probeImageSize(path: string): Promise<{ width: number; height: number }> {
  const bytes = readImageFile(path);
  if (isBmp(bytes)) {
    if (bytes.length < 26) throw new Error("truncated BMP header");
    const [width, height] = bmpSize(bytes);
    return { width, height };
  }
  const meta = await sharp(bytes, { limitInputPixels: MAX_IMAGE_PIXELS }).metadata();
  const size = meta.autoOrient ?? { width: meta.width, height: meta.height };
  if (!size.width || !size.height) throw new Error("image header has no size");
  return { width: size.width, height: size.height };
}
