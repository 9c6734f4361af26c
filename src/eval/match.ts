/**
 * Greedy matching of detections to ground truth at several IoU thresholds, as YOLOv5's val.py process_batch:
 * candidate pairs (same class, IoU ≥ t) sorted by IoU descending; each detection keeps its best pair; then each label
 * keeps the pair of its lowest-index detection among those (YOLOv5's order; it does not re-sort by IoU).
 */
import { boxIou } from "./box.js";

/** The 10 IoU thresholds 0.50:0.05:0.95. */
export const IOU_THRESHOLDS: readonly number[] = Array.from({ length: 10 }, (_, i) => 0.5 + 0.05 * i);

/** One image's detections: rows [x1, y1, x2, y2, conf, cls] (pixels). */
export type DetectionRows = Float32Array | Float64Array;
/** One image's labels: rows [cls, x1, y1, x2, y2] (pixels, same frame as the detections). */
export type LabelRows = Float32Array | Float64Array;

/**
 * Which detections are true positives at each threshold: Uint8Array [nDet × nThresholds] (row-major).
 */
export function matchDetections(
  detections: DetectionRows,
  labels: LabelRows,
  thresholds: readonly number[] = IOU_THRESHOLDS,
): Uint8Array {
  const nd = detections.length / 6;
  const nl = labels.length / 5;
  const correct = new Uint8Array(nd * thresholds.length);
  if (nd === 0 || nl === 0) return correct;
  const iou = boxIou(labels, detections, { strideA: 5, offsetA: 1, strideB: 6, offsetB: 0 }); // [nl × nd]
  thresholds.forEach((t, ti) => {
    const pairs: Array<[number, number, number]> = [];
    for (let l = 0; l < nl; l++) {
      for (let d = 0; d < nd; d++) {
        const v = iou[l * nd + d]!;
        if (v >= t && labels[l * 5] === detections[d * 6 + 5]) pairs.push([l, d, v]);
      }
    }
    for (const [, d] of uniquePairs(pairs)) correct[d * thresholds.length + ti] = 1;
  });
  return correct;
}

/**
 * YOLOv5's de-duplication of [label, detection, iou] pairs: sort by IoU descending; keep the first pair per
 * detection (result ordered by detection); optionally re-sort by IoU (the confusion matrix does, val.py does not);
 * keep the first pair per label.
 */
export function uniquePairs(
  pairs: Array<[number, number, number]>,
  resortBetween = false,
): Array<[number, number, number]> {
  if (pairs.length <= 1) return pairs;
  const byIou = (rows: Array<[number, number, number]>) => [...rows].sort((x, y) => y[2] - x[2]);
  const firstPer = (rows: Array<[number, number, number]>, key: 0 | 1) => {
    const seen = new Map<number, [number, number, number]>();
    for (const r of rows) if (!seen.has(r[key])) seen.set(r[key], r);
    return [...seen.values()].sort((x, y) => x[key] - y[key]);
  };
  const perDetection = firstPer(byIou(pairs), 1);
  return firstPer(resortBetween ? byIou(perDetection) : perDetection, 0);
}
