/**
 * Run folders written by the test itself, with the project's own writers where they are torch-free (metrics.json,
 * per_class.csv, confusion_matrix.csv, curves.json, gallery.json from real DetectionMetrics and AttributeMetrics
 * summaries), and tiny generated PNGs for the pictures.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import sharp from "sharp";
import { stringify } from "yaml";
import { LLD_ATTRIBUTES } from "../../src/data/schema.js";
import {
  AttributeMetrics,
  type AttributeSummary,
  cellSizeConfusionCsv,
  EXTRA_ATTRIBUTE_COLUMNS,
  SEED_ATTRIBUTE_COLUMNS,
} from "../../src/eval/attribute-metrics.js";
import { DetectionMetrics } from "../../src/eval/detection-metrics.js";
import { GALLERY_JSON_VERSION, type GalleryJson } from "../../src/eval/gallery.js";
import { writeValidationFiles } from "../../src/eval/run-files.js";
import { PREDICTIONS_JSON_VERSION, type PredictionsJson } from "../../src/infer/prediction-json.js";
import { RESULTS_COLUMNS, ResultsCsv, SLA_RESULTS_COLUMNS } from "../../src/train/results-csv.js";

/** The second name checks escaping through tables, charts and gallery labels. */
export const NAMES = ["Neutrophil", "Lymphocyte <atypical> & co"];
export const IMAGE_W = 96;
export const IMAGE_H = 64;
/** Images of the fake validation split (each with 2 labelled cells). */
export const IMAGES = 6;
/** Epochs of the fake results.csv. */
export const EPOCHS = 5;

/** A small PNG with a coloured blob per cell (so a thumbnail is a real picture). */
export async function writePng(path: string, seed: number): Promise<void> {
  const bg = { r: 220, g: 200 - seed * 10, b: 190 };
  await sharp({ create: { width: IMAGE_W, height: IMAGE_H, channels: 3, background: bg } })
    .composite([
      {
        input: { create: { width: 20, height: 20, channels: 3, background: { r: 120, g: 60, b: 160 } } },
        left: 10 + seed,
        top: 10,
      },
    ])
    .png()
    .toFile(path);
}

type Box = [number, number, number, number];

/** Image i: two labelled cells (one per class), their detections (slightly off), and one false alarm. */
function scene(i: number) {
  const labels: { box: Box; class: number }[] = [
    { box: [10 + i, 10, 30 + i, 30], class: 0 },
    { box: [50, 20, 74, 44], class: 1 },
  ];
  const predictions = [
    { box: [11 + i, 11, 31 + i, 30] as Box, class: 0, confidence: 0.9 - i * 0.05 },
    { box: [51, 21, 73, 45] as Box, class: i % 3 === 0 ? 0 : 1, confidence: 0.7 },
    { box: [70, 40, 90, 60] as Box, class: 1, confidence: 0.3 + i * 0.02 },
  ];
  return { labels, predictions };
}

function detectionSummaries() {
  const all = new DetectionMetrics(NAMES);
  const region = new DetectionMetrics(NAMES);
  for (let i = 0; i < IMAGES; i++) {
    const { labels, predictions } = scene(i);
    const det = Float32Array.from(predictions.flatMap((p) => [...p.box, p.confidence, p.class]));
    const lab = Float64Array.from(labels.flatMap((l) => [l.class, ...l.box]));
    all.add(det, lab);
    // the labelled region is the left two thirds: the false alarm at x 70..90 is outside it
    region.add(det.slice(0, 12), lab);
  }
  return { all: all.summary(), region: region.summary() };
}

/** Cells with their expert and predicted attribute values (a0..a6), some unknown (−1). */
function attributeCells(): { truth: number[]; pred: number[] }[] {
  return Array.from({ length: 24 }, (_, k) => ({
    truth: [k % 3, k % 2, (k >> 1) % 2, k % 5 === 0 ? -1 : (k >> 2) % 2, 1, k % 2, 0],
    pred: [(k + (k % 4 === 0 ? 1 : 0)) % 3, k % 2, (k >> 1) % 2, 0, 1, (k + 1) % 2, 0],
  }));
}

