/**
 * Hyperparameters of the attribute head's training (issue 25), in the same hyp file as the detection keys. The seed
 * had none of these knobs (its head read the detector's jittered input, unbalanced, at the detector's lr); each
 * default is sladet's, measured on the synthetic films (BENCHMARKS.md, "Attributes: what the head needs"), and the
 * seed's behaviour is the value named in each key's note.
 */

import { isFineScale, MAX_FINE_SCALE } from "../data/constants.js";

export interface AttributeHyp {
  /**
   * Fraction of the HSV jitter (hsv_h, hsv_s, hsv_v) the head's pixels get: the detector's jitter (saturation ±70 %,
   * value ±40 %) erases the colour cues the head reads (basophilia is a blue tint). 1 = the detector's image (the
   * seed); 0 = the colours as loaded. Only with the image tap (detector maps are computed from the jittered image).
   */
  attr_hsv: number;
  /**
   * 1: class-balanced loss of a1..a6, each cell's terms weighted by the inverse of its value's training prior (read
   * from the training labels), so a rare value (vacuoles, nucleoli) is not answered with the majority; 0: unweighted
   * (the seed).
   */
  attr_balance: number;
  /**
   * 1: a1..a6 trained by softmax cross-entropy over each attribute's two logits, the way inference reads them
   * (AttributeLossHyp.binary_softmax); 0: the seed's ASL over them as independent sigmoids.
   */
  attr_softmax: number;
  /** The head's learning rate as a multiple of lr0 (same schedule). 1: the detector's lr0 (the seed). */
  attr_lr: number;
  /**
   * Cells that scale augmentation shrank below this factor are left out of the attribute loss (the detector still
   * learns from them). With `scale` 0.9 (scratch-high) a cell is drawn at 0.1–1.9× its size: at 0.3× a 20 px cell is
   * 6 px and its nucleoli and vacuoles are gone, so the head learns noise from it. 0: every cell (the seed).
   */
  attr_min_scale: number;
  /**
   * Head steps per detector batch: 1 + (attr_steps − 1) extra steps of the head alone on the batch's cells, each on
   * mirrored RoI grids (AttributeBranch.extraSteps). A sparse dataset labels few cells (the demo's: ~150), too few
   * updates for the head at one step per batch. Each of the attr_steps steps takes 1/attr_steps of the head's rate
   * ({@link attributeStepLr}), so a batch moves the head about as far as one step did: at the full rate each, 4 steps
   * a batch left the demo's head unlearned on one seed of two and the head alone on one of four (BENCHMARKS.md, "The
   * demo at 3× magnification, and with mirrored extra head steps"). 1: one step (the seed).
   */
  attr_steps: number;
  /**
   * RoIAlign grid of a new head as a fraction of the seed's 24×30 (0.5: 12×15), or 0: fitted to the training cells
   * ({@link autoAttributeGrid}: the coarsest of 24×30, 48×60, 72×90 that pools the mean cell at no more than
   * {@link AUTO_GRID_PIXELS_PER_ROW} pixels a row). The grid sets the head's cost (at 24×30 one head step costs about
   * half a step of the demo's tiny detector, at 12×15 a seventh, at 48×60 four times 24×30's) and what it can read:
   * at 640 px a 62 px cell pooled to 24×30 loses the vacuoles (BENCHMARKS.md, "The head at 640 px").
   * Heads continued from weights keep their grid. 1: the seed's.
   */
  attr_grid: number;
  /**
   * 1: a new head's Cell Size logits also read the box's size directly (AttributeHeadOptions.sizeFromBox; heads
   * continued from weights keep theirs). Cell Size is first of all the cell's size; under softmax cross-entropy of
   * a1..a6 (attr_softmax) the path through the hidden layers alone lost it. 0: the seed's head.
   */
  attr_size_box: number;
  /**
   * Largest L2 norm of the head's gradient at each of its steps (clipped to it, as the detector's are at
   * GRAD_CLIP_NORM). Unclipped, SGD at the detector's lr0 with momentum 0.937 let the head's gradient norm grow from
   * ~5 to 1e10 within 40 steps on a 10 %-area synthetic set (its weights then overflow and every loss is NaN: "training
   * diverged"). 0: no clipping (the seed).
   */
  attr_clip: number;
  /**
   * How a new head standardises the image tap's pixels (AttributeHeadOptions.imageNorm; heads continued from weights
   * keep theirs): 0 = each cell on its own over channels and grid (`cell`, sladet before issue 25's measurement: it
   * hides how dark a nucleus is, so coarse chromatin was at chance), 1 = a fixed per-channel mean and deviation
   * (`channel`), 2 = both side by side (`both`). Only with the image tap; the seed's heads read detector maps.
   */
  attr_image_norm: number;
  /**
   * Dropout probability in the head's fully connected part while it trains (a new head, or one continued from
   * weights). The seed's 0.5 kept the head from fitting even its own training cells on a sparse set (~170 cells in
   * the demo). 0.5: the seed.
   */
  attr_dropout: number;
  /**
   * 1: a new head reads each cell's class besides its pixels (AttributeHeadOptions.classes: the label's class in
   * training, the detection's in val, test, detect and the ONNX export; heads continued from weights keep theirs).
   * Attributes follow the cell type closely (on WBCAtt the type alone gives 0.916 mean accuracy over the six mapped
   * attributes, BENCHMARKS.md "What the cell type alone gives"); a wrongly classified cell then gets its attributes
   * read as of the class the detector gave it. 0: the seed's head, which reads pixels and box only.
   */
  attr_class: number;
  /**
   * A new head pools its cells from a fine view of each image at this many times the network input's side (a whole
   * number from 1 to 4; AttributeHeadOptions.imageScale, src/data/augment/fine-view.ts): the same picture and
   * augmentation at k× the pixels, so that a network trained below the images' own resolution (WBCAtt's 360–366 px
   * crops at 192 px) does not halve the chromatin, nucleoli and vacuoles the head reads. `attr_grid: 0` then fits
   * the grid to the cells at the fine view's size. Costs k² the image bytes in every batch (and in a `--cache ram`
   * cache; without one, a decode of each image per sample) and the head's larger grid. Only with the image tap; heads continued from weights keep theirs.
   * 1: the network input (the seed).
   */
  attr_image_scale: number;
}

