/** Encodes rendered RGB pixels to JPEG or PNG with sharp. */
import sharp from "sharp";

/** Image file formats the generator writes. */
export const IMAGE_FORMATS = ["jpeg", "png"] as const;
export type ImageFormat = (typeof IMAGE_FORMATS)[number];

/** File extension per format. */
export const IMAGE_EXTENSIONS: Readonly<Record<ImageFormat, string>> = { jpeg: ".jpg", png: ".png" };

/** Options of {@link encodeImage}. */
export interface EncodeOptions {
  /** @default "jpeg" */
  format?: ImageFormat;
  /** JPEG quality 1..100. @default 92 */
  quality?: number;
  /** PNG zlib level 0..9 (lower is faster, larger). @default 6 */
  pngCompression?: number;
}

/** Encodes interleaved 8-bit RGB (width × height × 3) to a file buffer. Deterministic for given pixels and options. */
export async function encodeImage(
  rgb: Uint8Array,
  width: number,
  height: number,
  options: EncodeOptions = {},
): Promise<Buffer> {
  const { format = "jpeg", quality = 92, pngCompression = 6 } = options;
  const img = sharp(rgb, { raw: { width, height, channels: 3 } });
  return format === "png"
    ? img.png({ compressionLevel: pngCompression }).toBuffer()
    : img.jpeg({ quality, chromaSubsampling: "4:4:4" }).toBuffer();
}
