/**
 * Phase-1 detector training (`sladet pretrain`, design.md §4 decision 4) and phase 2 (`sladet train`): YOLOv5's
 * recipe — SGD Nesterov with three parameter groups, nominal-batch accumulation, warmup, linear or cosine schedule,
 * EMA, gradient clipping — with the region-masked loss whenever the dataset has labelled regions (a stock loss would
 * teach "unlabelled cell = background"), validation of the EMA each epoch, atomic last/best checkpoints, exact
 * --resume, NaN guards and SIGINT handling.
 *
 * This module runs the epochs; the parts have one module each: options (train-options.ts), building the run
 * (training-setup.ts), one epoch of batches and optimizer steps (epoch-loop.ts), the validation after it
 * (epoch-validation.ts), results.csv and the log (epoch-log.ts), checkpoints and resume (checkpoints.ts).
 */
import type { ValidationResult } from "../eval/validate.js";
import { keepFreedPages, releaseFreeMemory } from "../torch/index.js";
import { type ResumePoint, RunCheckpoints } from "./checkpoints.js";
import { DataParallel } from "./data-parallel.js";
import { logRunSummary, recordEpoch, saveFirstBatchPicture } from "./epoch-log.js";
import { EpochLoop } from "./epoch-loop.js";
import { type EpochValidation, validateEpoch, writeFinalValidation } from "./epoch-validation.js";
import { firstClosedEpoch } from "./hyp.js";
import type { TrainLog, TrainOptions } from "./train-options.js";
import { createTraining, disposeTraining, type TrainingParts } from "./training-setup.js";

export { GRAD_CLIP_NORM, MAX_CONSECUTIVE_NONFINITE } from "./epoch-loop.js";
export type { TrainOptions } from "./train-options.js";
export { frozenLayers } from "./training-setup.js";

/** What a finished (or stopped) training run left. */
export interface TrainResult {
  runDir: string;
  /** weights/last: the EMA of the last epoch, with the state --resume needs. */
  last: string;
  /** weights/best: the epoch of the best fitness. */
  best: string;
  bestFitness: number;
  /** Epochs trained by this invocation. */
  epochsRun: number;
  /** The last epoch's validation; null when no epoch finished. */
  final: ValidationResult | null;
  skippedSteps: number;
  /** Stopped by SIGINT (weights/last saved; `--resume` continues). */
  interrupted: boolean;
  /**
   * Where SIGINT stopped the run: the epoch (from 0) and how many of its batches this process trained (every rank of a
   * data-parallel run stops after the same one); null when it was not interrupted.
   */
  stoppedAt: { epoch: number; batches: number } | null;
  /** This process's rank in a data-parallel run (0 for one process): only rank 0 wrote the run folder. */
  rank: number;
}

/** Calls a training run makes to its caller (not options: they are not stored in args.yaml or checkpoints). */
export interface TrainHooks {
  /**
   * After each finished epoch (validated, results.csv row and checkpoints written), with the epoch index from 0; e.g.
   * the memory check of bench/memory samples the process there. The next epoch starts when a returned promise settles.
   */
  onEpochEnd?: (epoch: number) => void | Promise<void>;
}

/** Ctrl-C while training: the first one asks the loop to save weights/last and stop; a second exits at once. */
class SigintFlag {
  #raised = false;
  readonly #onSigint = () => this.raise();

