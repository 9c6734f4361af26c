/**
 * Detection ops with torchvision's semantics and defaults (torchvision.ops 0.14): RoIAlign with autograd, NMS, NMS
 * batched by category, pairwise box IoU. RoIAlign and NMS are native CPU kernels (native/vision.cc); tensors on
 * another device are computed on the CPU and the results moved back.
 */
import { native } from "./native.js";
import { tidy } from "./scope.js";
import { Tensor } from "./tensor.js";

export interface RoiAlignOptions {
  /** Factor from box coordinates to feature-map coordinates (e.g. 1/stride for image-pixel boxes). @default 1 */
  spatialScale?: number;
  /**
   * Sampling points per bin along each axis. Zero or negative: adaptive, `ceil(roiSize / outputSize)` per RoI and
   * axis (torchvision's −1).
   * @default -1
   */
  samplingRatio?: number;
  /**
   * Shift the box by −0.5 pixel, so that a box edge at coordinate k is the border between pixels (Detectron2).
   * When false (torchvision's legacy behaviour), boxes are also enlarged to at least 1×1.
   * @default false
   */
  aligned?: boolean;
}

/**
 * RoIAlign (Mask R-CNN): pools each region of interest of a feature map into a fixed `outputSize` grid of bins; each
 * bin is the average of bilinear samples at regular points inside it. Differentiable with respect to `input`.
 *
 * @param input Feature map [N, C, H, W], float32 or float64.
 * @param rois Either [K, 5] rows of (batch index, x1, y1, x2, y2), or one [L_i, 4] tensor of (x1, y1, x2, y2) boxes
 *   per image of the batch. Coordinates are in the units `spatialScale` maps to feature-map pixels.
 * @param outputSize Bins per RoI: a single number for a square grid, or [height, width].
 * @returns [K, C, outputHeight, outputWidth], of the input's dtype and device. Bins whose samples all lie more than
 *   one pixel outside the map are 0.
 */
export function roiAlign(
  input: Tensor,
  rois: Tensor | readonly Tensor[],
  outputSize: number | readonly [number, number],
  options: RoiAlignOptions = {},
): Tensor {
  const { spatialScale = 1, samplingRatio = -1, aligned = false } = options;
  const size = typeof outputSize === "number" ? [outputSize, outputSize] : [...outputSize];
  const r = rois instanceof Tensor ? rois.handle : rois.map((t) => t.handle);
  return new Tensor(native.roiAlign(input.handle, r, size, spatialScale, samplingRatio, aligned));
}

/**
 * Non-maximum suppression, greedy by descending score: keeps a box unless a kept box with a higher score overlaps it
 * with IoU strictly greater than `iouThreshold`. Equal scores keep their original order.
 *
 * @param boxes [N, 4] (x1, y1, x2, y2), float32 or float64.
 * @param scores [N].
 * @returns int64 [M]: indices of the kept boxes, by descending score.
 */
export function nms(boxes: Tensor, scores: Tensor, iouThreshold: number): Tensor {
  return new Tensor(native.nms(boxes.handle, scores.handle, iouThreshold));
}

/**
 * NMS within each category: boxes of different `idxs` never suppress each other (torchvision.ops.batched_nms).
 *
 * @param boxes [N, 4] (x1, y1, x2, y2).
 * @param scores [N].
 * @param idxs [N] category (or image) of each box, integer or float.
 * @returns int64 [M]: indices of the kept boxes, by descending score.
 */
export function batchedNms(boxes: Tensor, scores: Tensor, idxs: Tensor, iouThreshold: number): Tensor {
  return new Tensor(native.batchedNms(boxes.handle, scores.handle, idxs.handle, iouThreshold));
}

/**
 * Pairwise intersection over union of two sets of (x1, y1, x2, y2) boxes, [N, 4] × [M, 4] → [N, M]
 * (torchvision.ops.box_iou: two empty boxes give NaN). Differentiable.
 */
export function boxIou(a: Tensor, b: Tensor): Tensor {
  return tidy(() => {
    const area = (x: Tensor) =>
      x
        .select(1, 2)
        .sub(x.select(1, 0))
        .mul(x.select(1, 3).sub(x.select(1, 1)));
    const lt = a
      .slice(1, 0, 2)
      .unsqueeze(1)
      .maximum(b.slice(1, 0, 2));
    const rb = a
      .slice(1, 2, 4)
      .unsqueeze(1)
      .minimum(b.slice(1, 2, 4));
    const wh = rb.sub(lt).clamp(0);
    const inter = wh.select(2, 0).mul(wh.select(2, 1));
    const union = area(a).unsqueeze(1).add(area(b)).sub(inter);
    return inter.div(union);
  });
}
