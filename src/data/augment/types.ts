/**
 * The data the augmentations work on: an 8-bit RGB image, its labelled-region mask and its boxes, all in the same
 * pixel grid. Coordinates are continuous: pixel (i, j) covers [i, i+1) × [j, j+1) and its centre is (i+0.5, j+0.5).
 * Boxes and regions use these coordinates; a mask pixel is 1 when its centre lies in the labelled area, and
 * {@link PADDING_MASK} where augmentation left no image (letterbox borders, mosaic canvas, warp borders).
 */
import type { RgbImage } from "../bmp.js";

export type { RgbImage } from "../bmp.js";

/**
 * Value of a {@link Mask} pixel where there is no image, only the padding grey: unlabelled like 0, and also where no
 * object can be (phase 2 admits no pseudo-label centred there). A bit of its own, so mixup's intersection (`&`) keeps
 * it only where both images are padding.
 */
export const PADDING_MASK = 2;

/**
 * A one-channel raster: 1 where objects are labelled (design.md §7.1), 0 where they are not, {@link PADDING_MASK} on
 * padding. Row-major, `width × height` bytes. Batches carry it as two masks: `regionMask` (1 = labelled) and
 * `imageMask` (0 = padding).
 */
export interface Mask {
  data: Uint8Array;
  width: number;
  height: number;
}

/** Columns of a label row before the attributes: class, x1, y1, x2, y2 (pixels). */
export const LABEL_BOX_FIELDS = 5;

/**
 * The boxes of one sample: `count` rows of `5 + numAttributes` numbers, `cls x1 y1 x2 y2 a0..aK-1`, boxes in pixels of
 * the sample's image, attributes as in the label file (−1 = unknown).
 */
export interface Labels {
  data: Float32Array;
  count: number;
  numAttributes: number;
  /**
   * Per row, how much the geometry has scaled the object since it was loaded (YOLOv5's `load_image` frame): 1 as
   * loaded, × s after a random affine of scale s, × the ratio of a letterbox. Absent = all 1. Cell Size is an absolute
   * size, so the attribute head is given each cell's size as loaded, not as scale augmentation made it.
   */
  scale?: Float32Array;
}

/**
 * Held-out objects (known, outside the labelled region, never trained on) ride through augmentation as ordinary rows
 * whose class is stored as −1 − cls: every geometric step moves, clips and filters them exactly like labels, and
 * the batch assembler separates them again ({@link isHeldoutClass}). No augmentation reads the class.
 */
export function heldoutClassCode(cls: number): number {
  return -1 - cls;
}

/** True for a row class made by {@link heldoutClassCode}; the original class is `heldoutClassCode(code)` again. */
export function isHeldoutClass(code: number): boolean {
  return code < 0;
}

/** The scale of row r (1 when the labels carry none). */
export function rowScale(labels: Labels, r: number): number {
  return labels.scale?.[r] ?? 1;
}

/** An image with its region mask and labels; the three always share one pixel grid. */
export interface Sample {
  image: RgbImage;
  mask: Mask;
  labels: Labels;
  /**
   * The weak view of `image` (same geometry, a fraction of its colour jitter: {@link TrainSampleOptions}' `weakHsv`),
   * read by the attribute head and phase 2's teacher; absent when they read `image` itself.
   */
  weakImage?: RgbImage;
  /**
   * The fine view (fine-view.ts): `image`'s geometry at k× its pixels, with the head's share of the colour jitter, read
   * by the attribute head (hyp attr_image_scale); absent when the head reads `image` or `weakImage`.
   */
  fineImage?: RgbImage;
}

/** Numbers per label row. */
export function labelStride(numAttributes: number): number {
  return LABEL_BOX_FIELDS + numAttributes;
}

/** No labels. */
export function emptyLabels(numAttributes: number): Labels {
  return { data: new Float32Array(0), count: 0, numAttributes };
}

/** Labels from rows `[cls, x1, y1, x2, y2, a0..]` (missing attributes read as −1, extra ones are dropped). */
export function labelsFromRows(rows: readonly (readonly number[])[], numAttributes: number): Labels {
  const stride = labelStride(numAttributes);
  const data = new Float32Array(rows.length * stride).fill(-1);
  rows.forEach((row, r) => {
    for (let c = 0; c < Math.min(stride, row.length); c++) data[r * stride + c] = row[c]!;
  });
  return { data, count: rows.length, numAttributes };
}

