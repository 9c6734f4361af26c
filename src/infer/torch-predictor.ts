/**
 * The libtorch backend of the {@link Predictor} contract: a sladet checkpoint or a YOLOv5 .pt (loadForInference), its
 * convolutions fused with their BatchNorms, YOLOv5's NMS (src/eval/nms.ts) and, when the checkpoint carries one, the
 * attribute head on the detections exactly as evaluation runs it (boxes normalised to the input, sizes = box (w, h) /
 * the network size), with softmax probabilities. Every call runs under inference mode in a tidy scope: only typed
 * arrays leave it, so repeated calls keep the native memory flat.
 */

import { nonMaxSuppression } from "../eval/nms.js";
import { loadForInference } from "../eval/val-run.js";
import type { AttributeHead } from "../model/attribute-head.js";
import { attributeLogits, headMaps, modelTaps } from "../model/attribute-inference.js";
import type { YoloModel } from "../model/yolo.js";
import { inferenceMode, resolveDevice, type Tensor, tensor, tidy } from "../torch/index.js";
import type {
  AttributeProbabilities,
  ImagePrediction,
  InputBatch,
  PredictOptions,
  Predictor,
  PredictorInfo,
} from "./predictor.js";
import type { PredictTimings, StageTimedPredictor } from "./timings.js";

/** Options of {@link createTorchPredictor}. */
export interface TorchPredictorOptions {
  /** "cpu", "cuda:N" (with a CUDA libtorch). @default "cpu" */
  device?: string;
}

/** Defaults of {@link PredictOptions} (the seed's detect.py). */
export const DETECT_CONF_THRES = 0.25;
export const DETECT_IOU_THRES = 0.45;
export const DETECT_MAX_DET = 1000;

/** Columns of a detection row: x1, y1, x2, y2, confidence, class. */
const DET_COLUMNS = 6;
/** Values of Cell Size and binary attributes per detection in {@link AttributeProbabilities}. */
const CELL_SIZE_VALUES = 3;
const BINARY_VALUES = 12;

/** Checks a batch against the model: shape, data length, sides multiple of the stride. */
export function checkInputBatch(batch: InputBatch, maxStride: number): void {
  const [b, c, h, w] = batch.shape;
  if (c !== 3) throw new Error(`predict: expected 3 channels, found ${c}`);
  if (batch.data.length !== b * c * h * w)
    throw new Error(`predict: ${batch.data.length} values for shape [${batch.shape}] (${b * c * h * w} expected)`);
  if (h % maxStride !== 0 || w % maxStride !== 0)
    throw new Error(`predict: input ${h}×${w} is not a multiple of the model's stride ${maxStride}`);
  if (!(batch.imgsz > 0)) throw new Error(`predict: imgsz ${batch.imgsz} must be > 0`);
}

class TorchPredictor implements Predictor, StageTimedPredictor {
  readonly info: PredictorInfo;
  lastTimings: PredictTimings | null = null;
  #model: YoloModel | null;
  #head: AttributeHead | null;
  readonly #device: string;

  constructor(model: YoloModel, head: AttributeHead | null, device: string) {
    this.#model = model;
    this.#head = head;
    this.#device = device;
    this.info = {
      backend: "libtorch",
      names: [...model.names],
      maxStride: Math.max(...model.stride),
      hasAttributes: head !== null,
      fixedInput: null,
      fixedBatch: null,
    };
  }

