/**
 * The options of a training run (`sladet pretrain` / `sladet train`, or `train()` from code): what can be given, the
 * defaults, and the resolved form a run works from.
 */

import { DEFAULT_IMG_SIZE } from "../data/constants.js";
import { checkImgSizeRange } from "../data/img-size.js";
import { ATTRIBUTE_TAPS } from "../model/attribute-inference.js";
import type { ModelYaml } from "../model/config.js";
import { DEFAULT_DEVICE } from "../torch/defaults.js";
import { OptionError } from "../util/errors.js";
import { checkIntegerOption, checkNumberOption } from "../util/option-checks.js";
import { DEFAULT_RUN_NAME } from "../util/run-dir.js";
import { SEED_ATTRIBUTE_HYP } from "./attribute-hyp.js";
import type { DistributedOptions } from "./data-parallel.js";
import { DEFAULT_HYP, type Hyp, loadHyp, resolveFullHyp } from "./hyp.js";
import { PRETRAIN_DEFAULTS } from "./phases.js";
import { MIN_WARMUP_ITERATIONS, NOMINAL_BATCH } from "./schedule.js";
import type { SlaOptions } from "./sla/options.js";

/**
 * Minimum warmup of a fine-tune (phase 2): none beyond hyp.warmup_epochs. YOLOv5's floor of 100 iterations stretched
 * the warmup, and its bias-lr jump, over all 8 epochs of the demo's phase 2 (issue 26).
 */
export const FINETUNE_MIN_WARMUP_ITERATIONS = 0;

/** What `train()` takes; every field but `data` (or `resume`) has a default. */
export interface TrainOptions {
  /** Dataset YAML (required unless resuming). */
  data?: string;
  /** Model description (YAML path, yolov5n…x, or a parsed description). */
  cfg?: string | ModelYaml;
  /** Initial weights (sladet checkpoint or YOLOv5 .pt). */
  weights?: string;
  /** Hyp YAML path or values (missing keys default to the seed's). @default the seed's hyp.scratch-high */
  hyp?: string | Partial<Hyp>;
  /** @default 100 */
  epochs?: number;
  /** @default 16 */
  batch?: number;
  /** @default 640 */
  imgsz?: number;
  /** @default "cpu" */
  device?: string;
  /** Loader worker threads. @default loader's default */
  workers?: number;
  /** @default 0 */
  seed?: number;
  /** @default "runs/pretrain" */
  project?: string;
  /** @default "exp" */
  name?: string;
  /** Reuse runs/<project>/<name> instead of incrementing. @default false */
  existOk?: boolean;
  /** @default false */
  cache?: false | "ram" | "disk";
  /** Epochs without fitness improvement before stopping. @default 100 */
  patience?: number;
  /** Freeze layers: [n] = the first n layers, or explicit layer indices. @default [] */
  freeze?: number[];
  /** Save weights/epoch{N} every N epochs (≤ 0: never). @default -1 */
  savePeriod?: number;
  /** Skip the anchor check. @default false */
  noautoanchor?: boolean;
  /** Evolve anchors when the check finds a poor fit (otherwise only warn). @default false */
  evolveAnchors?: boolean;
  /** Cosine learning-rate schedule instead of linear. @default false */
  cosLr?: boolean;
  /** Continue an interrupted run from its weights/last checkpoint. */
  resume?: string;
  /** Intra-op threads (libtorch). @default launcher's setting */
  threads?: number;
  /** Progress and tables on stderr/stdout. @default true */
  verbose?: boolean;
  /** Stop after this many epochs of this invocation (tests interrupt runs this way). */
  stopAfterEpochs?: number;
  /**
   * Act as if Ctrl-C came after this many training batches of this invocation (tests interrupt runs mid-epoch this
   * way: the same path as a SIGINT, weights/last saved with the epoch's progress).
   */
  interruptAfterBatches?: number;
  /** Images per optimizer step, reached by gradient accumulation (YOLOv5's nbs). @default 64 */
  nominalBatch?: number;
  /** Warmup lasts at least this many iterations (YOLOv5's 100). @default 100, {@link FINETUNE_MIN_WARMUP_ITERATIONS} when fine-tuning */
  minWarmupIters?: number;
  /**
   * Continue the weights' training as a fine-tune (issue 26): the EMA continues the checkpoint's with its update count
   * (a sladet checkpoint stores it), warmup has no minimum length ({@link FINETUNE_MIN_WARMUP_ITERATIONS}), and the
   * bias group warms up from 0 like the others instead of falling from warmup_bias_lr. false = YOLOv5's behaviour
   * (EMA restarted at 0 updates, ≥ 100 warmup iterations, the bias-lr jump), which is also the seed's phase 2.
   * @default true in phase 2 (with `sla`), false otherwise
   */
  finetune?: boolean;
  /**
   * Also train the attribute head on ground-truth cells (needs the 7 LLD attribute columns); "auto": when the dataset
   * has them (phase 2, as the seed always trains its head there). @default false
   */
  attributes?: boolean | "auto";
  /** Weight of the attribute loss's gradient into the backbone (0: detached features). @default 0 */
  attributeLambda?: number;
  /** Maps the attribute head pools: `image` and/or detector taps (p2, p3, …). @default ATTRIBUTE_TAPS (image) */
  attributeTaps?: readonly string[];
  /** Treat sparse images as fully labelled (the naive baseline: unlabelled cells are background). @default false */
  ignoreRegions?: boolean;
  /** Phase 2 (`sladet train`): pseudo-labels and the similarity loss on top of the region-masked loss. @default null */
  sla?: SlaOptions | null;
  /**
   * Train as one rank of a data-parallel run (src/train/data-parallel.ts): `batch` is the global batch, split evenly
   * over the ranks. Not stored with the run: a resumed run may use another topology. @default one process
   */
  distributed?: DistributedOptions | null;
}

