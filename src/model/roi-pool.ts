/**
 * RoI pooling of detector feature maps for the attribute head (method.md §3.4, with the seed's square-map bug
 * fixed): a box normalised to the image is scaled by each map's [W, H, W, H], truncated to whole cells and widened to
 * at least one cell (the seed's quantisation, so its weights see what they were trained on), then RoIAligned to a
 * fixed grid (torchvision defaults: spatial scale 1, adaptive sampling, aligned = false); the maps' results are
 * concatenated on channels.
 */
import { cat, stack, type Tensor, tensor, tidy } from "../torch/index.js";
import { roiAlign } from "../torch/vision.js";
import { ATTRIBUTE_ROI_SIZE } from "./attribute-head.js";

export interface PoolCellsOptions {
  /** Output grid [height, width]. @default [24, 30] */
  outputSize?: readonly [number, number];
  /** Truncate box corners to whole cells and widen to ≥ 1 cell, as the seed did. @default true */
  quantize?: boolean;
}

/**
 * @param features maps [B, C_i, H_i, W_i] of the same images (e.g. the p2 and p3 taps).
 * @param boxes [K, 5] rows of (image index, x1, y1, x2, y2) with coordinates normalised to the image (0..1).
 * @returns [K, ΣC_i, outH, outW].
 */
export function poolCells(features: readonly Tensor[], boxes: Tensor, options: PoolCellsOptions = {}): Tensor {
  const outputSize = options.outputSize ?? ATTRIBUTE_ROI_SIZE;
  const quantize = options.quantize ?? true;
  if (boxes.ndim !== 2 || boxes.shape[1] !== 5)
    throw new Error(`poolCells: boxes must be [K, 5], found [${boxes.shape}]`);
  return tidy(() => {
    const parts = features.map((f) => {
      const [, , h, w] = f.shape as [number, number, number, number];
      const scaled = boxes.mul(tensor([1, w, h, w, h], undefined, { dtype: boxes.dtype, device: boxes.device }));
      let [b, x1, y1, x2, y2] = [0, 1, 2, 3, 4].map((i) => scaled.select(1, i)) as [
        Tensor,
        Tensor,
        Tensor,
        Tensor,
        Tensor,
      ];
      if (quantize) {
        [x1, y1, x2, y2] = [x1.trunc(), y1.trunc(), x2.trunc(), y2.trunc()];
        x2 = x2.maximum(x1.add(1));
        y2 = y2.maximum(y1.add(1));
      }
      const rois = stack([b, x1, y1, x2, y2], 1).to(f.dtype);
      return roiAlign(f, rois, [outputSize[0], outputSize[1]], { spatialScale: 1, samplingRatio: -1, aligned: false });
    });
    return cat(parts, 1);
  });
}

/** [K, 2] normalised (w, h) of [K, 5] (image index, x1, y1, x2, y2) boxes, the attribute head's size input. */
export function boxSizes(boxes: Tensor): Tensor {
  return tidy(() => stack([boxes.select(1, 3).sub(boxes.select(1, 1)), boxes.select(1, 4).sub(boxes.select(1, 2))], 1));
}
