/** The onnxruntime backend (placeholder until the ONNX exporter lands: the signature is the contract). */
import type { Predictor } from "./predictor.js";

export interface OnnxPredictorOptions {
  /** Intra-op threads. @default the core count */
  threads?: number;
}

/** Opens an ONNX model written by `sladet export --format onnx`. */
export async function createOnnxPredictor(path: string, _options: OnnxPredictorOptions = {}): Promise<Predictor> {
  throw new Error(`${path}: the onnxruntime backend is not implemented yet`);
}
