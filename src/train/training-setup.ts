/**
 * Everything a training run works with, built from its options: the run folder (args.yaml, hyp.yaml), the data and
 * loaders, the model (from --cfg/--weights, frozen layers, AutoAnchor), the loss, the optimizer, the EMA, the
 * attribute and phase-2 branches, and results.csv. On --resume the saved options and state are restored into them.
 * The construction order is part of the numbers: the seeded RNG initialises the model, the attribute head and the EMA
 * in this order.
 */
import { join } from "node:path";
import { stringify } from "yaml";
import type { FineViewOptions } from "../data/augment/index.js";
import { type DataConfig, loadDataYaml } from "../data/dataset-yaml.js";
import { checkImgSize } from "../data/img-size.js";
import { DataLoader, type LoaderItem, loadSplitItems } from "../data/loader.js";
import { isSparse } from "../data/region.js";
import { NUM_ATTRIBUTES } from "../data/schema.js";
import type { AttributeHead } from "../model/attribute-head.js";
import { YoloModel } from "../model/yolo.js";
import { BatchNorm2d, manualSeed, SGD, setNumThreads } from "../torch/index.js";
import { ConfigError } from "../util/errors.js";
import { writeFileAtomic } from "../util/fs.js";
import { incrementRunDir } from "../util/run-dir.js";
import { checkAnchors, labelSizes } from "./anchor-check.js";
import type { AttributeBranch } from "./attribute-branch.js";
import { createAttributeBranch, headImageHsv, headImageScale } from "./attribute-setup.js";
import { checkPartialEpochProcesses, type ResumePoint, restoreSnapshot } from "./checkpoints.js";
import type { DataParallel } from "./data-parallel.js";
import { ModelEMA } from "./ema.js";
import type { Hyp } from "./hyp.js";
import { ComputeLoss } from "./loss/compute-loss.js";
import { scaleLossGains } from "./loss/hyp.js";
import { setupModel } from "./model-setup.js";
import { splitParameterGroups } from "./param-groups.js";
import { RESULTS_COLUMNS, ResultsCsv, SLA_RESULTS_COLUMNS } from "./results-csv.js";
import { accumulateSteps, scaledWeightDecay } from "./schedule.js";
import type { SlaOptions } from "./sla/options.js";
import { type GatherAcrossRanks, SlaBranch } from "./sla/sla-branch.js";
import {
  type ResolvedTrainOptions,
  resolveTrainOptions,
  resumedOptions,
  type TrainLog,
  type TrainOptions,
} from "./train-options.js";
import { loadTrainingCheckpoint, type TrainingSnapshot } from "./train-state.js";

/** The objects of one training run; built once by createTraining, released by disposeTraining. */
export interface TrainingParts {
  readonly opts: ResolvedTrainOptions;
  readonly runDir: string;
  /** The model being trained (raw weights; checkpoints hold the EMA's). */
  readonly model: YoloModel;
  readonly ema: ModelEMA<YoloModel>;
  readonly optimizer: SGD;
  readonly computeLoss: ComputeLoss;
  readonly trainLoader: DataLoader;
  readonly valLoader: DataLoader;
  readonly results: ResultsCsv;
  /** The training images have labelled regions: the loss is region-masked. */
  readonly sparse: boolean;
  /** The attribute head's branch (--attributes), or null. */
  readonly attributes: AttributeBranch | null;
  /** Phase 2's branch (pseudo-labels, similarity), or null in phase 1. */
  readonly sla: SlaBranch | null;
  /** This process's part in a data-parallel run, or null for a one-process run. */
  readonly dp: DataParallel | null;
  readonly log: TrainLog;
}

/** The run's resolved options and folder; args.yaml (new runs) and hyp.yaml written, threads and seed set. */
function prepareRun(options: TrainOptions, snapshot: TrainingSnapshot | null, dp: DataParallel | null, log: TrainLog) {
  const opts = resolveTrainOptions(snapshot ? resumedOptions(snapshot.options, options) : options, log);
  if (opts.threads) setNumThreads(opts.threads);
  if (opts.device !== "cpu") throw new ConfigError(`device ${opts.device}: training runs on the CPU in this build`);
  manualSeed(opts.seed + 1);
  // a data-parallel run has one folder, rank 0's, which alone writes into it
  const newRunDir = () => incrementRunDir(opts.project, opts.name, opts.existOk);
  const runDir = snapshot ? snapshot.runDir : dp ? dp.shareFromMain("run_dir", newRunDir) : newRunDir();
  if (dp && !dp.isMain) return { opts, runDir };
  const { hyp: _hyp, ...args } = opts;
  if (!snapshot) writeFileAtomic(join(runDir, "args.yaml"), stringify({ ...args, hyp: opts.hyp }));
  writeFileAtomic(join(runDir, "hyp.yaml"), stringify(opts.hyp));
  if (dp) log(`data-parallel: ${dp.worldSize} processes, ${opts.batch / dp.worldSize} images each per batch`);
  return { opts, runDir };
}