/** The options with every default filled in and the hyp loaded: what a run uses, args.yaml and checkpoints store. */
export type ResolvedTrainOptions = Required<
  Omit<
    TrainOptions,
    | "cfg"
    | "weights"
    | "resume"
    | "hyp"
    | "workers"
    | "threads"
    | "stopAfterEpochs"
    | "interruptAfterBatches"
    | "sla"
    | "distributed"
  >
> & { sla: SlaOptions | null } & Pick<
    TrainOptions,
    "cfg" | "weights" | "workers" | "threads" | "stopAfterEpochs" | "interruptAfterBatches"
  > & {
    hyp: Hyp;
  };

/** A log line sink (stdout when verbose, nothing otherwise). */
export type TrainLog = (message: string) => void;

/** The hyp option as full values: a YAML file (warnings and defaulted keys logged) or partial values over the seed's. */
function resolveHypOption(hyp: TrainOptions["hyp"], log: TrainLog): Hyp {
  if (typeof hyp === "string") {
    const loaded = loadHyp(hyp);
    for (const w of loaded.warnings) log(`warning: ${w}`);
    if (loaded.defaulted.length) log(`hyp: defaults used for ${loaded.defaulted.join(", ")}`);
    return loaded.hyp;
  }
  return hyp ? resolveFullHyp({ ...DEFAULT_HYP, ...hyp }, "hyp").hyp : { ...DEFAULT_HYP };
}

/**
 * Refuses numeric options out of their range (an OptionError naming the field) before any data is read: zero or
 * negative epochs and batches, an image size past MAX_IMG_SIZE, a backbone weight outside [0, 1].
 */
export function checkTrainNumbers(o: TrainOptions): void {
  checkIntegerOption("epochs", o.epochs, 1);
  checkIntegerOption("batch", o.batch, 1);
  checkImgSizeRange(o.imgsz);
  checkIntegerOption("workers", o.workers, 0);
  checkIntegerOption("seed", o.seed, 0);
  checkIntegerOption("patience", o.patience, 0);
  checkIntegerOption("savePeriod", o.savePeriod, Number.MIN_SAFE_INTEGER);
  checkIntegerOption("threads", o.threads, 1);
  checkIntegerOption("nominalBatch", o.nominalBatch, 1);
  checkIntegerOption("minWarmupIters", o.minWarmupIters, 0);
  checkIntegerOption("stopAfterEpochs", o.stopAfterEpochs, 1);
  checkNumberOption("attributeLambda", o.attributeLambda, 0, 1);
  for (const f of o.freeze ?? []) checkIntegerOption("freeze", f, 0);
  const ranks = o.distributed?.worldSize ?? 1;
  const batch = o.batch ?? PRETRAIN_DEFAULTS.batch;
  if (batch % ranks !== 0) {
    throw new OptionError(
      "batch",
      `${batch} is not a multiple of the ${ranks} processes: each trains on batch / processes images (YOLOv5's rule)`,
    );
  }
}

