/** A PyTorch YOLOv5 checkpoint (and optionally the seed's attribute head) → a sladet checkpoint. */
import { existsSync } from "node:fs";
import type { AttributeHead } from "../model/attribute-head.js";
import { saveCheckpoint } from "../model/checkpoint.js";
import type { YoloModel } from "../model/yolo.js";
import { readSeedHeadFor } from "./inference-model.js";
import type { SeedAttributeReport } from "./seed-attributes.js";
import { CheckpointError } from "./torch-archive.js";
import { disposeCheckpoint, modelFromCheckpoint, readYoloCheckpoint } from "./yolo-import.js";

export interface PtExportOptions {
  /** The YOLOv5 `.pt` file. */
  weights: string;
  /** The seed's attribute head (`last_weights.pth`), mapped onto the attribute head. @default none */
  attrWeights?: string | null;
  /** Output file. @default the weights' path with the extension `.safetensors` */
  out?: string | null;
}

export interface PtExportReport {
  out: string;
  weightsFrom: "ema" | "model";
  nc: number;
  names: string[];
  stride: number[];
  parameters: number;
  epoch: number | null;
  attributes: SeedAttributeReport | null;
}

/** The default output path: `x.pt` → `x.safetensors`. */
export function defaultExportPath(weights: string): string {
  return `${weights.replace(/\.(pt|pth)$/i, "")}.safetensors`;
}

/** Reads `weights` (and `attrWeights`), checks they fit together, writes our checkpoint. */
export function exportPtCheckpoint(options: PtExportOptions): PtExportReport {
  if (!existsSync(options.weights)) throw new CheckpointError(`${options.weights}: no such file`);
  const ckpt = readYoloCheckpoint(options.weights);
  let model: YoloModel | null = null;
  let head: AttributeHead | null = null;
  try {
    model = modelFromCheckpoint(ckpt);
    let attributes: SeedAttributeReport | null = null;
    if (options.attrWeights) {
      const seed = readSeedHeadFor(model, options.attrWeights, options.weights);
      head = seed.head;
      attributes = seed.report;
    }
    const out = options.out ?? defaultExportPath(options.weights);
    saveCheckpoint(out, model, {
      attributeHead: head,
      epoch: ckpt.epoch,
      hyp: (ckpt.opt?.["hyp"] as Record<string, unknown> | undefined) ?? null,
      metrics: ckpt.bestFitness === null ? null : { bestFitness: ckpt.bestFitness },
      origin: {
        file: options.weights,
        weightsFrom: ckpt.weightsFrom,
        date: ckpt.date,
        ...(options.attrWeights ? { attributeFile: options.attrWeights } : {}),
      },
    });
    return {
      out,
      weightsFrom: ckpt.weightsFrom,
      nc: model.nc,
      names: [...model.names],
      stride: [...model.stride],
      parameters: model.numParameters(),
      epoch: ckpt.epoch,
      attributes,
    };
  } finally {
    disposeCheckpoint(ckpt);
    model?.dispose();
    head?.dispose();
  }
}
