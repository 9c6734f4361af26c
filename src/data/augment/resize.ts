/** Resampling of region masks (nearest, so they stay 0/1); images resize through ../image-kernels.ts (OpenCV's pixels). */
import type { Mask } from "./types.js";

/**
 * Resizes a mask by nearest neighbour: output pixel i takes the source pixel containing its centre's preimage, so a
 * mask rasterised from a rectangle with integer corners resizes to the rasterisation of the scaled rectangle.
 */
export function resizeNearest(mask: Mask, width: number, height: number): Mask {
  if (mask.width === width && mask.height === height) return { ...mask, data: mask.data.slice() };
  const out = new Uint8Array(width * height);
  const sx = mask.width / width;
  const sy = mask.height / height;
  const cols = new Int32Array(width);
  for (let x = 0; x < width; x++) cols[x] = Math.min(mask.width - 1, Math.floor((x + 0.5) * sx));
  for (let y = 0; y < height; y++) {
    const row = Math.min(mask.height - 1, Math.floor((y + 0.5) * sy)) * mask.width;
    const o = y * width;
    for (let x = 0; x < width; x++) out[o + x] = mask.data[row + cols[x]!]!;
  }
  return { data: out, width, height };
}