/** The dataset's splits, whether its labels are sparse, and phase 2's branch (which depends on that). */
async function loadTrainingData(opts: ResolvedTrainOptions, log: TrainLog, dp: DataParallel | null) {
  const data = loadDataYaml(opts.data);
  if (data.valFromTest) log(`warning: ${opts.data} has no val split: validating on test`);
  const trainItems = await loadSplitItems(data, "train");
  if (trainItems.every((it) => it.labels.length === 0)) {
    throw new ConfigError(
      `${data.file}: the train split has no labelled objects (${trainItems.length} image(s), 0 objects): ` +
        "check that each images/ folder has a labels/ folder beside it (run sladet check)",
    );
  }
  const valItems = await loadSplitItems(data, "val");
  const sparse = trainItems.some(isSparse) && !opts.ignoreRegions;
  if (opts.ignoreRegions)
    log("--ignore-regions: every image treated as fully labelled (unlabelled cells = background)");
  const gather = dp ? (values: number[]) => dp.gatherValues(values, "sharing the pseudo-label calibration") : null;
  const sla = opts.sla
    ? createSlaBranch(opts, opts.sla, { sparse, heldoutKnown: data.heldoutLabels !== null, gather }, log)
    : null;
  log(
    `data: ${trainItems.length} train / ${valItems.length} val images, ${data.nc} class(es)${sparse ? ", sparse labels: region-masked loss" : ""}`,
  );
  return { data, trainItems, valItems, sparse, sla };
}

/** The model to train: the snapshot's on resume, otherwise built from --cfg/--weights; layers frozen, anchors checked. */
function buildModel(
  opts: ResolvedTrainOptions,
  snapshot: TrainingSnapshot | null,
  resumePath: string | undefined,
  data: DataConfig,
  trainItems: readonly LoaderItem[],
  log: TrainLog,
) {
  const { model, messages, attributeHead, emaUpdates } = snapshot
    ? {
        model: snapshot.model,
        messages: [`resuming ${resumePath} after epoch ${snapshot.epoch + 1}`],
        attributeHead: null,
        emaUpdates: 0, // restored from the snapshot
      }
    : setupModel({ cfg: opts.cfg, weights: opts.weights, nc: data.nc, names: data.names });
  for (const m of messages) log(m);
  const isFrozen = freezeLayers(model, opts.freeze);
  if (!snapshot && !opts.noautoanchor) {
    const options = { anchorT: opts.hyp.anchor_t, evolve: opts.evolveAnchors, seed: opts.seed };
    checkAnchors(model, labelSizes(trainItems, imgszFor(model, opts.imgsz).imgsz), options, log);
  }
  // a fine-tune's EMA continues the weights' (they are that EMA's weights) with its update count
  const continuedEma = opts.finetune ? emaUpdates : 0;
  if (continuedEma > 0) log(`EMA continued from ${opts.weights} at ${continuedEma} updates (fine-tune)`);
  return { model, attributeHead, isFrozen, emaUpdates: continuedEma };
}

/** YOLOv5 train.py's smallest grid size: the stride `imgsz` is checked against is at least this. */
export const MIN_GRID_SIZE = 32;

/** The training image size for `model`: YOLOv5's check_img_size(imgsz, gs, floor = 2·gs), gs = max(stride, 32). */
export function imgszFor(model: YoloModel, imgsz: number) {
  const gs = Math.max(Math.max(...model.stride), MIN_GRID_SIZE);
  return checkImgSize(imgsz, gs, 2 * gs);
}