/**
 * Fills in the defaults and loads the hyp. The key order is the order of args.yaml and of the options stored in
 * checkpoints.
 */
export function resolveTrainOptions(o: TrainOptions, log: TrainLog): ResolvedTrainOptions {
  checkTrainNumbers(o);
  const hyp = resolveHypOption(o.hyp, log);
  if (!o.data) throw new OptionError("data", "is missing: give a dataset YAML, or resume a run from its checkpoint");
  const finetune = o.finetune ?? (o.sla !== undefined && o.sla !== null);
  return {
    data: o.data,
    cfg: o.cfg,
    weights: o.weights,
    hyp,
    epochs: o.epochs ?? PRETRAIN_DEFAULTS.epochs,
    batch: o.batch ?? PRETRAIN_DEFAULTS.batch,
    imgsz: o.imgsz ?? DEFAULT_IMG_SIZE,
    device: o.device ?? DEFAULT_DEVICE,
    workers: o.workers,
    seed: o.seed ?? 0,
    project: o.project ?? PRETRAIN_DEFAULTS.project,
    name: o.name ?? DEFAULT_RUN_NAME,
    existOk: o.existOk ?? false,
    cache: o.cache ?? false,
    patience: o.patience ?? 100,
    freeze: o.freeze ?? [],
    savePeriod: o.savePeriod ?? -1,
    noautoanchor: o.noautoanchor ?? false,
    evolveAnchors: o.evolveAnchors ?? false,
    cosLr: o.cosLr ?? false,
    verbose: o.verbose ?? true,
    nominalBatch: o.nominalBatch ?? NOMINAL_BATCH,
    minWarmupIters: o.minWarmupIters ?? (finetune ? FINETUNE_MIN_WARMUP_ITERATIONS : MIN_WARMUP_ITERATIONS),
    finetune,
    attributes: o.attributes ?? false,
    attributeLambda: o.attributeLambda ?? 0,
    attributeTaps: [...(o.attributeTaps ?? ATTRIBUTE_TAPS)],
    sla: o.sla ?? null,
    ignoreRegions: o.ignoreRegions ?? false,
    threads: o.threads,
    stopAfterEpochs: o.stopAfterEpochs,
    interruptAfterBatches: o.interruptAfterBatches,
  };
}

/**
 * The options of a resumed run: the ones saved in its checkpoint, with only the resume path, verbosity and the test
 * interruptions taken from this invocation. An `epochs` other than the saved one is refused, not ignored: the
 * learning-rate schedule of every epoch depends on it, so a resume could not continue the run exactly (to train
 * longer, a new run starts from the weights).
 */
export function resumedOptions(saved: Record<string, unknown>, given: TrainOptions): TrainOptions {
  const epochs = saved["epochs"];
  if (given.epochs !== undefined && given.epochs !== epochs) {
    throw new OptionError(
      "epochs",
      `${given.epochs} with --resume: the run trains for its saved ${epochs} epochs (its learning-rate schedule depends on them); to train for ${given.epochs}, start a new run from its weights: --weights ${given.resume} --epochs ${given.epochs}`,
    );
  }
  // each attribute key came in with the seed's behaviour as the one before it: a run saved without a key (before it
  // existed) trained its head the seed's way there, and continues so
  const savedHyp = saved["hyp"] as Record<string, unknown> | undefined;
  const hyp = savedHyp ? { ...SEED_ATTRIBUTE_HYP, ...savedHyp } : savedHyp;
  return {
    ...(saved as unknown as TrainOptions),
    ...(hyp ? { hyp: hyp as Partial<Hyp> } : {}),
    resume: given.resume,
    verbose: given.verbose,
    stopAfterEpochs: given.stopAfterEpochs,
    interruptAfterBatches: given.interruptAfterBatches,
    distributed: given.distributed,
  };
}
