/** Neural-network functions over tensors, named after torch.nn.functional. */
import { native } from "./native.js";
import { Tensor } from "./tensor.js";

type Pair = number | [number, number];
const pair = (v: Pair): number[] => (Array.isArray(v) ? v : [v, v]);

export interface Conv2dOptions {
  /** @default 1 */
  stride?: Pair;
  /** @default 0 */
  padding?: Pair;
  /** @default 1 */
  dilation?: Pair;
  /** @default 1 */
  groups?: number;
}

/** 2-d convolution: x [N,C,H,W], weight [O,C/groups,kh,kw], optional bias [O]. */
export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null = null, options: Conv2dOptions = {}): Tensor {
  const { stride = 1, padding = 0, dilation = 1, groups = 1 } = options;
  return new Tensor(
    native.conv2d(x.handle, weight.handle, bias?.handle ?? null, pair(stride), pair(padding), pair(dilation), groups),
  );
}

/** y = x·Wᵀ + b. */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  return new Tensor(native.linear(x.handle, weight.handle, bias?.handle ?? null));
}

export interface BatchNormOptions {
  weight?: Tensor | null;
  bias?: Tensor | null;
  runningMean?: Tensor | null;
  runningVar?: Tensor | null;
  /** Use batch statistics and update the running ones in place. @default false */
  training?: boolean;
  /** @default 0.1 */
  momentum?: number;
  /** @default 1e-5 */
  eps?: number;
}

/** Batch normalisation over the channel dimension (dim 1), as torch.nn.functional.batch_norm. */
export function batchNorm(x: Tensor, options: BatchNormOptions = {}): Tensor {
  const { training = false, momentum = 0.1, eps = 1e-5 } = options;
  return new Tensor(
    native.batchNorm(
      x.handle,
      options.weight?.handle ?? null,
      options.bias?.handle ?? null,
      options.runningMean?.handle ?? null,
      options.runningVar?.handle ?? null,
      training,
      momentum,
      eps,
    ),
  );
}

export interface MaxPool2dOptions {
  /** @default kernelSize */
  stride?: Pair;
  /** @default 0 */
  padding?: Pair;
  /** @default 1 */
  dilation?: Pair;
  /** @default false */
  ceilMode?: boolean;
}

export function maxPool2d(x: Tensor, kernelSize: Pair, options: MaxPool2dOptions = {}): Tensor {
  const { stride, padding = 0, dilation = 1, ceilMode = false } = options;
  return new Tensor(
    native.maxPool2d(
      x.handle,
      pair(kernelSize),
      stride === undefined ? null : pair(stride),
      pair(padding),
      pair(dilation),
      ceilMode,
    ),
  );
}

export interface AvgPool2dOptions {
  /** @default kernelSize */
  stride?: Pair;
  /** @default 0 */
  padding?: Pair;
  /** @default false */
  ceilMode?: boolean;
  /** @default true */
  countIncludePad?: boolean;
}

export function avgPool2d(x: Tensor, kernelSize: Pair, options: AvgPool2dOptions = {}): Tensor {
  const { stride, padding = 0, ceilMode = false, countIncludePad = true } = options;
  return new Tensor(
    native.avgPool2d(
      x.handle,
      pair(kernelSize),
      stride === undefined ? null : pair(stride),
      pair(padding),
      ceilMode,
      countIncludePad,
    ),
  );
}

export function adaptiveAvgPool2d(x: Tensor, outputSize: Pair): Tensor {
  return new Tensor(native.adaptiveAvgPool2d(x.handle, pair(outputSize)));
}

/** Nearest-neighbour upsampling of [N,C,H,W] to `size` or by `scaleFactor` (exactly one). */
export function upsampleNearest2d(
  x: Tensor,
  options: { size?: Pair; scaleFactor?: number | [number, number] },
): Tensor {
  const { size, scaleFactor } = options;
  const scales =
    scaleFactor === undefined ? null : Array.isArray(scaleFactor) ? scaleFactor : [scaleFactor, scaleFactor];
  return new Tensor(native.upsampleNearest2d(x.handle, size === undefined ? null : pair(size), scales));
}

/** Zeroes elements with probability p during training (scaling the rest by 1/(1−p)); identity otherwise. */
export function dropout(x: Tensor, p: number, training: boolean): Tensor {
  return new Tensor(native.dropout(x.handle, p, training));
}

export type Reduction = "mean" | "sum" | "none";

export interface BceWithLogitsOptions {
  /** Per-element rescaling weight (broadcast to the input). */
  weight?: Tensor | null;
  /** Weight of positive examples, per class (broadcast over the last dimension). */
  posWeight?: Tensor | null;
  /** @default "mean" */
  reduction?: Reduction;
}

/** Binary cross-entropy on logits (numerically stable), as torch.nn.functional.binary_cross_entropy_with_logits. */
export function bceWithLogits(logits: Tensor, target: Tensor, options: BceWithLogitsOptions = {}): Tensor {
  return new Tensor(
    native.bceWithLogits(
      logits.handle,
      target.handle,
      options.weight?.handle ?? null,
      options.posWeight?.handle ?? null,
      options.reduction ?? "mean",
    ),
  );
}

export interface CrossEntropyOptions {
  weight?: Tensor | null;
  /** @default "mean" */
  reduction?: Reduction;
  /** @default 0 */
  labelSmoothing?: number;
}

/** Cross-entropy of logits [N,C] against class indices [N] (int64). */
export function crossEntropy(logits: Tensor, target: Tensor, options: CrossEntropyOptions = {}): Tensor {
  return new Tensor(
    native.crossEntropy(
      logits.handle,
      target.handle,
      options.weight?.handle ?? null,
      options.reduction ?? "mean",
      options.labelSmoothing ?? 0,
    ),
  );
}
