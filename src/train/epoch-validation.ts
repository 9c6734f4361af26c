/**
 * The validation of the EMA after each epoch (YOLOv5's val.run in the train loop): detection metrics and losses, the
 * attribute metrics when the head is trained (written to attributes/val_epochN.csv), the gallery of the last epoch,
 * and the metrics a checkpoint records; after the last epoch, the run folder's validation files.
 */
import { join } from "node:path";
import type { Batch } from "../data/batch.js";
import { AttributeEvaluation } from "../eval/attribute-eval.js";
import type { AttributeSummary } from "../eval/attribute-metrics.js";
import { GalleryCollector, type GalleryJson } from "../eval/gallery.js";
import { writeValidationFiles } from "../eval/run-files.js";
import { type ValidationResult, validate } from "../eval/validate.js";
import { modelTaps } from "../model/attribute-inference.js";
import type { Tensor } from "../torch/index.js";
import type { CheckpointMetrics } from "./checkpoints.js";
import type { TrainingParts } from "./training-setup.js";

/** One epoch's validation of the EMA. */
export interface EpochValidation {
  epoch: number;
  val: ValidationResult;
  /** fitness, P, R, mAPs (and attribute F1s) for the checkpoint. */
  metrics: CheckpointMetrics;
  attributes: AttributeSummary | null;
  gallery: GalleryJson;
}

/** Validates the EMA detector (and the EMA attribute head) on the val loader; writes the epoch's attribute CSV. */
export async function validateEpoch(parts: TrainingParts, epoch: number): Promise<EpochValidation> {
  const { opts, model, ema, valLoader, computeLoss, attributes, runDir } = parts;
  const evaluation = attributes
    ? new AttributeEvaluation(attributes.ema.ema, {
        imgSize: opts.imgsz,
        csv: join(runDir, "attributes", `val_epoch${epoch + 1}.csv`),
      })
    : null;
  try {
    const gallery = new GalleryCollector(valLoader.items, opts.imgsz, model.names);
    const val = await validate(ema.ema, valLoader, {
      names: model.names,
      computeLoss,
      label: opts.verbose ? "val" : null,
      taps: evaluation ? modelTaps(evaluation.head) : [],
      onBatch: (b: Batch, d: Tensor[], f: Record<string, Tensor>) => {
        evaluation?.add(b, d, f);
        gallery.add(b, d);
      },
    });
    const attr = evaluation?.metrics.summary() ?? null;
    if (attr) evaluation?.commitCsv(); // no matched cell: no CSV, as before
    return { epoch, val, metrics: checkpointMetrics(val, attr), attributes: attr, gallery: gallery.toJson() };
  } finally {
    evaluation?.abortCsv();
  }
}

/** The metrics a checkpoint records; `fitness` decides best and early stopping. */
function checkpointMetrics(val: ValidationResult, attr: AttributeSummary | null): CheckpointMetrics {
  return {
    precision: val.all.mp,
    recall: val.all.mr,
    mAP50: val.all.map50,
    "mAP50-95": val.all.map,
    // on sparse val data the whole-image numbers count unlabelled cells as false positives: best and early
    // stopping follow the labelled regions
    fitness: (val.region ?? val.all).fitness,
    ...(attr ? { attrMeanF1: attr.seedMeanF1, attrMacroF1: attr.macroF1 } : {}),
  };
}

/** The last validation's files (metrics.json, per_class.csv, curves.json, gallery.json, …) for the run report. */
export function writeFinalValidation(runDir: string, last: EpochValidation, weights: string, data: string): void {
  writeValidationFiles(runDir, {
    names: last.gallery.names, // the model is disposed by now
    all: last.val.all,
    region: last.val.region,
    meta: { task: "val", epoch: last.epoch, weights, data },
    loss: last.val.loss,
    thresholds: last.val.thresholds,
    coco: null,
    attributes: last.attributes,
    seconds: last.val.seconds,
    gallery: last.gallery,
  });
}
