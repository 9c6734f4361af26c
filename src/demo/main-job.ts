/**
 * The README's main job (`npm run demo`): the whole method on nothing of the user's, in minutes on 2 CPU cores —
 * generate sparsely labelled synthetic blood films, phase 1 (`sladet pretrain` with the attribute head), phase 2
 * (`sladet train`: pseudo-labels and the similarity loss), `sladet test` on the fully labelled test split, and
 * `sladet detect` on the test images, each into its own run folder with its report.html.
 *
 * The cells are one class ("cell"): a tiny model learns 14 classes from ~100 images in no reasonable time, and the
 * point here is the pipeline and its outputs; `sladet synth` writes the 14-class films for longer runs.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { collapseToOneClass, generateDataset } from "../data/synth/index.js";
import { builtinModelYaml } from "../model/config.js";
import { runDetect } from "../runs/detect-run.js";
import { runTraining, type TrainingRunResult } from "../runs/train-run.js";
import { runValidation } from "../runs/val-run.js";
import type { Hyp } from "../train/hyp.js";
import { SEED_SLA_OPTIONS, type SlaOptions } from "../train/sla/options.js";
import type { TrainOptions } from "../train/trainer.js";
import { QUICKSTART_HYP, QUICKSTART_MODEL } from "./quickstart.js";

export interface MainJobOptions {
  /** Output folder: data/, pretrain/, train/, test/, detect/. @default "runs/demo" */
  out?: string;
  /** Synthetic fields of view over all splits. @default 160 */
  images?: number;
  /** Image side in pixels (the network size too). @default 192 */
  imgsz?: number;
  /** Labelled area fraction of each train/val image (the paper's sparse setting). @default 0.3 */
  sparseArea?: number;
  /**
   * Objects drawn this many times larger than an LLD field of view's at imgsz (`sladet synth --magnification`).
   * @default DEMO_MAGNIFICATION
   */
  magnification?: number;
  /** Phase-1 epochs. @default 60 */
  pretrainEpochs?: number;
  /** Phase-2 epochs. @default 8 */
  trainEpochs?: number;
  /** Seed of the data and of training. @default 0 */
  seed?: number;
  /** @default true */
  verbose?: boolean;
  /** Hyperparameters over the main job's in both phases (e.g. SEED_ATTRIBUTE_HYP for the seed's attribute training). */
  hyp?: Partial<Hyp>;
}

export interface MainJobResult {
  data: string;
  pretrain: TrainingRunResult;
  train: TrainingRunResult;
  testDir: string;
  /** Test-split mAP50 and the attribute macro F1 over all 7 (null without attributes). */
  testScores: { map50: number; attributeMacroF1: number | null };
  detectDir: string;
  /** Images and cells detect found. */
  detected: { images: number; cells: number };
  /** report.html of each run, by stage. */
  reports: Record<"pretrain" | "train" | "test" | "detect", string | null>;
  seconds: number;
}

/**
 * The demo's films are drawn at twice an LLD field of view's magnification at 192 px: a white cell is then 23–55 px
 * across (0.6 of its size in a 640 px LLD image) instead of 11–28, so nucleoli, vacuoles and chromatin are pixels the
 * attribute head can read, not fractions of one (issue 25; BENCHMARKS.md "Attributes: the demo").
 */
export const DEMO_MAGNIFICATION = 2;

/** Batch size of both phases (8 keeps a step short on 2 cores). */
const MAIN_JOB_BATCH = 8;
/**
 * Phase 2 starts from phase 1's weights at a tenth of phase 1's learning rate: restarting at phase 1's lr0 undoes the
 * phase-1 optimum on so few labelled cells (BENCHMARKS.md, "Sparse labels").
 */
const PHASE2_LR_FACTOR = 0.1;
/** The default phase-2 behaviour (EMA proposer, conventional triplet, pseudo-labels outside the labelled regions). */
const SLA: SlaOptions = { ...SEED_SLA_OPTIONS, proposer: "ema", tripletSign: "conventional", plInRegion: false };

/** The options both phases of the main job share. */
function commonOptions(data: string, imgsz: number, seed: number, verbose: boolean) {
  return {
    data,
    imgsz,
    batch: MAIN_JOB_BATCH,
    nominalBatch: MAIN_JOB_BATCH,
    seed,
    workers: 1,
    verbose,
    attributes: true as const,
  };
}

/** Generates the main job's sparse one-class dataset under `<out>/data`; returns its data YAML. */
export async function mainJobData(out: string, options: MainJobOptions = {}): Promise<string> {
  const { images = 160, imgsz = 192, sparseArea = 0.3, seed = 0, magnification = DEMO_MAGNIFICATION } = options;
  const dataRoot = join(out, "data");
  rmSync(dataRoot, { recursive: true, force: true });
  const split = [0.7, 0.15, 0.15] as const;
  await generateDataset({ out: dataRoot, images, seed, imageSize: imgsz, magnification, sparseArea, split });
  return collapseToOneClass(dataRoot);
}

