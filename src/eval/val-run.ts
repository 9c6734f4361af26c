/**
 * `sladet val` as a library call: load weights (sladet checkpoint or YOLOv5 .pt), validate on a split of a dataset,
 * print the YOLOv5 table (and COCO-style numbers on request), and write the run folder: metrics.json,
 * per_class.csv, confusion_matrix.csv.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadDataYaml, type Split } from "../data/dataset-yaml.js";
import { DataLoader, loadSplitItems } from "../data/loader.js";
import { loadYoloCheckpoint } from "../io/yolo-import.js";
import { loadCheckpoint } from "../model/checkpoint.js";
import type { YoloModel } from "../model/yolo.js";
import { incrementRunDir } from "../train/run-dir.js";
import { ConfigError } from "../util/errors.js";
import { writeFileAtomic } from "../util/fs.js";
import { type CocoStats, cocoEvaluate, formatCocoStats } from "./coco-eval.js";
import { type DetectionSummary, formatDetectionTable } from "./detection-metrics.js";
import { VAL_CONF_THRES, VAL_IOU_THRES, VAL_MAX_DET, type ValidationResult, validate } from "./validate.js";

export interface ValRunOptions {
  data: string;
  weights: string;
  /** @default "val" */
  task?: Split;
  /** @default 32 */
  batch?: number;
  /** @default 640 */
  imgsz?: number;
  confThres?: number;
  iouThres?: number;
  maxDet?: number;
  workers?: number;
  /** @default "runs/val" */
  project?: string;
  /** @default "exp" */
  name?: string;
  existOk?: boolean;
  /** Also compute COCO-style metrics. @default false */
  coco?: boolean;
  /** @default true */
  verbose?: boolean;
}

export interface ValRunResult {
  runDir: string;
  result: ValidationResult;
  coco: CocoStats | null;
}

/** Loads a model from a sladet checkpoint or a YOLOv5 .pt (decided by the file's first bytes). */
export function loadModelForInference(path: string): YoloModel {
  let head: Buffer;
  try {
    head = readFileSync(path).subarray(0, 4);
  } catch (err) {
    throw new ConfigError(
      `${path}: cannot read the weights (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
  if (head[0] === 0x50 && head[1] === 0x4b) return loadYoloCheckpoint(path).model;
  const loaded = loadCheckpoint(path);
  loaded.attributeHead?.dispose();
  for (const t of loaded.training.values()) t.dispose();
  return loaded.model;
}

function perClassCsv(s: DetectionSummary): string {
  const rows = ["class,name,images,instances,precision,recall,mAP50,mAP50-95"];
  for (const c of s.perClass)
    rows.push([c.cls, JSON.stringify(c.name), c.images, c.instances, c.p, c.r, c.ap50, c.ap].join(","));
  return `${rows.join("\n")}\n`;
}

function confusionCsv(s: DetectionSummary, names: readonly string[]): string {
  const labels = [...names, "background"];
  const rows = [`predicted\\true,${labels.map((n) => JSON.stringify(n)).join(",")}`];
  s.confusion.matrix.forEach((row, i) => {
    rows.push([JSON.stringify(labels[i]), ...row].join(","));
  });
  return `${rows.join("\n")}\n`;
}

export async function runValidation(options: ValRunOptions): Promise<ValRunResult> {
  const verbose = options.verbose ?? true;
  const task = options.task ?? "val";
  const data = loadDataYaml(options.data);
  if (task === "val" && data.valFromTest && verbose)
    process.stdout.write(`warning: ${options.data} has no val split: using test\n`);
  const model = loadModelForInference(options.weights);
  if (model.nc !== data.nc) {
    model.dispose();
    throw new ConfigError(`${options.weights} predicts ${model.nc} classes but ${options.data} has ${data.nc}`);
  }
  const items = await loadSplitItems(data, task);
  const runDir = incrementRunDir(options.project ?? "runs/val", options.name ?? "exp", options.existOk ?? false);
  const loader = new DataLoader({
    items,
    imgSize: options.imgsz ?? 640,
    batchSize: options.batch ?? 32,
    rect: true,
    workers: options.workers,
    numAttributes: data.attributes.length,
  });
  const cocoImages: Array<{ detections: Float32Array; labels: Float64Array }> = [];
  let result: ValidationResult;
  try {
    result = await validate(model, loader, {
      names: data.names,
      confThres: options.confThres ?? VAL_CONF_THRES,
      iouThres: options.iouThres ?? VAL_IOU_THRES,
      maxDet: options.maxDet ?? VAL_MAX_DET,
      label: verbose ? task : null,
      onBatch: options.coco
        ? (batch, dets) => {
            const t = batch.targets.toTypedArray<"float32">();
            const [h, w] = batch.shape;
            dets.forEach((d, b) => {
              const labels: number[] = [];
              for (let i = 0; i < t.length; i += 13) {
                if (t[i] !== b) continue;
                const [xc, yc, bw, bh] = [t[i + 2]! * w, t[i + 3]! * h, t[i + 4]! * w, t[i + 5]! * h];
                labels.push(t[i + 1]!, xc - bw / 2, yc - bh / 2, xc + bw / 2, yc + bh / 2);
              }
              cocoImages.push({ detections: d.toTypedArray<"float32">(), labels: Float64Array.from(labels) });
            });
          }
        : undefined,
    });
  } finally {
    await loader.dispose();
    model.dispose();
  }
  const coco = options.coco ? cocoEvaluate(cocoImages) : null;
  writeFileAtomic(join(runDir, "per_class.csv"), perClassCsv(result.all));
  writeFileAtomic(join(runDir, "confusion_matrix.csv"), confusionCsv(result.all, data.names));
  const summary = (s: DetectionSummary | null) =>
    s && {
      images: s.images,
      instances: s.instances,
      precision: s.mp,
      recall: s.mr,
      mAP50: s.map50,
      "mAP50-95": s.map,
      fitness: s.fitness,
    };
  writeFileAtomic(
    join(runDir, "metrics.json"),
    `${JSON.stringify({ task, weights: options.weights, data: options.data, all: summary(result.all), labelledRegions: summary(result.region), loss: result.loss, coco, seconds: result.seconds }, null, 2)}\n`,
  );
  if (verbose) {
    process.stdout.write(`${formatDetectionTable(result.all)}\n`);
    if (result.region)
      process.stdout.write(`\nlabelled regions only:\n${formatDetectionTable(result.region, { perClass: false })}\n`);
    if (coco) process.stdout.write(`\n${formatCocoStats(coco)}\n`);
    process.stdout.write(`\n${result.all.images} images in ${result.seconds.toFixed(1)} s; results in ${runDir}\n`);
  }
  return { runDir, result, coco };
}
