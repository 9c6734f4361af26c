/**
 * What a training run tells as it goes: the progress bar's fields per batch, after each epoch its results.csv row
 * (YOLOv5's columns, phase 2's after them) and its tables (attributes, detection, labelled regions, pseudo-labels),
 * the first training batch as a picture, and the closing summary.
 */
import { join } from "node:path";
import type { Batch } from "../data/batch.js";
import { saveBatchPicture } from "../data/batch-picture.js";
import { formatAttributeTable } from "../eval/attribute-metrics.js";
import { formatDetectionTable } from "../eval/detection-metrics.js";
import { SPARSE_CAVEAT } from "../eval/validate.js";
import { memoryStats } from "../torch/index.js";
import type { EpochValidation } from "./epoch-validation.js";
import type { ResultsRow } from "./results-csv.js";
import { NO_PSEUDO_LABELS } from "./sla/calibration.js";
import type { SlaBranch } from "./sla/sla-branch.js";
import type { TrainLosses } from "./train-losses.js";
import type { TrainLog } from "./train-options.js";
import type { TrainingParts } from "./training-setup.js";

/** The progress bar's fields after a batch: the mean losses so far, pseudo-labels this epoch, the batch's size. */
export function progressFields(
  mean: TrainLosses,
  batch: Batch,
  withAttributes: boolean,
  sla: SlaBranch | null,
): Record<string, number> {
  return {
    box: mean.box,
    obj: mean.obj,
    cls: mean.cls,
    ...(withAttributes ? { attr: mean.attr } : {}),
    ...(sla ? { pl: sla.stats.summary().count } : {}),
    inst: batch.targets.size(0),
    size: batch.shape[0],
  };
}

/** The YOLOv5-style picture of the first training batch, with boxes and labelled regions (train_batch0.jpg). */
export async function saveFirstBatchPicture(parts: TrainingParts): Promise<void> {
  for await (const raw of parts.trainLoader.rawEpoch(0)) {
    await saveBatchPicture(join(parts.runDir, "train_batch0.jpg"), raw);
    break;
  }
}

/**
 * Closes an epoch: logs the attribute table, appends the results.csv row (phase 2: moves its pseudo-label
 * statistics to the next epoch and logs them), logs the detection table (per class after the last epoch) and the
 * labelled-region line.
 */
export function recordEpoch(parts: TrainingParts, epoch: number, losses: TrainLosses, v: EpochValidation): void {
  const { log, opts } = parts;
  if (v.attributes) log(formatAttributeTable(v.attributes));
  parts.results.append(resultsRow(parts, epoch, losses, v));
  log(formatDetectionTable(v.val.all, { perClass: epoch === opts.epochs - 1 }));
  const r = v.val.region;
  if (r)
    log(
      `labelled regions only: P ${r.mp.toFixed(3)} R ${r.mr.toFixed(3)} mAP50 ${r.map50.toFixed(3)} mAP50-95 ${r.map.toFixed(3)}` +
        (epoch === 0 ? `\n${SPARSE_CAVEAT}` : ""),
    );
}

/** The epoch's results.csv row. */
function resultsRow(parts: TrainingParts, epoch: number, losses: TrainLosses, v: EpochValidation): ResultsRow {
  const { val, attributes: attr } = v;
  const lrs = parts.optimizer.paramGroups.map((g) => g.lr);
  return {
    epoch,
    "train/box_loss": losses.box,
    "train/obj_loss": losses.obj,
    "train/cls_loss": losses.cls,
    "metrics/precision": val.all.mp,
    "metrics/recall": val.all.mr,
    "metrics/mAP_0.5": val.all.map50,
    "metrics/mAP_0.5:0.95": val.all.map,
    "val/box_loss": val.loss?.[0] ?? Number.NaN,
    "val/obj_loss": val.loss?.[1] ?? Number.NaN,
    "val/cls_loss": val.loss?.[2] ?? Number.NaN,
    "x/lr0": lrs[0]!,
    "x/lr1": lrs[1]!,
    "x/lr2": lrs[2]!,
    "train/attr_loss": parts.attributes ? losses.attr : Number.NaN,
    "metrics/attr_mean_F1": attr?.seedMeanF1 ?? Number.NaN,
    "metrics/attr_macro_F1": attr?.macroF1 ?? Number.NaN,
    "metrics/region_mAP_0.5": val.region?.map50 ?? Number.NaN,
    "metrics/region_mAP_0.5:0.95": val.region?.map ?? Number.NaN,
    ...(parts.sla ? slaColumns(parts.sla, epoch, losses, parts.log) : {}),
  };
}

/** Phase 2's results.csv columns for the epoch, and its pseudo-label line in the log. */
function slaColumns(sla: SlaBranch, epoch: number, losses: TrainLosses, log: TrainLog): ResultsRow {
  const s = sla.nextEpoch().summary();
  const pct = (v: number) => (Number.isNaN(v) ? "n/a" : `${(100 * v).toFixed(1)}%`);
  log(
    `pseudo-labels: ${s.count} (${(s.count / Math.max(1, s.images)).toFixed(2)}/image, ${thresholdText(sla)}), precision ${pct(s.precision)}, ` +
      `class precision ${pct(s.classPrecision)}, held-out recall ${pct(s.recall)}, ` +
      `IoU ${Number.isNaN(s.iou) ? "n/a" : s.iou.toFixed(3)}; similarity anchors ${s.anchors}` +
      `${sla.similarityOn(epoch) ? "" : " (similarity off)"}${sla.regionOnly(epoch) ? "; region-only epoch" : ""}`,
  );
  return {
    "train/pl_loss": losses.pl,
    "train/sim_loss": losses.sim,
    "pl/count": s.count,
    "pl/threshold": sla.calibrator.threshold,
    "pl/anchors": s.anchors,
    "pl/precision": s.precision,
    "pl/class_precision": s.classPrecision,
    "pl/recall": s.recall,
    "pl/iou": s.iou,
  };
}

/** The pseudo-label threshold in words, for the epoch line. */
function thresholdText(sla: SlaBranch): string {
  const t = sla.calibrator.threshold;
  if (t >= NO_PSEUDO_LABELS) return `none now: no confidence reaches precision ${sla.hyp.pl_precision} in the regions`;
  return `conf > ${t.toFixed(3)}`;
}

/** The closing lines: epochs, run folder, skipped steps, native memory peak, weights. */
export function logRunSummary(
  log: TrainLog,
  run: { epochsRun: number; runDir: string; skippedSteps: number; last: string; best: string },
): void {
  const peak = (memoryStats().peakBytes / 2 ** 20).toFixed(0);
  log(`${run.epochsRun} epoch(s) in ${run.runDir}; ${run.skippedSteps} step(s) skipped; native ${peak} MiB peak`);
  log(`weights: ${run.last}, ${run.best}`);
}
