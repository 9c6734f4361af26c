/** Autograd scopes: run a synchronous function with gradient recording off, on, or in inference mode. */
import { native } from "./native.js";
import { assertNotPromise, assertSync } from "./scope.js";

function withGradEnabled<T>(enabled: boolean, fn: () => T, name: string): T {
  assertSync(fn, name);
  const previous = native.setGradEnabled(enabled);
  try {
    const result = fn();
    assertNotPromise(result, name);
    return result;
  } finally {
    native.setGradEnabled(previous);
  }
}

/** Runs `fn` without recording operations for autograd (torch.no_grad). Synchronous functions only. */
export function noGrad<T>(fn: () => T): T {
  return withGradEnabled(false, fn, "noGrad");
}

/** Runs `fn` with gradient recording on, e.g. inside a noGrad scope (torch.enable_grad). */
export function enableGrad<T>(fn: () => T): T {
  return withGradEnabled(true, fn, "enableGrad");
}

/** Whether operations are currently recorded for autograd. */
export function isGradEnabled(): boolean {
  return native.isGradEnabled();
}

/**
 * Runs `fn` in inference mode (torch.inference_mode): faster than noGrad, but tensors created inside can never be
 * used in autograd later. Synchronous functions only.
 */
export function inferenceMode<T>(fn: () => T): T {
  assertSync(fn, "inferenceMode");
  const depth = native.enterInferenceMode();
  try {
    const result = fn();
    assertNotPromise(result, "inferenceMode");
    return result;
  } finally {
    native.exitInferenceMode(depth);
  }
}

export function isInferenceMode(): boolean {
  return native.isInferenceMode();
}
