/**
 * Rectangular batches (YOLOv5's `rect=True`, used for validation): images sorted by aspect ratio, and each batch
 * letterboxed to the smallest stride-multiple rectangle that holds its images at the network size, plus `pad` strides.
 * With pad 0.5 (YOLOv5's validation setting) a batch of 640×640 images becomes 672×672 (method.md §5.2).
 */
import { maxOf, minOf } from "../util/arrays.js";

/** Width and height of a stored image. */
export interface Size {
  width: number;
  height: number;
}

/** Options of {@link rectBatches}. */
export interface RectOptions {
  /** Network input size (long side). */
  imgSize: number;
  batchSize: number;
  /** Model stride; shapes are multiples of it. @default 32 */
  stride?: number;
  /** Extra strides added before rounding up. @default 0.5 (YOLOv5 validation) */
  pad?: number;
}

/** Rect batches: the image order (sorted by aspect ratio) and each batch's [height, width]. */
export interface RectPlan {
  /** Dataset indices in loading order. */
  order: number[];
  /** [height, width] of batch b (batch b holds order[b·batchSize ..]). */
  shapes: Array<[number, number]>;
}

/** Computes YOLOv5's rect batch shapes for images of the given sizes. */
export function rectBatches(sizes: readonly Size[], options: RectOptions): RectPlan {
  const { imgSize, batchSize, stride = 32, pad = 0.5 } = options;
  const ar = sizes.map((s) => s.height / s.width);
  const order = sizes.map((_, i) => i).sort((a, b) => ar[a]! - ar[b]! || a - b);
  const shapes: Array<[number, number]> = [];
  for (let start = 0; start < order.length; start += batchSize) {
    const ratios = order.slice(start, start + batchSize).map((i) => ar[i]!);
    const mini = minOf(ratios);
    const maxi = maxOf(ratios);
    let rel: [number, number] = [1, 1];
    if (maxi < 1) rel = [maxi, 1];
    else if (mini > 1) rel = [1, 1 / mini];
    shapes.push([
      Math.ceil((rel[0] * imgSize) / stride + pad) * stride,
      Math.ceil((rel[1] * imgSize) / stride + pad) * stride,
    ]);
  }
  return { order, shapes };
}
