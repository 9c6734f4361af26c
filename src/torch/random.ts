/**
 * Random numbers from libtorch's default CPU generator (the one PyTorch uses): the same seed gives the same draws as
 * PyTorch. The generator state can be saved and restored, so a resumed run continues the exact random sequence.
 */
import type { DType } from "./dtype.js";
import { native } from "./native.js";
import { type Device, Tensor } from "./tensor.js";

export interface RandomOptions {
  /** @default "float32" (int64 for randint/randperm) */
  dtype?: DType;
  /** @default "cpu" */
  device?: Device;
}

/** Seeds libtorch's default generators (torch.manual_seed). */
export function manualSeed(seed: number): void {
  native.manualSeed(seed);
}

/** The seed the CPU generator was last seeded with. */
export function initialSeed(): number {
  return native.initialSeed();
}

/** The CPU generator's complete state as a uint8 tensor (torch.get_rng_state). Keep it with a checkpoint. */
export function getRngState(): Tensor {
  return new Tensor(native.getRngState());
}

/** Restores a state from getRngState(): the following draws repeat those that followed the save. */
export function setRngState(state: Tensor): void {
  native.setRngState(state.handle);
}

/** Uniform in [0, 1). */
export function rand(shape: readonly number[], options: RandomOptions = {}): Tensor {
  return new Tensor(native.rand([...shape], options.dtype ?? null, options.device));
}

/** Standard normal. */
export function randn(shape: readonly number[], options: RandomOptions = {}): Tensor {
  return new Tensor(native.randn([...shape], options.dtype ?? null, options.device));
}

/** Integers in [low, high). */
export function randint(low: number, high: number, shape: readonly number[], options: RandomOptions = {}): Tensor {
  return new Tensor(native.randint(low, high, [...shape], options.dtype ?? null, options.device));
}

/** A random permutation of 0..n−1. */
export function randperm(n: number, options: RandomOptions = {}): Tensor {
  return new Tensor(native.randperm(n, options.dtype ?? null, options.device));
}

/** Draws 0/1 with the probabilities in `p`. */
export function bernoulli(p: Tensor): Tensor {
  return new Tensor(native.bernoulli(p.handle));
}

/** Fills `t` in place with U(low, high) under no-grad (nn.init.uniform_). */
export function uniform_(t: Tensor, low: number, high: number): void {
  native.uniformInPlace_(t.handle, low, high);
}

/** Fills `t` in place with N(mean, std²) under no-grad (nn.init.normal_). */
export function normal_(t: Tensor, mean: number, std: number): void {
  native.normalInPlace_(t.handle, mean, std);
}
