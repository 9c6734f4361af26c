/**
 * The fine view of a sample (hyp attr_image_scale, issue 25): the same picture as the network input, the same
 * geometry, at k× its pixels in each direction (k a whole number), for the attribute head to pool its cells from.
 * Where the network runs below the images' own resolution (WBCAtt's 360–366 px crops at 192 px), the detector's input
 * has lost half the pixels of every chromatin texture and vacuole; the fine view keeps them.
 *
 * Every geometric step of the pipeline is linear in pixel coordinates, so its fine twin is the same step scaled by k:
 * tiles loaded at k× the loaded size, mosaic offsets and letterbox borders × k, the random warp conjugated by
 * diag(k, k, 1). A box normalised to the network input is then the same box normalised to the fine view. Only the
 * image is made (no mask, no labels: the head reads pixels at the boxes of the network input's labels).
 */
import type { RgbImage } from "../bmp.js";
import { isFineScale, MAX_FINE_SCALE } from "../constants.js";
import { resizeRgb, warpRgb } from "../pixels/image-kernels.js";
import type { LetterboxGeometry } from "./letterbox.js";
import { type MosaicCentre, mosaicPixels } from "./mosaic.js";
import { isIdentity, type Mat3, matInvert, matMul, type PerspectiveDraw } from "./perspective.js";

export { MAX_FINE_SCALE };

/** Throws unless `k` is a whole number from 1 to {@link MAX_FINE_SCALE} (1: no fine view). */
export function checkFineScale(k: number): void {
  if (!isFineScale(k))
    throw new Error(`the fine view's scale must be a whole number from 1 to ${MAX_FINE_SCALE}, got ${k}`);
}

/** `m` in coordinates k× finer: diag(k, k, 1) · m · diag(1/k, 1/k, 1). */
export function scaleMat(m: Mat3, k: number): Mat3 {
  const K: Mat3 = [k, 0, 0, 0, k, 0, 0, 0, 1];
  const inverse: Mat3 = [1 / k, 0, 0, 0, 1 / k, 0, 0, 0, 1];
  return matMul(K, matMul(m, inverse));
}

/**
 * The fine twin of {@link mosaicPixels} (the mosaic's pixels): tiles at k× their loaded size, on a 2·k·size canvas
 * around k·centre.
 */
export function fineMosaic(
  tiles: readonly RgbImage[],
  size: number,
  centre: MosaicCentre,
  k: number,
  padValue: number,
): RgbImage {
  return mosaicPixels(tiles, k * size, { xc: k * centre.xc, yc: k * centre.yc }, padValue);
}

/** The fine twin of a drawn warp (see perspective.ts): `image` warped by the draw's matrix at k× the pixels. */
export function fineWarp(image: RgbImage, draw: PerspectiveDraw, k: number, padValue: number): RgbImage {
  const outWidth = k * draw.outWidth;
  const outHeight = k * draw.outHeight;
  if (isIdentity(draw.matrix) && image.width === outWidth && image.height === outHeight) return image;
  return warpRgb({ image }, matInvert(scaleMat(draw.matrix, k)), outWidth, outHeight, padValue, 0).image;
}

/**
 * The fine twin of a letterbox of geometry `geo` (letterbox.ts): `image` (the loaded image at k× its size) resized to
 * k× the letterbox's inner size and bordered by k× its borders, so it lines up with the letterboxed network input.
 */
export function fineLetterbox(image: RgbImage, geo: LetterboxGeometry, k: number, padValue: number): RgbImage {
  const newW = k * geo.newW;
  const newH = k * geo.newH;
  const outW = k * geo.outW;
  const outH = k * geo.outH;
  const inner = image.width === newW && image.height === newH ? image : resizeRgb(image, newW, newH, "linear");
  const data = new Uint8Array(outW * outH * 3).fill(padValue);
  const [left, top] = [k * geo.pad[0], k * geo.pad[1]];
  for (let y = 0; y < newH; y++) {
    data.set(inner.data.subarray(y * newW * 3, (y + 1) * newW * 3), ((y + top) * outW + left) * 3);
  }
  return { data, width: outW, height: outH };
}
