/**
 * BatchNorm folded into the convolution before it, for inference: the one implementation both inference paths use
 * (libtorch: `Conv.fuse()`, src/model/blocks.ts; the ONNX export: src/export/yolo-graph.ts), so that both run the
 * same folded weights to the last bit. Computed in double precision, then rounded once to float32.
 */
import type { Tensor } from "../torch/index.js";

/** What a fold reads: a convolution's weight [C_out, …] and the BatchNorm after it. */
export interface ConvBatchNorm {
  weight: Tensor;
  gamma: Tensor;
  beta: Tensor;
  runningMean: Tensor;
  runningVar: Tensor;
  eps: number;
}

/** A copy of a float32 tensor's values (read from any device). */
export function floatData(t: Tensor): Float32Array {
  return Float32Array.from(t.toTypedArray<"float32">());
}

/**
 * Conv + BatchNorm folded in double precision: W' = W·γ/√(σ²+ε), b' = β − μ·γ/√(σ²+ε) (eval-mode statistics).
 * Reads the tensors, never writes them.
 * @returns the folded weight (the convolution's shape) and bias [C_out].
 */
export function foldBatchNorm(p: ConvBatchNorm): { weight: Float32Array; bias: Float32Array } {
  const w = floatData(p.weight);
  const gamma = floatData(p.gamma);
  const beta = floatData(p.beta);
  const mean = floatData(p.runningMean);
  const variance = floatData(p.runningVar);
  const out = gamma.length;
  const per = w.length / out;
  const weight = new Float32Array(w.length);
  const bias = new Float32Array(out);
  for (let c = 0; c < out; c++) {
    const scale = gamma[c]! / Math.sqrt(variance[c]! + p.eps);
    for (let k = 0; k < per; k++) weight[c * per + k] = w[c * per + k]! * scale;
    bias[c] = beta[c]! - mean[c]! * scale;
  }
  return { weight, bias };
}
