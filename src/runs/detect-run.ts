/**
 * `sladet detect` as a library call: find the images of a source, run a predictor on them in batches (decoding the
 * next batch while the current one is drawn and written), and write a new run folder: annotated images, predictions.csv,
 * predictions.json, legend.txt, labels/*.txt (with saveTxt) and report.html. Unreadable images are reported and
 * skipped; the run goes on.
 */
import { join, parse as parsePath } from "node:path";
import { checkImgSizeRange } from "../data/img-size.js";
import { LLD_ATTRIBUTES } from "../data/schema.js";
import { attributeCodeParts, legendText } from "../infer/attribute-code.js";
import { type CreatePredictorOptions, createPredictor } from "../infer/create-predictor.js";
import { type AnnotatedFormat, type DrawOptions, drawAnnotated } from "../infer/draw.js";
import {
  type Cell,
  cellsOf,
  lldLabelText,
  predictedCell,
  predictionCsvHeader,
  predictionCsvRow,
} from "../infer/outputs.js";
import { PredictionsCsvWriter, type PredictionsHead, PredictionsJsonWriter } from "../infer/prediction-files.js";
import { PREDICTIONS_JSON_VERSION, type PredictedImage, type PredictionsJson } from "../infer/prediction-json.js";
import { type Backend, type Predictor, resolvePredictOptions } from "../infer/predictor.js";
import { type DecodedImage, decodeImage, letterboxBatch, listSources, type RejectedInput } from "../infer/sources.js";
import { emptyTimings, formatStageTable, hasStageTimings, type StageTimings, timed } from "../infer/timings.js";
import { tryWriteRunReport } from "../report/index.js";
import { OptionError } from "../util/errors.js";
import { writeFileAtomic } from "../util/fs.js";
import { checkIntegerOption } from "../util/option-checks.js";
import { type Progress, progress } from "../util/progress.js";
import { incrementRunDir } from "../util/run-dir.js";
import { DEFAULT_IMG_SIZE, DEFAULT_RUN_NAME, DETECT_BATCH_SIZE, DETECT_PROJECT } from "./defaults.js";

/** Options of {@link runDetect}. */
export interface DetectOptions extends DrawOptions {
  /** Weights: a sladet checkpoint or YOLOv5 .pt (libtorch), an .onnx file (onnx). */
  weights: string;
  /**
   * How predictions.json and the report name the weights: `sladet detect` runs the default ONNX export of a
   * checkpoint from its cache and names the checkpoint. @default weights
   */
  weightsName?: string;
  /** An image, a folder, a glob or a .txt list (src/infer/sources.ts). */
  source: string;
  /** @default "libtorch" */
  backend?: Backend;
  /** Network size: each image's long side is resized to it. @default DEFAULT_IMG_SIZE (640) */
  imgsz?: number;
  /** Images per forward pass. @default 1 */
  batchSize?: number;
  /** @default 0.25 */
  confThres?: number;
  /** @default 0.45 */
  iouThres?: number;
  /** @default 1000 */
  maxDet?: number;
  /** Keep only these class indices. */
  classes?: readonly number[];
  /** @default false */
  agnostic?: boolean;
  /** Backend options (device, threads). */
  predictorOptions?: CreatePredictorOptions;
  /** An open predictor to use instead of opening `weights` (left open). */
  predictor?: Predictor;
  /** No attributes: the head does not run, nothing is drawn or written for them. @default false */
  hideAttrs?: boolean;
  /** Write labels/<stem>.txt (LLD lines). @default false */
  saveTxt?: boolean;
  /** Do not write annotated images. @default false */
  nosave?: boolean;
  /** @default "runs/detect" */
  project?: string;
  /** @default "exp" */
  name?: string;
  /** @default false */
  existOk?: boolean;
  /**
   * Decode the next batch while the current one is drawn and written (after its forward pass: decoding threads
   * running beside the inference threads slow the forward more than decoding costs). The decode stage then counts
   * only the time the loop waited for decoded images; false measures decoding itself. @default true
   */
  prefetch?: boolean;
  /** Progress bar, skip messages and the summary. @default true */
  verbose?: boolean;
}

/** What a detect run did. */
export interface DetectResult {
  runDir: string;
  /**
   * The run's predictions.json (every image's cells, schema {@link PredictionsJson}). The run writes it image by image
   * and keeps no per-image results in memory, so any number of images can be processed.
   */
  predictionsJson: string;
  /** Images processed (not skipped). */
  images: number;
  /** Cells found per class index. */
  perClass: number[];
  /** Busy time per stage, milliseconds in all (see {@link DetectOptions.prefetch} for decode). */
  timings: StageTimings;
  wallSeconds: number;
  /** report.html, or null when the report could not be written. */
  report: string | null;
}

