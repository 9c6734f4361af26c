/**
 * sladet's public API: white-blood-cell detection with 7 morphological attributes (SLA-Det) on libtorch.
 *
 * ```js
 * import { load } from "sladet";
 * const detector = await load("runs/train/exp");            // a checkpoint, a YOLOv5 .pt, a run folder or an .onnx
 * const results = await detector.detect(["a.jpg", "b.png"]); // cells in original pixels, class, confidence, attributes
 * await detector.dispose();
 * ```
 *
 * Training and the other run commands ({@link pretrain}, {@link train}, {@link validate}, {@link exportOnnx},
 * {@link writeReport}, {@link synthesize}) write run folders as the `sladet` commands do. The tensor engine is
 * `sladet/torch`. Run node with jemalloc preloaded (`bin/sladet-node`, README "Use it from Node").
 */

export {
  type DetectImagesOptions,
  Detector,
  type DetectToFolderOptions,
  type ImageDetections,
  type ImageInput,
  type LoadOptions,
  load,
} from "./api/detector.js";
export {
  builtinModel,
  EXPORT_ONNX_DEFAULTS,
  type ExportOnnxOptions,
  exportOnnx,
  type PretrainOptions,
  pretrain,
  type SynthesizeOptions,
  synthesize,
  type TrainOptions,
  train,
  type ValidateOptions,
  validate,
  writeReport,
} from "./api/runs.js";
export type { RgbImage } from "./data/images.js";
export { LLD_ATTRIBUTES } from "./data/schema.js";
export type { DatasetSummary } from "./data/synth/index.js";
export { backendFor, modelFileFor } from "./infer/model-file.js";
export type { PredictedAttribute, PredictedCell, PredictionsJson } from "./infer/prediction-json.js";
export {
  BACKENDS,
  type Backend,
  DETECT_CONF_THRES,
  DETECT_IOU_THRES,
  DETECT_MAX_DET,
  type PredictOptions,
  type PredictorInfo,
} from "./infer/predictor.js";
export { listSources, type SourceList } from "./infer/sources.js";
export type { ModelYaml, Yolov5Scale } from "./model/config.js";
export {
  DEFAULT_DEVICE,
  DEFAULT_IMG_SIZE,
  DEFAULT_RUN_NAME,
  DETECT_BATCH_SIZE,
  DETECT_PROJECT,
  ONNX_EXPORT_BATCH_SIZE,
  TEST_PROJECT,
  VAL_BATCH_SIZE,
  VAL_CONF_THRES,
  VAL_IOU_THRES,
  VAL_MAX_DET,
  VAL_PROJECT,
} from "./runs/defaults.js";
export type { DetectOptions, DetectResult } from "./runs/detect-run.js";
export type { OnnxCommandResult as ExportOnnxResult } from "./runs/export-run.js";
export type { TrainingRunResult as TrainResult } from "./runs/train-run.js";
export type { ValRunResult as ValidateResult } from "./runs/val-run.js";
export { type PhaseDefaults, PRETRAIN_DEFAULTS, TRAIN_DEFAULTS } from "./train/phases.js";
export { DEFAULT_SLA_OPTIONS, type SlaOptions } from "./train/sla/options.js";
export { ConfigError, OptionError } from "./util/errors.js";
export { RUN_FOLDER_ONNX } from "./util/run-dir.js";
