/**
 * Phase-1 detector training (`sladet pretrain`, design.md §4 decision 4): YOLOv5's recipe — SGD Nesterov with three
 * parameter groups, nominal-batch accumulation, warmup, linear or cosine schedule, EMA, gradient clipping — with the
 * region-masked loss whenever the dataset has labelled regions (a stock loss would teach "unlabelled cell =
 * background"), validation of the EMA each epoch, atomic last/best checkpoints, exact --resume, NaN guards and
 * SIGINT handling.
 */
import { join } from "node:path";
import { stringify } from "yaml";
import type { Batch } from "../data/batch.js";
import { saveBatchPicture } from "../data/batch-picture.js";
import { loadDataYaml } from "../data/dataset-yaml.js";
import { DataLoader, loadSplitItems } from "../data/loader.js";
import { isSparse } from "../data/region.js";
import { NUM_ATTRIBUTES } from "../data/schema.js";
import { AttributeEvaluation } from "../eval/attribute-eval.js";
import { type AttributeSummary, formatAttributeTable } from "../eval/attribute-metrics.js";
import { formatDetectionTable } from "../eval/detection-metrics.js";
import { GalleryCollector, type GalleryJson } from "../eval/gallery.js";
import { writeValidationFiles } from "../eval/run-files.js";
import { SPARSE_CAVEAT, type ValidationResult, validate } from "../eval/validate.js";
import type { AttributeHead } from "../model/attribute-head.js";
import { ATTRIBUTE_TAPS, modelTaps } from "../model/attribute-inference.js";
import { saveCheckpoint } from "../model/checkpoint.js";
import type { ModelYaml } from "../model/config.js";
import { YoloModel } from "../model/yolo.js";
import {
  clipGradNorm,
  manualSeed,
  memoryStats,
  noGrad,
  SGD,
  setNumThreads,
  type Tensor,
  tensor,
  tidy,
} from "../torch/index.js";
import { yieldToEventLoop } from "../util/async.js";
import { ConfigError } from "../util/errors.js";
import { writeFileAtomic } from "../util/fs.js";
import { progress } from "../util/progress.js";
import { incrementRunDir } from "../util/run-dir.js";
import { AttributeBranch } from "./attribute-branch.js";
import { anchorFit, BPR_THRESHOLD, evolveAnchors } from "./autoanchor.js";
import { EarlyStopping } from "./early-stopping.js";
import { ModelEMA } from "./ema.js";
import { DEFAULT_HYP, type Hyp, loadHyp, resolveFullHyp } from "./hyp.js";
import { ComputeLoss } from "./loss/compute-loss.js";
import { scaleLossGains } from "./loss/hyp.js";
import { setupModel } from "./model-setup.js";
import { splitParameterGroups } from "./param-groups.js";
import { RESULTS_COLUMNS, ResultsCsv, SLA_RESULTS_COLUMNS } from "./results-csv.js";
import {
  iterationSettings,
  lrFactor,
  MIN_WARMUP_ITERATIONS,
  NOMINAL_BATCH,
  scaledWeightDecay,
  warmupIterations,
} from "./schedule.js";
import { NO_PSEUDO_LABELS } from "./sla/calibration.js";
import type { SlaOptions } from "./sla/options.js";
import { SlaBranch } from "./sla/sla-branch.js";
import { loadTrainingCheckpoint, type TrainingSnapshot, trainingTensors } from "./train-state.js";

/** Global gradient-norm clip (YOLOv5's max_norm 10). */
export const GRAD_CLIP_NORM = 10.0;
/** Consecutive non-finite losses or gradient norms after which training stops with an error. */
export const MAX_CONSECUTIVE_NONFINITE = 10;

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
  /** Images per optimizer step, reached by gradient accumulation (YOLOv5's nbs). @default 64 */
  nominalBatch?: number;
  /** Warmup lasts at least this many iterations (YOLOv5's 100). @default 100 */
  minWarmupIters?: number;
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
}

export interface TrainResult {
  runDir: string;
  last: string;
  best: string;
  bestFitness: number;
  epochsRun: number;
  final: ValidationResult | null;
  skippedSteps: number;
  /** Stopped by SIGINT (weights/last saved; `--resume` continues). */
  interrupted: boolean;
}

type Resolved = Required<
  Omit<TrainOptions, "cfg" | "weights" | "resume" | "hyp" | "workers" | "threads" | "stopAfterEpochs" | "sla">
