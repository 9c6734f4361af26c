/** Opens a {@link Predictor} for a backend (`sladet detect --backend`). Each backend is imported only when used. */
import { OptionError } from "../util/errors.js";
import type { Backend, Predictor } from "./predictor.js";

/** Options of {@link createPredictor}: each backend reads the ones it knows. */
export interface CreatePredictorOptions {
  /** libtorch: "cpu" or "cuda:N". @default "cpu" */
  device?: string;
  /** onnx: intra-op threads. @default the core count */
  threads?: number;
  /** libtorch: the seed's attribute head (Attribute_model/*.pth), replacing the checkpoint's. */
  attrWeights?: string;
}

/** Opens `weights` on `backend` (libtorch: a checkpoint or a YOLOv5 .pt; onnx: an .onnx export). */
export async function createPredictor(
  backend: Backend,
  weights: string,
  options: CreatePredictorOptions = {},
): Promise<Predictor> {
  switch (backend) {
    case "libtorch": {
      const { createTorchPredictor } = await import("./torch-predictor.js");
      return createTorchPredictor(weights, {
        ...(options.device === undefined ? {} : { device: options.device }),
        ...(options.attrWeights === undefined ? {} : { attrWeights: options.attrWeights }),
      });
    }
    case "onnx": {
      if (options.attrWeights !== undefined)
        throw new OptionError(
          "attrWeights",
          `${options.attrWeights}: an ONNX model carries its head; export the model with its attribute head instead`,
        );
      const { createOnnxPredictor } = await import("./onnx-predictor.js");
      return createOnnxPredictor(weights, options.threads === undefined ? {} : { threads: options.threads });
    }
    default: {
      const never: never = backend;
      throw new Error(`unknown backend ${String(never)}`);
    }
  }
}
