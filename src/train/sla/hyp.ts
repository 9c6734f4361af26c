/**
 * Phase-2 (SLA) hyperparameters: every constant of the seed's pseudo-label and similarity code (method.md §4.3–4.6,
 * §8 "hard-coded magic numbers") under a YAML key, with the seed's value as default. They live in the same hyp file as
 * the detection and augmentation keys (the shipped `src/train/cfg/hyp.sla.yaml` lists them all).
 */

export interface SlaHyp {
  /** Pseudo-label NMS: minimum objectness and objectness × class score (the seed's conf_thres). */
  pl_nms_conf: number;
  /** Pseudo-label NMS IoU (class-agnostic, as the seed). */
  pl_nms_iou: number;
  /** Pseudo-label NMS: detections kept per image. */
  pl_max_det: number;
  /** A prediction above this confidence becomes a pseudo-label (the seed's 0.95; the ceiling when calibrated). */
  pl_conf: number;
  /**
   * Calibrated threshold (not in the seed; 0 = off, the fixed pl_conf): the lowest confidence at which predictions
   * inside the labelled regions, where the labels are complete, reach this precision (see calibration.ts).
   */
  pl_precision: number;
  /**
   * The calibration counts a precision as reached when its Wilson lower bound at this normal quantile is (not in the
   * seed; 0 = the point estimate). In-region predictions overstate the precision outside the regions: the model was
   * trained on their labels (issue 26: calibrated for 0.8 in the regions, the demo's pseudo-labels held 56–90 % outside).
   */
  pl_precision_z: number;
  /**
   * Correct in-region predictions (of the calibration window) a calibrated threshold needs at or above it before it is
   * trusted (not in the seed; the earlier constant 20).
   */
  pl_support: number;
  /**
   * The calibrated threshold while fewer than pl_support correct in-region predictions were seen: 0 = no pseudo-labels
   * (issue 26), 1 = pl_conf (the fallback before issue 26). Not in the seed, which has no calibration.
   */
  pl_unsupported: number;
  /**
   * Lowest calibrated threshold; with calibration on, proposals are taken from this confidence up (not from
   * pl_nms_conf), since models trained on sparse labels are rarely that confident (not in the seed).
   */
  pl_conf_min: number;
  /**
   * Maximum normalised entropy (0..1, of the class scores normalised to sum 1, divided by ln nc) of a pseudo-label.
   * The seed's filter (entropy of a softmax over scores in [0, 1] < 2.7 nats) can never reject: 1 reproduces that.
   */
  pl_entropy: number;
  /** Minimum pseudo-label box area in pixels² of the network input. */
  pl_min_area: number;
  /** A prediction whose intersection with any ground-truth box of its image exceeds this (pixels²) is dropped. */
  pl_gt_overlap: number;
  /** Weight of the pseudo-label loss (box, objectness, class). */
  pl_weight: number;
  /**
   * 1: the pseudo-label loss's box, objectness and class terms are scaled by the detection gains (box, obj, cls) as
   * the labelled loss's are; 0: unscaled, the seed's (its PL box term then weighs pl_weight / box = 2× the labelled
   * box term at the seed's values).
   */
  pl_loss_gains: number;
  /**
   * 1: soft pseudo-labels, each one's box, objectness and class terms weighted by its confidence (the score weighting
   * of Soft Teacher, Xu et al. 2021, on the positives); 0: hard pseudo-labels, every one at full weight (the seed).
   */
  pl_soft: number;
  /**
   * 1: the EMA teacher also proposes from the left-right mirror of each image, and the two views' detections are fused
   * by weighted boxes fusion before the gate (test-time augmentation of the teacher, as Humble Teacher, Tang et al.
   * 2021; fusion: Solovyev et al. 2021): a box both views found gets their confidence-weighted mean corners and mean
   * scores, one only one view found keeps half its scores. 0: one view (the seed). Needs the EMA proposer.
   */
  pl_flip: number;
  /** pl_flip: least IoU at which a detection of the mirror fuses with one of the image (WBF's default 0.55). */
  pl_flip_iou: number;
  /**
   * Weight of the dense pseudo-labels (the seed has none: 0 = off; sladet's default 1 since issue 26, whose BCCD
   * ablation found them the best sparse arm): outside the labelled regions, on image, the student's objectness is
   * trained towards the EMA teacher's objectness probability at every cell, and its class scores towards the
   * teacher's, weighted by that probability (Dense Teacher, Zhou et al. 2022: the teacher's dense scores
   * as soft targets, no threshold). With pl_flip the targets are the mean of the image's and the mirror's.
   * Scaled by the obj and cls gains and the level balance as the labelled terms are; ramped up with pl_ramp.
   */
  pl_dense: number;
  /**
   * Fraction of the batch's HSV colour jitter in the images the EMA teacher proposes from (not in the seed, whose
   * proposer sees the student's own batch: 1). Below 1 the loader makes a weak view of every training image (the same
   * geometry, flips and mosaic, this fraction of the jitter: 0 = the colours as loaded), the teacher's boxes, dense
   * targets and calibration come from it, and the student learns them on the fully jittered image: the weak/strong
   * split of Unbiased Teacher (Liu et al., ICLR 2021), the geometry shared so that no box is mapped between views.
   * Needs the EMA proposer; with attributes, the head reads the same weak view, so attr_hsv must then equal it.
   */
  pl_teacher_hsv: number;
  /**
   * Fraction of the phase-2 epochs over which the pseudo-label weight ramps up linearly from 0 (burn-in then ramp-up,
   * as Unbiased Teacher 2021 and Mean Teacher 2017); epoch e weighs min(1, e / (pl_ramp · epochs)). 0 = full weight
   * from the first epoch (the seed).
   */
  pl_ramp: number;
  /**
   * Lower edge of the similarity band at the seed's threshold: predictions with confidence in (sim_conf, pl_conf] are
   * similarity anchors; a calibrated threshold t scales the band to (sim_conf · t / pl_conf, t].
   */
  sim_conf: number;
  /** RoIAlign output size of the similarity features (square). */
  sim_roi: number;
  /** Only ground truth whose feature-grid box has IoU below this with the anchor's is compared. */
  sim_iou: number;
  /** Triplet margin on similarities s = cos + 1. */
  sim_margin: number;
  /** Weight of the similarity (triplet) loss, added to the class term. */
  sim_weight: number;
  /** Fraction of the phase-2 epochs (from the start) with the similarity loss on (the seed: 20 of 30). */
  sim_epochs: number;
  /** The last this many epochs train on the labelled regions only (the seed: epoch 29 of 30). */
  region_only_epochs: number;
  /**
   * Phase 2 as a fine-tune (TrainOptions.finetune), whose EMA continues phase 1's with its update count: the EMA
   * averages over at least this many phase-2 epochs, its decay never below 1 − 1 / (ft_ema_epochs · optimizer steps per
   * epoch). 0 = YOLOv5's ramp alone, 0.9999 · (1 − exp(−updates / 2000)): after the few hundred updates of a small
   * phase 1 that is ~0.3, an EMA that hardly averages (issue 26). Not in the seed, whose phase-2 EMA restarts at 0.
   */
  ft_ema_epochs: number;
}

