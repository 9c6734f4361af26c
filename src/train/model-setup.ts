/**
 * The model a training run starts from: built from --cfg (a YOLOv5 YAML or name) and/or initialised from --weights
 * (a sladet checkpoint or a PyTorch YOLOv5 .pt). The class count and names always come from the dataset; weights are
 * transferred by name and shape, so COCO weights start an nc=14 model with fresh Detect output convolutions.
 */
import { describeTransfer, disposeCheckpoint, readYoloCheckpoint, transferWeights } from "../io/yolo-import.js";
import type { AttributeHead } from "../model/attribute-head.js";
import { loadCheckpoint } from "../model/checkpoint.js";
import { loadModelYaml, type ModelYaml } from "../model/config.js";
import { YoloModel } from "../model/yolo.js";
import type { Tensor } from "../torch/index.js";
import { OptionError } from "../util/errors.js";
import { weightsFileMagic } from "../util/weights-file.js";

export interface ModelSetupOptions {
  /** Model description: a YAML path, a built-in name (yolov5n…x) or a parsed description. */
  cfg?: string | ModelYaml;
  /** Initial weights: a sladet checkpoint (.safetensors) or a YOLOv5 .pt / .pth. */
  weights?: string;
  nc: number;
  names: readonly string[];
}

/** True when the file is a zip (PyTorch's format) rather than safetensors. */
function isZip(path: string): boolean {
  const head = weightsFileMagic(path);
  return head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04;
}

interface InitialWeights {
  yaml: ModelYaml;
  state: Map<string, Tensor>;
  /** The checkpoint's attribute head (sladet checkpoints that have one); ownership passes to the caller. */
  attributeHead: AttributeHead | null;
  /** The EMA updates the checkpoint's training had made (0 when it does not say: final weights, YOLOv5 .pt). */
  emaUpdates: number;
  release: () => void;
}

/** The EMA update count a sladet checkpoint's training state records, or 0. */
function checkpointEmaUpdates(training: Record<string, unknown> | null | undefined): number {
  const updates = Number(training?.["updates"] ?? 0);
  return Number.isInteger(updates) && updates > 0 ? updates : 0;
}

/** The initial weights' description and state dict (the caller disposes the state). */
function readWeights(path: string): InitialWeights {
  if (isZip(path)) {
    const ckpt = readYoloCheckpoint(path);
    return {
      yaml: ckpt.yaml,
      state: ckpt.state,
      attributeHead: null,
      emaUpdates: 0,
      release: () => disposeCheckpoint(ckpt),
    };
  }
  const loaded = loadCheckpoint(path);
  const state = loaded.model.stateDict();
  return {
    yaml: loaded.meta.model,
    state,
    attributeHead: loaded.attributeHead,
    emaUpdates: checkpointEmaUpdates(loaded.meta.training),
    release: () => {
      loaded.model.dispose();
      for (const t of loaded.training.values()) t.dispose();
    },
  };
}

/**
 * Builds the model and reports how weights were transferred (messages for the log). A sladet checkpoint's attribute
 * head is handed over too (phase 2 continues phase 1's head); the caller owns and disposes it. `emaUpdates`: the
 * EMA updates the weights' training made (a sladet checkpoint's; 0 otherwise), for a fine-tune's EMA to continue.
 */
export function setupModel(options: ModelSetupOptions): {
  model: YoloModel;
  messages: string[];
  attributeHead: AttributeHead | null;
  emaUpdates: number;
} {
  const { cfg, weights, nc, names } = options;
  if (!cfg && !weights)
    throw new OptionError("cfg", "is missing: give a model (e.g. yolov5n) or weights to start training from");
  const init = weights ? readWeights(weights) : null;
  try {
    const base = cfg ? (typeof cfg === "string" ? loadModelYaml(cfg) : cfg) : init!.yaml;
    const model = new YoloModel({ ...base, nc }, { source: typeof cfg === "string" ? cfg : weights, names });
    const messages: string[] = [];
    if (init) messages.push(describeTransfer(`weights ${weights}`, transferWeights(model, init.state)));
    return { model, messages, attributeHead: init?.attributeHead ?? null, emaUpdates: init?.emaUpdates ?? 0 };
  } finally {
    init?.release();
  }
}
