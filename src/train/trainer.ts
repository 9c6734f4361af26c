/**
 * Phase-1 detector training (`sladet pretrain`, design.md §4 decision 4): YOLOv5's recipe — SGD Nesterov with three
 * parameter groups, nominal-batch accumulation, warmup, linear or cosine schedule, EMA, gradient clipping — with the
 * region-masked loss whenever the dataset has labelled regions (a stock loss would teach "unlabelled cell =
 * background"), validation of the EMA each epoch, atomic last/best checkpoints, exact --resume, NaN guards and
 * SIGINT handling.
 */
import { join } from "node:path";
import { stringify } from "yaml";
import { saveBatchPicture } from "../data/batch-picture.js";
import { loadDataYaml } from "../data/dataset-yaml.js";
import { DataLoader, loadSplitItems } from "../data/loader.js";
import { isSparse } from "../data/region.js";
import { formatDetectionTable } from "../eval/detection-metrics.js";
import { type ValidationResult, validate } from "../eval/validate.js";
import { saveCheckpoint } from "../model/checkpoint.js";
import type { ModelYaml } from "../model/config.js";
import { YoloModel } from "../model/yolo.js";
import { clipGradNorm, manualSeed, memoryStats, SGD, setNumThreads, tensor, tidy } from "../torch/index.js";
import { ConfigError } from "../util/errors.js";
import { writeFileAtomic } from "../util/fs.js";
import { progress } from "../util/progress.js";
import { anchorFit, BPR_THRESHOLD, evolveAnchors } from "./autoanchor.js";
import { EarlyStopping } from "./early-stopping.js";
import { ModelEMA } from "./ema.js";
import { DEFAULT_HYP, type Hyp, loadHyp, resolveFullHyp } from "./hyp.js";
import { ComputeLoss } from "./loss/compute-loss.js";
import { scaleLossGains } from "./loss/hyp.js";
import { setupModel } from "./model-setup.js";
import { splitParameterGroups } from "./param-groups.js";
import { ResultsCsv } from "./results-csv.js";
import { incrementRunDir } from "./run-dir.js";
import {
  iterationSettings,
  MIN_WARMUP_ITERATIONS,
  NOMINAL_BATCH,
  scaledWeightDecay,
  warmupIterations,
} from "./schedule.js";
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
}

export interface TrainResult {
  runDir: string;
  last: string;
  best: string;
  bestFitness: number;
  epochsRun: number;
  final: ValidationResult | null;
  skippedSteps: number;
}

type Resolved = Required<
  Omit<TrainOptions, "cfg" | "weights" | "resume" | "hyp" | "workers" | "threads" | "stopAfterEpochs">
> &
  Pick<TrainOptions, "cfg" | "weights" | "workers" | "threads" | "stopAfterEpochs"> & { hyp: Hyp };

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

