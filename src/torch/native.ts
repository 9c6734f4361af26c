/**
 * Loads the libtorch addon (build/Release/sladet.node) and declares its raw interface. Everything else in sladet goes
 * through the typed {@link Tensor} API in tensor.ts; this file is the only place that touches the addon directly.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { PACKAGE_ROOT } from "../util/package-root.js";

/** Opaque native tensor handle (type-tagged in C++; foreign objects are refused). */
export type Handle = { readonly __brand: "sladet.TensorHandle" };
type H = Handle;
/** Opaque native process-group handle (type-tagged in C++). */
export type GroupHandle = { readonly __brand: "sladet.ProcessGroup" };
type HS = Handle | number | boolean;
type Dims = number | number[] | null | undefined;

export interface NativeMemoryStats {
  allocatedBytes: number;
  peakBytes: number;
  allocations: number;
  liveTensors: number;
}

/** jemalloc's process-wide statistics, bytes (`stats.*` of its mallctl interface). */
export interface AllocatorStats {
  /** Live blocks. */
  allocated: number;
  /** Pages of extents holding live blocks. */
  active: number;
  /** jemalloc's own bookkeeping. */
  metadata: number;
  /** Physically resident pages jemalloc maps: active, freed-not-returned ("dirty") and metadata. */
  resident: number;
  mapped: number;
  /** Virtual memory kept for reuse, not resident. */
  retained: number;
}