/** The options with `imgsz` a multiple of the model's stride (a warning logged when it was not). */
function withCheckedImgsz(opts: ResolvedTrainOptions, model: YoloModel, log: TrainLog): ResolvedTrainOptions {
  const checked = imgszFor(model, opts.imgsz);
  if (checked.warning) log(checked.warning);
  return { ...opts, imgsz: checked.imgsz };
}

/**
 * The training loader (augmented, seeded; in a data-parallel run this rank's shard with its share of the batch) and
 * the validation loader (rectangular, twice the batch; used by rank 0 only, so the other ranks start no workers).
 */
function createLoaders(
  opts: ResolvedTrainOptions,
  numAttributes: number,
  trainItems: LoaderItem[],
  valItems: LoaderItem[],
  dp: DataParallel | null,
  weakHsv: number | undefined,
  fine: FineViewOptions | undefined,
) {
  const loaderBase = {
    imgSize: opts.imgsz,
    workers: opts.workers,
    cache: opts.cache,
    numAttributes,
    ...(fine ? { fine } : {}),
  };
  const ranks = dp?.worldSize ?? 1;
  const trainLoader = new DataLoader({
    ...loaderBase,
    items: trainItems,
    batchSize: opts.batch / ranks,
    augment: true,
    hyp: opts.hyp,
    ...(weakHsv === undefined ? {} : { weakHsv }),
    seed: opts.seed,
    ...(dp ? { shard: { rank: dp.rank, worldSize: ranks } } : {}),
  });
  const valLoader = new DataLoader({
    ...loaderBase,
    ...(dp && !dp.isMain ? { workers: 0 } : {}),
    items: valItems,
    batchSize: opts.batch * 2,
    rect: true,
  });
  return { trainLoader, valLoader };
}

/**
 * Resolves options, builds data, model, loaders, loss, optimizer and EMA; restores the snapshot when resuming (then
 * `resume` says where the run continues).
 */
export async function createTraining(
  options: TrainOptions,
  log: TrainLog,
  dp: DataParallel | null = null,
): Promise<{ parts: TrainingParts; resume: ResumePoint | null }> {
  const snapshot = options.resume ? loadTrainingCheckpoint(options.resume) : null;
  if (snapshot) checkPartialEpochProcesses(snapshot, dp?.worldSize ?? 1);
  const { opts: given, runDir } = prepareRun(options, snapshot, dp, log);
  const { data, trainItems, valItems, sparse, sla } = await loadTrainingData(given, log, dp);
  const { model, attributeHead, isFrozen, emaUpdates } = buildModel(
    given,
    snapshot,
    options.resume,
    data,
    trainItems,
    log,
  );
  const opts = withCheckedImgsz(given, model, log);
  if (dp) shareModel(dp, model);
  const withAttributes = opts.attributes === "auto" ? data.attributes.length === NUM_ATTRIBUTES : opts.attributes;
  const fine = withAttributes ? headFineView(opts, attributeHead) : undefined;
  // a head with a fine view reads its colours there, not in the weak view
  const weakHsv = weakViewHsv(opts, withAttributes && !fine ? headImageHsv(opts, attributeHead) : undefined);
  const { trainLoader, valLoader } = createLoaders(
    opts,
    data.attributes.length,
    trainItems,
    valItems,
    dp,
    weakHsv,
    fine,
  );
  const computeLoss = new ComputeLoss({
    nc: model.nc,
    anchors: model.detect.anchors.data,
    strides: model.stride,
    hyp: scaleLossGains(opts.hyp, { levels: model.detect.nl, classes: model.nc, imgsz: opts.imgsz }),
  });
  const optimizer = createOptimizer(model, opts, isFrozen);
  if (!withAttributes) attributeHead?.dispose(); // the weights' head is not trained in this run
  const attributes = withAttributes
    ? createAttributeBranch(model, opts, data.attributes.length, attributeHead, log, trainItems)
    : null;
  if (dp && attributes) dp.broadcastModel(attributes.head);
  const ema = new ModelEMA(
    new YoloModel(model.yaml, { names: model.names, taps: model.taps, initBiases: false }),
    model,
    emaOptions(opts, emaUpdates, trainItems.length),
  );
  const resultsPath = join(runDir, "results.csv");
  const columns = sla ? [...RESULTS_COLUMNS, ...SLA_RESULTS_COLUMNS] : RESULTS_COLUMNS;
  const results = snapshot
    ? ResultsCsv.load(resultsPath, snapshot.epoch + 1, columns)
    : new ResultsCsv(resultsPath, columns);
  const parts: TrainingParts = {
    opts,
    runDir,
    model,
    ema,
    optimizer,
    computeLoss,
    trainLoader,
    valLoader,
    results,
    sparse,
    attributes,
    sla,
    dp,
    log,
  };
  return { parts, resume: snapshot ? restoreSnapshot(snapshot, parts) : null };
}