/**
 * The rate of each of the head's steps: the detector's epoch rate (`lr0` × the schedule's `factor`, no warmup: the
 * seed's cadence) × attr_lr, shared by the attr_steps steps of a batch.
 */
export function attributeStepLr(h: Pick<AttributeHyp, "attr_lr" | "attr_steps">, lr0: number, factor: number): number {
  return (lr0 * h.attr_lr * factor) / h.attr_steps;
}

/** AttributeHeadOptions.imageNorm of each attr_image_norm value. */
export const ATTRIBUTE_IMAGE_NORMS = ["cell", "channel", "both"] as const;

/** The seed's attribute training (the head reads the detector's image, unbalanced loss, the detector's lr0). */
export const SEED_ATTRIBUTE_HYP: Readonly<AttributeHyp> = Object.freeze({
  attr_hsv: 1,
  attr_balance: 0,
  attr_softmax: 0,
  attr_lr: 1,
  attr_min_scale: 0,
  attr_steps: 1,
  attr_grid: 1,
  attr_size_box: 0,
  attr_clip: 0,
  attr_image_norm: 0,
  attr_dropout: 0.5,
  attr_class: 0,
  attr_image_scale: 1,
});

/**
 * sladet's defaults (see each key): the head reads its own unjittered pixels (attr_hsv 0), learns a1..a6 by softmax
 * cross-entropy (attr_softmax 1), class-balanced (attr_balance 1), and Cell Size from the box too (attr_size_box 1).
 * Measured on the demo with 2 seeds each (BENCHMARKS.md, "Attributes: the demo"); its gradient clipped as the
 * detector's (attr_clip 10); its pixels standardised per channel, not per cell, and no dropout (attr_image_norm 1,
 * attr_dropout 0: "Attributes: what the head sees"); its RoI grid fitted to the cells' size (attr_grid 0: "The head
 * at 640 px"); the rest at the seed's values.
 */