/** The addon's functions, one per binding in native/*.cc. */
export interface NativeAddon {
  readonly torchVersion: string;
  readonly cxx11Abi: boolean;
  memoryStats(): NativeMemoryStats;
  resetPeakBytes(): void;
  releaseFreeMemory(): "jemalloc" | "glibc" | "none";
  allocatorStats(): AllocatorStats | null;
  getDirtyDecays(): Array<number | null> | null;
  setDirtyDecays(decays: Array<number | null>): boolean;
  setNumThreads(n: number): void;
  getNumThreads(): number;
  cudaDeviceCount(): number;
  manualSeed(seed: number): void;
  // tensor.cc
  fromBuffer(data: ArrayBufferView | ArrayBuffer, shape: number[], dtype: string, device?: string): H;
  toBuffer(x: H): ArrayBuffer;
  zeros(shape: number[], dtype: string, device?: string): H;
  ones(shape: number[], dtype: string, device?: string): H;
  full(shape: number[], value: number | boolean, dtype: string, device?: string): H;
  empty(shape: number[], dtype: string, device?: string): H;
  arange(start: number, end: number, step: number, dtype: string, device?: string): H;
  linspace(start: number, end: number, steps: number, dtype: string, device?: string): H;
  shape(x: H): number[];
  dtype(x: H): string;
  device(x: H): string;
  item(x: H): number | boolean;
  to(x: H, dtype?: string | null, device?: string | null): H;
  dispose(x: H): void;
  isDisposed(x: H): boolean;
  sameStorage(a: H, b: H): boolean;
  copyInPlace_(dst: H, src: H): void;
  addInPlace_(dst: H, src: HS, alpha?: number): void;
  mulInPlace_(dst: H, src: HS): void;
  fillInPlace_(dst: H, value: number | boolean): void;
  // ops.cc: unary
  neg(x: H): H;
  exp(x: H): H;
  log(x: H): H;
  sqrt(x: H): H;
  atan(x: H): H;
  abs(x: H): H;
  sign(x: H): H;
  floor(x: H): H;
  ceil(x: H): H;
  round(x: H): H;
  trunc(x: H): H;
  reciprocal(x: H): H;
  logicalNot(x: H): H;
  isfinite(x: H): H;
  isnan(x: H): H;
  contiguous(x: H): H;
  channelsLast(x: H): H;
  clone(x: H): H;
  detach(x: H): H;
  nonzero(x: H): H;
  // ops.cc: binary
  add(a: H, b: HS, alpha?: number): H;
  sub(a: H, b: HS, alpha?: number): H;
  rsub(a: H, b: HS): H;
  mul(a: H, b: HS): H;
  div(a: H, b: HS): H;
  pow(a: H, b: HS): H;
  atan2(a: H, b: HS): H;
  maximum(a: H, b: HS): H;
  minimum(a: H, b: HS): H;
  remainder(a: H, b: HS): H;
  floorDivide(a: H, b: HS): H;
  eq(a: H, b: HS): H;
  ne(a: H, b: HS): H;
  lt(a: H, b: HS): H;
  le(a: H, b: HS): H;
  gt(a: H, b: HS): H;
  ge(a: H, b: HS): H;
  logicalAnd(a: H, b: HS): H;
  logicalOr(a: H, b: HS): H;
  logicalXor(a: H, b: HS): H;
  clamp(x: H, min?: number | null, max?: number | null): H;
  where(cond: H, a: HS, b: HS): H;
  maskedFill(x: H, mask: H, value: HS): H;
  // ops.cc: reductions
  sum(x: H, dims?: Dims, keepdim?: boolean, dtype?: string | null): H;
  mean(x: H, dims?: Dims, keepdim?: boolean): H;
  prod(x: H, dim?: number | null, keepdim?: boolean): H;
  max(x: H): H;
  max(x: H, dim: number, keepdim?: boolean): [H, H];
  min(x: H): H;
  min(x: H, dim: number, keepdim?: boolean): [H, H];
  amax(x: H, dims?: Dims, keepdim?: boolean): H;
  amin(x: H, dims?: Dims, keepdim?: boolean): H;
  argmax(x: H, dim?: number | null, keepdim?: boolean): H;
  argmin(x: H, dim?: number | null, keepdim?: boolean): H;
  any(x: H, dim?: number | null, keepdim?: boolean): H;
  all(x: H, dim?: number | null, keepdim?: boolean): H;
  cumsum(x: H, dim: number): H;
  // ops.cc: shape and indexing
  reshape(x: H, shape: number[]): H;
  view(x: H, shape: number[]): H;
  permute(x: H, dims: number[]): H;
  transpose(x: H, dim0: number, dim1: number): H;
  expand(x: H, shape: number[]): H;
  repeat(x: H, repeats: number[]): H;
  squeeze(x: H, dim?: number | null): H;
  unsqueeze(x: H, dim: number): H;
  flatten(x: H, startDim?: number, endDim?: number): H;
  flip(x: H, dims: number[]): H;
  slice(x: H, dim: number, start?: number | null, end?: number | null, step?: number): H;
  select(x: H, dim: number, index: number): H;
  narrow(x: H, dim: number, start: number, length: number): H;
  indexSelect(x: H, dim: number, index: H): H;
  gather(x: H, dim: number, index: H): H;
  index(x: H, indices: Array<H | null>): H;
  cat(tensors: H[], dim?: number): H;
  stack(tensors: H[], dim?: number): H;
  split(x: H, sizeOrSizes: number | number[], dim?: number): H[];
  chunk(x: H, chunks: number, dim?: number): H[];
  matmul(a: H, b: H): H;
  // nn.cc
  sigmoid(x: H): H;
  silu(x: H): H;
  relu(x: H): H;
  tanh(x: H): H;
  leakyRelu(x: H, negativeSlope?: number): H;
  softmax(x: H, dim: number): H;
  logSoftmax(x: H, dim: number): H;
  linear(x: H, weight: H, bias?: H | null): H;
  conv2d(x: H, weight: H, bias: H | null, stride: number[], padding: number[], dilation: number[], groups: number): H;
  batchNorm(
    x: H,
    weight: H | null,
    bias: H | null,
    runningMean: H | null,
    runningVar: H | null,
    training: boolean,
    momentum: number,
    eps: number,
  ): H;
  maxPool2d(x: H, kernel: number[], stride: number[] | null, padding: number[], dilation: number[], ceil: boolean): H;
  avgPool2d(x: H, kernel: number[], stride: number[] | null, padding: number[], ceil: boolean, countPad: boolean): H;
  adaptiveAvgPool2d(x: H, outputSize: number[]): H;
  upsampleNearest2d(x: H, outputSize: number[] | null, scaleFactors: number[] | null): H;
  dropout(x: H, p: number, training: boolean): H;
  bceWithLogits(x: H, target: H, weight: H | null, posWeight: H | null, reduction: string): H;
  crossEntropy(x: H, target: H, weight: H | null, reduction: string, labelSmoothing: number): H;
  topk(x: H, k: number, dim?: number, largest?: boolean, sorted?: boolean): [H, H];
  sort(x: H, dim?: number, descending?: boolean, stable?: boolean): [H, H];
  scatter(x: H, dim: number, index: H, src: HS): H;
  scatterAdd(x: H, dim: number, index: H, src: H): H;
  indexPut(x: H, indices: Array<H | null>, values: HS, accumulate?: boolean): H;
  meshgrid(tensors: H[], indexing?: "ij" | "xy"): H[];
  unique(x: H, sorted?: boolean, returnInverse?: boolean, returnCounts?: boolean, dim?: number | null): [H, H, H];
  norm(x: H, ord?: number, dims?: number[] | null, keepdim?: boolean): H;
  // random.cc
  getRngState(): H;
  setRngState(state: H): void;
  initialSeed(): number;
  rand(shape: number[], dtype?: string | null, device?: string): H;
  randn(shape: number[], dtype?: string | null, device?: string): H;
  randint(low: number, high: number, shape: number[], dtype?: string | null, device?: string): H;
  randperm(n: number, dtype?: string | null, device?: string): H;
  uniformInPlace_(x: H, low: number, high: number): void;
  normalInPlace_(x: H, mean: number, std: number): void;
  bernoulli(p: H): H;
  // optim.cc
  sgdStep(
    params: H[],
    momentumBuffers: Array<H | null>,
    lr: number,
    momentum: number,
    dampening: number,
    weightDecay: number,
    nesterov: boolean,
  ): Array<H | null>;
  clipGradNorm(params: H[], maxNorm: number, normType?: number): number;
  zeroGrad(params: H[], setToNone?: boolean): void;
  emaUpdate(ema: H[], model: H[], decay: number): void;
  copyAll(dst: H[], src: H[]): void;
  // autograd.cc
  setRequiresGrad(x: H, requiresGrad: boolean): void;
  requiresGrad(x: H): boolean;
  isLeaf(x: H): boolean;
  grad(x: H): H | null;
  setGrad(x: H, grad: H | null): void;
  retainGrad(x: H): void;
  backward(x: H, gradient?: H | null, retainGraph?: boolean): void;
  setGradEnabled(enabled: boolean): boolean;
  isGradEnabled(): boolean;
  enterInferenceMode(): number;
  exitInferenceMode(depth: number): void;
  isInferenceMode(): boolean;
  // vision.cc
  roiAlign(
    input: H,
    rois: H | H[],
    outputSize: number[],
    spatialScale: number,
    samplingRatio: number,
    aligned: boolean,
  ): H;
  nms(boxes: H, scores: H, iouThreshold: number): H;
  batchedNms(boxes: H, scores: H, idxs: H, iouThreshold: number): H;
  // dist.cc
  distInit(options: { host: string; port: number; rank: number; worldSize: number; timeoutMs: number }): GroupHandle;
  distAllReduceMean(group: GroupHandle, tensors: H[], bucketBytes: number): void;
  distAllReduceSum(group: GroupHandle, tensor: H): void;
  distAllReduceSumAutograd(group: GroupHandle, x: H): H;
  distBroadcast(group: GroupHandle, tensors: H[], root: number, bucketBytes: number): void;
  distAllGather(group: GroupHandle, tensor: H): H;
  distBarrier(group: GroupHandle): void;
  distStoreSet(group: GroupHandle, key: string, value: string): void;
  distStoreGet(group: GroupHandle, key: string, timeoutMs: number): string;
  distStoreCheck(group: GroupHandle, key: string): boolean;
  distDestroy(group: GroupHandle): void;
}

function loadAddon(): NativeAddon {
  const path = process.env["SLADET_ADDON"] ?? join(PACKAGE_ROOT, "build", "Release", "sladet.node");
  if (!existsSync(path)) {
    throw new Error(`sladet's libtorch addon is not built (${path} is missing); run: sh tools/setup.sh`);
  }
  const addon = createRequire(import.meta.url)(path) as NativeAddon;
  const stampPath = join(dirname(path), "sladet.stamp");
  if (existsSync(stampPath)) {
    const built = readFileSync(stampPath, "utf8").match(/torch=(\S+)/)?.[1];
    if (built !== undefined && built !== addon.torchVersion) {
      throw new Error(
        `the addon reports libtorch ${addon.torchVersion} but was stamped for ${built}; rebuild: sh tools/setup.sh`,
      );
    }
  }
  return addon;
}

/** The loaded addon (one instance per Node environment; safe in worker threads). */
export const native: NativeAddon = loadAddon();
