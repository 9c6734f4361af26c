/**
 * Attribute evaluation inside validation: each ground-truth cell (with its own image's attributes: the seed's
 * batch-indexing bug fixed) is matched to the detection with the highest IoU ≥ 0.5, the matched detections'
 * attributes are predicted by the head (from its taps of the same forward pass), and each pair is scored and written
 * as a CSV row with the seed's 13 columns plus Cell Size, class, box (network-input pixels) and IoU. With a CSV path
 * the rows stream to a temporary file beside it as they come (memory bounded for any number of images), published by
 * {@link AttributeEvaluation.commitCsv}; without one they are kept in `rows`.
 */
import { basename } from "node:path";
import type { Batch } from "../data/batch.js";
import type { AttributeHead } from "../model/attribute-head.js";
import { headMaps, imageTapInput, predictAttributes } from "../model/attribute-inference.js";
import { type Tensor, tensor, tidy } from "../torch/index.js";
import { csvField, csvLine } from "../util/csv.js";
import { AtomicFileWriter } from "../util/fs.js";
import {
  ATTRIBUTE_MATCH_IOU,
  AttributeMetrics,
  EXTRA_ATTRIBUTE_COLUMNS,
  matchCells,
  SEED_ATTRIBUTE_COLUMNS,
} from "./attribute-metrics.js";
import { iouAt } from "./box.js";
import { labelRows } from "./validate.js";

export { EXTRA_ATTRIBUTE_COLUMNS, SEED_ATTRIBUTE_COLUMNS } from "./attribute-metrics.js";

/** Attribute columns a0..a6 of the rows of image b in batch targets [N, stride] (stride 13: LLD labels). */
function attributeRows(targets: Float32Array, stride: number, b: number): number[][] {
  const rows: number[][] = [];
  for (let i = 0; i < targets.length; i += stride)
    if (targets[i] === b) rows.push(Array.from(targets.subarray(i + 6, i + 13)));
  return rows;
}

export class AttributeEvaluation {
  readonly metrics = new AttributeMetrics();
  /** The CSV rows, when no CSV path was given (else they are in the file). */
  readonly rows: string[] = [];

  readonly imgSize: number;
  readonly minIou: number;
  readonly #csv: AtomicFileWriter | null;

  /**
   * @param head the head to evaluate, in eval mode (the EMA head during training, a checkpoint's head in val/test).
   * @param options.imgSize the loader's network size (the long side of images as loaded).
   * @param options.minIou the IoU a detection needs to be compared with a ground-truth cell. @default 0.5
   * @param options.csv the CSV to stream the rows to (a new file, never appended to an earlier run's; the target is
   *   untouched until {@link commitCsv}). Call commitCsv or {@link abortCsv} in every case.
   */
  constructor(
    readonly head: AttributeHead,
    options: { imgSize: number; minIou?: number; csv?: string },
  ) {
    this.imgSize = options.imgSize;
    this.minIou = options.minIou ?? ATTRIBUTE_MATCH_IOU;
    this.#csv = options.csv === undefined ? null : new AtomicFileWriter(options.csv);
    this.#csv?.write(`${csvLine([...SEED_ATTRIBUTE_COLUMNS, ...EXTRA_ATTRIBUTE_COLUMNS])}\n`);
  }

  /** Scores one validation batch (called under inference mode with the features of the detector that found `detections`). */
  add(batch: Batch, detections: readonly Tensor[], features: Record<string, Tensor>): void {
    const [h, w] = batch.shape;
    const targets = batch.targets.toTypedArray<"float32">();
    const stride = batch.targets.size(1);
    if (stride < 13)
      throw new Error(`attribute evaluation needs the 7 attribute columns; the targets have ${stride - 6}`);
    detections.forEach((det, b) => {
      const truths = attributeRows(targets, stride, b);
      if (truths.length === 0) return;
      const labels = labelRows(targets, stride, b, w, h);
      const dets = det.toTypedArray<"float32">();
      const matches = matchCells(labels, dets, { minIou: this.minIou });
      this.metrics.addUnmatched(matches.filter((d) => d < 0).length);
      const matched = [...new Set(matches.filter((d) => d >= 0))];
      if (matched.length === 0) return;
      const predicted = this.#predict(batch, b, dets, matched, features);
      matches.forEach((d, l) => {
        if (d < 0) return;
        const k = matched.indexOf(d);
        const pred = predicted.slice(k * 7, k * 7 + 7);
        const truth = truths[l]!;
        this.metrics.add(truth, pred);
        const iou = iouAt(labels, l * 5 + 1, dets, d * 6);
        const row = csvRow(batch.files[b] ?? "", truth, pred, labels[l * 5]!, dets, d, iou);
        if (this.#csv) this.#csv.write(`${row}\n`);
        else this.rows.push(row);
      });
    });
  }

  /**
   * Attribute values (7 per detection, flat) of the detections `matched` of image b. Only matched detections are
   * scored, so the head runs on them alone, not on all (up to max_det) detections of the low validation threshold.
   */
  #predict(
    batch: Batch,
    b: number,
    dets: Float32Array,
    matched: readonly number[],
    features: Record<string, Tensor>,
  ): number[] {
    const [h, w] = batch.shape;
    const box = (d: number) => [dets[d * 6]!, dets[d * 6 + 1]!, dets[d * 6 + 2]!, dets[d * 6 + 3]!] as const;
    const boxes = matched.flatMap((d) => {
      const [x1, y1, x2, y2] = box(d);
      return [b, x1 / w, y1 / h, x2 / w, y2 / h];
    });
    const sizes = matched.flatMap((d) => {
      const [x1, y1, x2, y2] = box(d);
      return [(x2 - x1) / this.imgSize, (y2 - y1) / this.imgSize];
    });
    const classes = this.head.classes > 0 ? matched.map((d) => dets[d * 6 + 5]!) : null;
    return tidy(() =>
      predictAttributes(
        this.head,
        headMaps(this.head, features, imageTapInput(this.head, batch.images, batch.fineImages)),
        tensor(boxes, [matched.length, 5]),
        tensor(sizes, [matched.length, 2]),
        classes ? tensor(classes, [matched.length], { dtype: "int64" }) : undefined,
      ).toArray(),
    );
  }

  /** Publishes the streamed CSV (renamed over its path). */
  commitCsv(): void {
    this.#csv?.commit();
  }

  /** Drops the streamed CSV (its path keeps what it held); nothing after a commit. */
  abortCsv(): void {
    this.#csv?.abort();
  }
}

/** One CSV row: the seed's 13 columns (unknown ground truth left empty), then Cell Size, class, box (input px), IoU. */
function csvRow(
  file: string,
  truth: readonly number[],
  pred: readonly number[],
  cls: number,
  dets: Float32Array,
  d: number,
  iou: number,
): string {
  const fmt = (v: number) => (v < 0 ? "" : String(v));
  return [
    csvField(basename(file)),
    ...truth.slice(1).map(fmt),
    ...pred.slice(1).map(String),
    fmt(truth[0]!),
    String(pred[0]),
    String(cls),
    ...[0, 1, 2, 3].map((k) => dets[d * 6 + k]!.toFixed(1)),
    iou.toFixed(4),
  ].join(",");
}