/** The main job's phase-1 run (`sladet pretrain --attributes`) on `data`, into `<out>/pretrain`. */
export function mainJobPhase1Options(out: string, data: string, options: MainJobOptions = {}): TrainOptions {
  const { imgsz = 192, seed = 0, verbose = true } = options;
  return {
    ...commonOptions(data, imgsz, seed, verbose),
    cfg: { ...builtinModelYaml("n"), ...QUICKSTART_MODEL },
    epochs: options.pretrainEpochs ?? 60,
    hyp: { ...QUICKSTART_HYP, ...options.hyp },
    project: join(out, "pretrain"),
    name: "exp",
  };
}

/** The main job's phase-2 run (`sladet train`) from phase 1's `weights`, into `<out>/train`. */
export function mainJobPhase2Options(
  out: string,
  data: string,
  weights: string,
  options: MainJobOptions = {},
): TrainOptions {
  const { imgsz = 192, seed = 0, verbose = true } = options;
  const base = { ...QUICKSTART_HYP, ...options.hyp };
  const hyp: Partial<Hyp> = { ...base, lr0: base.lr0 * PHASE2_LR_FACTOR };
  return {
    ...commonOptions(data, imgsz, seed, verbose),
    weights,
    epochs: options.trainEpochs ?? 8,
    hyp,
    sla: SLA,
    project: join(out, "train"),
    name: "exp",
  };
}

export async function runMainJob(options: MainJobOptions = {}): Promise<MainJobResult> {
  const { out = "runs/demo", images = 160, imgsz = 192, sparseArea = 0.3, verbose = true } = options;
  const { magnification = DEMO_MAGNIFICATION } = options;
  const say = (m: string) => verbose && process.stdout.write(`\n== ${m}\n`);
  const started = performance.now();
  const dataRoot = join(out, "data");
  say(
    `1/5 data: ${images} synthetic fields of view, ${imgsz} px at ${magnification}× magnification, ${Math.round(sparseArea * 100)} % of each labelled`,
  );
  const data = await mainJobData(out, options);
  say("2/5 phase 1 (sladet pretrain): region-masked detection loss and the attribute head");
  const pretrain = await runTraining(mainJobPhase1Options(out, data, options));
  say("3/5 phase 2 (sladet train): pseudo-labels outside the labelled regions and the similarity loss");
  // from phase 1's best epoch: its last one may be a dip of phase 1's swings (issue 26, BENCHMARKS.md)
  const phase2 = await runTraining(mainJobPhase2Options(out, data, pretrain.best, options));
  say("4/5 sladet test: the fully labelled test split");
  const test = await runValidation({
    data,
    weights: phase2.best,
    task: "test",
    imgsz,
    project: join(out, "test"),
    name: "exp",
    verbose,
  });
  say("5/5 sladet detect: the test images, as a user would run it on new fields of view");
  const detect = await runDetect({
    weights: phase2.best,
    source: join(dataRoot, "images", "test"),
    imgsz,
    project: join(out, "detect"),
    name: "exp",
    verbose,
  });
  return {
    data,
    pretrain,
    train: phase2,
    testDir: test.runDir,
    testScores: { map50: test.result.all.map50, attributeMacroF1: test.attributes?.macroF1 ?? null },
    detectDir: detect.runDir,
    detected: { images: detect.images, cells: detect.perClass.reduce((a, b) => a + b, 0) },
    reports: { pretrain: pretrain.report, train: phase2.report, test: test.report, detect: detect.report },
    seconds: (performance.now() - started) / 1000,
  };
}

/** The closing summary: each stage's folder, its headline number, and the reports. */
export function formatMainJobSummary(r: MainJobResult): string {
  const f3 = (x: number) => x.toFixed(3);
  const attr =
    r.testScores.attributeMacroF1 === null ? "" : `, attribute macro F1 ${f3(r.testScores.attributeMacroF1)}`;
  const rows = [
    ["stage", "run folder", "result"],
    ["phase 1 (pretrain)", r.pretrain.runDir, `best fitness ${f3(r.pretrain.bestFitness)}`],
    ["phase 2 (train)", r.train.runDir, `best fitness ${f3(r.train.bestFitness)}`],
    ["test", r.testDir, `mAP50 ${f3(r.testScores.map50)}${attr}`],
    ["detect", r.detectDir, `${r.detected.cells} cells in ${r.detected.images} images`],
  ];
  const widths = [0, 1].map((c) => Math.max(...rows.map((row) => row[c]!.length)));
  const table = rows.map((row) => row.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join("  ")).join("\n");
  const reports = Object.entries(r.reports)
    .map(([stage, path]) => `  ${stage.padEnd(9)} ${path ?? "(not written)"}`)
    .join("\n");
  return (
    `${table}\n\nreports (open in a browser):\n${reports}\n\n` + `main job done in ${(r.seconds / 60).toFixed(1)} min`
  );
}
