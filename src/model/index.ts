/** YOLOv5 models from descriptions, Detect, the attribute head, and the model checkpoint format. */

export {
  ATTRIBUTE_CONV_CHANNELS,
  ATTRIBUTE_DROPOUT,
  ATTRIBUTE_FC_WIDTHS,
  ATTRIBUTE_LEAKY_SLOPE,
  ATTRIBUTE_ROI_SIZE,
  AttributeHead,
  type AttributeHeadOptions,
  type AttributeOutput,
  attributeHeadValueCount,
  attributeValues,
  BINARY_ATTRIBUTES,
  BOX_FEATURES,
  CELL_SIZE_CLASSES,
} from "./attribute-head.js";
export {
  ATTRIBUTE_TAPS,
  attributeLogits,
  headMaps,
  IMAGE_TAP,
  modelTaps,
  newAttributeHead,
  predictAttributes,
  tapChannels,
} from "./attribute-inference.js";
export { autopad, Bottleneck, C3, Concat, Conv, SPPF } from "./blocks.js";
export {
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  type CheckpointMeta,
  checkpointMeta,
  type LoadedCheckpoint,
  loadCheckpoint,
  parseCheckpoint,
  type SaveCheckpointOptions,
  SladetCheckpointError,
  saveCheckpoint,
  serializeCheckpoint,
  sladetVersion,
} from "./checkpoint.js";
export {
  absoluteFrom,
  builtinModelYaml,
  CFG_DIR,
  type LayerArgs,
  type LayerFrom,
  type LayerRow,
  type LayerSpec,
  loadModelYaml,
  MODULE_KINDS,
  ModelConfigError,
  type ModelYaml,
  type ModuleKind,
  makeDivisible,
  parseModelYaml,
  pythonRound,
  resolveLayers,
  scaledDepth,
  validateModelYaml,
  YOLOV5_SCALES,
  type Yolov5Scale,
} from "./config.js";
export * from "./constants.js";
export { Detect } from "./detect.js";
export { boxSizes, type PoolCellsOptions, poolCells } from "./roi-pool.js";
export { type YoloForwardOptions, YoloModel, type YoloModelOptions, type YoloOutput } from "./yolo.js";