> & { sla: SlaOptions | null } & Pick<TrainOptions, "cfg" | "weights" | "workers" | "threads" | "stopAfterEpochs"> & {
    hyp: Hyp;
  };

function resolveOptions(o: TrainOptions, log: (m: string) => void): Resolved {
  let hyp: Hyp;
  if (typeof o.hyp === "string") {
    const loaded = loadHyp(o.hyp);
    for (const w of loaded.warnings) log(`warning: ${w}`);
    if (loaded.defaulted.length) log(`hyp: defaults used for ${loaded.defaulted.join(", ")}`);
    hyp = loaded.hyp;
  } else {
    hyp = o.hyp ? resolveFullHyp({ ...DEFAULT_HYP, ...o.hyp }, "hyp").hyp : { ...DEFAULT_HYP };
  }
  if (!o.data) throw new ConfigError("give --data (a dataset YAML), or --resume to continue a run");
  return {
    data: o.data,
    cfg: o.cfg,
    weights: o.weights,
    hyp,
    epochs: o.epochs ?? 100,
    batch: o.batch ?? 16,
    imgsz: o.imgsz ?? 640,
    device: o.device ?? "cpu",
    workers: o.workers,
    seed: o.seed ?? 0,
    project: o.project ?? "runs/pretrain",
    name: o.name ?? "exp",
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
    minWarmupIters: o.minWarmupIters ?? MIN_WARMUP_ITERATIONS,
    attributes: o.attributes ?? false,
    attributeLambda: o.attributeLambda ?? 0,
    attributeTaps: [...(o.attributeTaps ?? ATTRIBUTE_TAPS)],
    sla: o.sla ?? null,
    ignoreRegions: o.ignoreRegions ?? false,
    threads: o.threads,
    stopAfterEpochs: o.stopAfterEpochs,
  };
}

/** Layer indices to freeze from --freeze: [n] = 0..n−1, otherwise the list itself. */
export function frozenLayers(freeze: readonly number[]): Set<number> {
  if (freeze.length === 1) return new Set(Array.from({ length: freeze[0]! }, (_, i) => i));
  return new Set(freeze);
}

function checkAnchors(model: YoloModel, wh: number[], opts: Resolved, log: (m: string) => void): void {
  const stride = model.stride;
  const perLevel = model.detect.na * 2;
  const grid = model.detect.anchors.data.toArray();
  const px = grid.map((v, i) => v * stride[Math.floor(i / perLevel)]!);
  const fit = anchorFit(wh, px, opts.hyp.anchor_t);
  const msg = `AutoAnchor: ${fit.aat.toFixed(2)} anchors/target, best possible recall ${fit.bpr.toFixed(4)}`;
  if (fit.bpr > BPR_THRESHOLD) {
    log(`${msg}: anchors fit the dataset`);
    return;
  }
  if (!opts.evolveAnchors) {
    log(`warning: ${msg} < ${BPR_THRESHOLD}: anchors fit the dataset poorly (evolve new ones with --evolve-anchors)`);
    return;
  }
  const evolved = evolveAnchors(wh, px.length / 2, { anchorT: opts.hyp.anchor_t, seed: opts.seed });
  const newFit = anchorFit(wh, evolved, opts.hyp.anchor_t);
  if (newFit.bpr <= fit.bpr) {
    log(`${msg}; evolved anchors are no better (BPR ${newFit.bpr.toFixed(4)}): kept the originals`);
    return;
  }
  const gridUnits = Array.from(evolved, (v, i) => v / stride[Math.floor(i / perLevel)]!);
  model.detect.anchors.data = tensor(gridUnits, model.detect.anchors.data.shape);
  log(
    `${msg}; evolved anchors raise BPR to ${newFit.bpr.toFixed(4)}: ${Array.from(evolved, (v) => v.toFixed(0)).join(",")}`,
  );
}

/** Label sizes in pixels at the training size (long side = imgsz), for AutoAnchor. */
function labelSizes(items: Awaited<ReturnType<typeof loadSplitItems>>, imgsz: number): number[] {
  const wh: number[] = [];
  for (const it of items) {
    const scale = imgsz / Math.max(it.width, it.height);
    for (const l of it.labels) wh.push(l.w * it.width * scale, l.h * it.height * scale);
  }
  return wh;
}

