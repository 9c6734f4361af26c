/**
 * Validation of a detector on a loader, as YOLOv5 v7.0's val.py: forward in eval mode, YOLOv5's validation NMS (conf
 * 0.001, IoU 0.6, multi-label, max_det 300), detections and labels mapped back to the original image and clipped to it
 * (val.py's scale_boxes), greedy matching and AP there, optional validation losses, and, for sparse data, the same
 * metrics restricted to the labelled region (a detection counts only when its centre is labelled: precision outside
 * the region is meaningless because unlabelled cells are not background).
 */
import type { Batch } from "../data/batch.js";
import type { DataLoader } from "../data/loader.js";
import { isSparse } from "../data/region.js";
import type { YoloModel } from "../model/yolo.js";
import { inferenceMode, type Tensor, tidy } from "../torch/index.js";
import type { ComputeLoss } from "../train/loss/compute-loss.js";
import { pushAll } from "../util/arrays.js";
import { type Progress, progress } from "../util/progress.js";
import { DetectionMetrics, type DetectionSummary } from "./detection-metrics.js";
import { detectionsToNative, labelsToNative, nativeFrame } from "./native-frame.js";
import { nonMaxSuppression } from "./nms.js";
import { VAL_CONF_THRES, VAL_IOU_THRES, VAL_MAX_DET } from "./nms-constants.js";

export { VAL_CONF_THRES, VAL_IOU_THRES, VAL_MAX_DET } from "./nms-constants.js";

/** The thresholds a validation ran with (printed with its table, stored in metrics.json). */
export interface ValidationThresholds {
  /** Minimum confidence of a detection. */
  conf: number;
  /** NMS IoU threshold. */
  iou: number;
  /** Detections kept per image. */
  maxDet: number;
}

/** One line naming the thresholds, printed above the validation table. */
export function formatThresholds(t: ValidationThresholds): string {
  return `conf ${t.conf}, NMS IoU ${t.iou}, max_det ${t.maxDet}`;
}

export interface ValidateOptions {
  names: readonly string[];
  /** @default VAL_CONF_THRES */
  confThres?: number;
  /** @default VAL_IOU_THRES */
  iouThres?: number;
  /** @default VAL_MAX_DET */
  maxDet?: number;
  /** Also compute the loss on the validation batches (box, obj, cls; region-masked when the data is sparse). */
  computeLoss?: ComputeLoss;
  /** Epoch of the loader to iterate (only matters for augmenting loaders). @default 0 */
  epoch?: number;
  /** Progress label; null = no progress display. @default "val" */
  label?: string | null;
  /** Called with each batch and its per-image detections [n, 6] (input pixels), e.g. for attribute evaluation. */
  onBatch?: (batch: Batch, detections: Tensor[], features: Record<string, Tensor>) => void;
  /** Feature taps of the model to hand to onBatch (e.g. p2, p3 for the attribute head). @default [] */
  taps?: readonly string[];
}

export interface ValidationResult {
  /** Metrics over whole images (the seed's and YOLOv5's numbers). */
  all: DetectionSummary;
  /** Metrics restricted to labelled regions; null when every image is densely labelled. */
  region: DetectionSummary | null;
  /** Mean validation losses [box, obj, cls]; null without computeLoss. */
  loss: [number, number, number] | null;
  /** Seconds spent. */
  seconds: number;
  /** The thresholds used. */
  thresholds: ValidationThresholds;
}

/** Rows [cls, x1, y1, x2, y2] (pixels) of image b from the batch targets [N, stride] (13 for LLD, 6 with no attributes). */
export function labelRows(
  targets: Float32Array,
  stride: number,
  b: number,
  w: number,
  h: number,
  keep?: (x: number, y: number) => boolean,
): Float64Array {
  const rows: number[] = [];
  for (let i = 0; i < targets.length; i += stride) {
    if (targets[i] !== b) continue;
    const [cls, xc, yc, bw, bh] = [
      targets[i + 1]!,
      targets[i + 2]! * w,
      targets[i + 3]! * h,
      targets[i + 4]! * w,
      targets[i + 5]! * h,
    ];
    if (keep && !keep(xc, yc)) continue;
    rows.push(cls, xc - bw / 2, yc - bh / 2, xc + bw / 2, yc + bh / 2);
  }
  return Float64Array.from(rows);
}

