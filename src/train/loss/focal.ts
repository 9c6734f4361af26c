/** Binary cross-entropy on logits, optionally focal (YOLOv5's FocalLoss wrapper around BCEWithLogits). */
import { F, type Tensor } from "../../torch/index.js";

/** Focal loss balance α (YOLOv5's FocalLoss default). */
export const FOCAL_ALPHA = 0.25;

export interface BceOptions {
  /** BCE positive weight (a 1-element tensor), as cls_pw / obj_pw. */
  posWeight: Tensor;
  /** Focal γ; 0 = plain BCE. */
  gamma: number;
  /** @default FOCAL_ALPHA */
  alpha?: number;
  /** "mean" (YOLOv5's) or "none" (per element, for masking). @default "mean" */
  reduction?: "mean" | "none";
}

/** ℓ = BCE(pred, true) · [α_t · (1 − p_t)^γ when γ > 0], p_t = t·σ + (1 − t)(1 − σ), α_t = t·α + (1 − t)(1 − α). */
export function bceLoss(pred: Tensor, target: Tensor, options: BceOptions): Tensor {
  const { posWeight, gamma, alpha = FOCAL_ALPHA, reduction = "mean" } = options;
  let loss = F.bceWithLogits(pred, target, { posWeight, reduction: "none" });
  if (gamma > 0) {
    const p = pred.sigmoid();
    const pT = target.mul(p).add(target.rsub(1).mul(p.rsub(1)));
    const alphaT = target.mul(alpha).add(target.rsub(1).mul(1 - alpha));
    loss = loss.mul(alphaT).mul(pT.rsub(1).pow(gamma));
  }
  return reduction === "mean" ? loss.mean() : loss;
}
