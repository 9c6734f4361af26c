/**
 * Training state inside a checkpoint, for an exact --resume: the raw (non-EMA) weights, the optimizer's momentum
 * buffers and groups, gradients accumulated but not yet stepped, the RNG state and the loop counters. The detector
 * weights of the file are the EMA's, so weights/last is also a usable model.
 */
import { basename, dirname, resolve } from "node:path";
import { loadCheckpoint } from "../model/checkpoint.js";
import { YoloModel } from "../model/yolo.js";
import { getRngState, type Module, type SGD, type SgdState, setRngState, type Tensor } from "../torch/index.js";
import { ConfigError } from "../util/errors.js";
import type { AttributeBranch } from "./attribute-branch.js";
import type { ModelEMA } from "./ema.js";
import { LOSS_TERMS, type TrainLosses } from "./train-losses.js";

const MODEL = "model.";
const OPTIM = "optim.";
const GRAD = "grad.";
const RNG = "rng";
const HEAD = "head.";
const HEAD_OPTIM = "hoptim.";

/** The attribute branch's parts that a checkpoint holds for --resume. */
export interface BranchState {
  head: Module;
  optimizer: SgdState;
}

/** Tensors to store under "train." and the optimizer's JSON-safe groups; `owned` are copies the caller disposes. */
export function trainingTensors(
  model: Module,
  optimizer: SgdState,
  branch: BranchState | null = null,
): {
  tensors: Array<[string, Tensor]>;
  owned: Tensor[];
  groups: SgdState["groups"];
  headGroups: SgdState["groups"] | null;
} {
  const tensors: Array<[string, Tensor]> = [];
  const owned: Tensor[] = [];
  if (branch) {
    for (const [k, t] of branch.head.stateDict()) tensors.push([HEAD + k, t]);
    for (const [k, t] of branch.optimizer.tensors) {
      tensors.push([HEAD_OPTIM + k, t]);
      owned.push(t);
    }
  }
  for (const [k, t] of model.stateDict()) tensors.push([MODEL + k, t]);
  for (const [k, t] of optimizer.tensors) {
    tensors.push([OPTIM + k, t]);
    owned.push(t);
  }
  for (const [k, p] of model.namedParameters()) {
    const g = p.grad;
    if (g === null) continue;
    tensors.push([GRAD + k, g]);
    owned.push(g);
  }
  const rng = getRngState();
  tensors.push([RNG, rng]);
  owned.push(rng);
  return { tensors, owned, groups: optimizer.groups, headGroups: branch?.optimizer.groups ?? null };
}

/** How far an epoch interrupted by Ctrl-C got: --resume continues it from the next batch. */
export interface EpochProgress {
  /** Batches of the epoch trained. */
  batches: number;
  /** Batches whose losses entered the running mean (non-finite ones are skipped). */
  seen: number;
  /** The running mean of the losses over those batches. */
  mean: TrainLosses;
}

/** The saved progress of an interrupted epoch, or null (a checkpoint written at the end of an epoch). */
function epochProgress(value: unknown, path: string): EpochProgress | null {
  if (value === undefined || value === null) return null;
  const p = value as Partial<EpochProgress>;
  const count = (v: unknown) => Number.isInteger(v) && (v as number) >= 0;
  const mean = p.mean as Record<string, unknown> | undefined;
  const ok = count(p.batches) && count(p.seen) && mean && LOSS_TERMS.every((k) => typeof mean[k] === "number");
  if (!ok) throw new ConfigError(`${path}: the saved progress of the interrupted epoch is damaged`);
  return p as EpochProgress;
}

/**
 * The run folder of a checkpoint to resume: the folder holding its `weights/` folder. The run continues there, and
 * only there: the folder named in the file's metadata is not used (a crafted file could name any folder).
 */
export function resumeRunDir(path: string): string {
  const weights = dirname(resolve(path));
  if (basename(weights) !== "weights") {
    throw new ConfigError(
      `${path}: a checkpoint to resume must be in its run folder's weights/ (as <run>/weights/last.safetensors): the run continues in that folder`,
    );
  }
  return dirname(weights);
}

/**
 * Refuses a run that has nothing left to train: all its epochs done, or stopped early (YOLOv5 refuses these too:
 * "training to N epochs is finished, nothing to resume").
 */
