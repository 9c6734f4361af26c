/**
 * The predictor contract shared by the inference backends (libtorch: src/infer/torch-predictor.ts; onnxruntime:
 * src/infer/onnx-predictor.ts). A predictor takes a batch of letterboxed images and returns, per image, the detections
 * after NMS in network-input pixels and, when the weights carry an attribute head, the attribute probabilities of
 * each detection. Letterboxing, mapping back to original pixels, drawing and writing are the caller's (detect).
 */

/** Backends `sladet detect --backend` accepts. */
export const BACKENDS = ["libtorch", "onnx"] as const;
export type Backend = (typeof BACKENDS)[number];

/** A batch of network inputs: float32 RGB in 0..1, [B, 3, H, W] (H, W multiples of the model's largest stride). */
export interface InputBatch {
  data: Float32Array;
  shape: readonly [number, number, number, number];
  /**
   * The network size the images were letterboxed to (their long side before padding to a stride multiple): the
   * attribute head's size input is a box's (w, h) divided by it (src/model/attribute-inference.ts).
   */
  imgsz: number;
}

/** Post-processing (YOLOv5's non_max_suppression; src/eval/nms.ts). */
export interface PredictOptions {
  /** @default 0.25 */
  confThres?: number;
  /** @default 0.45 */
  iouThres?: number;
  /** @default 1000 (the seed's detect.py) */
  maxDet?: number;
  /** Keep only these class indices. */
  classes?: readonly number[];
  /** @default false */
  agnostic?: boolean;
  /** Skip the attribute head even when the weights carry one. @default false */
  skipAttributes?: boolean;
}

/** Attribute probabilities of K detections (softmax of the head's logits). */
export interface AttributeProbabilities {
  /** [K, 3] Cell Size: Small, Medium, Large. */
  cellSize: Float32Array;
  /** [K, 6, 2] the binary attributes a1..a6 (label order), value 0 and value 1. */
  binary: Float32Array;
}

/** One image's detections. */
export interface ImagePrediction {
  /** Number of detections K. */
  count: number;
  /** [K, 6] rows of x1, y1, x2, y2 (network-input pixels), confidence, class index; by confidence, descending. */
  boxes: Float32Array;
  /** Null when the model has no attribute head (or attributes were skipped). */
  attributes: AttributeProbabilities | null;
}

/** What a backend knows about the model it runs. */
export interface PredictorInfo {
  backend: Backend;
  /** Class names, by index. */
  names: readonly string[];
  /** The largest stride: input sides must be multiples of it. */
  maxStride: number;
  /** Whether predictions carry attributes. */
  hasAttributes: boolean;
  /** Input sizes the model accepts: null = any multiple of maxStride; otherwise fixed [H, W] (a static ONNX export). */
  fixedInput: readonly [number, number] | null;
  /** Fixed batch size (a static ONNX export), or null. */
  fixedBatch: number | null;
}

export interface Predictor {
  readonly info: PredictorInfo;
  /** Runs the detector (and the attribute head) on a batch. Never keeps references to `batch.data`. */
  predict(batch: InputBatch, options?: PredictOptions): Promise<ImagePrediction[]>;
  /** Frees native memory (tensors or the runtime session). Idempotent. */
  dispose(): Promise<void>;
}
