/**
 * A small decoder for Windows BMP files, which the prebuilt sharp (libvips) cannot read: uncompressed 1/4/8-bit
 * palette, 16/24/32-bit (BI_RGB and BI_BITFIELDS), bottom-up or top-down. RLE-compressed files are refused by name.
 */

/** Decoded pixels: 8-bit RGB, row-major, top row first. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** True when the bytes start with the BMP signature "BM". */
export function isBmp(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x42 && bytes[1] === 0x4d;
}

function maskShift(mask: number): { shift: number; max: number } {
  if (mask === 0) return { shift: 0, max: 0 };
  let shift = 0;
  while (((mask >>> shift) & 1) === 0) shift++;
  return { shift, max: mask >>> shift };
}

/** Decodes a BMP file; throws an Error saying what is wrong for malformed or unsupported files. */
export function decodeBmp(bytes: Uint8Array): RgbImage {
  if (!isBmp(bytes)) throw new Error("not a BMP file (no 'BM' signature)");
  if (bytes.length < 54) throw new Error(`truncated BMP: ${bytes.length} bytes, header needs 54`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dataOffset = view.getUint32(10, true);
  const headerSize = view.getUint32(14, true);
  if (headerSize < 40) throw new Error(`unsupported BMP header of ${headerSize} bytes (OS/2 bitmaps are not read)`);
  const width = view.getInt32(18, true);
  const rawHeight = view.getInt32(22, true);
  const bpp = view.getUint16(28, true);
  const compression = view.getUint32(30, true);
  const topDown = rawHeight < 0;
  const height = Math.abs(rawHeight);
  if (width <= 0 || height === 0 || width > 65535 || height > 65535) {
    throw new Error(`BMP size ${width}×${height} is invalid`);
  }
  if (compression !== 0 && compression !== 3 && compression !== 6) {
    throw new Error(`unsupported BMP compression ${compression} (only uncompressed and bitfields are read)`);
  }
  let masks = { r: 0x00ff0000, g: 0x0000ff00, b: 0x000000ff };
  if (bpp === 16) masks = { r: 0x7c00, g: 0x03e0, b: 0x001f };
  if (compression === 3 || compression === 6) {
    const at = headerSize >= 52 ? 54 : 14 + headerSize;
    if (bytes.length < at + 12) throw new Error("truncated BMP: bitfield masks missing");
    masks = { r: view.getUint32(at, true), g: view.getUint32(at + 4, true), b: view.getUint32(at + 8, true) };
  }
  let palette: Uint8Array | undefined;
  if (bpp <= 8) {
    if (![1, 4, 8].includes(bpp)) throw new Error(`unsupported BMP bit depth ${bpp}`);
    const colours = view.getUint32(46, true) || 1 << bpp;
    const start = 14 + headerSize;
    if (bytes.length < start + colours * 4) throw new Error("truncated BMP: palette missing");
    palette = bytes.subarray(start, start + colours * 4);
  } else if (![16, 24, 32].includes(bpp)) {
    throw new Error(`unsupported BMP bit depth ${bpp}`);
  }
  const stride = Math.ceil((width * bpp) / 32) * 4;
  if (dataOffset + stride * height > bytes.length) {
    throw new Error(`truncated BMP: pixel data needs ${dataOffset + stride * height} bytes, file has ${bytes.length}`);
  }
  const out = new Uint8Array(width * height * 3);
  const fields = [maskShift(masks.r), maskShift(masks.g), maskShift(masks.b)];
  for (let y = 0; y < height; y++) {
    const row = dataOffset + (topDown ? y : height - 1 - y) * stride;
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      if (palette) {
        const bit = x * bpp;
        const byte = bytes[row + (bit >> 3)] ?? 0;
        const index = (byte >> (8 - bpp - (bit & 7))) & ((1 << bpp) - 1);
        out[o] = palette[index * 4 + 2] ?? 0;
        out[o + 1] = palette[index * 4 + 1] ?? 0;
        out[o + 2] = palette[index * 4] ?? 0;
      } else if (bpp === 24 && compression === 0) {
        const p = row + x * 3;
        out[o] = bytes[p + 2] ?? 0;
        out[o + 1] = bytes[p + 1] ?? 0;
        out[o + 2] = bytes[p] ?? 0;
      } else {
        const p = row + x * (bpp / 8);
        const value = bpp === 16 ? view.getUint16(p, true) : view.getUint32(p, true);
        fields.forEach((f, c) => {
          out[o + c] = f.max === 0 ? 0 : Math.round((((value >>> f.shift) & f.max) * 255) / f.max);
        });
      }
    }
  }
  return { data: out, width, height };
}

/** Encodes 8-bit RGB pixels as a 24-bit bottom-up BMP (used by tests and the synthetic data generator). */
export function encodeBmp(image: RgbImage): Uint8Array {
  const { width, height, data } = image;
  const stride = Math.ceil((width * 3) / 4) * 4;
  const size = 54 + stride * height;
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  bytes[0] = 0x42;
  bytes[1] = 0x4d;
  view.setUint32(2, size, true);
  view.setUint32(10, 54, true);
  view.setUint32(14, 40, true);
  view.setInt32(18, width, true);
  view.setInt32(22, height, true);
  view.setUint16(26, 1, true);
  view.setUint16(28, 24, true);
  view.setUint32(34, stride * height, true);
  for (let y = 0; y < height; y++) {
    const row = 54 + (height - 1 - y) * stride;
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      bytes[row + x * 3] = data[i + 2] ?? 0;
      bytes[row + x * 3 + 1] = data[i + 1] ?? 0;
      bytes[row + x * 3 + 2] = data[i] ?? 0;
    }
  }
  return bytes;
}
