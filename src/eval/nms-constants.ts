/** YOLOv5 NMS constants, torch-free so the ONNX backend's JavaScript NMS shares them with src/eval/nms.ts. */

/** Boxes kept for NMS per image at most (YOLOv5's max_nms). */
export const MAX_NMS_INPUT = 30000;
/** Class offset for class-aware NMS in one pass (YOLOv5's max_wh: larger than any image side). */
export const CLASS_OFFSET = 7680;
