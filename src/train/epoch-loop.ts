/**
 * One training epoch as YOLOv5's train loop runs it: per batch the warmup/schedule settings, the forward pass and the
 * losses (detector, attribute head, phase 2), one backward, and an optimizer step with gradient clipping and an EMA
 * update each time enough batches were accumulated for the nominal batch. Non-finite losses or gradient norms skip
 * the step; too many in a row stop training with an error.
 */
import type { Batch } from "../data/batch.js";
import { modelTaps } from "../model/attribute-inference.js";
import { clipGradNorm, noGrad, type Tensor, tidy } from "../torch/index.js";
import { yieldToEventLoop } from "../util/async.js";
import { progress } from "../util/progress.js";
import { attributeStepLr } from "./attribute-hyp.js";
import { progressFields } from "./epoch-log.js";
import { mosaicClosed } from "./hyp.js";
import { iterationSettings, lrFactor, warmupIterations } from "./schedule.js";
import { type TrainLosses, updateMeanLosses, zeroLosses } from "./train-losses.js";
import type { EpochProgress } from "./train-state.js";
import type { TrainingParts } from "./training-setup.js";

/** Global gradient-norm clip (YOLOv5's max_norm 10). */
export const GRAD_CLIP_NORM = 10.0;
/** Consecutive non-finite losses or gradient norms after which training stops with an error. */
export const MAX_CONSECUTIVE_NONFINITE = 10;
/** The optimizer's parameter groups (biases, decayed weights, norm weights). */
const PARAM_GROUPS = 3;

/** Trains epochs of a run; keeps the iteration counters that span epochs (accumulation, skipped steps). */
export class EpochLoop {
  readonly #parts: TrainingParts;
  readonly #warmup: number;
  readonly #batchesPerEpoch: number;
  #lastOptStep: number;
  /** The iteration of the last batch trained (gradients accumulated after lastOptStep are pending). */
  #lastIteration: number;
  #skipped = 0;
  #consecutiveBad = 0;
  #progress: EpochProgress = { batches: 0, seen: 0, mean: zeroLosses() };

  /** `lastOptStep`: the iteration of the last optimizer step (−1 for a new run, the saved one on resume). */
  constructor(parts: TrainingParts, lastOptStep: number) {
    this.#parts = parts;
    this.#lastOptStep = lastOptStep;
    this.#lastIteration = lastOptStep;
    this.#batchesPerEpoch = parts.trainLoader.batchCount; // of this rank's shard in a data-parallel run
    this.#warmup = warmupIterations(parts.opts.hyp, this.#batchesPerEpoch, parts.opts.minWarmupIters);
  }