/** The rows of `labels` whose `keep` entry is true, in order. */
export function selectLabels(labels: Labels, keep: ArrayLike<boolean | number>): Labels {
  const stride = labelStride(labels.numAttributes);
  let n = 0;
  for (let r = 0; r < labels.count; r++) if (keep[r]) n++;
  const data = new Float32Array(n * stride);
  const scale = labels.scale ? new Float32Array(n) : undefined;
  let o = 0;
  for (let r = 0; r < labels.count; r++) {
    if (!keep[r]) continue;
    data.set(labels.data.subarray(r * stride, (r + 1) * stride), o * stride);
    if (scale) scale[o] = rowScale(labels, r);
    o++;
  }
  return { data, count: n, numAttributes: labels.numAttributes, ...(scale ? { scale } : {}) };
}

/** The rows of all `parts` (same attribute count) one after the other. */
export function concatLabels(parts: readonly Labels[], numAttributes: number): Labels {
  const stride = labelStride(numAttributes);
  const count = parts.reduce((n, p) => n + p.count, 0);
  const data = new Float32Array(count * stride);
  const scale = parts.some((p) => p.scale) ? new Float32Array(count) : undefined;
  let o = 0;
  for (const p of parts) {
    if (p.numAttributes !== numAttributes)
      throw new Error(`labels with ${p.numAttributes} attributes, expected ${numAttributes}`);
    data.set(p.data.subarray(0, p.count * stride), o * stride);
    if (scale) for (let r = 0; r < p.count; r++) scale[o + r] = rowScale(p, r);
    o += p.count;
  }
  return { data, count, numAttributes, ...(scale ? { scale } : {}) };
}

/**
 * A copy of `labels` with every box mapped by `fn(x1, y1, x2, y2) → [x1, y1, x2, y2]`, a map that scales objects by
 * `factor` (1: flips, mosaic placement).
 */
export function mapBoxes(
  labels: Labels,
  fn: (x1: number, y1: number, x2: number, y2: number) => readonly [number, number, number, number],
  factor = 1,
): Labels {
  const stride = labelStride(labels.numAttributes);
  const data = labels.data.slice(0, labels.count * stride);
  for (let r = 0; r < labels.count; r++) {
    const o = r * stride;
    const b = fn(data[o + 1]!, data[o + 2]!, data[o + 3]!, data[o + 4]!);
    data[o + 1] = b[0];
    data[o + 2] = b[1];
    data[o + 3] = b[2];
    data[o + 4] = b[3];
  }
  return { data, count: labels.count, numAttributes: labels.numAttributes, ...scaledBy(labels, factor) };
}

/** `{ scale }` of `labels` times `factor`, or nothing when every row stays at 1. */
export function scaledBy(labels: Labels, factor: number): { scale?: Float32Array } {
  if (!labels.scale && factor === 1) return {};
  return { scale: Float32Array.from({ length: labels.count }, (_, r) => rowScale(labels, r) * factor) };
}

/** A mask of `width × height` filled with `value`. */
export function filledMask(width: number, height: number, value: 0 | 1): Mask {
  return { data: new Uint8Array(width * height).fill(value), width, height };
}

/**
 * Rasterises an axis-aligned rectangle (continuous pixel coordinates, possibly fractional or outside the raster): a
 * pixel is 1 when its centre lies in [x1, x2) × [y1, y2).
 */
export function rasterizeRect(
  width: number,
  height: number,
  rect: { x1: number; y1: number; x2: number; y2: number },
): Mask {
  const mask = filledMask(width, height, 0);
  // centre i+0.5 ∈ [x1, x2)  ⇔  i ∈ [ceil(x1 − 0.5), ceil(x2 − 0.5))
  const i0 = Math.max(0, Math.ceil(rect.x1 - 0.5));
  const i1 = Math.min(width, Math.ceil(rect.x2 - 0.5));
  const j0 = Math.max(0, Math.ceil(rect.y1 - 0.5));
  const j1 = Math.min(height, Math.ceil(rect.y2 - 0.5));
  if (i1 <= i0) return mask;
  for (let j = j0; j < j1; j++) mask.data.fill(1, j * width + i0, j * width + i1);
  return mask;
}

/** A deep copy of a sample (augmentations that work in place are given copies of cached data). */
export function cloneSample(s: Sample): Sample {
  return {
    image: { data: s.image.data.slice(), width: s.image.width, height: s.image.height },
    mask: { data: s.mask.data.slice(), width: s.mask.width, height: s.mask.height },
    labels: { ...s.labels, data: s.labels.data.slice(), ...scaledBy(s.labels, 1) },
  };
}