  constructor() {
    process.once("SIGINT", this.#onSigint);
  }

  get raised(): boolean {
    return this.#raised;
  }

  /** What a Ctrl-C does (also the test interruption `interruptAfterBatches`). */
  raise(): void {
    this.#raised = true;
    process.stderr.write("\ninterrupted: saving weights/last after this step…\n");
  }

  remove(): void {
    process.removeListener("SIGINT", this.#onSigint);
  }
}

/** Trains from `startEpoch` until the last epoch, early stopping, --stop-after or SIGINT. */
async function runEpochs(
  parts: TrainingParts,
  loop: EpochLoop,
  checkpoints: RunCheckpoints,
  resume: ResumePoint | null,
  sigint: SigintFlag,
  hooks: TrainHooks,
): Promise<EpochsOutcome> {
  const { opts, log, dp } = parts;
  const isMain = dp?.isMain ?? true;
  let last: EpochValidation | null = null;
  let epochsRun = 0;
  let stoppedAt: EpochsOutcome["stoppedAt"] = null;
  const startEpoch = resume?.startEpoch ?? 0;
  if (startEpoch === 0 && !resume?.partialEpoch && isMain) await saveFirstBatchPicture(parts);
  let batches = 0;
  const interrupted = () => {
    batches++;
    if (opts.interruptAfterBatches !== undefined && batches >= opts.interruptAfterBatches && !sigint.raised) {
      sigint.raise();
    }
    // every rank stops after the same batch: a Ctrl-C seen by one rank stops them all
    if (dp?.any(sigint.raised, "the stop check after a batch") && !sigint.raised) sigint.raise();
    return sigint.raised;
  };
  for (let epoch = startEpoch; epoch < opts.epochs && !sigint.raised; epoch++) {
    const from = epoch === startEpoch ? (resume?.partialEpoch ?? null) : null;
    const { close_mosaic } = opts.hyp;
    if (isMain && epoch === firstClosedEpoch(opts.epochs, close_mosaic)) {
      log(`closing mosaic: epochs ${epoch + 1}-${opts.epochs} train on whole images (close_mosaic ${close_mosaic})`);
    }
    const losses = await loop.trainEpoch(epoch, interrupted, from);
    shareEpochState(parts, loop);
    if (sigint.raised) {
      // resume continues this epoch from the next batch
      if (isMain) checkpoints.saveInterrupted(epoch, loop.progress);
      stoppedAt = { epoch, batches: loop.progress.batches };
      break;
    }
    let stop = false;
    if (isMain) {
      last = await validateEpoch(parts, epoch);
      recordEpoch(parts, epoch, losses, last);
      stop = checkpoints.afterEpoch(epoch, last.metrics);
    } else {
      parts.sla?.nextEpoch(); // rank 0 recorded the epoch's pseudo-label counts (all ranks'); these start anew
    }
    // the other ranks wait here while rank 0 validates and saves, then learn whether it stops early
    if (dp) stop = dp.any(stop, `rank 0's validation of epoch ${epoch + 1}`);
    epochsRun++;
    // the epoch's batches, validation and checkpoint buffers are freed: their pages go back to the system here, the
    // place they do during a run besides the epoch loop's bound (trainWith turns the allocator's decay timer off)
    releaseFreeMemory();
    await hooks.onEpochEnd?.(epoch);
    if (stop) {
      log(`early stopping: no improvement for ${opts.patience} epochs (best epoch ${checkpoints.bestEpoch + 1})`);
      break;
    }
    if (opts.stopAfterEpochs !== undefined && epochsRun >= opts.stopAfterEpochs) break;
  }
  return { last, epochsRun, stoppedAt };
}

/** What the epochs of a run left: the last validation (rank 0), the epochs finished, where SIGINT stopped them. */
interface EpochsOutcome {
  last: EpochValidation | null;
  epochsRun: number;
  stoppedAt: { epoch: number; batches: number } | null;
}

/**
 * Before rank 0 records or saves an epoch (finished or stopped), on every rank of a data-parallel run: the gradients
 * accumulated since the last step averaged over the ranks, and phase 2's pseudo-label counts summed (results.csv
 * and the checkpoint count every rank's images, not rank 0's shard).
 */
function shareEpochState(parts: TrainingParts, loop: EpochLoop): void {
  const { dp, sla } = parts;
  if (!dp) return;
  loop.averagePendingGradients();
  if (sla) sla.stats.restore(dp.sumCounts(sla.stats.toJSON(), "summing the pseudo-label counts"));
}

/** Trains a detector (phase 1, or phase 2 with `options.sla`) and writes its run folder; see TrainOptions. */
export async function train(options: TrainOptions, hooks: TrainHooks = {}): Promise<TrainResult> {
  const dp = options.distributed ? DataParallel.join(options.distributed) : null;
  // rank 0 speaks for a data-parallel run; the others train silently
  const verbose = (options.verbose ?? true) && (dp?.isMain ?? true);
  const log: TrainLog = (m) => {
    if (verbose) process.stdout.write(`${m}\n`);
  };
  try {
    const result = await trainWith({ ...options, verbose }, log, dp, hooks);
    dp?.close();
    return result;
  } catch (e) {
    dp?.abort();
    throw e;
  }
}

async function trainWith(
  options: TrainOptions,
  log: TrainLog,
  dp: DataParallel | null,
  hooks: TrainHooks,
): Promise<TrainResult> {
  const { parts, resume } = await createTraining(options, log, dp);
  const loop = new EpochLoop(parts, resume?.lastOptStep ?? -1);
  const checkpoints = new RunCheckpoints(parts, loop, resume);
  const sigint = new SigintFlag();
  let outcome: EpochsOutcome;
  // pages a batch frees are kept for the next batch instead of going back to the system on a timer and faulting back
  // in (system time was ~40 % of a BCCD epoch's CPU), up to KEPT_PAGES_LIMIT_BYTES of them; each epoch's end returns
  // them (runEpochs), so memory stays flat
  // (blocks of 8 MiB and more too, as every measured run did since the oversize arena was made after this point:
  // returning them at once takes the BCCD peak from 4.1-4.2 to 3.3-3.5 GiB but costs 41 % system time;
  // BENCHMARKS.md "Memory across epochs")
  const restoreDecay = keepFreedPages({ oversize: true });
  try {
    outcome = await runEpochs(parts, loop, checkpoints, resume, sigint, hooks);
  } finally {
    sigint.remove();
    await disposeTraining(parts);
    restoreDecay();
  }
  const { last, epochsRun, stoppedAt } = outcome;
  const { runDir } = parts;
  if (last && (dp?.isMain ?? true)) writeFinalValidation(runDir, last, checkpoints.lastPath, parts.opts.data);
  logRunSummary(log, {
    epochsRun,
    runDir,
    skippedSteps: loop.skippedSteps,
    last: checkpoints.lastPath,
    best: checkpoints.bestPath,
  });
  return {
    runDir,
    last: checkpoints.lastPath,
    best: checkpoints.bestPath,
    bestFitness: checkpoints.bestFitness,
    epochsRun,
    final: last?.val ?? null,
    skippedSteps: loop.skippedSteps,
    interrupted: sigint.raised,
    stoppedAt,
    rank: dp?.rank ?? 0,
  };
}