/** One epoch's validation of the EMA. */
interface EpochValidation {
  epoch: number;
  val: ValidationResult;
  /** fitness, P, R, mAPs (and attribute F1s) for the checkpoint. */
  metrics: Record<string, number>;
  attributes: AttributeSummary | null;
  gallery: GalleryJson;
}

/** Everything one training run holds, with one short method per stage of an epoch. */
class TrainingRun {
  interrupted = false;
  skipped = 0;
  consecutiveBad = 0;
  bestFitness = 0;
  lastOptStep = -1;
  startEpoch = 0;
  bestAttributeF1 = -1;
  readonly stopper: EarlyStopping;
  readonly warmup: number;
  readonly batchesPerEpoch: number;

  private constructor(
    readonly opts: Resolved,
    readonly runDir: string,
    readonly model: YoloModel,
    readonly ema: ModelEMA<YoloModel>,
    readonly optimizer: SGD,
    readonly computeLoss: ComputeLoss,
    readonly trainLoader: DataLoader,
    readonly valLoader: DataLoader,
    readonly results: ResultsCsv,
    readonly sparse: boolean,
    readonly attributes: AttributeBranch | null,
    readonly sla: SlaBranch | null,
    readonly log: (m: string) => void,
  ) {
    this.stopper = new EarlyStopping(opts.patience);
    this.batchesPerEpoch = Math.ceil(trainLoader.length / opts.batch);
    this.warmup = warmupIterations(opts.hyp, this.batchesPerEpoch, opts.minWarmupIters);
  }

  get lastPath(): string {
    return join(this.runDir, "weights", "last.safetensors");
  }
  get bestPath(): string {
    return join(this.runDir, "weights", "best.safetensors");
  }
  get bestAttributePath(): string {
    return join(this.runDir, "weights", "best_attr.safetensors");
  }

  /** Resolves options, builds data, model, loaders, loss, optimizer and EMA; restores a snapshot when resuming. */
  static async create(options: TrainOptions, log: (m: string) => void): Promise<TrainingRun> {
    const snapshot: TrainingSnapshot | null = options.resume ? loadTrainingCheckpoint(options.resume) : null;
    const opts = resolveOptions(
      snapshot
        ? {
            ...(snapshot.options as unknown as TrainOptions),
            resume: options.resume,
            verbose: options.verbose,
            stopAfterEpochs: options.stopAfterEpochs,
          }
        : options,
      log,
    );
    if (opts.threads) setNumThreads(opts.threads);
    if (opts.device !== "cpu") throw new ConfigError(`device ${opts.device}: training runs on the CPU in this build`);
    manualSeed(opts.seed + 1);
    const runDir = snapshot ? snapshot.runDir : incrementRunDir(opts.project, opts.name, opts.existOk);
    const { hyp: _hyp, ...args } = opts;
    if (!snapshot) writeFileAtomic(join(runDir, "args.yaml"), stringify({ ...args, hyp: opts.hyp }));
    writeFileAtomic(join(runDir, "hyp.yaml"), stringify(opts.hyp));

    const data = loadDataYaml(opts.data);
    if (data.valFromTest) log(`warning: ${opts.data} has no val split: validating on test`);
    const trainItems = await loadSplitItems(data, "train");
    const valItems = await loadSplitItems(data, "val");
    const sparse = trainItems.some(isSparse) && !opts.ignoreRegions;
    if (opts.ignoreRegions)
      log("--ignore-regions: every image treated as fully labelled (unlabelled cells = background)");
    const sla = opts.sla ? createSlaBranch(opts, opts.sla, sparse, data.heldoutLabels !== null, log) : null;
    log(
      `data: ${trainItems.length} train / ${valItems.length} val images, ${data.nc} class(es)${sparse ? ", sparse labels: region-masked loss" : ""}`,
    );
    const { model, messages, attributeHead } = snapshot
      ? {
          model: snapshot.model,
          messages: [`resuming ${options.resume} after epoch ${snapshot.epoch + 1}`],
          attributeHead: null,
        }
      : setupModel({ cfg: opts.cfg, weights: opts.weights, nc: data.nc, names: data.names });
    for (const m of messages) log(m);
    const isFrozen = freezeLayers(model, opts.freeze);
    if (!snapshot && !opts.noautoanchor) checkAnchors(model, labelSizes(trainItems, opts.imgsz), opts, log);

    const loaderBase = {
      imgSize: opts.imgsz,
      workers: opts.workers,
      cache: opts.cache,
      numAttributes: data.attributes.length,
    };
    const trainLoader = new DataLoader({
      ...loaderBase,
      items: trainItems,
      batchSize: opts.batch,
      augment: true,
      hyp: opts.hyp,
      seed: opts.seed,
    });
    const valLoader = new DataLoader({ ...loaderBase, items: valItems, batchSize: opts.batch * 2, rect: true });
    const computeLoss = new ComputeLoss({
      nc: model.nc,
      anchors: model.detect.anchors.data,
      strides: model.stride,
      hyp: scaleLossGains(opts.hyp, { levels: model.detect.nl, classes: model.nc, imgsz: opts.imgsz }),
    });
    const optimizer = createOptimizer(model, opts, isFrozen);
    const withAttributes = opts.attributes === "auto" ? data.attributes.length === NUM_ATTRIBUTES : opts.attributes;
    if (!withAttributes) attributeHead?.dispose(); // the weights' head is not trained in this run
    const attributes = withAttributes
      ? createAttributeBranch(model, opts, data.attributes.length, attributeHead, log)
      : null;
    const ema = new ModelEMA(
      new YoloModel(model.yaml, { names: model.names, taps: model.taps, initBiases: false }),
      model,
    );
    const resultsPath = join(runDir, "results.csv");
    const columns = sla ? [...RESULTS_COLUMNS, ...SLA_RESULTS_COLUMNS] : RESULTS_COLUMNS;
    const results = snapshot
      ? ResultsCsv.load(resultsPath, snapshot.epoch + 1, columns)
      : new ResultsCsv(resultsPath, columns);
    const run = new TrainingRun(
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
      log,
    );
    if (snapshot) {
      snapshot.restore({ optimizer, ema, model, attributes });
      run.bestAttributeF1 = Number(snapshot.state["bestAttributeF1"] ?? -1);
      run.bestFitness = snapshot.bestFitness;
      run.stopper.bestFitness = snapshot.bestFitness;
      run.stopper.bestEpoch = snapshot.bestEpoch;
      run.startEpoch = snapshot.epoch + 1;
      run.lastOptStep = snapshot.lastOptStep;
      snapshot.dispose();
    }
    return run;
  }

