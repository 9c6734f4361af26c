/** sladet's tensor engine: libtorch through a native addon, with explicit lifetimes. */
export type { AnyTypedArray, DType, TypedArrayOf } from "./dtype.js";
export { DTYPES, elementSize, isFloatingDtype } from "./dtype.js";
export * as F from "./functional.js";
export { enableGrad, inferenceMode, isGradEnabled, isInferenceMode, noGrad } from "./grad-mode.js";
export * as inplace from "./inplace.js";
export {
  cudaDeviceCount,
  cudaIsAvailable,
  getNumThreads,
  type MemoryStats,
  manualSeed,
  memoryStats,
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
  ones,
  onesLike,
  stack,
  Tensor,
  type TensorLike,
  type TensorOptions,
  tensor,
  where,
  zeros,
  zerosLike,
} from "./tensor.js";
export { batchedNms, boxIou, nms, type RoiAlignOptions, roiAlign } from "./vision.js";
