/**
 * Learning-rate schedule and warmup as YOLOv5's train.py: lr = lr0 · lf(epoch), lf linear
 * (1 − e/E)(1 − lrf) + lrf or cosine one-cycle; during warmup (max(warmup_epochs · batches, 100) iterations) the bias
 * group's lr falls from warmup_bias_lr and the others rise from 0 toward lr0 · lf(epoch), momentum rises from
 * warmup_momentum to momentum, and the accumulation count rises from 1 to nbs / batch size. Rounding is Python's
 * (ties to even), as YOLOv5's `round` and `np.round`.
 */
import { pythonRound } from "../util/round.js";

/** Nominal batch size the hyperparameters are tuned for (gradients are accumulated up to it). */
export const NOMINAL_BATCH = 64;
/** Warmup lasts at least this many iterations. */
export const MIN_WARMUP_ITERATIONS = 100;

export interface ScheduleHyp {
  lr0: number;
  lrf: number;
  momentum: number;
  warmup_epochs: number;
  warmup_momentum: number;
  warmup_bias_lr: number;
}

/** The epoch factor lf(e) ∈ [lrf, 1]. */
export function lrFactor(epoch: number, epochs: number, lrf: number, cosine: boolean): number {
  if (cosine) return ((1 - Math.cos((epoch * Math.PI) / epochs)) / 2) * (lrf - 1) + 1;
  return (1 - epoch / epochs) * (1 - lrf) + lrf;
}

/** Iterations of warmup for a run. */
export function warmupIterations(
  hyp: ScheduleHyp,
  batchesPerEpoch: number,
  minIterations = MIN_WARMUP_ITERATIONS,
): number {
  return Math.max(pythonRound(hyp.warmup_epochs * batchesPerEpoch), minIterations);
}

/** Gradients are accumulated over this many batches so each step sees ~nominalBatch images. */
export function accumulateSteps(batchSize: number, nominalBatch = NOMINAL_BATCH): number {
  return Math.max(pythonRound(nominalBatch / batchSize), 1);
}

/** Weight decay scaled to the effective batch, as YOLOv5: wd · batch · accumulate / nominalBatch. */
export function scaledWeightDecay(weightDecay: number, batchSize: number, nominalBatch = NOMINAL_BATCH): number {
  return (weightDecay * batchSize * accumulateSteps(batchSize, nominalBatch)) / nominalBatch;
}

/**
 * Linear interpolation over two points with numpy.interp's arithmetic (slope first, then slope · (x − x0) + y0), so
 * values that land on a rounding tie land on it as in YOLOv5.
 */
function lerp(x: number, x0: number, x1: number, y0: number, y1: number): number {
  if (x <= x0) return y0;
  if (x >= x1) return y1;
  const slope = (y1 - y0) / (x1 - x0);
  return slope * (x - x0) + y0;
}

/** What the optimizer should use at one iteration. */
export interface IterationSettings {
  /** Learning rate per group, in group order (group 0 holds the biases, as YOLOv5's smart_optimizer). */
  lr: number[];
  momentum: number;
  /** Accumulate this many batches before stepping. */
  accumulate: number;
}

/**
 * Settings at global iteration `ni` (0-based, counted over the whole run) in `epoch`.
 * @param groups number of parameter groups; group 0 is the bias group (YOLOv5's smart_optimizer order)
 */
export function iterationSettings(
  hyp: ScheduleHyp,
  options: {
    ni: number;
    epoch: number;
    epochs: number;
    warmup: number;
    batchSize: number;
    cosine: boolean;
    groups: number;
    /** @default NOMINAL_BATCH */
    nominalBatch?: number;
    /** The bias group warms up from warmup_bias_lr (YOLOv5); false: from 0 like the others (a fine-tune). @default true */
    biasWarmup?: boolean;
  },
): IterationSettings {
  const { ni, epoch, epochs, warmup, batchSize, cosine, groups, nominalBatch = NOMINAL_BATCH } = options;
  const target = hyp.lr0 * lrFactor(epoch, epochs, hyp.lrf, cosine);
  const accumulate = accumulateSteps(batchSize, nominalBatch);
  // warmup 0 (a fine-tune without warmup epochs): no warmup at all, not one iteration at the warmup's start values
  if (ni > warmup || warmup <= 0) {
    return { lr: new Array<number>(groups).fill(target), momentum: hyp.momentum, accumulate };
  }
  const biasStart = (options.biasWarmup ?? true) ? hyp.warmup_bias_lr : 0;
  const lr = Array.from({ length: groups }, (_, g) => lerp(ni, 0, warmup, g === 0 ? biasStart : 0, target));
  return {
    lr,
    momentum: lerp(ni, 0, warmup, hyp.warmup_momentum, hyp.momentum),
    accumulate: Math.max(1, pythonRound(lerp(ni, 0, warmup, 1, nominalBatch / batchSize))),
  };
}