  /** The YOLOv5-style picture of the first training batch, with boxes and labelled regions. */
  async saveFirstBatchPicture(): Promise<void> {
    for await (const raw of this.trainLoader.rawEpoch(0)) {
      await saveBatchPicture(join(this.runDir, "train_batch0.jpg"), raw);
      break;
    }
  }

  /**
   * Forward, losses and one backward of their sum; null when it is not finite (nothing accumulated).
   * Items: box, obj, cls, attribute, pseudo-label, similarity.
   */
  #forwardBackward(batch: Batch, epoch: number): number[] | null {
    return tidy(() => {
      const liveTaps = this.attributes && this.attributes.lambda > 0;
      const out = this.model.forward(batch.images, {
        decode: false,
        taps: [...(liveTaps ? modelTaps(this.attributes!.head) : []), ...(this.sla?.taps(epoch) ?? [])],
      });
      const mask = this.sparse ? batch.regionMask : undefined;
      const { loss, items } = this.computeLoss.compute(out.maps, batch.targets, mask);
      const features = liveTaps ? out.features : this.#evalTaps(batch.images);
      const attr = features ? this.attributes!.loss(features, batch) : null;
      const sla = this.sla?.terms(
        { student: this.model, ema: this.ema.ema, computeLoss: this.computeLoss },
        batch,
        out,
        epoch,
      );
      let total = attr ? loss.add(attr.loss) : loss;
      if (sla) total = total.add(sla.loss);
      if (!Number.isFinite(total.item())) return null;
      total.backward();
      return [...items.toArray(), attr ? attr.loss.item() : 0, sla?.pl ?? 0, sla?.sim ?? 0];
    });
  }

  /**
   * With λ = 0 (no gradient into the backbone) the head learns from the features it is evaluated on: the EMA
   * detector's, in eval mode (a forward up to the last tap, without gradient). The live model's train-mode maps
   * differ from those (batch statistics, unaveraged weights) enough that a head trained on them predicted constants.
   */
  #evalTaps(images: Tensor): Record<string, Tensor> | null {
    if (!this.attributes) return null;
    const taps = modelTaps(this.attributes.head);
    if (taps.length === 0) return {};
    return noGrad(() => this.ema.ema.forward(images, { taps, tapsOnly: true }).features);
  }

  #countBad(message: string): void {
    this.skipped++;
    this.consecutiveBad++;
    process.stderr.write(`warning: ${message}: step skipped (${this.skipped} so far)\n`);
    if (this.consecutiveBad >= MAX_CONSECUTIVE_NONFINITE) {
      throw new Error(
        `${this.consecutiveBad} consecutive non-finite losses or gradients: training diverged (lower lr0 in the hyp file, or check the labels)`,
      );
    }
  }

  /** One iteration: schedule, forward/backward, and an optimizer step when enough batches were accumulated. */
  #step(batch: Batch, epoch: number, ni: number, where: string): number[] | null {
    const s = iterationSettings(this.opts.hyp, {
      ni,
      epoch,
      epochs: this.opts.epochs,
      warmup: this.warmup,
      batchSize: this.opts.batch,
      cosine: this.opts.cosLr,
      groups: 3,
      nominalBatch: this.opts.nominalBatch,
    });
    for (const [k, g] of this.optimizer.paramGroups.entries()) {
      g.lr = s.lr[k]!;
      g.momentum = s.momentum;
    }
    const items = this.#forwardBackward(batch, epoch);
    if (items === null) {
      this.optimizer.zeroGrad();
      this.attributes?.optimizer.zeroGrad();
      this.#countBad(`non-finite loss at ${where}`);
      return null;
    }
    // the head's own step every batch, at the detector's epoch learning rate without warmup (the seed's cadence)
    this.attributes?.step(this.opts.hyp.lr0 * lrFactor(epoch, this.opts.epochs, this.opts.hyp.lrf, this.opts.cosLr));
    if (ni - this.lastOptStep >= s.accumulate) {
      const norm = clipGradNorm(this.model.parameters(), GRAD_CLIP_NORM);
      if (Number.isFinite(norm)) {
        this.optimizer.step();
        this.ema.update(this.model);
        this.consecutiveBad = 0;
      }
      this.optimizer.zeroGrad();
      this.lastOptStep = ni;
      if (!Number.isFinite(norm)) this.#countBad(`non-finite gradient norm at ${where}`);
    }
    return items;
  }

  /** Trains one epoch; returns the running mean of the loss items [box, obj, cls]. */
  async trainEpoch(epoch: number): Promise<number[]> {
    this.model.train();
    const bar = progress({
      total: this.batchesPerEpoch,
      label: `epoch ${epoch + 1}/${this.opts.epochs}`,
      unit: "it",
      silent: !this.opts.verbose,
    });
    const mloss = [0, 0, 0, 0, 0, 0];
    let seen = 0;
    let i = 0;
    for await (const batch of this.trainLoader.epoch(epoch)) {
      try {
        const items = this.#step(batch, epoch, i + this.batchesPerEpoch * epoch, `epoch ${epoch + 1} batch ${i + 1}`);
        if (items) {
          for (let k = 0; k < mloss.length; k++) mloss[k] = (mloss[k]! * seen + items[k]!) / (seen + 1);
          seen++;
        }
        bar.tick(1, {
          box: mloss[0]!,
          obj: mloss[1]!,
          cls: mloss[2]!,
          ...(this.attributes ? { attr: mloss[3]! } : {}),
          ...(this.sla ? { pl: this.sla.stats.summary().count } : {}),
          inst: batch.targets.size(0),
          size: batch.shape[0],
        });
        i++;
      } finally {
        batch.dispose();
      }
      await yieldToEventLoop(); // lets a SIGINT be noticed now, not after the epoch
      if (this.interrupted) break;
    }
    bar.stop();
    return mloss;
  }

  /**
   * Validates the EMA, appends results.csv, prints the table; returns the validation, the checkpoint metrics, and the
   * attribute metrics and gallery (for the run folder's validation files after the last epoch).
   */
  async validateEpoch(epoch: number, mloss: number[]): Promise<EpochValidation> {
    const evaluation = this.attributes
      ? new AttributeEvaluation(this.attributes.ema.ema, { imgSize: this.opts.imgsz })
      : null;
    const gallery = new GalleryCollector(this.valLoader.items, this.opts.imgsz, this.model.names);
    const val = await validate(this.ema.ema, this.valLoader, {
      names: this.model.names,
      computeLoss: this.computeLoss,
      label: this.opts.verbose ? "val" : null,
      taps: evaluation ? modelTaps(evaluation.head) : [],
      onBatch: (b: Batch, d: Tensor[], f: Record<string, Tensor>) => {
        evaluation?.add(b, d, f);
        gallery.add(b, d);
      },
    });
    const attr = evaluation?.metrics.summary() ?? null;
    if (evaluation && attr) {
      evaluation.writeCsv(join(this.runDir, "attributes", `val_epoch${epoch + 1}.csv`));
      this.log(formatAttributeTable(attr));
    }
    const lrs = this.optimizer.paramGroups.map((g) => g.lr);
    this.results.append({
      epoch,
      "train/box_loss": mloss[0]!,
      "train/obj_loss": mloss[1]!,
      "train/cls_loss": mloss[2]!,
      "metrics/precision": val.all.mp,
      "metrics/recall": val.all.mr,
      "metrics/mAP_0.5": val.all.map50,
      "metrics/mAP_0.5:0.95": val.all.map,
      "val/box_loss": val.loss?.[0] ?? Number.NaN,
      "val/obj_loss": val.loss?.[1] ?? Number.NaN,
      "val/cls_loss": val.loss?.[2] ?? Number.NaN,
      "x/lr0": lrs[0]!,
      "x/lr1": lrs[1]!,
      "x/lr2": lrs[2]!,
      "train/attr_loss": this.attributes ? mloss[3]! : Number.NaN,
      "metrics/attr_mean_F1": attr?.seedMeanF1 ?? Number.NaN,
      "metrics/attr_macro_F1": attr?.macroF1 ?? Number.NaN,
      "metrics/region_mAP_0.5": val.region?.map50 ?? Number.NaN,
      "metrics/region_mAP_0.5:0.95": val.region?.map ?? Number.NaN,
      ...(this.sla ? this.#slaColumns(epoch, mloss) : {}),
    });
    this.log(formatDetectionTable(val.all, { perClass: epoch === this.opts.epochs - 1 }));
    const r = val.region;
    if (r)
      this.log(
        `labelled regions only: P ${r.mp.toFixed(3)} R ${r.mr.toFixed(3)} mAP50 ${r.map50.toFixed(3)} mAP50-95 ${r.map.toFixed(3)}` +
          (epoch === 0 ? `\n${SPARSE_CAVEAT}` : ""),
      );
    const metrics: Record<string, number> = {
      precision: val.all.mp,
      recall: val.all.mr,
      mAP50: val.all.map50,
      "mAP50-95": val.all.map,
      // on sparse val data the whole-image numbers count unlabelled cells as false positives: best and early
      // stopping follow the labelled regions
      fitness: (val.region ?? val.all).fitness,
      ...(attr ? { attrMeanF1: attr.seedMeanF1, attrMacroF1: attr.macroF1 } : {}),
    };
    return { epoch, val, metrics, attributes: attr, gallery: gallery.toJson() };
  }

  /** The last validation's files (metrics.json, per_class.csv, curves.json, gallery.json, …) for the run report. */
  writeFinalValidation(last: EpochValidation): void {
    writeValidationFiles(this.runDir, {
      names: last.gallery.names, // the model is disposed by now
      all: last.val.all,
      region: last.val.region,
      meta: { task: "val", epoch: last.epoch, weights: this.lastPath, data: this.opts.data },
      loss: last.val.loss,
      thresholds: last.val.thresholds,
      coco: null,
      attributes: last.attributes,
      seconds: last.val.seconds,
      gallery: last.gallery,
    });
  }

  /** Phase 2's results.csv columns for the epoch, and its pseudo-label line in the log. */
  #slaColumns(epoch: number, mloss: number[]): Record<string, number> {
    const s = this.sla!.nextEpoch().summary();
    const pct = (v: number) => (Number.isNaN(v) ? "n/a" : `${(100 * v).toFixed(1)}%`);
    this.log(
      `pseudo-labels: ${s.count} (${(s.count / Math.max(1, s.images)).toFixed(2)}/image, ${thresholdText(this.sla!)}), precision ${pct(s.precision)}, ` +
        `class precision ${pct(s.classPrecision)}, held-out recall ${pct(s.recall)}; similarity anchors ${s.anchors}` +
        `${this.sla!.similarityOn(epoch) ? "" : " (similarity off)"}${this.sla!.regionOnly(epoch) ? "; region-only epoch" : ""}`,
    );
    return {
      "train/pl_loss": mloss[4]!,
      "train/sim_loss": mloss[5]!,
      "pl/count": s.count,
      "pl/threshold": this.sla!.calibrator.threshold,
      "pl/anchors": s.anchors,
      "pl/precision": s.precision,
      "pl/class_precision": s.classPrecision,
      "pl/recall": s.recall,
    };
  }

  /** Writes a checkpoint: the EMA as the model, plus everything --resume needs (atomic). */
  save(path: string, epoch: number, metrics: Record<string, number> | null): void {
    const { hyp: _hyp, ...args } = this.opts;
    const optimizerState = this.optimizer.stateDict();
    const branch = this.attributes
      ? { head: this.attributes.head, optimizer: this.attributes.optimizer.stateDict() }
      : null;
    const { tensors, owned, groups, headGroups } = trainingTensors(this.model, optimizerState, branch);
    const state = {
      epoch,
      bestFitness: this.bestFitness,
      bestEpoch: this.stopper.bestEpoch,
      lastOptStep: this.lastOptStep,
      updates: this.ema.updates,
      runDir: this.runDir,
      options: { ...args, hyp: this.opts.hyp, cfg: this.model.yaml },
      optimizer: groups,
      headOptimizer: headGroups,
      headUpdates: this.attributes?.ema.updates ?? 0,
      bestAttributeF1: this.bestAttributeF1,
    };
    try {
      saveCheckpoint(path, this.ema.ema, {
        attributeHead: this.attributes?.ema.ema ?? null,
        hyp: this.opts.hyp as unknown as Record<string, unknown>,
        epoch,
        metrics,
        training: { tensors, state },
      });
    } finally {
      for (const t of owned) t.dispose();
    }
  }

  async dispose(): Promise<void> {
    await this.trainLoader.dispose();
    await this.valLoader.dispose();
    this.computeLoss.dispose();
    this.attributes?.dispose();
    this.optimizer.dispose();
    this.ema.ema.dispose();
    this.model.dispose();
  }
}