/** Files of a detect run folder. */
export const PREDICTIONS_CSV = "predictions.csv";
export const PREDICTIONS_JSON = "predictions.json";
export const LEGEND_FILE = "legend.txt";
export const LABELS_FOLDER = "labels";

/** The prediction files of a run folder, opened for writing image by image. */
function openPredictionFiles(runDir: string, head: PredictionsHead) {
  const json = new PredictionsJsonWriter(join(runDir, PREDICTIONS_JSON), head);
  try {
    return { json, csv: new PredictionsCsvWriter(join(runDir, PREDICTIONS_CSV), predictionCsvHeader()) };
  } catch (err) {
    json.abort();
    throw err;
  }
}

/** Decoded images of a batch and the files that could not be decoded. */
interface DecodedBatch {
  images: DecodedImage[];
  failed: RejectedInput[];
}

async function decodeAll(files: readonly string[]): Promise<DecodedBatch> {
  const settled = await Promise.allSettled(files.map((f) => decodeImage(f)));
  const images: DecodedImage[] = [];
  const failed: RejectedInput[] = [];
  settled.forEach((s, i) => {
    if (s.status === "fulfilled") images.push(s.value);
    else failed.push({ file: files[i]!, reason: (s.reason as Error).message });
  });
  return { images, failed };
}

/** A file name in the run folder for each image: its stem, with _2, _3, … when two images share one. */
function uniqueStems(): (file: string) => string {
  const used = new Set<string>();
  return (file) => {
    const stem = parsePath(file).name;
    let s = stem;
    for (let n = 2; used.has(s.toLowerCase()); n++) s = `${stem}_${n}`;
    used.add(s.toLowerCase());
    return s;
  };
}

function annotatedFormat(file: string): { format: AnnotatedFormat; ext: string } {
  return parsePath(file).ext.toLowerCase() === ".png"
    ? { format: "png", ext: ".png" }
    : { format: "jpeg", ext: ".jpg" };
}

function checkOptions(o: DetectOptions): void {
  resolvePredictOptions(o); // confThres, iouThres, maxDet: the predictors' own checks
  checkImgSizeRange(o.imgsz);
  checkIntegerOption("batchSize", o.batchSize, 1);
  if (o.lineThickness !== undefined && !(o.lineThickness > 0))
    throw new OptionError("lineThickness", `${o.lineThickness} must be > 0`);
}

/** Runs detection on a source and writes the run folder (see the module comment). */
export async function runDetect(options: DetectOptions): Promise<DetectResult> {
  checkOptions(options);
  const verbose = options.verbose ?? true;
  const say = (s: string) => {
    if (verbose) process.stdout.write(`${s}\n`);
  };
  const warn = (s: string) => {
    if (verbose) process.stderr.write(`${s}\n`);
  };
  const start = performance.now();
  const sources = await listSources(options.source);
  const backend = options.backend ?? "libtorch";
  const predictor = options.predictor ?? (await createPredictor(backend, options.weights, options.predictorOptions));
  const restoreDecay = await keepActivationPages(predictor);
  try {
    return await detectWith(predictor, sources.images, sources.rejected, options, { say, warn, start, verbose });
  } finally {
    if (!options.predictor) await predictor.dispose();
    restoreDecay();
  }
}

/**
 * On libtorch, every image frees and reallocates the same activations: their pages stay for the next image instead of
 * going back to the system and faulting back in (an 11 MiB map cost ~4 ms per use under the launcher's decay), until
 * the returned function gives them back at the run's end. onnxruntime keeps its own arena; libtorch loads only here.
 */
async function keepActivationPages(predictor: Predictor): Promise<() => void> {
  if (predictor.info.backend !== "libtorch") return () => {};
  const { keepFreedPages } = await import("../torch/index.js");
  return keepFreedPages({ oversize: true });
}

