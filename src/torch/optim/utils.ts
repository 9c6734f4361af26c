/** Gradient clipping and the exponential moving average of a model's state, as single native calls. */
import { native } from "../native.js";
import type { Module, Parameter } from "../nn/module.js";

/**
 * Scales all gradients so that their global norm is at most `maxNorm` (torch.nn.utils.clip_grad_norm_).
 * Returns the norm before clipping.
 * @param normType @default 2
 */
export function clipGradNorm(params: Parameter[], maxNorm: number, normType = 2): number {
  return native.clipGradNorm(
    params.map((p) => p.data.handle),
    maxNorm,
    normType,
  );
}

/**
 * ema ← decay·ema + (1 − decay)·model for every floating-point entry of the state dicts (parameters and buffers);
 * integer entries (num_batches_tracked) are copied. Both modules must have the same structure.
 */
export function emaUpdate(ema: Module, model: Module, decay: number): void {
  const a = ema.namedSlots();
  const b = model.namedSlots();
  if (a.length !== b.length || a.some(([k], i) => k !== b[i]![0])) {
    throw new Error("emaUpdate: the two modules do not have the same state-dict keys");
  }
  native.emaUpdate(
    a.map(([, s]) => s.data.handle),
    b.map(([, s]) => s.data.handle),
    decay,
  );
}