/** Freezes --freeze layers (requires_grad off); returns the predicate on parameter names. */
function freezeLayers(model: YoloModel, freeze: readonly number[]): (name: string) => boolean {
  const frozen = frozenLayers(freeze);
  const isFrozen = (name: string) => frozen.has(Number(/^model\.(\d+)\./.exec(name)?.[1] ?? -1));
  for (const [name, p] of model.namedParameters()) if (isFrozen(name)) p.data.requiresGrad_(false);
  return isFrozen;
}

/**
 * The attribute branch with the detector's lr0, momentum and scaled decay (design.md §7.6), continuing `initial`
 * (the head of a sladet checkpoint given as --weights: phase 2 after phase 1) when there is one.
 */
function createAttributeBranch(
  model: YoloModel,
  opts: Resolved,
  columns: number,
  initial: AttributeHead | null,
  log: (m: string) => void,
): AttributeBranch {
  if (columns !== NUM_ATTRIBUTES) {
    initial?.dispose();
    throw new ConfigError(
      `--attributes needs the ${NUM_ATTRIBUTES} LLD attribute columns; ${opts.data} has ${columns}`,
    );
  }
  if (initial) log(`attribute head: continued from ${opts.weights} (taps ${initial.taps.join(", ")})`);
  return new AttributeBranch(
    model,
    {
      lr0: opts.hyp.lr0,
      momentum: opts.hyp.momentum,
      weightDecay: scaledWeightDecay(opts.hyp.weight_decay, opts.batch, opts.nominalBatch),
      lambda: opts.attributeLambda,
      taps: opts.attributeTaps,
    },
    initial?.train() ?? undefined,
  );
}