function checkUnfinished(state: Record<string, unknown>, path: string): void {
  const epochs = Number((state["options"] as Record<string, unknown> | undefined)?.["epochs"]);
  const done = Number(state["epoch"]) + 1;
  if (state["finished"] === true || done >= epochs) {
    const why =
      state["finished"] === true && done < epochs
        ? `stopped early after epoch ${done}`
        : `finished (${done}/${epochs} epochs)`;
    throw new ConfigError(
      `${path}: training to ${epochs} epochs is ${why}: nothing to resume; to train further, start a new run from these weights: --weights ${path}`,
    );
  }
}

/** What loadTrainingCheckpoint() read; restore() puts it into freshly built training objects. */
export interface TrainingSnapshot {
  /** The checkpoint file read. */
  path: string;
  /** The raw model (weights as training left them). */
  model: YoloModel;
  epoch: number;
  bestFitness: number;
  bestEpoch: number;
  lastOptStep: number;
  /** The run folder: the one holding the checkpoint's weights/ folder ({@link resumeRunDir}). */
  runDir: string;
  /** The progress of the epoch after `epoch` when Ctrl-C interrupted it; null when it starts afresh. */
  partialEpoch: EpochProgress | null;
  /** The run's resolved options (with the model description under cfg). */
  options: Record<string, unknown>;
  /** The saved counters, as JSON. */
  state: Record<string, unknown>;
  restore(into: { optimizer: SGD; ema: ModelEMA<YoloModel>; model: Module; attributes: AttributeBranch | null }): void;
  dispose(): void;
}

/** Reads weights/last of an unfinished run. Errors name the file. */
export function loadTrainingCheckpoint(path: string): TrainingSnapshot {
  const runDir = resumeRunDir(path);
  const loaded = loadCheckpoint(path);
  const state = loaded.meta.training as Record<string, unknown> | null | undefined;
  if (!state) {
    loaded.model.dispose();
    loaded.attributeHead?.dispose();
    throw new ConfigError(
      `${path}: holds final weights without training state: nothing to resume (train anew with --weights)`,
    );
  }
  let partialEpoch: EpochProgress | null;
  try {
    checkUnfinished(state, path);
    partialEpoch = epochProgress(state["partialEpoch"], path);
  } catch (err) {
    loaded.model.dispose();
    loaded.attributeHead?.dispose();
    for (const t of loaded.training.values()) t.dispose();
    throw err;
  }
  const part = (prefix: string) =>
    new Map([...loaded.training].filter(([k]) => k.startsWith(prefix)).map(([k, t]) => [k.slice(prefix.length), t]));
  const model = new YoloModel(loaded.meta.model, {
    names: loaded.meta.names,
    taps: loaded.meta.taps,
    initBiases: false,
  });
  model.loadStateDict(part(MODEL));
  const num = (k: string) => Number(state[k]);
  return {
    path,
    model,
    epoch: num("epoch"),
    bestFitness: num("bestFitness"),
    bestEpoch: num("bestEpoch"),
    lastOptStep: num("lastOptStep"),
    runDir,
    partialEpoch,
    options: state["options"] as Record<string, unknown>,
    state,
    restore({ optimizer, ema, model: target, attributes }) {
      if (attributes) {
        if (!loaded.attributeHead) throw new ConfigError(`${path}: the run has no attribute head to resume`);
        attributes.head.loadStateDict(part(HEAD));
        attributes.optimizer.loadStateDict({
          tensors: part(HEAD_OPTIM),
          groups: state["headOptimizer"] as SgdState["groups"],
        });
        attributes.ema.ema.loadStateDict(loaded.attributeHead.stateDict());
        attributes.ema.updates = num("headUpdates");
      }
      optimizer.loadStateDict({ tensors: part(OPTIM), groups: state["optimizer"] as SgdState["groups"] });
      ema.ema.loadStateDict(loaded.model.stateDict());
      ema.updates = num("updates");
      const grads = part(GRAD);
      for (const [k, p] of target.namedParameters()) {
        const g = grads.get(k);
        if (g) p.data.setGrad(g.clone());
      }
      const rng = loaded.training.get(RNG);
      if (rng) setRngState(rng);
    },
    dispose() {
      loaded.model.dispose();
      loaded.attributeHead?.dispose();
      for (const t of loaded.training.values()) t.dispose();
    },
  };
}
