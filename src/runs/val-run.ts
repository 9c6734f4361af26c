/**
 * `sladet val` and `sladet test` as a library call: load weights (sladet checkpoint or YOLOv5 .pt, optionally the
 * seed's attribute head), validate on a split of a dataset, print the YOLOv5 table (and COCO-style numbers on
 * request) and, when the weights carry an attribute head and the data has the 7 LLD attributes, the attribute table;
 * write the run folder: metrics.json, per_class.csv, confusion_matrix.csv, curves.json, gallery.json,
 * attributes/<split>.csv with attributes/cell_size_confusion.csv, and last the run report, report.html.
 */
import { join } from "node:path";
import type { Batch } from "../data/batch.js";
import { loadDataYaml, type Split } from "../data/dataset-yaml.js";
import { checkImgSizeRange } from "../data/img-size.js";
import { DataLoader, loadSplitItems } from "../data/loader.js";
import { AttributeEvaluation } from "../eval/attribute-eval.js";
import {
  ATTRIBUTE_MATCH_IOU,
  type AttributeSummary,
  cellSizeConfusionCsv,
  formatAttributeTable,
  formatCellSizeConfusion,
} from "../eval/attribute-metrics.js";
import { type CocoImage, type CocoStats, cocoEvaluate, formatCocoStats } from "../eval/coco-eval.js";
import { formatDetectionTable } from "../eval/detection-metrics.js";
import { GalleryCollector } from "../eval/gallery.js";
import { detectionsToNative, labelsToNative, nativeFrame } from "../eval/native-frame.js";
import { writeValidationFiles } from "../eval/run-files.js";
import {
  formatThresholds,
  labelRows,
  SPARSE_CAVEAT,
  VAL_CONF_THRES,
  VAL_IOU_THRES,
  VAL_MAX_DET,
  type ValidationResult,
  validate,
} from "../eval/validate.js";
import { type InferenceModel, loadInferenceModel } from "../io/inference-model.js";
import { describeSeedAttributeReport } from "../io/seed-attributes.js";
import type { AttributeHead } from "../model/attribute-head.js";
import { modelTaps } from "../model/attribute-inference.js";
import { tryWriteRunReport } from "../report/index.js";
import type { Tensor } from "../torch/index.js";
import { ConfigError } from "../util/errors.js";
import { writeFileAtomic } from "../util/fs.js";
import { checkIntegerOption, checkNumberOption } from "../util/option-checks.js";
import { incrementRunDir } from "../util/run-dir.js";
import { DEFAULT_IMG_SIZE, DEFAULT_RUN_NAME, VAL_BATCH_SIZE, VAL_PROJECT } from "./defaults.js";

/** Options of {@link runValidation} (`sladet val` / `sladet test`). */
export interface ValRunOptions {
  /** Dataset YAML. */
  data: string;
  /** A sladet checkpoint, a YOLOv5 .pt or a run folder (its weights/best). */
  weights: string;
  /** @default "val" */
  task?: Split;
  /** @default VAL_BATCH_SIZE (32) */
  batch?: number;
  /** @default DEFAULT_IMG_SIZE (640) */
  imgsz?: number;
  /** @default VAL_CONF_THRES (0.001, YOLOv5's val.py) */
  confThres?: number;
  /** @default VAL_IOU_THRES (0.6) */
  iouThres?: number;
  /** @default VAL_MAX_DET (300) */
  maxDet?: number;
  /** Loader worker threads. @default the loader's default */
  workers?: number;
  /** @default VAL_PROJECT ("runs/val") */
  project?: string;
  /** @default "exp" */
  name?: string;
  /** Reuse `<project>/<name>` instead of numbering a new folder. @default false */
  existOk?: boolean;
  /** Also compute COCO-style metrics. @default false */
  coco?: boolean;
  /** The seed's attribute head (`Attribute_model/*.pth`), used instead of the checkpoint's. */
  attrWeights?: string;
  /** Minimum IoU of a ground-truth cell and the detection its attributes are compared with. @default 0.5 */
  attrIou?: number;
  /** @default true */
  verbose?: boolean;
}