  async predict(batch: InputBatch, options: PredictOptions = {}): Promise<ImagePrediction[]> {
    const model = this.#model;
    if (!model) throw new Error("predict: the predictor was disposed");
    checkInputBatch(batch, this.info.maxStride);
    const head = options.skipAttributes ? null : this.#head;
    const [, , h, w] = batch.shape;
    const t0 = performance.now();
    let t1 = t0;
    let tNms = t0;
    const result = inferenceMode(() =>
      tidy(() => {
        const images = tensor(batch.data, [...batch.shape], { device: this.#device });
        const out = model.forward(images, { decode: true, taps: head ? modelTaps(head) : [] });
        // NMS and its class filter run on the CPU (the kernel itself does; the filter's constant is a CPU tensor)
        const decoded = this.#device === "cpu" ? out.decoded! : out.decoded!.to("cpu");
        tNms = performance.now();
        const detections = nonMaxSuppression(decoded, {
          confThres: options.confThres ?? DETECT_CONF_THRES,
          iouThres: options.iouThres ?? DETECT_IOU_THRES,
          maxDet: options.maxDet ?? DETECT_MAX_DET,
          agnostic: options.agnostic ?? false,
          ...(options.classes ? { classes: options.classes } : {}),
        });
        const boxes = detections.map((d) => d.toTypedArray<"float32">());
        t1 = performance.now();
        const attributes = head
          ? this.#attributes(head, out.features, images, boxes, { h, w, imgsz: batch.imgsz })
          : null;
        return { boxes, attributes };
      }),
    );
    const t2 = performance.now();
    this.lastTimings = { forwardMs: t1 - t0, nmsMs: t1 - tNms, attributesMs: head ? t2 - t1 : 0 };
    return result.boxes.map((boxes, b) => ({
      count: boxes.length / DET_COLUMNS,
      boxes,
      attributes: result.attributes?.[b] ?? null,
    }));
  }

  /** Softmax probabilities of the head for every detection of the batch, split per image. */
  #attributes(
    head: AttributeHead,
    features: Record<string, Tensor>,
    images: Tensor,
    boxes: readonly Float32Array[],
    size: { h: number; w: number; imgsz: number },
  ): AttributeProbabilities[] {
    const counts = boxes.map((b) => b.length / DET_COLUMNS);
    const total = counts.reduce((a, b) => a + b, 0);
    const empty = () => ({ cellSize: new Float32Array(0), binary: new Float32Array(0) });
    if (total === 0) return counts.map(empty);
    const rois = new Float32Array(total * 5);
    const sizes = new Float32Array(total * 2);
    let k = 0;
    boxes.forEach((rows, b) => {
      for (let i = 0; i < rows.length; i += DET_COLUMNS, k++) {
        const [x1, y1, x2, y2] = [rows[i]!, rows[i + 1]!, rows[i + 2]!, rows[i + 3]!];
        rois.set([b, x1 / size.w, y1 / size.h, x2 / size.w, y2 / size.h], k * 5);
        sizes.set([(x2 - x1) / size.imgsz, (y2 - y1) / size.imgsz], k * 2);
      }
    });
    const logits = attributeLogits(
      head,
      headMaps(head, features, images),
      tensor(rois, [total, 5], { device: this.#device }),
      tensor(sizes, [total, 2], { device: this.#device }),
    );
    const cellSize = logits.cellSize.softmax(1).toTypedArray<"float32">();
    const binary = logits.binary.softmax(2).toTypedArray<"float32">();
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

  async dispose(): Promise<void> {
    this.#model?.dispose();
    this.#head?.dispose();
    this.#model = null;
    this.#head = null;
  }
}

/**
 * Opens weights for inference on libtorch: a sladet checkpoint (with its attribute head when it has one) or a YOLOv5
 * .pt, in eval mode with fused convolutions, on `device`.
 */
export async function createTorchPredictor(
  weights: string,
  options: TorchPredictorOptions = {},
): Promise<Predictor & StageTimedPredictor> {
  const device = resolveDevice(options.device ?? "cpu");
  const { model, attributeHead } = loadForInference(weights);
  try {
    model.eval();
    attributeHead?.eval();
    if (device !== "cpu") {
      model.to(device);
      attributeHead?.to(device);
    }
    model.fuse();
    return new TorchPredictor(model, attributeHead, device);
  } catch (err) {
    model.dispose();
    attributeHead?.dispose();
    throw err;
  }
}
