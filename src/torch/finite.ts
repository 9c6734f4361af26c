/** Finite-value checks on loaded weights: NaN or ±Inf in a checkpoint is refused, never run (design.md §7.5). */
import { isFloatingDtype } from "./dtype.js";
import type { Tensor } from "./tensor.js";

/** The name of the first floating-point tensor that holds a NaN or an infinity, or null when all are finite. */
export function firstNonFinite(tensors: Iterable<[string, Tensor]>): string | null {
  for (const [name, t] of tensors) {
    if (!isFloatingDtype(t.dtype) || t.numel === 0) continue;
    const finite = t.isfinite();
    const all = finite.all();
    const ok = Boolean(all.item());
    all.dispose();
    finite.dispose();
    if (!ok) return name;
  }
  return null;
}