async function detectWith(
  predictor: Predictor,
  files: readonly string[],
  rejected: readonly RejectedInput[],
  options: DetectOptions,
  io: { say: (s: string) => void; warn: (s: string) => void; start: number; verbose: boolean },
): Promise<DetectResult> {
  const { info } = predictor;
  const names = info.names;
  for (const c of options.classes ?? [])
    if (!(Number.isInteger(c) && c >= 0 && c < names.length))
      throw new OptionError("classes", `${c}: the model has classes 0…${names.length - 1} (${names.join(", ")})`);
  let batchSize = options.batchSize ?? DETECT_BATCH_SIZE;
  if (info.fixedBatch !== null && info.fixedBatch !== batchSize) {
    io.warn(
      `the model takes batches of ${info.fixedBatch} exactly: batch size ${batchSize} becomes ${info.fixedBatch}`,
    );
    batchSize = info.fixedBatch;
  }
  const imgsz = info.fixedInput ? Math.max(...info.fixedInput) : (options.imgsz ?? DEFAULT_IMG_SIZE);
  if (info.fixedInput && options.imgsz !== undefined && options.imgsz !== imgsz)
    io.warn(
      `the model takes ${info.fixedInput[0]}×${info.fixedInput[1]} inputs exactly: image size ${options.imgsz} is not used`,
    );
  if (imgsz < info.maxStride)
    throw new OptionError("imgsz", `${imgsz} is smaller than the model's stride ${info.maxStride}`);
  const withAttributes = info.hasAttributes && !options.hideAttrs;
  const predictOptions = resolvePredictOptions({ ...options, skipAttributes: !withAttributes });

  const runDir = incrementRunDir(
    options.project ?? DETECT_PROJECT,
    options.name ?? DEFAULT_RUN_NAME,
    options.existOk ?? false,
  );
  const timings = emptyTimings();
  writeFileAtomic(join(runDir, LEGEND_FILE), legendText(names, withAttributes));
  const skipped: RejectedInput[] = [...rejected];
  for (const r of rejected) io.warn(`skipped ${r.file}: ${r.reason}`);
  const out = openPredictionFiles(runDir, {
    version: PREDICTIONS_JSON_VERSION,
    workingDir: process.cwd(),
    model: {
      weights: options.weightsName ?? options.weights,
      backend: info.backend,
      names: [...names],
      imgsz,
      attributes: withAttributes ? LLD_ATTRIBUTES.map((a) => ({ name: a.name, values: [...a.values] })) : null,
    },
    settings: {
      confThres: predictOptions.confThres,
      iouThres: predictOptions.iouThres,
      maxDet: predictOptions.maxDet,
      classes: predictOptions.classes ? [...predictOptions.classes] : null,
      agnostic: predictOptions.agnostic,
    },
  });
  let processed = 0;
  const perClass = new Array<number>(names.length).fill(0);
  const stemOf = uniqueStems();
  const chunks: string[][] = [];
  for (let i = 0; i < files.length; i += batchSize) chunks.push(files.slice(i, i + batchSize));

  const bar: Progress = progress({ total: files.length, label: "detect", unit: "img", silent: !io.verbose });
  const prefetch = options.prefetch ?? true;
  let cells = 0;
  // the previous batch's input buffer, written over by the next (predictors keep no reference to it)
  let input: Float32Array | null = null;
  let next: Promise<DecodedBatch> | null = chunks.length > 0 ? decodeAll(chunks[0]!) : null;
  try {
    for (let c = 0; c < chunks.length; c++) {
      const decoded: DecodedBatch = await timed(timings, "decode", () => next!);
      next = null;
      const decodeNext = () => {
        if (c + 1 < chunks.length) next = decodeAll(chunks[c + 1]!);
      };
      for (const f of decoded.failed) {
        io.warn(`skipped ${f.file}: ${f.reason}`);
        skipped.push(f);
      }
      if (decoded.images.length > 0) {
        const boxed = await timed(timings, "letterbox", () =>
          letterboxBatch(decoded.images, {
            imgsz,
            stride: info.maxStride,
            fixedInput: info.fixedInput,
            batchSize: info.fixedBatch ?? decoded.images.length,
            reuse: input,
            fineScale: withAttributes ? info.attributeImageScale : 1,
          }),
        );
        input = boxed.batch.data;
        const t0 = performance.now();
        const predictions = await predictor.predict(boxed.batch, predictOptions);
        const spent = performance.now() - t0;
        // the next batch decodes while this one is drawn and written (the main thread's work), never during the
        // forward: libvips threads competing with libtorch's OpenMP threads stall a whole parallel region
        if (prefetch) decodeNext();
        const split = hasStageTimings(predictor) ? predictor.lastTimings : null;
        timings.forward += split ? spent - split.attributesMs : spent;
        timings.attributes += split ? split.attributesMs : 0;
        for (let i = 0; i < decoded.images.length; i++) {
          const { file, image } = decoded.images[i]!;
          const found = cellsOf(predictions[i]!, boxed.transforms[i]!);
          cells += found.length;
          for (const cell of found) perClass[cell.cls] = (perClass[cell.cls] ?? 0) + 1;
          const entry = await writeImageOutputs(file, image, found, stemOf(file), runDir, names, options, timings);
          await timed(timings, "writing", () => {
            out.json.add(entry);
            out.csv.add(found.map((cell) => predictionCsvRow(file, cell, names)));
          });
          processed++;
        }
      }
      if (next === null) decodeNext(); // prefetch off, or nothing of this batch decoded
      bar.tick(chunks[c]!.length, { cells: String(cells) });
    }
    await timed(timings, "writing", () => {
      out.csv.commit();
      out.json.commit(skipped);
    });
  } catch (err) {
    out.csv.abort();
    out.json.abort();
    throw err;
  } finally {
    bar.stop();
  }

  const wallSeconds = (performance.now() - io.start) / 1000;
  const report = await tryWriteRunReport(runDir, io.warn);
  if (io.verbose)
    io.say(summary(processed, skipped.length, perClass, names, timings, wallSeconds, runDir, report, options));
  return {
    runDir,
    predictionsJson: join(runDir, PREDICTIONS_JSON),
    images: processed,
    perClass,
    timings,
    wallSeconds,
    report,
  };
}

