/**
 * The public API's run commands: the library calls behind `sladet pretrain`, `train`, `val`/`test`, `export --format
 * onnx`, the run report and `synth`, with typed options whose defaults are the CLI's. Each writes a run folder (or a
 * dataset) and returns what it did; a thin facade over src/train, src/eval, src/export, src/report and src/data/synth.
 */
import {
  collapseToOneClass,
  type DatasetSummary,
  type GenerateDatasetOptions,
  generateDataset,
} from "../data/synth/index.js";
import type { ModelYaml, Yolov5Scale } from "../model/config.js";
import { writeRunReport } from "../report/index.js";
import { DEFAULT_IMG_SIZE, ONNX_EXPORT_BATCH_SIZE } from "../runs/defaults.js";
// the modules that load the native addon are imported when called, so that `import "sladet"` loads no native code
// (the onnx backend runs where libtorch cannot be built)
import type { OnnxCommandOptions, OnnxCommandResult } from "../runs/export-run.js";
import type { TrainingRunResult } from "../runs/train-run.js";
import type { ValRunOptions, ValRunResult } from "../runs/val-run.js";
import { PRETRAIN_DEFAULTS, TRAIN_DEFAULTS } from "../train/phases.js";
import { DEFAULT_SLA_OPTIONS, type SlaOptions } from "../train/sla/options.js";
import type { TrainOptions as EngineTrainOptions } from "../train/trainer.js";
import { OptionError } from "../util/errors.js";
import { runFolderWeights } from "../util/run-dir.js";

/** A training run, then its report (src/runs/train-run.ts). */
async function runTraining(options: EngineTrainOptions): Promise<TrainingRunResult> {
  const { runTraining: run } = await import("../runs/train-run.js");
  return run(options);
}

/**
 * One of the built-in YOLOv5 v6.0 model descriptions (`cfg: "yolov5n"` … `"yolov5x"`), with `nc` replaced when given:
 * spread it to change `width_multiple` or `depth_multiple` and pass it as `cfg`.
 */
export async function builtinModel(scale: Yolov5Scale, nc?: number): Promise<ModelYaml> {
  const { builtinModelYaml } = await import("../model/config.js");
  return builtinModelYaml(scale, nc);
}

/**
 * Options of {@link pretrain} (phase 1): the trainer's options (src/train/trainer.ts, each with its default) without
 * phase 2's. `project` defaults to PRETRAIN_DEFAULTS.project ("runs/pretrain"), `epochs` to 100, `batch` to 16.
 */
export type PretrainOptions = Omit<EngineTrainOptions, "sla">;

/**
 * Phase 1 (`sladet pretrain`): trains the detector (and, with `attributes: true`, the attribute head) with the
 * region-masked loss on sparse labels; writes `<project>/<name>` with weights/{last,best}.safetensors, results.csv
 * and report.html.
 */
export async function pretrain(options: PretrainOptions): Promise<TrainingRunResult> {
  return runTraining({
    ...options,
    project: options.project ?? PRETRAIN_DEFAULTS.project,
    epochs: options.epochs ?? PRETRAIN_DEFAULTS.epochs,
    batch: options.batch ?? PRETRAIN_DEFAULTS.batch,
    sla: null,
  });
}

/** Options of {@link train} (phase 2). */
export interface TrainOptions extends Omit<EngineTrainOptions, "sla" | "weights" | "attributes"> {
  /** Phase 1's weights: a checkpoint or a run folder (its weights/last). Required unless `resume` is given. */
  weights?: string;
  /** Phase 2's behaviour switches. @default DEFAULT_SLA_OPTIONS (EMA proposer, conventional triplet, not in regions) */
  sla?: Partial<SlaOptions>;
  /** Also train the attribute head; "auto": when the data has the 7 attribute columns. @default "auto" */
  attributes?: boolean | "auto";
  /** @default TRAIN_DEFAULTS.project ("runs/train") */
  project?: string;
  /** @default TRAIN_DEFAULTS.epochs (30) */
  epochs?: number;
  /** @default TRAIN_DEFAULTS.batch (4) */
  batch?: number;
}

/**
 * Phase 2 (`sladet train`, the seed's train.py): the region-masked loss plus pseudo-labels outside the labelled
 * regions and the similarity loss, from phase 1's weights (never from scratch).
 */
