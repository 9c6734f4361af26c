/**
 * A training run's checkpoints (YOLOv5's weights/last, best and epochN, plus best_attr, design.md §7.7): which to
 * write after an epoch, and what each holds — the EMA as the model and everything an exact --resume needs (raw
 * weights, optimizer, RNG, counters; train-state.ts) — and the way back: a resume snapshot restored into a fresh run.
 */
import { join } from "node:path";
import { saveCheckpoint } from "../model/checkpoint.js";
import { ConfigError } from "../util/errors.js";
import { removeStaleTempFiles } from "../util/fs.js";
import { EarlyStopping } from "./early-stopping.js";
import type { EpochProgress, TrainingSnapshot } from "./train-state.js";
import { trainingTensors } from "./train-state.js";
import type { TrainingParts } from "./training-setup.js";

/** The checkpoint metrics of an epoch: fitness, P, R, mAPs (and attribute F1s). */
export type CheckpointMetrics = Record<string, number>;

/** Where a resumed run continues, and the bests it had reached. */
export interface ResumePoint {
  /** The first epoch to train. */
  startEpoch: number;
  bestFitness: number;
  bestEpoch: number;
  /** The iteration of the last optimizer step (gradient accumulation continues from it). */
  lastOptStep: number;
  bestAttributeF1: number;
  /** How far Ctrl-C let the epoch `startEpoch` get (it continues from the next batch); null: it starts afresh. */
  partialEpoch: EpochProgress | null;
}

/**
 * An epoch interrupted mid-way continues from its next batch, counted per process: only as many processes as saved
 * it can continue it (a finished epoch resumes on any number). Refused before anything is built; releases the
 * snapshot when it throws.
 */
export function checkPartialEpochProcesses(snapshot: TrainingSnapshot, processes: number): void {
  const saved = Number(snapshot.state["processes"] ?? 1);
  if (snapshot.partialEpoch && saved !== processes) {
    snapshot.dispose();
    throw new ConfigError(
      `${snapshot.path}: interrupted mid-epoch by a run of ${saved} process(es), resumed on ${processes}: resume it on ${saved} (--nproc ${saved}), since the epoch's remaining batches are counted per process`,
    );
  }
}

/** Puts the snapshot's weights, optimizer, EMA, attribute head and RNG into `parts`; releases the snapshot. */
export function restoreSnapshot(snapshot: TrainingSnapshot, parts: TrainingParts): ResumePoint {
  const { optimizer, ema, model, attributes, sla } = parts;
  snapshot.restore({ optimizer, ema, model, attributes });
  const slaState = snapshot.state["sla"] as Parameters<NonNullable<typeof sla>["restore"]>[0] | null | undefined;
  if (sla && slaState) {
    try {
      sla.restore(slaState);
    } catch (err) {
      throw new ConfigError(`${snapshot.path}: ${(err as Error).message}`);
    }
    // an interrupted epoch's saved counts are every rank's: rank 0 continues them, the others count from 0
    if (parts.dp && !parts.dp.isMain) sla.nextEpoch();
  }
  const point: ResumePoint = {
    startEpoch: snapshot.epoch + 1,
    bestFitness: snapshot.bestFitness,
    bestEpoch: snapshot.bestEpoch,
    lastOptStep: snapshot.lastOptStep,
    bestAttributeF1: Number(snapshot.state["bestAttributeF1"] ?? -1),
    partialEpoch: snapshot.partialEpoch,
  };
  snapshot.dispose();
  return point;
}

/** Keeps the run's bests and early stopping, and writes its checkpoints. */
export class RunCheckpoints {
  readonly #parts: TrainingParts;
  readonly #optimizerSteps: { readonly lastOptStep: number };
  readonly #stopper: EarlyStopping;
  #bestFitness = 0;
  #bestAttributeF1 = -1;

  /** `optimizerSteps` tells the iteration of the last optimizer step at save time (the epoch loop). */
  constructor(parts: TrainingParts, optimizerSteps: { readonly lastOptStep: number }, resume: ResumePoint | null) {
    this.#parts = parts;
    this.#optimizerSteps = optimizerSteps;
    this.#stopper = new EarlyStopping(parts.opts.patience);
    // rank 0 alone writes the run folder (another rank would race its saves)
    const stale = parts.dp && !parts.dp.isMain ? [] : removeStaleTempFiles(join(parts.runDir, "weights"));
    if (stale.length) parts.log(`removed ${stale.length} temporary file(s) of an interrupted save from weights/`);
    if (resume) {
      this.#bestAttributeF1 = resume.bestAttributeF1;
      this.#bestFitness = resume.bestFitness;
      this.#stopper.bestFitness = resume.bestFitness;
      this.#stopper.bestEpoch = resume.bestEpoch;
    }
  }

