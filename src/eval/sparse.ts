/**
 * The words and the list that go with whole-image metrics on sparsely labelled data (torch-free, so the report can
 * show them without loading the engine).
 */

/** Whole-image metrics that mean nothing on a sparsely labelled split (unlabelled cells count as false positives). */
export const SPARSE_MEANINGLESS = ["precision", "mAP50", "mAP50-95", "fitness"] as const;

/** The line printed under a sparse split's tables. */
export const SPARSE_CAVEAT =
  "sparse labels: whole-image P, mAP50 and mAP50-95 count detections of unlabelled cells as false positives " +
  "(meaningless here; R is over the labelled cells): judge by the labelled-regions row";
