/**
 * The libtorch backend of the {@link Predictor} contract: a model opened by loadInferenceModel (src/io/inference-model.ts), its
 * convolutions fused with their BatchNorms, YOLOv5's NMS (src/eval/nms.ts) and, when the checkpoint carries one, the
 * attribute head on the detections exactly as evaluation runs it (boxes normalised to the input, sizes = box (w, h) /
 * the network size), with softmax probabilities. Every call runs under inference mode in a tidy scope: only typed
 * arrays leave it, so repeated calls keep the native memory flat.
 */

import { nonMaxSuppression } from "../eval/nms.js";
import { type LoadInferenceModelOptions, loadInferenceModel } from "../io/inference-model.js";
import type { AttributeHead } from "../model/attribute-head.js";
import { attributeLogits, headMaps, modelTaps } from "../model/attribute-inference.js";
import type { YoloModel } from "../model/yolo.js";
import { inferenceMode, type Tensor, tensor, tidy } from "../torch/index.js";
import {
  type AttributeProbabilities,
  checkInputBatch,
  DETECTION_COLUMNS,
  detectionRois,
  fineView,
  type ImagePrediction,
  type InputBatch,
  type PredictOptions,
  type Predictor,
  type PredictorInfo,
  resolvePredictOptions,
  splitAttributes,
} from "./predictor.js";
import type { PredictTimings, StageTimedPredictor } from "./timings.js";

/** Options of {@link createTorchPredictor}: the device and the seed's attribute head (a YOLOv5 .pt has none). */
export type TorchPredictorOptions = LoadInferenceModelOptions;

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
      attributeImageScale: head?.imageScale ?? 1,
    };
  }

  async predict(batch: InputBatch, options: PredictOptions = {}): Promise<ImagePrediction[]> {
    const model = this.#model;
    if (!model) throw new Error("predict: the predictor was disposed");
    checkInputBatch(batch, this.info.maxStride);
    const resolved = resolvePredictOptions(options);
    const head = resolved.skipAttributes ? null : this.#head;
    const [, , h, w] = batch.shape;
    const t0 = performance.now();
    let t1 = t0;
    let tNms = t0;
    const result = inferenceMode(() =>
      tidy(() => {
        const images = tensor(batch.data, [...batch.shape], { device: this.#device });
        // channels last: oneDNN's NHWC convolutions (1.2–1.4× faster on the CPU); the same values
        const out = model.forward(images.channelsLast(), { decode: true, taps: head ? modelTaps(head) : [] });
        // NMS and its class filter run on the CPU (the kernel itself does; the filter's constant is a CPU tensor)
        const decoded = this.#device === "cpu" ? out.decoded! : out.decoded!.to("cpu");
        tNms = performance.now();
        const { classes, ...nms } = resolved;
        const detections = nonMaxSuppression(decoded, { ...nms, ...(classes ? { classes } : {}) });
        const boxes = detections.map((d) => d.toTypedArray<"float32">());
        t1 = performance.now();
        const fine = head ? fineView(batch, head.imageScale) : null;
        const headImages = fine ? tensor(fine.data, [...fine.shape], { device: this.#device }) : images;
        const attributes = head
          ? this.#attributes(head, out.features, headImages, boxes, { h, w, imgsz: batch.imgsz })
          : null;
        return { boxes, attributes };
      }),
    );
    const t2 = performance.now();
    this.lastTimings = { forwardMs: t1 - t0, nmsMs: t1 - tNms, attributesMs: head ? t2 - t1 : 0 };
    return result.boxes.map((boxes, b) => ({
      count: boxes.length / DETECTION_COLUMNS,
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
    const { rois, sizes, classes, counts } = detectionRois(boxes, size);
    const total = counts.reduce((a, b) => a + b, 0);
    if (total === 0) return counts.map(() => ({ cellSize: new Float32Array(0), binary: new Float32Array(0) }));
    const logits = attributeLogits(
      head,
      headMaps(head, features, images),
      tensor(rois, [total, 5], { device: this.#device }),
      tensor(sizes, [total, 2], { device: this.#device }),
      head.classes > 0 ? tensor(classes, [total], { dtype: "int64", device: this.#device }) : undefined,
    );
    const cellSize = logits.cellSize.softmax(1).toTypedArray<"float32">();
    const binary = logits.binary.softmax(2).toTypedArray<"float32">();
    return splitAttributes(cellSize, binary, counts);
  }

  async dispose(): Promise<void> {
    this.#model?.dispose();
    this.#head?.dispose();
    this.#model = null;
    this.#head = null;
  }
}

/**
 * Opens weights for inference on libtorch (src/io/inference-model.ts: a sladet checkpoint with its attribute head when
 * it has one, a YOLOv5 .pt or a run folder; the seed's head with `attrWeights`), with fused convolutions, on `device`.
 */
export async function createTorchPredictor(
  weights: string,
  options: TorchPredictorOptions = {},
): Promise<Predictor & StageTimedPredictor> {
  const { model, attributeHead, device } = loadInferenceModel(weights, options);
  try {
    model.fuse();
    return new TorchPredictor(model, attributeHead, device);
  } catch (err) {
    model.dispose();
    attributeHead?.dispose();
    throw err;
  }
}
