/** sladet's tensor engine: libtorch through a native addon, with explicit lifetimes. */

export { DEFAULT_DEVICE } from "./defaults.js";
export {
  DEFAULT_BUCKET_BYTES,
  DEFAULT_DIST_TIMEOUT_MS,
  ProcessGroup,
  type ProcessGroupOptions,
} from "./distributed.js";
export type { AnyTypedArray, DType, TypedArrayOf } from "./dtype.js";
export { DTYPES, elementSize, isFloatingDtype } from "./dtype.js";
export { firstNonFinite } from "./finite.js";
export * as F from "./functional.js";
export { enableGrad, inferenceMode, isGradEnabled, isInferenceMode, noGrad } from "./grad-mode.js";
export * as inplace from "./inplace.js";
export {
  BatchNorm2d,
  type BatchNorm2dOptions,
  Conv2d,
  type Conv2dOptions,
  Dropout,
  Flatten,
  Identity,
  type Layer,
  LeakyReLU,
  Linear,
  MaxPool2d,
  ModuleList,
  ReLU,
  Sequential,
  SiLU,
  Upsample,
} from "./nn/layers.js";
export {
  Buffer,
  describeLoadProblems,
  type LoadReport,
  type LoadStateDictOptions,
  Module,
  Parameter,
} from "./nn/module.js";
export { type ParamGroup, SGD, type SgdHyper, type SgdState } from "./optim/sgd.js";
export { clipGradNorm, emaUpdate } from "./optim/utils.js";
export {
  bernoulli,
  getRngState,
  initialSeed,
  manualSeed,
  normal_,
  type RandomOptions,
  rand,
  randint,
  randn,
  randperm,
  setRngState,
  uniform_,
} from "./random.js";
export {
  type AllocatorStats,
  allocatorStats,
  cudaDeviceCount,
  cudaIsAvailable,
  dirtyDecays,
  getNumThreads,
  type KeepFreedPagesOptions,
  keepFreedPages,
  keptPageBytes,
  type MemoryStats,
  memoryStats,
  releaseFreeMemory,
  releaseKeptPagesAbove,
  resetPeakBytes,
  resolveDevice,
  setNumThreads,
  torchVersion,
} from "./runtime.js";
export {
  loadSafetensors,
  parseSafetensors,
  type SafetensorsContents,
  saveSafetensors,
  serializeSafetensors,
} from "./safetensors.js";
export { scopeDepth, tidy } from "./scope.js";
export {
  arange,
  cat,
  type Device,
  empty,
  full,
  fullLike,
  linspace,
  meshgrid,
  ones,
  onesLike,
  stack,
  Tensor,
  type TensorLike,
  type TensorOptions,
  tensor,
  tensorFromBytes,
  where,
  zeros,
  zerosLike,
} from "./tensor.js";
export { batchedNms, boxIou, nms, type RoiAlignOptions, roiAlign } from "./vision.js";