export const DEFAULT_ATTRIBUTE_HYP: Readonly<AttributeHyp> = Object.freeze({
  ...SEED_ATTRIBUTE_HYP,
  attr_hsv: 0,
  attr_balance: 1,
  attr_softmax: 1,
  attr_size_box: 1,
  attr_clip: 10,
  attr_image_norm: 1,
  attr_dropout: 0,
  attr_grid: 0,
});

/** Range rules of the attribute keys, checked with the hyp file. */
export function attributeHypProblems(h: AttributeHyp): string[] {
  return [
    h.attr_hsv >= 0 && h.attr_hsv <= 1 ? null : "0 <= attr_hsv <= 1",
    h.attr_balance === 0 || h.attr_balance === 1 ? null : "attr_balance 0 or 1",
    h.attr_softmax === 0 || h.attr_softmax === 1 ? null : "attr_softmax 0 or 1",
    h.attr_lr > 0 ? null : "attr_lr > 0",
    h.attr_min_scale >= 0 ? null : "attr_min_scale >= 0",
    Number.isInteger(h.attr_steps) && h.attr_steps >= 1 ? null : "attr_steps an integer >= 1",
    h.attr_size_box === 0 || h.attr_size_box === 1 ? null : "attr_size_box 0 or 1",
    h.attr_clip >= 0 ? null : "attr_clip >= 0 (0: no clipping)",
    [0, 1, 2].includes(h.attr_image_norm) ? null : "attr_image_norm 0 (per cell), 1 (per channel) or 2 (both)",
    h.attr_dropout >= 0 && h.attr_dropout < 1 ? null : "0 <= attr_dropout < 1",
    h.attr_class === 0 || h.attr_class === 1 ? null : "attr_class 0 or 1",
    isFineScale(h.attr_image_scale) ? null : `attr_image_scale a whole number from 1 to ${MAX_FINE_SCALE}`,
    h.attr_grid === 0 || (h.attr_grid > 0 && h.attr_grid <= 4 && attributeGrid(h.attr_grid)[0] >= 8)
      ? null
      : "attr_grid 0 (fitted to the cells) or in (0, 4] with a grid of >= 8 rows",
  ].filter((p): p is string => p !== null);
}

/**
 * The seed's RoIAlign grid (ATTRIBUTE_ROI_SIZE of src/model/attribute-head.ts, repeated here so that reading a hyp
 * file loads no engine code; a test holds the two equal).
 */
export const SEED_ROI_GRID: readonly [number, number] = [24, 30];

/** The RoIAlign grid [height, width] of attr_grid: the seed's 24×30 scaled and rounded. */
export function attributeGrid(fraction: number): [number, number] {
  return [Math.round(SEED_ROI_GRID[0] * fraction), Math.round(SEED_ROI_GRID[1] * fraction)];
}

/**
 * Largest number of image pixels of the mean training cell's height one row of an `attr_grid: 0` head pools. Measured
 * with the head alone (BENCHMARKS.md, "The head at 640 px"): 62 px cells pooled at 24×30 (2.6 px a row) read vacuoles
 * at balanced accuracy 0.73, at 48×60 (1.3 px) at 0.91, at 72×90 (0.9 px) no better than 48×60; the demo's 38 px cells
 * (1.6 px a row at 24×30) gained nothing from 48×60. 2 lies between what lost the cues and what kept them.
 */
export const AUTO_GRID_PIXELS_PER_ROW = 2;
/** The fractions of the seed's grid an `attr_grid: 0` head chooses from (24×30, 48×60, 72×90: the grids measured). */
export const AUTO_GRID_FRACTIONS: readonly number[] = [1, 2, 3];

/**
 * attr_grid 0: the coarsest fraction of {@link AUTO_GRID_FRACTIONS} whose grid pools a cell of `meanCellHeight`
 * network pixels at no more than {@link AUTO_GRID_PIXELS_PER_ROW} a row (the finest when none does; the seed's 1
 * without cells to measure).
 */
export function autoAttributeGrid(meanCellHeight: number | null): number {
  if (meanCellHeight === null) return 1;
  const fits = AUTO_GRID_FRACTIONS.find((f) => meanCellHeight / (SEED_ROI_GRID[0] * f) <= AUTO_GRID_PIXELS_PER_ROW);
  return fits ?? AUTO_GRID_FRACTIONS[AUTO_GRID_FRACTIONS.length - 1]!;
}
