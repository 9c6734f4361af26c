/**
 * The training losses of one batch, and their running mean over an epoch (YOLOv5's `mloss`), as a named record: the
 * detector's three (ComputeLoss), the attribute head's, and phase 2's pseudo-label and similarity terms.
 */

/** One value per training loss term; terms a run does not have are 0. */
export interface TrainLosses {
  /** Box regression (CIoU) loss. */
  box: number;
  /** Objectness loss. */
  obj: number;
  /** Classification loss. */
  cls: number;
  /** Attribute-head loss (0 without --attributes). */
  attr: number;
  /** Phase 2's pseudo-label loss (0 in phase 1). */
  pl: number;
  /** Phase 2's similarity (triplet) loss (0 in phase 1). */
  sim: number;
}

/** The loss terms in their column order. */
export const LOSS_TERMS: readonly (keyof TrainLosses)[] = ["box", "obj", "cls", "attr", "pl", "sim"];

/** All terms 0: the running mean before the first batch. */
export function zeroLosses(): TrainLosses {
  return { box: 0, obj: 0, cls: 0, attr: 0, pl: 0, sim: 0 };
}

/** The running mean after one more batch: `mean` over `seen` batches, updated with `batch` (YOLOv5's formula). */
export function updateMeanLosses(mean: TrainLosses, batch: TrainLosses, seen: number): TrainLosses {
  const next = zeroLosses();
  for (const k of LOSS_TERMS) next[k] = (mean[k] * seen + batch[k]) / (seen + 1);
  return next;
}
