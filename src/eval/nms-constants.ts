/** YOLOv5 NMS constants, torch-free so the ONNX backend's JavaScript NMS shares them with src/eval/nms.ts. */

/** Boxes kept for NMS per image at most (YOLOv5's max_nms). */
export const MAX_NMS_INPUT = 30000;
/** Class offset for class-aware NMS in one pass (YOLOv5's max_wh: larger than any image side). */
export const CLASS_OFFSET = 7680;

/** YOLOv5 val.py's NMS settings for validation (`sladet val`, `sladet test`, the trainer's per-epoch validation). */
export const VAL_CONF_THRES = 0.001;
export const VAL_IOU_THRES = 0.6;
export const VAL_MAX_DET = 300;