export async function train(options: TrainOptions): Promise<TrainingRunResult> {
  const { weights, sla, ...rest } = options;
  if (weights === undefined && options.resume === undefined)
    throw new OptionError(
      "weights",
      "missing: phase 2 starts from phase 1's weights (a checkpoint or a run folder), or give resume",
    );
  const file = weights === undefined ? undefined : runFolderWeights(weights, "last");
  if (file === null) throw new OptionError("weights", `${weights} is a folder without weights/last.safetensors`);
  return runTraining({
    ...rest,
    ...(file === undefined ? {} : { weights: file }),
    project: options.project ?? TRAIN_DEFAULTS.project,
    epochs: options.epochs ?? TRAIN_DEFAULTS.epochs,
    batch: options.batch ?? TRAIN_DEFAULTS.batch,
    attributes: options.attributes ?? "auto",
    sla: { ...DEFAULT_SLA_OPTIONS, ...sla },
  });
}

/**
 * Options of {@link validate}: `sladet val`'s (src/runs/val-run.ts); `weights` may also be a run folder (its
 * weights/best), and `task: "test"` is `sladet test`.
 */
export type ValidateOptions = ValRunOptions;

/**
 * `sladet val` / `sladet test`: the YOLOv5 validation table (and on sparse data the labelled-region metrics), the
 * attribute table when the weights carry a head and the data has attributes; writes `<project>/<name>` with
 * metrics.json, per_class.csv, curves.json, … and report.html. `result.all.map50` and `result.all.map` are mAP50 and mAP50-95 (`result.region`: the labelled-region numbers).
 */
export async function validate(options: ValidateOptions): Promise<ValRunResult> {
  const { runValidation } = await import("../runs/val-run.js");
  return runValidation(options);
}

/** Defaults of {@link ExportOnnxOptions} (`sladet export --format onnx`). */
export const EXPORT_ONNX_DEFAULTS = {
  imgsz: [DEFAULT_IMG_SIZE],
  dynamic: false,
  batch: ONNX_EXPORT_BATCH_SIZE,
  include: "auto",
} as const satisfies Partial<OnnxCommandOptions>;

/** Options of {@link exportOnnx}. */
export interface ExportOnnxOptions {
  /** A checkpoint, a YOLOv5 `.pt` or a run folder (its weights/best). */
  weights: string;
  /** The seed's attribute head (`Attribute_model/last_weights.pth`), exported instead of the checkpoint's. */
  attrWeights?: string;
  /** Output file. @default the weights' path with `.onnx` (the head goes beside it as `<name>.attributes.onnx`) */
  out?: string;
  /** [size] or [height, width], rounded up to stride multiples. @default [DEFAULT_IMG_SIZE] ([640]) */
  imgsz?: number[];
  /** Dynamic batch, height and width. @default false */
  dynamic?: boolean;
  /** Batch size of a static export. @default ONNX_EXPORT_BATCH_SIZE (1) */
  batch?: number;
  /** ONNX opset (16 or 17). @default DEFAULT_ONNX_OPSET (17) */
  opset?: number;
  /** "auto": the attribute head when the weights have one. @default "auto" */
  include?: OnnxCommandOptions["include"];
}

/**
 * `sladet export --format onnx`: writes the detector (and its attribute head) as ONNX, checked in onnxruntime;
 * {@link load} runs the result on the onnx backend. Prints what it wrote.
 */
export async function exportOnnx(options: ExportOnnxOptions): Promise<OnnxCommandResult> {
  const { runOnnxExport } = await import("../runs/export-run.js");
  return runOnnxExport({
    weights: options.weights,
    attrWeights: options.attrWeights ?? null,
    out: options.out ?? null,
    imgsz: options.imgsz ?? [...EXPORT_ONNX_DEFAULTS.imgsz],
    dynamic: options.dynamic ?? EXPORT_ONNX_DEFAULTS.dynamic,
    batch: options.batch ?? EXPORT_ONNX_DEFAULTS.batch,
    include: options.include ?? EXPORT_ONNX_DEFAULTS.include,
    ...(options.opset === undefined ? {} : { opset: options.opset }),
  });
}

/**
 * Writes `report.html` for a run folder (training, validation or detect; older runs too): one self-contained file.
 * Returns its path.
 */
export function writeReport(runDir: string): Promise<string> {
  return writeRunReport(runDir);
}

/** Options of {@link synthesize}: `sladet synth`'s (src/data/synth/dataset.ts, each with its default). */
export interface SynthesizeOptions extends GenerateDatasetOptions {
  /** Relabel every cell as one class "cell" (the demo's and the examples' setting: a tiny model learns it fast). @default false */
  oneClass?: boolean;
}

/**
 * `sladet synth`: writes a synthetic LLD-style dataset (images, 16-column label lines, COCO JSON, data.yaml) in
 * `out`; `summary.dataYaml` is what {@link pretrain}, {@link train} and {@link validate} take as `data`.
 */
export async function synthesize(options: SynthesizeOptions): Promise<DatasetSummary> {
  const { oneClass = false, ...generate } = options;
  const summary = await generateDataset(generate);
  return oneClass ? { ...summary, dataYaml: collapseToOneClass(summary.out) } : summary;
}