/** What a validation run did. */
export interface ValRunResult {
  runDir: string;
  /** The run report; null when it could not be written (the reason was printed). */
  report: string | null;
  result: ValidationResult;
  coco: CocoStats | null;
  /** Attribute metrics; null when the weights have no attribute head or the data no attributes. */
  attributes: AttributeSummary | null;
}

/** The model and the attribute head to evaluate (the seed's head from `attrWeights` replaces the checkpoint's). */
function loadModels(options: ValRunOptions, verbose: boolean): InferenceModel {
  const { model, attributeHead, seedReport } = loadInferenceModel(options.weights, {
    ...(options.attrWeights ? { attrWeights: options.attrWeights } : {}),
  });
  if (seedReport && verbose) process.stdout.write(`${describeSeedAttributeReport(seedReport)}\n`);
  return { model, attributeHead };
}

/** The attribute evaluation, when there is a head to evaluate and the data has the 7 LLD attribute columns. */
function createAttributeEvaluation(
  head: AttributeHead | null,
  attributeColumns: number,
  options: ValRunOptions,
  csv: string,
): AttributeEvaluation | null {
  if (!head || attributeColumns !== 7) return null;
  return new AttributeEvaluation(head, {
    imgSize: options.imgsz ?? DEFAULT_IMG_SIZE,
    minIou: options.attrIou ?? ATTRIBUTE_MATCH_IOU,
    csv,
  });
}

/** Ground truth and detections per image for the COCO-style evaluation, in original pixels (val.py's JSON). */
function cocoCollector(images: CocoImage[], loader: DataLoader) {
  return (batch: Batch, dets: readonly Tensor[]) => {
    const t = batch.targets.toTypedArray<"float32">();
    const [h, w] = batch.shape;
    dets.forEach((d, b) => {
      const frame = nativeFrame(loader.items[batch.indices[b]!]!, loader.imgSize, [h, w]);
      images.push({
        detections: detectionsToNative(d.toTypedArray<"float32">(), frame),
        labels: labelsToNative(labelRows(t, batch.targets.size(1), b, w, h), frame),
      });
    });
  };
}

/** Refuses numeric options out of range before any file is read (an OptionError naming the field). */
function checkValOptions(o: ValRunOptions): void {
  checkImgSizeRange(o.imgsz);
  checkIntegerOption("batch", o.batch, 1);
  checkIntegerOption("maxDet", o.maxDet, 1);
  checkIntegerOption("workers", o.workers, 0);
  checkNumberOption("confThres", o.confThres, 0, 1);
  checkNumberOption("iouThres", o.iouThres, 0, 1);
  checkNumberOption("attrIou", o.attrIou, 0, 1);
}