/** The pseudo-label threshold in words, for the epoch line. */
function thresholdText(sla: SlaBranch): string {
  const t = sla.calibrator.threshold;
  if (t >= NO_PSEUDO_LABELS) return `none now: no confidence reaches precision ${sla.hyp.pl_precision} in the regions`;
  return `conf > ${t.toFixed(3)}`;
}

/** Phase 2's branch; pseudo-labels need labelled regions to leave something unlabelled. */
function createSlaBranch(
  opts: Resolved,
  sla: SlaOptions,
  sparse: boolean,
  heldoutKnown: boolean,
  log: (m: string) => void,
): SlaBranch {
  const h = opts.hyp;
  if (!sparse)
    log("warning: phase 2 on a densely labelled dataset: pseudo-labels only come from outside labelled regions");
  const branch = new SlaBranch(h, opts.epochs, sla, heldoutKnown);
  log(
    `phase 2: pseudo-labels from the ${sla.proposer} (conf > ${h.pl_precision > 0 ? `the calibrated threshold for precision ${h.pl_precision}, at most ${h.pl_conf}` : h.pl_conf}, entropy ≤ ${h.pl_entropy}, ` +
      `${sla.plInRegion ? "inside regions too (seed)" : "outside labelled regions"}), weight ${h.pl_weight}; ` +
      `similarity on the band (${h.sim_conf}·t/${h.pl_conf}, t] of the threshold t, margin ${h.sim_margin}, ${sla.tripletSign} sign, weight ` +
      `${h.sim_weight}, first ${branch.similarityEpochs} epochs; last ${h.region_only_epochs} region-only` +
      `${heldoutKnown ? "; pseudo-label precision measured on the held-out labels" : ""}`,
  );
  return branch;
}

