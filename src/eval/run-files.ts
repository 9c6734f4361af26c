/**
 * The files a validation leaves in its run folder, shared by `sladet val`/`sladet test` and the final validation of
 * training: metrics.json, per_class.csv, confusion_matrix.csv, curves.json (for the report's PR and F1 charts) and,
 * when collected, gallery.json (predictions against ground truth for the report's gallery).
 */
import { join } from "node:path";
import { csvLine } from "../util/csv.js";
import { writeFileAtomic } from "../util/fs.js";
import type { AttributeSummary } from "./attribute-metrics.js";
import type { CocoStats } from "./coco-eval.js";
import { curvesJson } from "./curves.js";
import type { DetectionSummary } from "./detection-metrics.js";
import type { GalleryJson } from "./gallery.js";
import { SPARSE_MEANINGLESS } from "./sparse.js";
import type { ValidationThresholds } from "./validate.js";

export function perClassCsv(s: DetectionSummary): string {
  const rows = ["class,name,images,instances,precision,recall,mAP50,mAP50-95"];
  for (const c of s.perClass) rows.push(csvLine([c.cls, c.name, c.images, c.instances, c.p, c.r, c.ap50, c.ap]));
  return `${rows.join("\n")}\n`;
}

export function confusionCsv(s: DetectionSummary, names: readonly string[]): string {
  const labels = [...names, "background"];
  const rows = [csvLine(["predicted\\true", ...labels])];
  s.confusion.matrix.forEach((row, i) => {
    rows.push(csvLine([labels[i]!, ...row]));
  });
  return `${rows.join("\n")}\n`;
}

/** A detection summary's headline numbers as metrics.json writes them. */
export function summaryJson(s: DetectionSummary | null) {
  return (
    s && {
      images: s.images,
      instances: s.instances,
      precision: s.mp,
      recall: s.mr,
      mAP50: s.map50,
      "mAP50-95": s.map,
      fitness: s.fitness,
    }
  );
}

export interface ValidationFiles {
  names: readonly string[];
  all: DetectionSummary;
  /** Labelled-region metrics on sparse data. */
  region: DetectionSummary | null;
  /** metrics.json's first fields: what was validated (task, weights, data, …). */
  meta: Record<string, unknown>;
  /** Mean validation losses [box, obj, cls], when computed. */
  loss: [number, number, number] | null;
  coco: CocoStats | null;
  attributes: AttributeSummary | null;
  seconds: number;
  /** The confidence, NMS IoU and max_det thresholds of the validation (metrics.json `thresholds`). */
  thresholds?: ValidationThresholds;
  gallery?: GalleryJson | null;
}

/** Writes metrics.json, per_class.csv, confusion_matrix.csv, curves.json and gallery.json (atomically each). */
export function writeValidationFiles(runDir: string, files: ValidationFiles): void {
  writeFileAtomic(join(runDir, "per_class.csv"), perClassCsv(files.all));
  writeFileAtomic(join(runDir, "confusion_matrix.csv"), confusionCsv(files.all, files.names));
  writeFileAtomic(join(runDir, "curves.json"), `${JSON.stringify(curvesJson(files.names, files.all, files.region))}\n`);
  if (files.gallery) writeFileAtomic(join(runDir, "gallery.json"), `${JSON.stringify(files.gallery)}\n`);
  const metrics = {
    ...files.meta,
    ...(files.thresholds ? { thresholds: files.thresholds } : {}),
    all: summaryJson(files.all),
    labelledRegions: summaryJson(files.region),
    ...(files.region ? { meaninglessOnSparse: SPARSE_MEANINGLESS } : {}),
    loss: files.loss,
    coco: files.coco,
    attributes: files.attributes,
    seconds: files.seconds,
  };
  writeFileAtomic(join(runDir, "metrics.json"), `${JSON.stringify(metrics, null, 2)}\n`);
}