export function attributeSummary(): AttributeSummary {
  const m = new AttributeMetrics(LLD_ATTRIBUTES);
  for (const c of attributeCells()) m.add(c.truth, c.pred);
  return m.summary();
}

/** attributes/<name>.csv rows as the validation writes them (the seed's 13 columns, then Cell Size, …). */
export function attributeCsv(): string {
  const header = [...SEED_ATTRIBUTE_COLUMNS, ...EXTRA_ATTRIBUTE_COLUMNS].map((c) => JSON.stringify(c)).join(",");
  const fmt = (v: number) => (v < 0 ? "" : String(v));
  const rows = attributeCells().map((c, k) =>
    [
      JSON.stringify(`img_${k}.png`),
      ...c.truth.slice(1).map(fmt),
      ...c.pred.slice(1).map(String),
      fmt(c.truth[0]!),
      String(c.pred[0]),
      "0",
      "1.0",
      "2.0",
      "20.0",
      "22.0",
      "0.8",
    ].join(","),
  );
  return `${[header, ...rows].join("\n")}\n`;
}

function resultsCsv(path: string): void {
  const csv = new ResultsCsv(path, [...RESULTS_COLUMNS, ...SLA_RESULTS_COLUMNS]);
  for (let e = 0; e < EPOCHS; e++) {
    const t = (e + 1) / EPOCHS;
    csv.append({
      epoch: e,
      "train/box_loss": 0.1 - 0.05 * t,
      "train/obj_loss": 0.02 - 0.01 * t,
      "train/cls_loss": 0.01 - 0.005 * t,
      "metrics/precision": 0.2 + 0.1 * t,
      "metrics/recall": 0.3 + 0.4 * t,
      "metrics/mAP_0.5": 0.2 + 0.3 * t,
      "metrics/mAP_0.5:0.95": 0.1 + 0.2 * t,
      "val/box_loss": 0.09 - 0.04 * t,
      "val/obj_loss": 0.02 - 0.008 * t,
      "val/cls_loss": 0.01 - 0.004 * t,
      "x/lr0": 0.01 * (1 - t),
      "x/lr1": 0.01 * (1 - t),
      "x/lr2": 0.01 * (1 - t),
      "train/attr_loss": 0.5 - 0.2 * t,
      "metrics/attr_mean_F1": 0.4 + 0.2 * t,
      "metrics/attr_macro_F1": 0.35 + 0.2 * t,
      "metrics/region_mAP_0.5": 0.4 + 0.4 * t,
      "metrics/region_mAP_0.5:0.95": 0.2 + 0.3 * t,
      "train/pl_loss": 0.05 * t,
      "train/sim_loss": e < 3 ? 0.02 : Number.NaN,
      "pl/count": 10 * e,
      "pl/threshold": 0.9 - 0.05 * e,
      "pl/anchors": 4 * e,
      "pl/precision": 0.8,
      "pl/class_precision": 0.75,
      "pl/recall": 0.1 * e,
    });
  }
}

export interface FakeTrainingRun {
  runDir: string;
  /** Gallery images whose PNG exists (the last one listed is missing on purpose). */
  pictures: number;
  galleryImages: number;
}

/**
 * A phase-2 training run folder on sparse data: args.yaml, results.csv, and its final validation's files (metrics.json
 * with labelled regions and attributes, per_class.csv, confusion_matrix.csv, curves.json, gallery.json with PNGs and
 * one missing picture), attributes/val_epoch5.csv and cell_size_confusion.csv.
 */
