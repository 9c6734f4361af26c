/**
 * Training state inside a checkpoint, for an exact --resume: the raw (non-EMA) weights, the optimizer's momentum
 * buffers and groups, gradients accumulated but not yet stepped, the RNG state and the loop counters. The detector
 * weights of the file are the EMA's, so weights/last is also a usable model.
 */
import { loadCheckpoint } from "../model/checkpoint.js";
import { YoloModel } from "../model/yolo.js";
import { getRngState, type Module, type SGD, type SgdState, setRngState, type Tensor } from "../torch/index.js";
import { ConfigError } from "../util/errors.js";
import type { AttributeBranch } from "./attribute-branch.js";
import type { ModelEMA } from "./ema.js";

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

/** What loadTrainingCheckpoint() read; restore() puts it into freshly built training objects. */
export interface TrainingSnapshot {
  /** The raw model (weights as training left them). */
  model: YoloModel;
  epoch: number;
  bestFitness: number;
  bestEpoch: number;
  lastOptStep: number;
  runDir: string;
  /** The run's resolved options (with the model description under cfg). */
  options: Record<string, unknown>;
  /** The saved counters, as JSON. */
  state: Record<string, unknown>;
  restore(into: { optimizer: SGD; ema: ModelEMA<YoloModel>; model: Module; attributes: AttributeBranch | null }): void;
  dispose(): void;
}

/** Reads weights/last of an unfinished run. Errors name the file. */
export function loadTrainingCheckpoint(path: string): TrainingSnapshot {
  const loaded = loadCheckpoint(path);
  const state = loaded.meta.training as Record<string, unknown> | null | undefined;
  if (!state) {
    loaded.model.dispose();
    loaded.attributeHead?.dispose();
    throw new ConfigError(
      `${path}: holds final weights without training state: nothing to resume (train anew with --weights)`,
    );
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
    model,
    epoch: num("epoch"),
    bestFitness: num("bestFitness"),
    bestEpoch: num("bestEpoch"),
    lastOptStep: num("lastOptStep"),
    runDir: String(state["runDir"]),
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
