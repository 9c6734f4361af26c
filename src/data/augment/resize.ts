/** Resampling of images (bilinear, OpenCV's INTER_LINEAR centre alignment) and masks (nearest, so they stay 0/1). */
import type { Mask, RgbImage } from "./types.js";

/** Source positions and weights of bilinear sampling along one axis (edge pixels replicated). */
function bilinearTaps(dst: number, src: number): { i0: Int32Array; i1: Int32Array; w: Float32Array } {
  const i0 = new Int32Array(dst);
  const i1 = new Int32Array(dst);
  const w = new Float32Array(dst);
  const scale = src / dst;
  for (let d = 0; d < dst; d++) {
    const s = Math.min(Math.max((d + 0.5) * scale - 0.5, 0), src - 1);
    const f = Math.floor(s);
    i0[d] = f;
    i1[d] = Math.min(f + 1, src - 1);
    w[d] = s - f;
  }
  return { i0, i1, w };
}

/** Resizes an RGB image to `width × height` by bilinear interpolation (pixel centres aligned, edges replicated). */
export function resizeBilinear(image: RgbImage, width: number, height: number): RgbImage {
  if (image.width === width && image.height === height) return { ...image, data: image.data.slice() };
  const xs = bilinearTaps(width, image.width);
  const ys = bilinearTaps(height, image.height);
  const src = image.data;
  const out = new Uint8Array(width * height * 3);
  const sw = image.width * 3;
  for (let y = 0; y < height; y++) {
    const r0 = ys.i0[y]! * sw;
    const r1 = ys.i1[y]! * sw;
    const wy = ys.w[y]!;
    let o = y * width * 3;
    for (let x = 0; x < width; x++) {
      const c0 = xs.i0[x]! * 3;
      const c1 = xs.i1[x]! * 3;
      const wx = xs.w[x]!;
      for (let c = 0; c < 3; c++) {
        const top = src[r0 + c0 + c]! + (src[r0 + c1 + c]! - src[r0 + c0 + c]!) * wx;
        const bottom = src[r1 + c0 + c]! + (src[r1 + c1 + c]! - src[r1 + c0 + c]!) * wx;
        out[o++] = Math.round(top + (bottom - top) * wy);
      }
    }
  }
  return { data: out, width, height };
}

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