export async function writeFakeTrainingRun(runDir: string): Promise<FakeTrainingRun> {
  mkdirSync(join(runDir, "attributes"), { recursive: true });
  mkdirSync(join(runDir, "images"), { recursive: true });
  writeFileSync(
    join(runDir, "args.yaml"),
    stringify({
      data: "/data/<script>alert(1)</script>.yaml",
      weights: "runs/pretrain/exp/weights/last.safetensors",
      epochs: EPOCHS,
      batch: 4,
      imgsz: 96,
      sla: { proposer: "ema" },
    }),
  );
  resultsCsv(join(runDir, "results.csv"));
  const { all, region } = detectionSummaries();
  const attributes = attributeSummary();
  const gallery: GalleryJson = {
    version: GALLERY_JSON_VERSION,
    names: NAMES,
    confThres: 0.25,
    images: [],
  };
  for (let i = 0; i < 4; i++) {
    const file = join(runDir, "images", `img_${i}.png`);
    if (i < 3) await writePng(file, i);
    const { labels, predictions } = scene(i);
    gallery.images.push({ file, width: IMAGE_W, height: IMAGE_H, region: [0, 0, 64, 64], labels, predictions });
  }
  writeValidationFiles(runDir, {
    names: NAMES,
    all,
    region,
    meta: {
      task: "val",
      epoch: EPOCHS - 1,
      weights: join(runDir, "weights", "last.safetensors"),
      data: "/data/lld/data.yaml",
    },
    loss: [0.05, 0.012, 0.006],
    coco: null,
    attributes,
    seconds: 1.5,
    gallery,
  });
  writeFileSync(join(runDir, "attributes", `val_epoch${EPOCHS}.csv`), attributeCsv());
  writeFileSync(join(runDir, "attributes", "cell_size_confusion.csv"), cellSizeConfusionCsv(attributes));
  return { runDir, pictures: 3, galleryImages: 4 };
}

/** A detect run folder: predictions.json (with attributes) over two PNGs and one image that is gone. */
export async function writeFakeDetectRun(runDir: string): Promise<PredictionsJson> {
  mkdirSync(runDir, { recursive: true });
  const files = [join(runDir, "in_0.png"), join(runDir, "in_1.png"), join(runDir, "gone.png")];
  await writePng(files[0]!, 0);
  await writePng(files[1]!, 3);
  const attribute = (a: (typeof LLD_ATTRIBUTES)[number], index: number) => ({
    value: a.values[index]!,
    index,
    probabilities: a.values.map((_, v) => (v === index ? 0.8 : 0.2 / (a.values.length - 1))),
  });
  const cell = (k: number) => ({
    box: [8 + k * 20, 10, 26 + k * 20, 30] as [number, number, number, number],
    class: k % 2,
    name: NAMES[k % 2]!,
    confidence: 0.9 - k * 0.1,
    attributes: Object.fromEntries(LLD_ATTRIBUTES.map((a, i) => [a.name, attribute(a, (k + i) % a.values.length)])),
  });
  const predictions: PredictionsJson = {
    version: PREDICTIONS_JSON_VERSION,
    model: {
      weights: "runs/train/exp/weights/best.safetensors",
      backend: "libtorch",
      names: NAMES,
      imgsz: 96,
      attributes: LLD_ATTRIBUTES.map((a) => ({ name: a.name, values: [...a.values] })),
    },
    settings: { confThres: 0.25, iouThres: 0.45, maxDet: 1000, classes: null, agnostic: false },
    images: [
      { file: files[0]!, width: IMAGE_W, height: IMAGE_H, detections: [cell(0), cell(1), cell(2)] },
      // a path relative to the folder detect ran in (workingDir), not to where the report is written
      { file: "in_1.png", width: IMAGE_W, height: IMAGE_H, detections: [cell(1)] },
      { file: files[2]!, width: IMAGE_W, height: IMAGE_H, detections: [] },
    ],
    skipped: [{ file: join(runDir, "broken.jpg"), reason: "not an image <unsupported>" }],
    workingDir: runDir,
  };
  writeFileSync(join(runDir, "predictions.json"), JSON.stringify(predictions));
  return predictions;
}