/**
 * The EMA's start: `updates` (phase 1's count in a fine-tune, else 0) and, in phase 2 as a fine-tune, the decay floor
 * of ft_ema_epochs: 1 − 1 / (ft_ema_epochs · optimizer steps per epoch), an epoch of `images` training images taking
 * ⌈images / batch⌉ batches and one step per accumulateSteps(batch, nominalBatch) of them.
 */
export function emaOptions(
  opts: Pick<ResolvedTrainOptions, "sla" | "finetune" | "hyp" | "batch" | "nominalBatch">,
  updates: number,
  images: number,
): { updates: number; floor: number } {
  const epochs = opts.sla && opts.finetune ? opts.hyp.ft_ema_epochs : 0;
  const batches = Math.ceil(images / opts.batch);
  const steps = Math.max(1, Math.round(batches / accumulateSteps(opts.batch, opts.nominalBatch)));
  return { updates, floor: epochs > 0 ? 1 - 1 / (epochs * steps) : 0 };
}

/** Rank 0's weights on every rank; with --sync-bn, batch statistics over every rank's images. */
function shareModel(dp: DataParallel, model: YoloModel): void {
  dp.broadcastModel(model);
  if (dp.syncBn) {
    for (const [, m] of model.namedModules()) if (m instanceof BatchNorm2d) m.syncGroup = dp.group;
  }
}

/** Releases the loaders' workers and every tensor the run owns. */
export async function disposeTraining(parts: TrainingParts): Promise<void> {
  await parts.trainLoader.dispose();
  await parts.valLoader.dispose();
  parts.computeLoss.dispose();
  parts.attributes?.dispose();
  parts.optimizer.dispose();
  parts.ema.ema.dispose();
  parts.model.dispose();
}

/** Layer indices to freeze from --freeze: [n] = 0..n−1, otherwise the list itself. */
export function frozenLayers(freeze: readonly number[]): Set<number> {
  if (freeze.length === 1) return new Set(Array.from({ length: freeze[0]! }, (_, i) => i));
  return new Set(freeze);
}

/** Freezes --freeze layers (requires_grad off); returns the predicate on parameter names. */
function freezeLayers(model: YoloModel, freeze: readonly number[]): (name: string) => boolean {
  const frozen = frozenLayers(freeze);
  const isFrozen = (name: string) => frozen.has(Number(/^model\.(\d+)\./.exec(name)?.[1] ?? -1));
  for (const [name, p] of model.namedParameters()) if (isFrozen(name)) p.data.requiresGrad_(false);
  return isFrozen;
}

/** SGD with Nesterov over YOLOv5's groups: biases, weights with (batch-scaled) decay, norm weights. */
function createOptimizer(model: YoloModel, opts: ResolvedTrainOptions, isFrozen: (name: string) => boolean): SGD {
  const groups = splitParameterGroups(model, { frozen: isFrozen });
  return new SGD(
    [
      { params: groups.biases },
      { params: groups.weights, weightDecay: scaledWeightDecay(opts.hyp.weight_decay, opts.batch, opts.nominalBatch) },
      { params: groups.normWeights },
    ],
    { lr: opts.hyp.lr0, momentum: opts.hyp.momentum, nesterov: true },
  );
}

/** The loaders' fine view for the attribute head (hyp attr_image_scale), or undefined when it reads the input itself. */
function headFineView(opts: ResolvedTrainOptions, head: AttributeHead | null): FineViewOptions | undefined {
  const scale = headImageScale(opts, head);
  return scale === 1 ? undefined : { scale, hsv: headImageHsv(opts, head) ?? 1 };
}

/**
 * The HSV fraction of the loader's weak view (TrainSampleOptions.weakHsv), or undefined when nothing reads one: the
 * attribute head's (`headHsv`, attr_hsv) and phase 2's teacher's (pl_teacher_hsv < 1) share it, so they must agree.
 */
