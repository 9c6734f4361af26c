/**
 * The predictor contract shared by the inference backends (libtorch: src/infer/torch-predictor.ts; onnxruntime:
 * src/infer/onnx-predictor.ts). A predictor takes a batch of letterboxed images and returns, per image, the detections
 * after NMS in network-input pixels and, when the weights carry an attribute head, the attribute probabilities of
 * each detection. Letterboxing, mapping back to original pixels, drawing and writing are the caller's (detect).
 */
import { OptionError } from "../util/errors.js";

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
  /**
   * The same images at k× the pixels, placed as in `data` ([B, 3, k·H, k·W]): what an attribute head with a fine view
   * pools (PredictorInfo.attributeImageScale; letterboxBatch's fineScale). Absent for other heads.
   */
  fine?: { data: Float32Array; shape: readonly [number, number, number, number] };
}

/** Post-processing (YOLOv5's non_max_suppression; src/eval/nms.ts). */
export interface PredictOptions {
  /** @default 0.25 */
  confThres?: number;
  /** @default 0.45 */
  iouThres?: number;
  /** @default 1000 (the seed's detect.py) */
  maxDet?: number;
  /** Keep only these class indices (null or empty: every class). */
  classes?: readonly number[] | null;
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
  /**
   * The factor of the fine view the attribute head pools (hyp attr_image_scale): batches given to `predict` with
   * attributes must carry `fine` at it. 1: the head pools the network input (or there is no head).
   */
  attributeImageScale: number;
}

export interface Predictor {
  readonly info: PredictorInfo;
  /** Runs the detector (and the attribute head) on a batch. Never keeps references to `batch.data`. */
  predict(batch: InputBatch, options?: PredictOptions): Promise<ImagePrediction[]>;
  /** Frees native memory (tensors or the runtime session). Idempotent. */
  dispose(): Promise<void>;
}

/** Defaults of {@link PredictOptions} (the seed's detect.py). */
export const DETECT_CONF_THRES = 0.25;
export const DETECT_IOU_THRES = 0.45;
export const DETECT_MAX_DET = 1000;

/** Values per detection in {@link AttributeProbabilities}: Cell Size's 3, and 6 binary attributes × 2. */
export const CELL_SIZE_VALUES = 3;
export const BINARY_VALUES = 12;

/** {@link PredictOptions} with every default applied (an explicit `undefined` means the default too). */
export type ResolvedPredictOptions = Required<Omit<PredictOptions, "classes">> & { classes: readonly number[] | null };

/** Applies the defaults and checks the ranges, the same for every backend. */
export function resolvePredictOptions(options: PredictOptions = {}): ResolvedPredictOptions {
  const resolved = {
    confThres: options.confThres ?? DETECT_CONF_THRES,
    iouThres: options.iouThres ?? DETECT_IOU_THRES,
    maxDet: options.maxDet ?? DETECT_MAX_DET,
    agnostic: options.agnostic ?? false,
    skipAttributes: options.skipAttributes ?? false,
    classes: options.classes && options.classes.length > 0 ? options.classes : null,
  };
  for (const key of ["confThres", "iouThres"] as const) {
    const v = resolved[key];
    if (!(v >= 0 && v <= 1)) throw new OptionError(key, `${v} is outside [0, 1]`);
  }
  if (!(Number.isInteger(resolved.maxDet) && resolved.maxDet > 0))
    throw new OptionError("maxDet", `${resolved.maxDet} must be a positive integer`);
  return resolved;
}

/** Checks a batch against a model: 3 channels, data length, sides multiples of the stride, imgsz > 0. */
export function checkInputBatch(batch: InputBatch, maxStride: number): void {
  const [b, c, h, w] = batch.shape;
  if (c !== 3) throw new Error(`predict: expected 3 channels, found ${c}`);
  if (batch.data.length !== b * c * h * w)
    throw new Error(`predict: ${batch.data.length} values for shape [${batch.shape}] (${b * c * h * w} expected)`);
  if (h % maxStride !== 0 || w % maxStride !== 0)
    throw new Error(`predict: input ${h}×${w} is not a multiple of the model's stride ${maxStride}`);
  if (!(batch.imgsz > 0)) throw new Error(`predict: imgsz ${batch.imgsz} must be > 0`);
}

/**
 * The batch's fine view for a head that pools one at `scale` (PredictorInfo.attributeImageScale): `batch.fine`, checked
 * against the batch's shape; null when the head pools the network input (scale 1).
 */
export function fineView(batch: InputBatch, scale: number): NonNullable<InputBatch["fine"]> | null {
  if (scale === 1) return null;
  const [b, c, h, w] = batch.shape;
  const fine = batch.fine;
  if (!fine)
    throw new Error(
      `predict: this attribute head pools a ${scale}× fine view of the input: letterbox the batch with fineScale ${scale}`,
    );
  const want = [b, c, scale * h, scale * w];
  if (fine.shape.some((v, i) => v !== want[i]) || fine.data.length !== b * c * scale * scale * h * w)
    throw new Error(`predict: the fine view is [${fine.shape}] with ${fine.data.length} values, expected [${want}]`);
  return fine;
}

/**
 * The attribute head's inputs for every detection of a batch: rows (image index, x1, y1, x2, y2) normalised to the
 * input, sizes (w, h) / imgsz (src/model/attribute-inference.ts) and classes (for a head with class input), in image
 * order.
 */
export function detectionRois(
  boxes: readonly Float32Array[],
  size: { h: number; w: number; imgsz: number },
): { rois: Float32Array; sizes: Float32Array; classes: Int32Array; counts: number[] } {
  const counts = boxes.map((b) => b.length / DETECTION_COLUMNS);
  const total = counts.reduce((a, b) => a + b, 0);
  const rois = new Float32Array(total * 5);
  const sizes = new Float32Array(total * 2);
  const classes = new Int32Array(total);
  let k = 0;
  boxes.forEach((rows, b) => {
    for (let i = 0; i < rows.length; i += DETECTION_COLUMNS, k++) {
      const [x1, y1, x2, y2] = [rows[i]!, rows[i + 1]!, rows[i + 2]!, rows[i + 3]!];
      rois.set([b, x1 / size.w, y1 / size.h, x2 / size.w, y2 / size.h], k * 5);
      sizes.set([(x2 - x1) / size.imgsz, (y2 - y1) / size.imgsz], k * 2);
      classes[k] = rows[i + 5]!;
    }
  });
  return { rois, sizes, classes, counts };
}

/** Splits the head's probabilities for all detections of a batch back into one part per image. */
export function splitAttributes(
  cellSize: Float32Array,
  binary: Float32Array,
  counts: readonly number[],
): AttributeProbabilities[] {
  let start = 0;
  return counts.map((n) => {
    const part = {
      cellSize: cellSize.slice(start * CELL_SIZE_VALUES, (start + n) * CELL_SIZE_VALUES),
      binary: binary.slice(start * BINARY_VALUES, (start + n) * BINARY_VALUES),
    };
    start += n;
    return part;
  });
}

/** Columns of a detection row: x1, y1, x2, y2, confidence, class. */
export const DETECTION_COLUMNS = 6;
