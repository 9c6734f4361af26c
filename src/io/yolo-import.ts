/**
 * YOLOv5 checkpoints (Ultralytics' `last.pt`/`best.pt`, the COCO `yolov5x.pt`, the seed's `last.pt`) into sladet:
 * architecture (`model.yaml`), class names, strides and anchors (the Detect buffer, possibly evolved by AutoAnchor)
 * are all read from the file; the weights come from `ema` when present, else `model`; fp16 becomes fp32.
 */
import { type ModelYaml, resolveLayers, validateModelYaml } from "../model/config.js";
import { stateValueCount } from "../model/limits.js";
import { YoloModel } from "../model/yolo.js";
import { describeLoadProblems, type LoadReport, type Module, type Tensor } from "../torch/index.js";
import { readWeightsFile } from "../util/weights-file.js";
import { describe, PyObject } from "./pickle.js";
import {
  CheckpointError,
  materialise,
  moduleStateDict,
  NdArray,
  parseTorchArchive,
  type TensorRef,
  TensorRef as TensorRefClass,
} from "./torch-archive.js";

/** What a YOLOv5 checkpoint holds, weights already in libtorch (fp32). */
export interface YoloCheckpoint {
  source: string;
  yaml: ModelYaml;
  names: string[];
  /** Strides per Detect level, as stored in the file. */
  stride: number[];
  /** Which entry the weights came from. */
  weightsFrom: "ema" | "model";
  /** The detector's state dict, Ultralytics' key names (the caller disposes the tensors). */
  state: Map<string, Tensor>;
  /** Training epoch of the file (−1 when finished), if recorded. */
  epoch: number | null;
  bestFitness: number | null;
  date: string | null;
  /** The training options (`opt`), as plain JSON values, if recorded. */
  opt: Record<string, unknown> | null;
}

/** Python values → plain JSON-able values (dicts → objects, tensors → a shape note). */
export function toPlain(v: unknown): unknown {
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), toPlain(x)]));
  if (Array.isArray(v)) return v.map(toPlain);
  if (v instanceof Set) return [...v].map(toPlain);
  if (typeof v === "bigint") return v.toString();
  if (v instanceof NdArray) return v.values.length === 1 ? v.values[0] : v.values;
  if (v instanceof TensorRefClass) return { tensor: [...v.shape], dtype: v.dtype };
  if (v instanceof PyObject) return { object: v.className };
  if (v instanceof Uint8Array) return { bytes: v.byteLength };
  return v;
}

function numberOf(v: unknown): number | null {
  if (typeof v === "number") return v;
  if (v instanceof NdArray && v.values.length > 0) return v.values[v.values.length - 1]!;
  return null;
}

function namesOf(v: unknown, nc: number, source: string): string[] {
  if (v === undefined || v === null) return Array.from({ length: nc }, (_, i) => String(i));
  const list = v instanceof Map ? [...v.entries()].sort(([a], [b]) => Number(a) - Number(b)).map(([, n]) => n) : v;
  if (!Array.isArray(list) || !list.every((n) => typeof n === "string")) {
    throw new CheckpointError(`${source}: model.names is a ${describe(v)}, expected a list of class names`);
  }
  if (list.length !== nc) throw new CheckpointError(`${source}: ${list.length} class names for nc = ${nc}`);
  return list as string[];
}

function strideOf(v: unknown, source: string): number[] {
  if (!(v instanceof TensorRefClass)) throw new CheckpointError(`${source}: model.stride is a ${describe(v)}`);
  const t = v.toTensor();
  try {
    return t.toArray();
  } finally {
    t.dispose();
  }
}

/** Picks the detector object: `ema` when present, else `model` (or the file itself when it is a model). */
function detectorOf(
  root: unknown,
  source: string,
): { module: PyObject; from: "ema" | "model"; dict: Map<unknown, unknown> } {
  if (root instanceof PyObject) return { module: root, from: "model", dict: new Map() };
  if (!(root instanceof Map)) throw new CheckpointError(`${source}: the checkpoint is a ${describe(root)}, not a dict`);
  for (const from of ["ema", "model"] as const) {
    const m = root.get(from);
    if (m instanceof PyObject) return { module: m, from, dict: root };
    if (m instanceof Map) {
      throw new CheckpointError(
        `${source}: "${from}" is a bare state dict without the architecture; build the model from a YAML and transfer the weights`,
      );
    }
  }
  const keys = [...root.keys()].map(String);
  if (keys.length > 0 && [...root.values()].every((x) => x instanceof TensorRefClass)) {
    throw new CheckpointError(`${source}: this is a bare state dict (${keys.length} tensors), not a YOLOv5 checkpoint`);
  }
  throw new CheckpointError(`${source}: no "ema" or "model" entry (keys: ${keys.join(", ")})`);
}