  get bestFitness(): number {
    return this.#bestFitness;
  }
  /** The epoch of the best fitness (early stopping's). */
  get bestEpoch(): number {
    return this.#stopper.bestEpoch;
  }
  get lastPath(): string {
    return join(this.#parts.runDir, "weights", "last.safetensors");
  }
  get bestPath(): string {
    return join(this.#parts.runDir, "weights", "best.safetensors");
  }
  get bestAttributePath(): string {
    return join(this.#parts.runDir, "weights", "best_attr.safetensors");
  }

  /**
   * Records a validated epoch: weights/last always, best on the best fitness, best_attr on the best attribute F1,
   * epochN every --save-period epochs. Returns true when early stopping says stop.
   */
  afterEpoch(epoch: number, metrics: CheckpointMetrics): boolean {
    const fitness = metrics["fitness"]!;
    this.#bestFitness = Math.max(this.#bestFitness, fitness);
    const stop = this.#stopper.step(epoch, fitness);
    const finished = stop || epoch + 1 >= this.#parts.opts.epochs;
    this.#save(this.lastPath, epoch, metrics, { finished });
    if (fitness === this.#bestFitness) this.#save(this.bestPath, epoch, metrics);
    const attrF1 = metrics["attrMeanF1"];
    if (attrF1 !== undefined && attrF1 > this.#bestAttributeF1) {
      this.#bestAttributeF1 = attrF1; // weights/best_attr: the whole model of the best attribute epoch (design.md §7.7)
      this.#save(this.bestAttributePath, epoch, metrics);
    }
    const { savePeriod } = this.#parts.opts;
    if (savePeriod > 0 && (epoch + 1) % savePeriod === 0) {
      this.#save(join(this.#parts.runDir, "weights", `epoch${epoch + 1}.safetensors`), epoch, metrics);
    }
    return stop;
  }

  /**
   * weights/last of an epoch stopped by SIGINT: marked as the previous epoch, with how far this one got, so that
   * --resume continues it from the next batch (with the weights, optimizer, RNG and running losses of this moment:
   * the batches already trained are not trained again).
   */
  saveInterrupted(epoch: number, progress: EpochProgress): void {
    this.#save(this.lastPath, epoch - 1, null, { partialEpoch: progress, processes: this.#parts.dp?.worldSize ?? 1 });
  }

  /** Writes a checkpoint: the EMA as the model, plus everything --resume needs (atomic). */
  #save(path: string, epoch: number, metrics: CheckpointMetrics | null, extra: Record<string, unknown> = {}): void {
    const { opts, optimizer, attributes, model, ema } = this.#parts;
    const optimizerState = optimizer.stateDict();
    const branch = attributes ? { head: attributes.head, optimizer: attributes.optimizer.stateDict() } : null;
    const { tensors, owned, groups, headGroups } = trainingTensors(model, optimizerState, branch);
    try {
      saveCheckpoint(path, ema.ema, {
        attributeHead: attributes?.ema.ema ?? null,
        hyp: opts.hyp as unknown as Record<string, unknown>,
        epoch,
        metrics,
        training: { tensors, state: { ...this.#trainingState(epoch, groups, headGroups), ...extra } },
      });
    } finally {
      for (const t of owned) t.dispose();
    }
  }

  /** The counters and options a checkpoint stores for --resume (JSON). */
  #trainingState(epoch: number, optimizer: unknown, headOptimizer: unknown): Record<string, unknown> {
    const { opts, ema, attributes, runDir, model } = this.#parts;
    const { hyp: _hyp, ...args } = opts;
    return {
      epoch,
      bestFitness: this.#bestFitness,
      bestEpoch: this.#stopper.bestEpoch,
      lastOptStep: this.#optimizerSteps.lastOptStep,
      updates: ema.updates,
      runDir, // for the record: a resume continues in the folder that holds the file (train-state.ts)
      options: { ...args, hyp: opts.hyp, cfg: model.yaml },
      optimizer,
      headOptimizer,
      headUpdates: attributes?.ema.updates ?? 0,
      bestAttributeF1: this.#bestAttributeF1,
      sla: this.#parts.sla?.state ?? null,
    };
  }
}