export async function train(options: TrainOptions): Promise<TrainResult> {
  const verbose = options.verbose ?? true;
  const log = (m: string) => {
    if (verbose) process.stdout.write(`${m}\n`);
  };
  const snapshot: TrainingSnapshot | null = options.resume ? loadTrainingCheckpoint(options.resume) : null;
  const opts = resolveOptions(
    snapshot
      ? {
          ...(snapshot.options as unknown as TrainOptions),
          resume: options.resume,
          verbose,
          stopAfterEpochs: options.stopAfterEpochs,
        }
      : options,
    log,
  );
  if (opts.threads) setNumThreads(opts.threads);
  if (opts.device !== "cpu") throw new ConfigError(`device ${opts.device}: training runs on the CPU in this build`);
  manualSeed(opts.seed + 1);
  const runDir = snapshot ? snapshot.runDir : incrementRunDir(opts.project, opts.name, opts.existOk);
  const weightsDir = join(runDir, "weights");
  const lastPath = join(weightsDir, "last.safetensors");
  const bestPath = join(weightsDir, "best.safetensors");
  const { hyp: _hyp, ...args } = opts;
  if (!snapshot) writeFileAtomic(join(runDir, "args.yaml"), stringify({ ...args, hyp: opts.hyp }));
  writeFileAtomic(join(runDir, "hyp.yaml"), stringify(opts.hyp));

  const data = loadDataYaml(opts.data);
  if (data.valFromTest) log(`warning: ${opts.data} has no val split: validating on test`);
  const trainItems = await loadSplitItems(data, "train");
  const valItems = await loadSplitItems(data, "val");
  const sparse = trainItems.some(isSparse);
  log(
    `data: ${trainItems.length} train / ${valItems.length} val images, ${data.nc} class(es)${sparse ? ", sparse labels: region-masked loss" : ""}`,
  );

  const { model, messages } = snapshot
    ? { model: snapshot.model, messages: [`resuming ${options.resume} after epoch ${snapshot.epoch}`] }
    : setupModel({ cfg: opts.cfg, weights: opts.weights, nc: data.nc, names: data.names });
  for (const m of messages) log(m);
  const frozen = frozenLayers(opts.freeze);
  const isFrozen = (name: string) => frozen.has(Number(/^model\.(\d+)\./.exec(name)?.[1] ?? -1));
  for (const [name, p] of model.namedParameters()) if (isFrozen(name)) p.data.requiresGrad_(false);
  if (!snapshot && !opts.noautoanchor) checkAnchors(model, labelSizes(trainItems, opts.imgsz), opts, log);

  const trainLoader = new DataLoader({
    items: trainItems,
    imgSize: opts.imgsz,
    batchSize: opts.batch,
    augment: true,
    hyp: opts.hyp,
    seed: opts.seed,
    workers: opts.workers,
    cache: opts.cache,
    numAttributes: data.attributes.length,
  });
  const valLoader = new DataLoader({
    items: valItems,
    imgSize: opts.imgsz,
    batchSize: opts.batch * 2,
    rect: true,
    workers: opts.workers,
    cache: opts.cache,
    numAttributes: data.attributes.length,
  });
  const computeLoss = new ComputeLoss({
    nc: model.nc,
    anchors: model.detect.anchors.data,
    strides: model.stride,
    hyp: scaleLossGains(opts.hyp, { levels: model.detect.nl, classes: model.nc, imgsz: opts.imgsz }),
  });
  const groups = splitParameterGroups(model, { frozen: isFrozen });
  const optimizer = new SGD(
    [
      { params: groups.biases },
      { params: groups.weights, weightDecay: scaledWeightDecay(opts.hyp.weight_decay, opts.batch, opts.nominalBatch) },
      { params: groups.normWeights },
    ],
    { lr: opts.hyp.lr0, momentum: opts.hyp.momentum, nesterov: true },
  );
  const emaModel = new YoloModel(model.yaml, { names: model.names, taps: model.taps, initBiases: false });
  const ema = new ModelEMA(emaModel, model);
  const results = snapshot
    ? ResultsCsv.load(join(runDir, "results.csv"), snapshot.epoch + 1)
    : new ResultsCsv(join(runDir, "results.csv"));
  const stopper = new EarlyStopping(opts.patience);
  let bestFitness = 0;
  let startEpoch = 0;
  let lastOptStep = -1;
  if (snapshot) {
    snapshot.restore({ optimizer, ema, model });
    bestFitness = snapshot.bestFitness;
    stopper.bestFitness = snapshot.bestFitness;
    stopper.bestEpoch = snapshot.bestEpoch;
    startEpoch = snapshot.epoch + 1;
    lastOptStep = snapshot.lastOptStep;
    snapshot.dispose();
  }

  const nb = Math.ceil(trainItems.length / opts.batch);
  const warmup = warmupIterations(opts.hyp, nb, opts.minWarmupIters);
  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
    process.stderr.write("\ninterrupted: saving weights/last after this step…\n");
  };
  process.once("SIGINT", onSigint);
  let skipped = 0;
  let consecutiveBad = 0;
  let final: ValidationResult | null = null;
  let epochsRun = 0;
  let lastEpochDone = startEpoch - 1;
  const save = (path: string, epoch: number, metrics: Record<string, number> | null) => {
    const state = {
      epoch,
      bestFitness,
      bestEpoch: stopper.bestEpoch,
      lastOptStep,
      updates: ema.updates,
      runDir,
      options: { ...args, hyp: opts.hyp, cfg: model.yaml },
      optimizer: optimizer.stateDict(),
    };
    const { tensors, owned, groups } = trainingTensors(model, state.optimizer);
    try {
      saveCheckpoint(path, ema.ema, {
        hyp: opts.hyp as unknown as Record<string, unknown>,
        epoch,
        metrics,
        training: { tensors, state: { ...state, optimizer: groups } },
      });
    } finally {
      for (const t of owned) t.dispose();
    }
  };

  try {
    if (startEpoch === 0) {
      // the YOLOv5-style picture of the first training batch, with boxes and labelled regions
      for await (const raw of trainLoader.rawEpoch(0)) {
        await saveBatchPicture(join(runDir, "train_batch0.jpg"), raw);
        break;
      }
    }
    for (let epoch = startEpoch; epoch < opts.epochs && !interrupted; epoch++) {
      model.train();
      const bar = progress({ total: nb, label: `epoch ${epoch + 1}/${opts.epochs}`, unit: "it", silent: !verbose });
      const mloss = [0, 0, 0];
      let seen = 0;
      let i = 0;
      for await (const batch of trainLoader.epoch(epoch)) {
        try {
          const ni = i + nb * epoch;
          const s = iterationSettings(opts.hyp, {
            ni,
            epoch,
            epochs: opts.epochs,
            warmup,
            batchSize: opts.batch,
            cosine: opts.cosLr,
            groups: 3,
            nominalBatch: opts.nominalBatch,
          });
          optimizer.paramGroups.forEach((g, k) => {
            g.lr = s.lr[k]!;
            g.momentum = s.momentum;
          });
          const items = tidy(() => {
            const out = model.forward(batch.images, { decode: false });
            const { loss, items } = computeLoss.compute(out.maps, batch.targets, sparse ? batch.regionMask : undefined);
            const value = loss.item();
            if (!Number.isFinite(value)) return null;
            loss.backward();
            return items.toArray();
          });
          if (items === null) {
            skipped++;
            consecutiveBad++;
            optimizer.zeroGrad();
            process.stderr.write(
              `warning: non-finite loss at epoch ${epoch + 1} batch ${i + 1}: step skipped (${skipped} so far)\n`,
            );
          } else if (ni - lastOptStep >= s.accumulate) {
            const norm = clipGradNorm(model.parameters(), GRAD_CLIP_NORM);
            if (Number.isFinite(norm)) {
              optimizer.step();
              ema.update(model);
              consecutiveBad = 0;
            } else {
              skipped++;
              consecutiveBad++;
              process.stderr.write(
                `warning: non-finite gradient norm at epoch ${epoch + 1} batch ${i + 1}: step skipped\n`,
              );
            }
            optimizer.zeroGrad();
            lastOptStep = ni;
          }
          if (consecutiveBad >= MAX_CONSECUTIVE_NONFINITE) {
            throw new Error(
              `${consecutiveBad} consecutive non-finite losses or gradients: training diverged (lower lr0 in the hyp file, or check the labels)`,
            );
          }
          if (items) for (let k = 0; k < 3; k++) mloss[k] = (mloss[k]! * seen + items[k]!) / (seen + 1);
          if (items) seen++;
          bar.tick(1, {
            box: mloss[0]!,
            obj: mloss[1]!,
            cls: mloss[2]!,
            inst: batch.targets.size(0),
            size: batch.shape[0],
          });
          i++;
        } finally {
          batch.dispose();
        }
        if (interrupted) break;
      }
      bar.stop();
      if (interrupted) {
        save(lastPath, epoch - 1, null);
        break;
      }
      const val = await validate(ema.ema, valLoader, {
        names: model.names,
        computeLoss,
        label: verbose ? "val" : null,
      });
      final = val;
      const fitness = val.all.fitness;
      if (fitness > bestFitness) bestFitness = fitness;
      const lrs = optimizer.paramGroups.map((g) => g.lr);
      results.append({
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
      });
      if (verbose) {
        log(formatDetectionTable(val.all, { perClass: epoch === opts.epochs - 1 }));
        if (val.region)
          log(
            `labelled regions only: P ${val.region.mp.toFixed(3)} R ${val.region.mr.toFixed(3)} mAP50 ${val.region.map50.toFixed(3)} mAP50-95 ${val.region.map.toFixed(3)}`,
          );
      }
      const stop = stopper.step(epoch, fitness);
      const metrics = {
        precision: val.all.mp,
        recall: val.all.mr,
        mAP50: val.all.map50,
        "mAP50-95": val.all.map,
        fitness,
      };
      save(lastPath, epoch, metrics);
      if (fitness === bestFitness) save(bestPath, epoch, metrics);
      if (opts.savePeriod > 0 && (epoch + 1) % opts.savePeriod === 0)
        save(join(weightsDir, `epoch${epoch + 1}.safetensors`), epoch, metrics);
      lastEpochDone = epoch;
      epochsRun++;
      if (stop) {
        log(`early stopping: no improvement for ${opts.patience} epochs (best epoch ${stopper.bestEpoch + 1})`);
        break;
      }
      if (opts.stopAfterEpochs !== undefined && epochsRun >= opts.stopAfterEpochs) break;
    }
  } finally {
    process.removeListener("SIGINT", onSigint);
    await trainLoader.dispose();
    await valLoader.dispose();
    computeLoss.dispose();
    optimizer.dispose();
    ema.ema.dispose();
    model.dispose();
  }
  if (verbose) {
    const mem = memoryStats();
    log(
      `${epochsRun} epoch(s) in ${runDir}; last epoch ${lastEpochDone + 1}; ${skipped} step(s) skipped; native ${(mem.peakBytes / 2 ** 20).toFixed(0)} MiB peak`,
    );
    log(`weights: ${lastPath}, ${bestPath}`);
  }
  return { runDir, last: lastPath, best: bestPath, bestFitness, epochsRun, final, skippedSteps: skipped };
}
