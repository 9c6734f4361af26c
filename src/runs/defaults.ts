/**
 * The defaults of the run commands, each named once: the library applies them to options left out, and the CLI shows
 * them as its flags' defaults. Torch-free, so `sladet --help` loads no engine.
 */
export { DEFAULT_IMG_SIZE } from "../data/constants.js";
export { ATTRIBUTE_MATCH_IOU } from "../eval/attribute-metrics.js";
export { VAL_CONF_THRES, VAL_IOU_THRES, VAL_MAX_DET } from "../eval/nms-constants.js";
export { DETECT_CONF_THRES, DETECT_IOU_THRES, DETECT_MAX_DET } from "../infer/predictor.js";
export { DEFAULT_DEVICE } from "../torch/defaults.js";

export { DEFAULT_RUN_NAME } from "../util/run-dir.js";
/** Parent folder of `sladet val` runs. */
export const VAL_PROJECT = "runs/val";
/** Parent folder of `sladet test` runs. */
export const TEST_PROJECT = "runs/test";
/** Parent folder of `sladet detect` runs. */
export const DETECT_PROJECT = "runs/detect";
/** Images per validation batch (YOLOv5 val.py's 32). */
export const VAL_BATCH_SIZE = 32;
/** Images per detection forward pass. */
export const DETECT_BATCH_SIZE = 1;
/** Batch size of a static ONNX export. */
export const ONNX_EXPORT_BATCH_SIZE = 1;
