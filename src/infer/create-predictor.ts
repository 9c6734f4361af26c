/** Opens a {@link Predictor} for a backend (`sladet detect --backend`). Each backend is imported only when used. */
import type { Backend, Predictor } from "./predictor.js";

/** Options of {@link createPredictor}: each backend reads the ones it knows. */
export interface CreatePredictorOptions {
  /** libtorch: "cpu" or "cuda:N". @default "cpu" */
  device?: string;
  /** onnx: intra-op threads. @default the core count */
  threads?: number;
}

export async function createPredictor(
  backend: Backend,
  weights: string,
  options: CreatePredictorOptions = {},
): Promise<Predictor> {
  switch (backend) {
    case "libtorch": {
      const { createTorchPredictor } = await import("./torch-predictor.js");
      return createTorchPredictor(weights, options.device === undefined ? {} : { device: options.device });
    }
    case "onnx": {
      const { createOnnxPredictor } = await import("./onnx-predictor.js");
      return createOnnxPredictor(weights, options.threads === undefined ? {} : { threads: options.threads });
    }
    default: {
      const never: never = backend;
      throw new Error(`unknown backend ${String(never)}`);
    }
  }
}