  /** The iteration of the last optimizer step. */
  get lastOptStep(): number {
    return this.#lastOptStep;
  }
  /** How far the current (or last) epoch got: what an interrupted epoch's checkpoint stores. */
  get progress(): EpochProgress {
    return { ...this.#progress, mean: { ...this.#progress.mean } };
  }
  /**
   * In a data-parallel run, averages over the ranks the gradients accumulated since the last optimizer step (every
   * rank calls it, before rank 0 writes a checkpoint): the checkpoint then holds the run's pending gradients, not
   * rank 0's share, so a resume on any number of processes continues the accumulation exactly. The step's own average
   * leaves them as they are (equal on every rank; the mean is linear).
   */
  averagePendingGradients(): void {
    const { dp, model } = this.#parts;
    if (dp && this.#lastIteration > this.#lastOptStep) dp.averageGradients(model.parameters());
  }

  /** Steps skipped so far for a non-finite loss or gradient norm. */
  get skippedSteps(): number {
    return this.#skipped;
  }

  /**
   * Trains one epoch; returns the running mean of the losses. `interrupted` is asked after every batch (the event
   * loop runs in between, so a SIGINT is noticed at once): when true the epoch ends there, and {@link progress} says
   * how far it got. `from` continues an interrupted epoch: its first `from.batches` batches are not built again.
   */
  async trainEpoch(epoch: number, interrupted: () => boolean, from: EpochProgress | null = null): Promise<TrainLosses> {
    const { opts, model, trainLoader, attributes, sla } = this.#parts;
    model.train();
    const bar = progress({
      total: this.#batchesPerEpoch,
      label: `epoch ${epoch + 1}/${opts.epochs}`,
      unit: "it",
      silent: !opts.verbose,
    });
    let mean = from ? { ...from.mean } : zeroLosses();
    let seen = from?.seen ?? 0;
    let i = from?.batches ?? 0;
    this.#progress = { batches: i, seen, mean };
    if (i > 0) bar.tick(i);
    const closeMosaic = mosaicClosed(epoch, opts.epochs, opts.hyp.close_mosaic);
    for await (const batch of trainLoader.epoch(epoch, i, { closeMosaic })) {
      try {
        const ni = i + this.#batchesPerEpoch * epoch;
        const losses = this.#step(batch, epoch, ni, `epoch ${epoch + 1} batch ${i + 1}`);
        if (losses) {
          mean = updateMeanLosses(mean, losses, seen);
          seen++;
        }
        bar.tick(1, progressFields(mean, batch, attributes !== null, sla));
        i++;
        this.#progress = { batches: i, seen, mean };
      } finally {
        batch.dispose();
      }
      await yieldToEventLoop(); // lets a SIGINT be noticed now, not after the epoch
      if (interrupted()) break;
    }
    bar.stop();
    return mean;
  }

  /** One iteration: schedule, forward/backward, and an optimizer step when enough batches were accumulated. */
  #step(batch: Batch, epoch: number, ni: number, where: string): TrainLosses | null {
    const { optimizer, attributes } = this.#parts;
    const accumulate = this.#applySchedule(epoch, ni);
    this.#lastIteration = ni;
    let losses = this.#forwardBackward(batch, epoch);
    // a non-finite loss on any rank skips the batch on every rank (the ranks' collectives must stay in step)
    if (this.#parts.dp?.any(losses === null, `the loss check at ${where}`)) losses = null;
    if (losses === null) {
      optimizer.zeroGrad();
      attributes?.optimizer.zeroGrad();
      this.#countBad(`non-finite loss at ${where}`);
      return null;
    }
    // the head's own step every batch, at the detector's epoch learning rate (× attr_lr, ÷ attr_steps) without warmup
    if (attributes) this.#parts.dp?.averageGradients(attributes.head.parameters());
    attributes?.step(this.#attributeLr(epoch));
    if (ni - this.#lastOptStep >= accumulate) this.#optimizerStep(where, ni);
    return losses;
  }

  /** The rate of each of the head's steps in `epoch` (attributeStepLr: the detector's epoch rate, no warmup). */
  #attributeLr(epoch: number): number {
    const { opts } = this.#parts;
    return attributeStepLr(opts.hyp, opts.hyp.lr0, lrFactor(epoch, opts.epochs, opts.hyp.lrf, opts.cosLr));
  }

  /** Sets the iteration's learning rates and momentum (warmup, then the schedule); returns the accumulation count. */
  #applySchedule(epoch: number, ni: number): number {
    const { opts, optimizer } = this.#parts;
    const s = iterationSettings(opts.hyp, {
      ni,
      epoch,
      epochs: opts.epochs,
      warmup: this.#warmup,
      batchSize: opts.batch,
      cosine: opts.cosLr,
      groups: PARAM_GROUPS,
      nominalBatch: opts.nominalBatch,
      biasWarmup: !opts.finetune,
    });
    for (const [k, g] of optimizer.paramGroups.entries()) {
      g.lr = s.lr[k]!;
      g.momentum = s.momentum;
    }
    return s.accumulate;
  }

  /** Clips the accumulated gradients and steps the optimizer and the EMA (skipped when the norm is not finite). */
  #optimizerStep(where: string, ni: number): void {
    const { model, optimizer, ema, dp } = this.#parts;
    dp?.averageGradients(model.parameters()); // every rank then clips and steps the same gradients
    const norm = clipGradNorm(model.parameters(), GRAD_CLIP_NORM);
    if (Number.isFinite(norm)) {
      optimizer.step();
      ema.update(model);
      this.#consecutiveBad = 0;
    }
    optimizer.zeroGrad();
    this.#lastOptStep = ni;
    if (!Number.isFinite(norm)) this.#countBad(`non-finite gradient norm at ${where}`);
  }

  /** Forward, losses and one backward of their sum; null when it is not finite (nothing accumulated). */
  #forwardBackward(batch: Batch, epoch: number): TrainLosses | null {
    const { model, ema, computeLoss, attributes, sla, sparse, dp } = this.#parts;
    if (dp && !dp.syncBn) dp.broadcastBuffers(model); // DDP's broadcast_buffers: one EMA teacher on every rank
    return tidy(() => {
      const liveTaps = attributes && attributes.lambda > 0;
      const out = model.forward(batch.images, {
        decode: false,
        taps: [...(liveTaps ? modelTaps(attributes.head) : []), ...(sla?.taps(epoch) ?? [])],
      });
      const mask = sparse ? batch.regionMask : undefined;
      const { loss, items } = computeLoss.compute(out.maps, batch.targets, mask);
      const features = liveTaps ? out.features : this.#evalTaps(batch.images);
      if (features && attributes && this.#parts.opts.hyp.attr_steps > 1) {
        const average = dp ? () => dp.averageGradients(attributes.head.parameters()) : undefined;
        attributes.extraSteps(features, batch, this.#attributeLr(epoch), this.#parts.opts.hyp.attr_steps - 1, average);
      }
      const attr = features ? attributes!.loss(features, batch) : null;
      const phase2 = sla?.terms({ student: model, ema: ema.ema, computeLoss }, batch, out, epoch);
      // YOLOv5 under DDP: the batch-scaled losses × world size, as the all-reduce averages the ranks' gradients
      const ranks = dp?.worldSize ?? 1;
      const scaled = (t: Tensor) => (ranks > 1 ? t.mul(ranks) : t);
      let total = attr ? scaled(loss).add(attr.loss) : scaled(loss);
      if (phase2) total = total.add(scaled(phase2.loss));
      if (!Number.isFinite(total.item())) return null;
      total.backward();
      const [box, obj, cls] = items.toArray() as [number, number, number];
      return { box, obj, cls, attr: attr ? attr.loss.item() : 0, pl: phase2?.pl ?? 0, sim: phase2?.sim ?? 0 };
    });
  }

  /**
   * With λ = 0 (no gradient into the backbone) the head learns from the features it is evaluated on: the EMA
   * detector's, in eval mode (a forward up to the last tap, without gradient). The live model's train-mode maps
   * differ from those (batch statistics, unaveraged weights) enough that a head trained on them predicted constants.
   */
  #evalTaps(images: Tensor): Record<string, Tensor> | null {
    const { attributes, ema } = this.#parts;
    if (!attributes) return null;
    const taps = modelTaps(attributes.head);
    if (taps.length === 0) return {};
    return noGrad(() => ema.ema.forward(images, { taps, tapsOnly: true }).features);
  }

  #countBad(message: string): void {
    this.#skipped++;
    this.#consecutiveBad++;
    process.stderr.write(`warning: ${message}: step skipped (${this.#skipped} so far)\n`);
    if (this.#consecutiveBad >= MAX_CONSECUTIVE_NONFINITE) {
      throw new Error(
        `${this.#consecutiveBad} consecutive non-finite losses or gradients: training diverged (lower lr0 in the hyp file, or check the labels)`,
      );
    }
  }
}
