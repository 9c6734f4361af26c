/**
 * Attribute evaluation inside validation: for each image, the detections' attributes are predicted from the
 * detector's p2/p3 features, each ground-truth cell (with its own image's attributes: the seed's batch-indexing bug
 * fixed) is matched to the detection with the highest IoU ≥ 0.5, and the pair is scored and written as a CSV row
 * with the seed's 13 columns plus Cell Size, class, box and IoU.
 */
import { basename } from "node:path";
import type { Batch } from "../data/batch.js";
import { type Tensor, tensor } from "../torch/index.js";
import type { AttributeBranch } from "../train/attribute-branch.js";
import { writeFileAtomic } from "../util/fs.js";
import { AttributeMetrics, matchCells } from "./attribute-metrics.js";
import { iouAt } from "./box.js";

/** The seed's CSV header (val.py / test.py): filename, six ground-truth and six predicted binary attributes. */
export const SEED_ATTRIBUTE_COLUMNS = [
  "filename",
  "Nuclear Chromatin",
  "Nuclear Shape",
  "Nucleus",
  "Cytoplasm",
  "Cytoplasmic Basophilia",
  "Cytoplasmic Vacuoles",
  "pred_Nuclear Chromatin",
  "pred_Nuclear Shape",
  "pred_Nucleus",
  "pred_Cytoplasm",
  "pred_Cytoplasmic Basophilia",
  "pred_Cytoplasmic Vacuoles",
] as const;
export const EXTRA_ATTRIBUTE_COLUMNS = ["Cell Size", "pred_Cell Size", "class", "x1", "y1", "x2", "y2", "iou"] as const;

export class AttributeEvaluation {
  readonly metrics = new AttributeMetrics();
  readonly rows: string[] = [];

  constructor(readonly branch: AttributeBranch) {}

  /** Scores one validation batch (called under inference mode with the EMA detector's features). */
  add(batch: Batch, detections: readonly Tensor[], features: Record<string, Tensor>): void {
    const [h, w] = batch.shape;
    const targets = batch.targets.toTypedArray<"float32">();
    const stride = batch.targets.size(1);
    detections.forEach((det, b) => {
      const dets = det.toTypedArray<"float32">();
      const labels: number[] = [];
      const truths: number[][] = [];
      for (let i = 0; i < targets.length; i += stride) {
        if (targets[i] !== b) continue;
        const [xc, yc, bw, bh] = [targets[i + 2]! * w, targets[i + 3]! * h, targets[i + 4]! * w, targets[i + 5]! * h];
        labels.push(targets[i + 1]!, xc - bw / 2, yc - bh / 2, xc + bw / 2, yc + bh / 2);
        truths.push(Array.from(targets.subarray(i + 6, i + 13)));
      }
      if (truths.length === 0) return;
      const nd = dets.length / 6;
      if (nd === 0) {
        this.metrics.addUnmatched(truths.length);
        return;
      }
      const boxes: number[] = [];
      for (let d = 0; d < nd; d++)
        boxes.push(b, dets[d * 6]! / w, dets[d * 6 + 1]! / h, dets[d * 6 + 2]! / w, dets[d * 6 + 3]! / h);
      const boxTensor = tensor(boxes, [nd, 5]);
      const predicted = this.branch.predict(features, boxTensor).toArray();
      boxTensor.dispose();
      matchCells(labels, dets).forEach((d, l) => {
        if (d < 0) {
          this.metrics.addUnmatched();
          return;
        }
        const pred = predicted.slice(d * 7, d * 7 + 7);
        const truth = truths[l]!;
        this.metrics.add(truth, pred);
        const iou = iouAt(labels, l * 5 + 1, dets, d * 6);
        const box = [0, 1, 2, 3].map((k) => dets[d * 6 + k]!.toFixed(1));
        const fmt = (v: number) => (v < 0 ? "" : String(v));
        this.rows.push(
          [
            JSON.stringify(basename(batch.files[b] ?? "")),
            ...truth.slice(1).map(fmt),
            ...pred.slice(1).map(String),
            fmt(truth[0]!),
            String(pred[0]),
            String(labels[l * 5]),
            ...box,
            iou.toFixed(4),
          ].join(","),
        );
      });
    });
  }

  /** Writes the CSV (atomically; a new file, never appended to an earlier run's). */
  writeCsv(path: string): void {
    const header = [...SEED_ATTRIBUTE_COLUMNS, ...EXTRA_ATTRIBUTE_COLUMNS].map((c) => JSON.stringify(c)).join(",");
    writeFileAtomic(path, `${[header, ...this.rows].join("\n")}\n`);
  }
}
