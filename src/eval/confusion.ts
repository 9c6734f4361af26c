/**
 * Detection confusion matrix as YOLOv5's ConfusionMatrix: (nc + 1) × (nc + 1), rows = predicted class, columns =
 * true class, the extra index = background. Detections below `conf` are ignored; a label matched (IoU > iouThres,
 * one-to-one, best IoU first) to a detection counts at [detClass, trueClass]; unmatched labels are missed
 * ([background, trueClass]); unmatched detections are false alarms ([detClass, background]).
 */
import { boxIou } from "./box.js";
import type { DetectionRows, LabelRows } from "./match.js";
import { uniquePairs } from "./match.js";

/** YOLOv5's defaults for the confusion matrix. */
export const CONFUSION_CONF = 0.25;
export const CONFUSION_IOU = 0.45;

export class ConfusionMatrix {
  /** matrix[pred][true], size (nc + 1)². */
  readonly matrix: number[][];

  constructor(
    readonly nc: number,
    readonly conf = CONFUSION_CONF,
    readonly iouThres = CONFUSION_IOU,
  ) {
    this.matrix = Array.from({ length: nc + 1 }, () => new Array<number>(nc + 1).fill(0));
  }

  /** Adds one image: detections [x1,y1,x2,y2,conf,cls] rows, labels [cls,x1,y1,x2,y2] rows. */
  add(detections: DetectionRows, labels: LabelRows): void {
    const bg = this.nc;
    const kept: number[] = [];
    for (let d = 0; d < detections.length / 6; d++) if (detections[d * 6 + 4]! > this.conf) kept.push(d);
    const dets = new Float64Array(kept.length * 6);
    for (const [k, d] of kept.entries()) dets.set(detections.subarray(d * 6, d * 6 + 6), k * 6);
    const nl = labels.length / 5;
    const nd = kept.length;
    const iou = boxIou(labels, dets, { strideA: 5, offsetA: 1, strideB: 6, offsetB: 0 });
    const pairs: Array<[number, number, number]> = [];
    for (let l = 0; l < nl; l++)
      for (let d = 0; d < nd; d++) if (iou[l * nd + d]! > this.iouThres) pairs.push([l, d, iou[l * nd + d]!]);
    const matches = uniquePairs(pairs, true);
    const detOfLabel = new Map(matches.map(([l, d]) => [l, d]));
    const matchedDets = new Set(matches.map(([, d]) => d));
    for (let l = 0; l < nl; l++) {
      const gc = labels[l * 5]!;
      const d = detOfLabel.get(l);
      if (d !== undefined) this.matrix[dets[d * 6 + 5]!]![gc]! += 1;
      else this.matrix[bg]![gc]! += 1;
    }
    for (let d = 0; d < nd; d++) if (!matchedDets.has(d)) this.matrix[dets[d * 6 + 5]!]![bg]! += 1;
  }

  /** Column-normalised copy (each true class sums to 1), as plotted. */
  normalised(): number[][] {
    const colSums = this.matrix[0]!.map((_, c) => this.matrix.reduce((s, row) => s + row[c]!, 0));
    return this.matrix.map((row) => row.map((v, c) => (colSums[c]! > 0 ? v / colSums[c]! : 0)));
  }
}
