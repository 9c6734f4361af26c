/** Reading PyTorch checkpoints without Python: zip, a pickle reader that executes nothing, YOLOv5 and seed imports. */
export {
  describe,
  type GlobalHandler,
  PickleError,
  PyGlobal,
  PyObject,
  type UnpickleOptions,
  unpickle,
} from "./pickle.js";
export { defaultExportPath, exportPtCheckpoint, type PtExportOptions, type PtExportReport } from "./pt-export.js";
export {
  describeSeedAttributeReport,
  loadSeedAttributeState,
  parseStateDict,
  readSeedAttributeHead,
  type SeedAttributeReport,
} from "./seed-attributes.js";
export {
  CheckpointError,
  checkpointGlobals,
  MODULE_CLASSES,
  materialise,
  moduleStateDict,
  NdArray,
  parseTorchArchive,
  readTorchArchive,
  STORAGE_DTYPES,
  StorageRef,
  TensorRef,
  type TorchArchive,
} from "./torch-archive.js";
export {
  describeTransfer,
  disposeCheckpoint,
  loadYoloCheckpoint,
  modelFromCheckpoint,
  parseYoloCheckpoint,
  readYoloCheckpoint,
  toPlain,
  transferWeights,
  type YoloCheckpoint,
} from "./yolo-import.js";
export { type ZipEntry, ZipError, ZipReader } from "./zip.js";