/** SGD with Nesterov over YOLOv5's groups: biases, weights with (batch-scaled) decay, norm weights. */
function createOptimizer(model: YoloModel, opts: Resolved, isFrozen: (name: string) => boolean): SGD {
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

export async function train(options: TrainOptions): Promise<TrainResult> {
  const verbose = options.verbose ?? true;
  const log = (m: string) => {
    if (verbose) process.stdout.write(`${m}\n`);
  };
  const run = await TrainingRun.create(options, log);
  const onSigint = () => {
    run.interrupted = true;
    process.stderr.write("\ninterrupted: saving weights/last after this step…\n");
  };
  process.once("SIGINT", onSigint); // a second Ctrl-C exits at once
  let last: EpochValidation | null = null;
  let epochsRun = 0;
  const { opts } = run;
  try {
    if (run.startEpoch === 0) await run.saveFirstBatchPicture();
    for (let epoch = run.startEpoch; epoch < opts.epochs && !run.interrupted; epoch++) {
      const mloss = await run.trainEpoch(epoch);
      if (run.interrupted) {
        run.save(run.lastPath, epoch - 1, null); // resume restarts this epoch from the current weights
        break;
      }
      last = await run.validateEpoch(epoch, mloss);
      const { metrics } = last;
      run.bestFitness = Math.max(run.bestFitness, metrics["fitness"]!);
      const stop = run.stopper.step(epoch, metrics["fitness"]!);
      run.save(run.lastPath, epoch, metrics);
      if (metrics["fitness"] === run.bestFitness) run.save(run.bestPath, epoch, metrics);
      const attrF1 = metrics["attrMeanF1"];
      if (attrF1 !== undefined && attrF1 > run.bestAttributeF1) {
        run.bestAttributeF1 = attrF1; // weights/best_attr: the whole model of the best attribute epoch (design.md §7.7)
        run.save(run.bestAttributePath, epoch, metrics);
      }
      if (opts.savePeriod > 0 && (epoch + 1) % opts.savePeriod === 0) {
        run.save(join(run.runDir, "weights", `epoch${epoch + 1}.safetensors`), epoch, metrics);
      }
      epochsRun++;
      if (stop) {
        log(`early stopping: no improvement for ${opts.patience} epochs (best epoch ${run.stopper.bestEpoch + 1})`);
        break;
      }
      if (opts.stopAfterEpochs !== undefined && epochsRun >= opts.stopAfterEpochs) break;
    }
  } finally {
    process.removeListener("SIGINT", onSigint);
    await run.dispose();
  }
  if (last) run.writeFinalValidation(last);
  const peak = (memoryStats().peakBytes / 2 ** 20).toFixed(0);
  log(`${epochsRun} epoch(s) in ${run.runDir}; ${run.skipped} step(s) skipped; native ${peak} MiB peak`);
  log(`weights: ${run.lastPath}, ${run.bestPath}`);
  return {
    runDir: run.runDir,
    last: run.lastPath,
    best: run.bestPath,
    bestFitness: run.bestFitness,
    epochsRun,
    final: last?.val ?? null,
    skippedSteps: run.skipped,
    interrupted: run.interrupted,
  };
}