/**
 * The file must hold exactly the values its own description gives its detector (counted without building the model),
 * so that a crafted `yaml` (depth_multiple 1000) is refused before anything is allocated.
 */
function checkValueCount(yaml: ModelYaml, refs: ReadonlyMap<string, TensorRef>, where: string): void {
  const expected = stateValueCount(resolveLayers(yaml, `${where}.yaml`));
  let found = 0;
  for (const r of refs.values()) found += r.numel;
  if (found !== expected) {
    throw new CheckpointError(`${where}: its yaml describes a detector of ${expected} values, but it holds ${found}`);
  }
}

/** Reads a YOLOv5 checkpoint from bytes. */
export function parseYoloCheckpoint(bytes: Uint8Array, source = "<checkpoint>"): YoloCheckpoint {
  const { root } = parseTorchArchive(bytes, source);
  const { module, from, dict } = detectorOf(root, source);
  if (module.className !== "models.yolo.DetectionModel") {
    throw new CheckpointError(`${source}: "${from}" is a ${module.className}, expected models.yolo.DetectionModel`);
  }
  const yaml = validateModelYaml(toPlain(module.get("yaml")), `${source}: ${from}.yaml`);
  const names = namesOf(module.get("names"), yaml.nc, source);
  const stride = strideOf(module.get("stride"), source);
  const refs: Map<string, TensorRef> = moduleStateDict(module);
  checkValueCount(yaml, refs, `${source}: ${from}`);
  const opt = dict.get("opt");
  return {
    source,
    yaml,
    names,
    stride,
    weightsFrom: from,
    state: materialise(refs, source),
    epoch: numberOf(dict.get("epoch")),
    bestFitness: numberOf(dict.get("best_fitness")),
    date: typeof dict.get("date") === "string" ? (dict.get("date") as string) : null,
    opt: opt instanceof Map ? (toPlain(opt) as Record<string, unknown>) : null,
  };
}

/** Reads a YOLOv5 checkpoint file. */
export function readYoloCheckpoint(path: string): YoloCheckpoint {
  return parseYoloCheckpoint(readWeightsFile(path), path);
}

/** Frees a checkpoint's tensors. */
export function disposeCheckpoint(ckpt: { state: Map<string, Tensor> }): void {
  for (const t of ckpt.state.values()) t.dispose();
  ckpt.state.clear();
}

/**
 * Builds the checkpoint's model and loads its weights (strict: every key and shape must match). The strides the
 * dry run measures must equal the file's.
 */
export function modelFromCheckpoint(ckpt: YoloCheckpoint): YoloModel {
  const model = new YoloModel(ckpt.yaml, { source: ckpt.source, names: ckpt.names, initBiases: false });
  try {
    const same = model.stride.length === ckpt.stride.length && model.stride.every((s, i) => s === ckpt.stride[i]);
    if (!same) {
      throw new CheckpointError(
        `${ckpt.source}: strides [${ckpt.stride}] in the file, but its architecture gives [${model.stride}]`,
      );
    }
    model.loadStateDict(ckpt.state);
  } catch (err) {
    model.dispose();
    if (err instanceof CheckpointError) throw err;
    throw new CheckpointError(`${ckpt.source}: ${(err as Error).message.replace(/\n\s*/g, "; ")}`);
  }
  return model;
}

/** Reads a YOLOv5 checkpoint file and returns its model (weights loaded) and what else it held. */
export function loadYoloCheckpoint(path: string): { model: YoloModel; checkpoint: Omit<YoloCheckpoint, "state"> } {
  const ckpt = readYoloCheckpoint(path);
  try {
    const model = modelFromCheckpoint(ckpt);
    const { state: _state, ...rest } = ckpt;
    return { model, checkpoint: rest };
  } finally {
    disposeCheckpoint(ckpt);
  }
}

/**
 * Loads every tensor whose name and shape match (e.g. COCO weights into a model with another class count) and
 * reports the rest: `shapeMismatch` then holds exactly the Detect output convolutions.
 */
export function transferWeights(model: Module, state: Map<string, Tensor>): LoadReport {
  return model.loadStateDict(state, { strict: false });
}

/** A readable summary of a transfer (what was loaded, what was initialised fresh and why). */
export function describeTransfer(what: string, report: LoadReport): string {
  const total =
    report.loaded.length + report.missing.length + report.shapeMismatch.length + report.dtypeMismatch.length;
  const head = `${what}: transferred ${report.loaded.length}/${total} tensors`;
  const problems = report.missing.length + report.unexpected.length + report.shapeMismatch.length;
  if (problems + report.dtypeMismatch.length === 0) return head;
  return `${head}\n${describeLoadProblems(what, report).split("\n").slice(1).join("\n")}`;
}
