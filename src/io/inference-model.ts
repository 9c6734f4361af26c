/**
 * The one loader of models for inference (validation, detection, export): weights — a sladet checkpoint, a YOLOv5
 * `.pt` or a run folder (its weights/best) — then, when asked, the seed's attribute head in place of the weights' own,
 * in eval mode on a device. Every command that runs a trained model opens it here.
 */
import type { AttributeHead } from "../model/attribute-head.js";
import { loadCheckpoint } from "../model/checkpoint.js";
import type { YoloModel } from "../model/yolo.js";
import { DEFAULT_DEVICE } from "../torch/defaults.js";
import { resolveDevice } from "../torch/index.js";
import { ConfigError } from "../util/errors.js";
import { runFolderWeights } from "../util/run-dir.js";
import { weightsFileMagic } from "../util/weights-file.js";
import { readSeedAttributeHead, type SeedAttributeReport } from "./seed-attributes.js";

export { SEED_ATTRIBUTE_HEAD, seedAttributeWeights } from "./seed-head-path.js";

import { CheckpointError } from "./torch-archive.js";
import { loadYoloCheckpoint } from "./yolo-import.js";

/** A detector and, when the weights carry one (or one was given), its attribute head; both in eval mode. */
export interface InferenceModel {
  model: YoloModel;
  attributeHead: AttributeHead | null;
}

/** Options of {@link loadInferenceModel}. */
export interface LoadInferenceModelOptions {
  /** The seed's attribute head (`Attribute_model/*.pth`), used instead of the weights' own. @default none */
  attrWeights?: string;
  /** "cpu", or "cuda:N" with a CUDA libtorch. @default DEFAULT_DEVICE ("cpu") */
  device?: string;
}

/** What {@link loadInferenceModel} opened. */
export interface LoadedInferenceModel extends InferenceModel {
  /** The weights file read (a run folder's weights/best.safetensors when a folder was given). */
  weightsFile: string;
  /** The device the model is on (resolved: "cuda" becomes "cuda:0"). */
  device: string;
  /** How the seed's head was mapped; null without `attrWeights`. */
  seedReport: SeedAttributeReport | null;
}

/** `weights` itself, or a run folder's weights/best.safetensors. */
export function resolveWeightsFile(weights: string): string {
  const file = runFolderWeights(weights, "best");
  if (!file) throw new ConfigError(`${weights}: a folder without weights/best.safetensors`);
  return file;
}

/**
 * Loads a sladet checkpoint or a YOLOv5 .pt (decided by the file's first bytes: a .pt is a zip), with the
 * checkpoint's attribute head when it has one. Not yet in eval mode.
 */
export function loadWeights(path: string): InferenceModel {
  const head = weightsFileMagic(path);
  if (head[0] === 0x50 && head[1] === 0x4b) return { model: loadYoloCheckpoint(path).model, attributeHead: null };
  const loaded = loadCheckpoint(path);
  for (const t of loaded.training.values()) t.dispose();
  return { model: loaded.model, attributeHead: loaded.attributeHead ?? null };
}

/**
 * Reads the seed's attribute head from `path` and checks that it fits `model`'s p2 + p3 taps (`weights` names the
 * model's file in the message).
 */
export function readSeedHeadFor(
  model: YoloModel,
  path: string,
  weights: string,
): { head: AttributeHead; report: SeedAttributeReport } {
  const seed = readSeedAttributeHead(path);
  const expected = model.tapChannels("p2") + model.tapChannels("p3");
  if (seed.head.inChannels !== expected) {
    seed.head.dispose();
    throw new CheckpointError(
      `${path}: the attribute head takes ${seed.head.inChannels} channels, but ${weights}'s p2 + p3 taps give ${expected}`,
    );
  }
  return seed;
}

/** Opens weights for inference (see the module comment). The caller disposes `model` and `attributeHead`. */
export function loadInferenceModel(weights: string, options: LoadInferenceModelOptions = {}): LoadedInferenceModel {
  const device = resolveDevice(options.device ?? DEFAULT_DEVICE);
  const weightsFile = resolveWeightsFile(weights);
  const loaded = loadWeights(weightsFile);
  let { attributeHead } = loaded;
  let seedReport: SeedAttributeReport | null = null;
  try {
    if (options.attrWeights !== undefined) {
      attributeHead?.dispose();
      attributeHead = null;
      const seed = readSeedHeadFor(loaded.model, options.attrWeights, weightsFile);
      attributeHead = seed.head;
      seedReport = seed.report;
    }
    loaded.model.eval();
    attributeHead?.eval();
    if (device !== "cpu") {
      loaded.model.to(device);
      attributeHead?.to(device);
    }
    return { model: loaded.model, attributeHead, weightsFile, device, seedReport };
  } catch (err) {
    loaded.model.dispose();
    attributeHead?.dispose();
    throw err;
  }
}
