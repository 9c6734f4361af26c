/**
 * The similarity module of phase 2 (method.md §4.5, design.md §4 decision 7): each mid-confidence prediction (an
 * anchor, with its predicted class) is compared with the ground-truth cells of its own image on the neck-P3 features
 * (RoIAlign sim_roi × sim_roi, then the average: one vector per box). Similarity s = cos + 1 ∈ [0, 2]; among the
 * ground truth whose box overlaps the anchor's by IoU < sim_iou, the hardest positive is the least similar of the same
 * class and the hardest negative the most similar of another class. With both, the anchor's loss is the triplet
 * max(0, s_neg − s_pos + margin) (conventional: pulls same-class features together), or the seed's
 * max(0, s_pos − s_neg − margin); the loss is the mean over such anchors, 0 without any.
 * The seed compared anchors with the ground truth of the whole batch; here only of the same image.
 */

import { poolCells } from "../../model/roi-pool.js";
import { type Tensor, tensor, tidy, zeros } from "../../torch/index.js";
import type { SlaHyp } from "./hyp.js";
import type { TripletSign } from "./options.js";

/** A box with its image and class; xc, yc, w, h normalised to the input. */
export interface ClassBox {
  image: number;
  cls: number;
  xc: number;
  yc: number;
  w: number;
  h: number;
}

/** IoU of two normalised xywh boxes (IoU does not change when both axes are scaled, so it equals the feature grid's). */
export function xywhIou(a: ClassBox, b: ClassBox): number {
  const iw = Math.min(a.xc + a.w / 2, b.xc + b.w / 2) - Math.max(a.xc - a.w / 2, b.xc - b.w / 2);
  const ih = Math.min(a.yc + a.h / 2, b.yc + b.h / 2) - Math.max(a.yc - a.h / 2, b.yc - b.h / 2);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  return inter / (a.w * a.h + b.w * b.h - inter);
}

/** Positive and negative candidates [m × n] (row-major 0/1) of anchors against ground truth. */
export function tripletCandidates(
  anchors: readonly ClassBox[],
  gt: readonly ClassBox[],
  maxIou: number,
): { positive: Float32Array; negative: Float32Array } {
  const positive = new Float32Array(anchors.length * gt.length);
  const negative = new Float32Array(anchors.length * gt.length);
  anchors.forEach((a, i) => {
    gt.forEach((g, j) => {
      if (g.image !== a.image || xywhIou(a, g) >= maxIou) return;
      if (g.cls === a.cls) positive[i * gt.length + j] = 1;
      else negative[i * gt.length + j] = 1;
    });
  });
  return { positive, negative };
}

/** Smallest norm a vector is divided by (torch's cosine_similarity eps). */
export const COSINE_EPS = 1e-8;

/** Rows scaled to unit length. */
function unitRows(x: Tensor): Tensor {
  return x.div(x.norm(2, 1, true).clamp(COSINE_EPS));
}

/** Similarities beyond [0, 2], to exclude non-candidates from min and max. */
const OUTSIDE = 10;

/**
 * The triplet loss of anchor and ground-truth embeddings ([m, C] and [n, C]), 0-d; 0 when no anchor has both a
 * positive and a negative candidate.
 */
export function tripletLoss(
  anchorEmb: Tensor,
  gtEmb: Tensor,
  anchors: readonly ClassBox[],
  gt: readonly ClassBox[],
  options: { maxIou: number; margin: number; sign: TripletSign },
): Tensor {
  return tidy(() => {
    const m = anchors.length;
    const n = gt.length;
    if (m === 0 || n === 0) return zeros([]);
    const { positive, negative } = tripletCandidates(anchors, gt, options.maxIou);
    const usable = Array.from({ length: m }, (_, i) => {
      const row = (mask: Float32Array) => mask.subarray(i * n, (i + 1) * n).some((v) => v > 0);
      return row(positive) && row(negative);
    });
    const rows = usable.flatMap((u, i) => (u ? [i] : []));
    if (rows.length === 0) return zeros([]);
    const s = unitRows(anchorEmb).matmul(unitRows(gtEmb).transpose(0, 1)).add(1); // [m, n]
    const pos = tensor(positive, [m, n]);
    const neg = tensor(negative, [m, n]);
    const sPos = s.add(pos.rsub(1).mul(OUTSIDE)).amin(1); // hardest positive: least similar
    const sNeg = s.sub(neg.rsub(1).mul(OUTSIDE)).amax(1); // hardest negative: most similar
    const gap =
      options.sign === "conventional" ? sNeg.sub(sPos).add(options.margin) : sPos.sub(sNeg).sub(options.margin);
    const pick = tensor(rows, [rows.length], { dtype: "int64" });
    return gap.indexSelect(0, pick).clamp(0).mean();
  });
}

/** One vector per box: RoIAlign sim_roi × sim_roi on the map, averaged (image index, x1, y1, x2, y2 normalised). */
export function boxEmbeddings(features: Tensor, boxes: readonly ClassBox[], roi: number): Tensor {
  return tidy(() => {
    const rows = boxes.map((b) => [b.image, b.xc - b.w / 2, b.yc - b.h / 2, b.xc + b.w / 2, b.yc + b.h / 2]);
    const pooled = poolCells([features], tensor(rows.flat(), [rows.length, 5]), {
      outputSize: [roi, roi],
      quantize: false,
    });
    return pooled.mean([2, 3]);
  });
}

/** The similarity loss of a batch (0-d, differentiable through `features`). */
export function similarityLoss(
  features: Tensor,
  anchors: readonly ClassBox[],
  gt: readonly ClassBox[],
  hyp: SlaHyp,
  sign: TripletSign,
): Tensor {
  return tidy(() => {
    if (anchors.length === 0 || gt.length === 0) return zeros([]);
    return tripletLoss(
      boxEmbeddings(features, anchors, hyp.sim_roi),
      boxEmbeddings(features, gt, hyp.sim_roi),
      anchors,
      gt,
      {
        maxIou: hyp.sim_iou,
        margin: hyp.sim_margin,
        sign,
      },
    );
  });
}

/** Rows of `stride` ≥ 6 numbers (image, class, xc, yc, w, h, …), as the batch's targets and held-out rows, as boxes. */
export function rowsToClassBoxes(rows: ArrayLike<number>, stride: number): ClassBox[] {
  return Array.from({ length: Math.floor(rows.length / stride) }, (_, r) => {
    const o = r * stride;
    return { image: rows[o]!, cls: rows[o + 1]!, xc: rows[o + 2]!, yc: rows[o + 3]!, w: rows[o + 4]!, h: rows[o + 5]! };
  });
}

/** Ground-truth rows [N, ≥6] as boxes. */
export function classBoxes(targets: Tensor): ClassBox[] {
  return rowsToClassBoxes(targets.contiguous().toTypedArray<"float32">(), targets.size(1));
}
