/** YOLOv5 models from descriptions, Detect, the attribute head, and the model checkpoint format. */
export { autopad, Bottleneck, C3, Concat, Conv, SPPF } from "./blocks.js";
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
export { YoloModel, type YoloForwardOptions, type YoloModelOptions, type YoloOutput } from "./yolo.js";