/** Draws and writes one image's annotated picture and label file; returns its predictions.json entry. */
async function writeImageOutputs(
  file: string,
  image: DecodedImage["image"],
  cells: readonly Cell[],
  stem: string,
  runDir: string,
  names: readonly string[],
  options: DetectOptions,
  timings: StageTimings,
): Promise<PredictedImage> {
  const entry: PredictedImage = {
    file,
    width: image.width,
    height: image.height,
    detections: cells.map((c) => predictedCell(c, names)),
  };
  if (!options.nosave) {
    const { format, ext } = annotatedFormat(file);
    const drawn = cells.map((c) => ({
      box: c.box,
      cls: c.cls,
      confidence: c.confidence,
      ...(c.values && c.probabilities
        ? {
            code: attributeCodeParts(
              c.values,
              c.values.map((v, i) => c.probabilities![i]![v]!),
            ),
          }
        : {}),
    }));
    const encoded = await timed(timings, "drawing", () => drawAnnotated(image, drawn, names, format, options));
    const name = `${stem}${ext}`;
    await timed(timings, "writing", () => writeFileAtomic(join(runDir, name), encoded));
    entry.annotated = name;
  }
  if (options.saveTxt) {
    await timed(timings, "writing", () =>
      writeFileAtomic(join(runDir, LABELS_FOLDER, `${stem}.txt`), lldLabelText(cells, image.width, image.height)),
    );
  }
  return entry;
}

function summary(
  processed: number,
  skipped: number,
  perClass: readonly number[],
  names: readonly string[],
  timings: StageTimings,
  wallSeconds: number,
  runDir: string,
  report: string | null,
  options: DetectOptions,
): string {
  const total = perClass.reduce((a, b) => a + b, 0);
  const lines = [
    "",
    `detect: ${processed} image${processed === 1 ? "" : "s"}${skipped > 0 ? ` (${skipped} skipped)` : ""}, ${total} cell${total === 1 ? "" : "s"} in ${wallSeconds.toFixed(1)} s (${(processed / Math.max(wallSeconds, 1e-9)).toFixed(2)} images/s)`,
  ];
  const width = Math.max(...names.map((n) => n.length), "class".length) + 2;
  lines.push(`${"class".padEnd(width)}${"cells".padStart(8)}${"per image".padStart(11)}`);
  perClass.forEach((n, i) => {
    if (n > 0)
      lines.push(
        `${names[i]!.padEnd(width)}${String(n).padStart(8)}${(n / Math.max(processed, 1)).toFixed(2).padStart(11)}`,
      );
  });
  lines.push(
    `${"all".padEnd(width)}${String(total).padStart(8)}${(total / Math.max(processed, 1)).toFixed(2).padStart(11)}`,
    "",
  );
  lines.push(formatStageTable(timings, processed));
  if (options.prefetch ?? true)
    lines.push("(decode: time waiting for decoded images; decoding overlaps drawing and writing)");
  const outputs = [
    options.nosave ? null : "annotated images",
    PREDICTIONS_CSV,
    PREDICTIONS_JSON,
    LEGEND_FILE,
    options.saveTxt ? `${LABELS_FOLDER}/` : null,
  ].filter((s) => s !== null);
  lines.push("", `results in ${runDir}: ${outputs.join(", ")}`);
  if (report) lines.push(`report: ${report}`);
  return lines.join("\n");
}