function filterRows(rows: Float32Array, keep: (x: number, y: number) => boolean): Float32Array {
  const out: number[] = [];
  for (let i = 0; i < rows.length; i += 6) {
    if (keep((rows[i]! + rows[i + 2]!) / 2, (rows[i + 1]! + rows[i + 3]!) / 2)) pushAll(out, rows.subarray(i, i + 6));
  }
  return Float32Array.from(out);
}

export { SPARSE_CAVEAT, SPARSE_MEANINGLESS } from "./sparse.js";

export async function validate(
  model: YoloModel,
  loader: DataLoader,
  options: ValidateOptions,
): Promise<ValidationResult> {
  const t0 = performance.now();
  const thresholds: ValidationThresholds = {
    conf: options.confThres ?? VAL_CONF_THRES,
    iou: options.iouThres ?? VAL_IOU_THRES,
    maxDet: options.maxDet ?? VAL_MAX_DET,
  };
  const wasTraining = model.training;
  model.eval();
  const all = new DetectionMetrics(options.names);
  const region = new DetectionMetrics(options.names);
  // sparse data: any image with a labelled region (letterbox padding is unlabelled in the mask of every image)
  const sparse = loader.items.some(isSparse);
  const lossSum = [0, 0, 0];
  let batches = 0;
  const bar: Progress | null =
    options.label === null ? null : progress({ total: loader.length, label: options.label ?? "val", unit: "img" });
  try {
    for await (const batch of loader.epoch(options.epoch ?? 0)) {
      try {
        const [, , h, w] = batch.images.shape as [number, number, number, number];
        const { detections, loss, features } = inferenceMode(() =>
          tidy(() => {
            const out = model.forward(batch.images, { decode: true, taps: options.taps ?? [] });
            const dets = nonMaxSuppression(out.decoded!, {
              confThres: thresholds.conf,
              iouThres: thresholds.iou,
              maxDet: thresholds.maxDet,
              multiLabel: true,
            });
            const l = options.computeLoss?.compute(out.maps, batch.targets, batch.regionMask).items.toArray() ?? null;
            return { detections: dets, loss: l, features: out.features };
          }),
        );
        if (loss) for (let k = 0; k < 3; k++) lossSum[k]! += loss[k]!;
        batches++;
        const targets = batch.targets.toTypedArray<"float32">();
        const stride = batch.targets.size(1);
        const mask = batch.regionMask.toTypedArray<"uint8">();
        detections.forEach((det, b) => {
          const rows = det.toTypedArray<"float32">();
          const frame = nativeFrame(loader.items[batch.indices[b]!]!, loader.imgSize, [h, w]);
          const native = (d: Float32Array, l: Float64Array) =>
            [detectionsToNative(d, frame), labelsToNative(l, frame)] as const;
          all.add(...native(rows, labelRows(targets, stride, b, w, h)));
          const base = b * h * w;
          let labelled = 0;
          for (let k = 0; k < h * w; k++) labelled += mask[base + k]!;
          const inRegion = (x: number, y: number) => {
            const xi = Math.min(w - 1, Math.max(0, Math.floor(x)));
            const yi = Math.min(h - 1, Math.max(0, Math.floor(y)));
            return mask[base + yi * w + xi] === 1;
          };
          if (sparse && labelled > 0)
            region.add(...native(filterRows(rows, inRegion), labelRows(targets, stride, b, w, h, inRegion)));
        });
        if (options.onBatch) inferenceMode(() => options.onBatch!(batch, detections, features));
        for (const d of detections) d.dispose();
        for (const f of Object.values(features)) f.dispose();
        bar?.tick(batch.indices.length);
      } finally {
        batch.dispose();
      }
    }
  } finally {
    bar?.stop();
    model.train(wasTraining);
  }
  return {
    all: all.summary(),
    region: sparse ? region.summary() : null,
    loss: options.computeLoss ? (lossSum.map((s) => s / Math.max(batches, 1)) as [number, number, number]) : null,
    seconds: (performance.now() - t0) / 1000,
    thresholds,
  };
}