export function weakViewHsv(
  opts: Pick<ResolvedTrainOptions, "sla" | "hyp">,
  headHsv: number | undefined,
): number | undefined {
  const teacherHsv = opts.sla && opts.hyp.pl_teacher_hsv < 1 ? opts.hyp.pl_teacher_hsv : undefined;
  if (headHsv !== undefined && teacherHsv !== undefined && headHsv !== teacherHsv)
    throw new ConfigError(
      `attr_hsv ${headHsv} and pl_teacher_hsv ${teacherHsv} differ: the attribute head and phase 2's teacher read ` +
        "the same weak view of each image, so set them equal (or attr_hsv to 1: the head reads the detector's image)",
    );
  return headHsv ?? teacherHsv;
}

/** Phase 2's branch; pseudo-labels need labelled regions to leave something unlabelled. */
function createSlaBranch(
  opts: ResolvedTrainOptions,
  sla: SlaOptions,
  data: { sparse: boolean; heldoutKnown: boolean; gather: GatherAcrossRanks | null },
  log: TrainLog,
): SlaBranch {
  const h = opts.hyp;
  const { heldoutKnown } = data;
  // keys that act on the EMA teacher's forward, which the student proposer does not run
  const teacherOnly = [h.pl_flip === 1 && "pl_flip: 1", h.pl_teacher_hsv < 1 && `pl_teacher_hsv ${h.pl_teacher_hsv}`];
  const key = teacherOnly.find((k) => k !== false);
  if (key && sla.proposer !== "ema")
    throw new ConfigError(`${key} needs the EMA proposer (the student's proposals come from its training forward)`);
  if (!data.sparse)
    log("warning: phase 2 on a densely labelled dataset: pseudo-labels only come from outside labelled regions");
  const branch = new SlaBranch(h, opts.epochs, sla, heldoutKnown, data.gather);
  log(phase2Summary(h, sla, branch, opts.epochs, heldoutKnown));
  return branch;
}

/** The phase-2 line of the training log: how pseudo-labels are admitted and weighed, the similarity loss, the EMA. */
function phase2Summary(h: Hyp, sla: SlaOptions, branch: SlaBranch, epochs: number, heldoutKnown: boolean): string {
  const threshold =
    h.pl_precision > 0
      ? `the calibrated threshold for precision ${h.pl_precision}` +
        `${h.pl_precision_z > 0 ? ` (Wilson bound, z ${h.pl_precision_z})` : ""}, in [${h.pl_conf_min}, ${h.pl_conf}], ` +
        `once ${h.pl_support} correct predictions back it (before: ${h.pl_unsupported ? h.pl_conf : "none"})`
      : `${h.pl_conf}`;
  const where = sla.plInRegion ? "inside regions too (seed)" : "outside labelled regions";
  const weight =
    `weight ${h.pl_weight}${h.pl_loss_gains === 1 ? " × the detection gains" : " (unscaled, seed)"}` +
    `${h.pl_soft ? ", × each one's confidence (soft)" : ""}` +
    `${h.pl_ramp > 0 ? ` ramped up over ${h.pl_ramp * epochs} epochs` : ""}`;
  const dense =
    h.pl_dense > 0
      ? `; dense pseudo-labels outside the regions (the EMA teacher's scores${h.pl_flip ? " of both views" : ""}), weight ${h.pl_dense}`
      : "";
  const similarity =
    `similarity on the band (${h.sim_conf}·t/${h.pl_conf}, t] of the threshold t, margin ${h.sim_margin}, ` +
    `${sla.tripletSign} sign, weight ${h.sim_weight}, first ${branch.similarityEpochs} epochs`;
  const view = h.pl_teacher_hsv < 1 ? ` on a weak view (${h.pl_teacher_hsv} of the colour jitter)` : "";
  return (
    `phase 2: pseudo-labels from the ${sla.proposer}${view}${h.pl_flip ? " and its view of the mirrored image (fused)" : ""} (conf > ${threshold}, entropy ≤ ${h.pl_entropy}, ${where}), ` +
    `${weight}${dense}; ${similarity}; last ${h.region_only_epochs} region-only` +
    `${h.ft_ema_epochs > 0 ? `; EMA over ≥ ${h.ft_ema_epochs} epochs` : ""}` +
    `${heldoutKnown ? "; pseudo-label precision measured on the held-out labels" : ""}`
  );
}