/**
 * The seed's values (method.md §4.3–4.6), with sladet's pseudo-label admission: the calibrated threshold (issue 11;
 * target 0.9 and floor 0.5 since issue 26, no pseudo-labels without support), the pseudo-label loss with the detection
 * gains and a ramp-up, dense pseudo-labels from the EMA teacher, and a phase-2 EMA averaging over at least 2 epochs
 * (issue 26). Before issue 26: pl_precision 0.8, pl_conf_min 0.25, pl_unsupported 1, pl_loss_gains 0, pl_ramp 0,
 * ft_ema_epochs 0, pl_dense 0; the seed's fixed threshold: pl_precision 0.
 */
export const SEED_SLA_HYP: Readonly<SlaHyp> = Object.freeze({
  pl_nms_conf: 0.5,
  pl_nms_iou: 0.2,
  pl_max_det: 300,
  pl_conf: 0.95,
  pl_precision: 0.9,
  pl_precision_z: 0,
  pl_support: 20,
  pl_unsupported: 0,
  pl_conf_min: 0.5,
  pl_entropy: 1.0,
  pl_min_area: 10,
  pl_gt_overlap: 100,
  pl_weight: 0.1,
  pl_loss_gains: 1,
  pl_soft: 0,
  pl_flip: 0,
  pl_flip_iou: 0.55,
  pl_dense: 1,
  pl_teacher_hsv: 1,
  pl_ramp: 0.25,
  sim_conf: 0.6,
  sim_roi: 4,
  sim_iou: 0.3,
  sim_margin: 0.05,
  sim_weight: 0.1,
  sim_epochs: 20 / 30,
  region_only_epochs: 1,
  ft_ema_epochs: 2,
});

/** Range rules of the SLA keys, checked with the hyp file. */
export function slaHypProblems(h: SlaHyp): string[] {
  const unit = (k: keyof SlaHyp) => (h[k] >= 0 && h[k] <= 1 ? null : `0 <= ${k} <= 1`);
  const nonNegative = (k: keyof SlaHyp) => (h[k] >= 0 ? null : `${k} >= 0`);
  return [
    unit("pl_nms_conf"),
    unit("pl_nms_iou"),
    unit("pl_conf"),
    unit("pl_precision"),
    unit("pl_conf_min"),
    unit("pl_entropy"),
    unit("sim_conf"),
    unit("sim_iou"),
    unit("sim_epochs"),
    unit("pl_ramp"),
    unit("pl_teacher_hsv"),
    h.pl_loss_gains === 0 || h.pl_loss_gains === 1 ? null : "pl_loss_gains 0 or 1",
    h.pl_unsupported === 0 || h.pl_unsupported === 1 ? null : "pl_unsupported 0 or 1",
    h.pl_soft === 0 || h.pl_soft === 1 ? null : "pl_soft 0 or 1",
    h.pl_flip === 0 || h.pl_flip === 1 ? null : "pl_flip 0 or 1",
    unit("pl_flip_iou"),
    Number.isInteger(h.pl_support) && h.pl_support >= 1 ? null : "pl_support a positive integer",
    nonNegative("pl_precision_z"),
    nonNegative("pl_min_area"),
    nonNegative("pl_gt_overlap"),
    nonNegative("pl_weight"),
    nonNegative("pl_dense"),
    nonNegative("sim_margin"),
    nonNegative("sim_weight"),
    nonNegative("region_only_epochs"),
    nonNegative("ft_ema_epochs"),
    Number.isInteger(h.pl_max_det) && h.pl_max_det >= 1 ? null : "pl_max_det a positive integer",
    Number.isInteger(h.sim_roi) && h.sim_roi >= 1 ? null : "sim_roi a positive integer",
  ].filter((p): p is string => p !== null);
}