/** Validates weights on a split of a dataset and writes the run folder and its report (see the module comment). */
export async function runValidation(options: ValRunOptions): Promise<ValRunResult> {
  checkValOptions(options);
  const verbose = options.verbose ?? true;
  const task = options.task ?? "val";
  const data = loadDataYaml(options.data);
  if (task === "val" && data.valFromTest && verbose)
    process.stdout.write(`warning: ${options.data} has no val split: using test\n`);
  const { model, attributeHead } = loadModels(options, verbose);
  let loader: DataLoader | null = null;
  let attributes: AttributeEvaluation | null = null;
  try {
    if (model.nc !== data.nc)
      throw new ConfigError(`${options.weights} predicts ${model.nc} classes but ${options.data} has ${data.nc}`);
    if (!attributeHead && options.attrWeights !== undefined)
      throw new ConfigError(`${options.attrWeights}: no attribute head was loaded`);
    const items = await loadSplitItems(data, task);
    const runDir = incrementRunDir(
      options.project ?? VAL_PROJECT,
      options.name ?? DEFAULT_RUN_NAME,
      options.existOk ?? false,
    );
    attributes = createAttributeEvaluation(
      attributeHead,
      data.attributes.length,
      options,
      join(runDir, "attributes", `${task}.csv`),
    );
    loader = new DataLoader({
      items,
      imgSize: options.imgsz ?? DEFAULT_IMG_SIZE,
      batchSize: options.batch ?? VAL_BATCH_SIZE,
      rect: true,
      workers: options.workers,
      numAttributes: data.attributes.length,
      ...(attributes && attributes.head.imageScale > 1 ? { fine: { scale: attributes.head.imageScale } } : {}),
    });
    const cocoImages: CocoImage[] = [];
    const collectCoco = options.coco ? cocoCollector(cocoImages, loader) : null;
    const gallery = new GalleryCollector(items, options.imgsz ?? DEFAULT_IMG_SIZE, data.names);
    const result = await validate(model, loader, {
      names: data.names,
      confThres: options.confThres ?? VAL_CONF_THRES,
      iouThres: options.iouThres ?? VAL_IOU_THRES,
      maxDet: options.maxDet ?? VAL_MAX_DET,
      label: verbose ? task : null,
      taps: attributes ? modelTaps(attributes.head) : [],
      onBatch: (batch: Batch, dets: Tensor[], features: Record<string, Tensor>) => {
        collectCoco?.(batch, dets);
        attributes?.add(batch, dets, features);
        gallery.add(batch, dets);
      },
    });
    const out: ValRunResult = {
      runDir,
      report: null,
      result,
      coco: options.coco ? cocoEvaluate(cocoImages) : null,
      attributes: attributes?.metrics.summary() ?? null,
    };
    writeRunFiles(out, options, task, data.names, attributes, gallery);
    out.report = await tryWriteRunReport(runDir);
    if (verbose) printSummary(out);
    return out;
  } finally {
    attributes?.abortCsv(); // committed by writeRunFiles unless validation failed
    await loader?.dispose();
    model.dispose();
    attributeHead?.dispose();
  }
}

/**
 * metrics.json, per_class.csv, confusion_matrix.csv, curves.json, gallery.json and, with attributes,
 * attributes/<task>.csv and the Cell Size matrix.
 */
function writeRunFiles(
  out: ValRunResult,
  options: ValRunOptions,
  task: Split,
  names: readonly string[],
  attributes: AttributeEvaluation | null,
  gallery: GalleryCollector,
): void {
  const { runDir, result, coco } = out;
  if (attributes && out.attributes) {
    attributes.commitCsv();
    writeFileAtomic(join(runDir, "attributes", "cell_size_confusion.csv"), cellSizeConfusionCsv(out.attributes));
  }
  writeValidationFiles(runDir, {
    names,
    all: result.all,
    region: result.region,
    meta: {
      task,
      weights: options.weights,
      ...(options.attrWeights ? { attrWeights: options.attrWeights } : {}),
      data: options.data,
    },
    loss: result.loss,
    thresholds: result.thresholds,
    coco,
    attributes: out.attributes,
    seconds: result.seconds,
    gallery: gallery.toJson(),
  });
}

function printSummary({ runDir, report, result, coco, attributes }: ValRunResult): void {
  const write = (text: string) => process.stdout.write(`${text}\n`);
  write(`${formatThresholds(result.thresholds)}\n${formatDetectionTable(result.all)}`);
  if (result.region) {
    write(`\nlabelled regions only:\n${formatDetectionTable(result.region, { perClass: false })}\n${SPARSE_CAVEAT}`);
  }
  if (coco) write(`\n${formatCocoStats(coco)}`);
  if (attributes) write(`\n${formatAttributeTable(attributes)}\n\n${formatCellSizeConfusion(attributes)}`);
  write(`\n${result.all.images} images in ${result.seconds.toFixed(1)} s; results in ${runDir}`);
  if (report) write(`report: ${report}`);
}
