/**
 * The public API's detector (tfjs-models' `load()` / `detect()` / `dispose()`): {@link load} opens weights on a
 * backend, {@link Detector.detect} finds the cells of images in memory or on disk and returns them in original
 * pixels with their class, confidence and 7 attributes, {@link Detector.detectToFolder} runs `sladet detect` with the
 * open model. A thin facade over the predictor contract (src/infer/predictor.ts), the letterbox of detect
 * (src/infer/sources.ts) and detect's cell mapping (src/infer/outputs.ts): the numbers are `sladet detect`'s.
 */
import { decodeImageBytes, type RgbImage } from "../data/images.js";
import { LLD_ATTRIBUTES } from "../data/schema.js";
import { type CreatePredictorOptions, createPredictor } from "../infer/create-predictor.js";
import { backendFor, modelFileFor } from "../infer/model-file.js";
import { cellsOf, predictedCell } from "../infer/outputs.js";
import type { PredictedCell } from "../infer/prediction-json.js";
import {
  type Backend,
  type PredictOptions,
  type Predictor,
  type PredictorInfo,
  resolvePredictOptions,
} from "../infer/predictor.js";
import { type DecodedImage, decodeImage, letterboxBatch } from "../infer/sources.js";
import { DEFAULT_IMG_SIZE, DETECT_BATCH_SIZE } from "../runs/defaults.js";
import { type DetectOptions, type DetectResult, runDetect } from "../runs/detect-run.js";
import { OptionError } from "../util/errors.js";

/** Options of {@link load}. */
export interface LoadOptions {
  /**
   * The inference engine: "libtorch" (the native addon) or "onnx" (onnxruntime, for an `.onnx` export; the addon is
   * not loaded). @default "onnx" for an `.onnx` file, otherwise "libtorch"
   */
  backend?: Backend;
  /** libtorch: "cpu", or "cuda:N" with a CUDA libtorch. @default "cpu" */
  device?: string;
  /** onnx: intra-op threads. @default the core count */
  threads?: number;
  /**
   * libtorch: the seed's attribute head (`Attribute_model/last_weights.pth`), replacing the checkpoint's; the way to
   * give a YOLOv5 `.pt` its attributes. @default none: the checkpoint's own head, if it has one
   */
  attrWeights?: string;
}

/** An image to detect on: a file path, the bytes of an encoded image (JPEG, PNG, TIFF, WebP, BMP), or RGB pixels. */
export type ImageInput = string | Uint8Array | RgbImage;

/** Options of {@link Detector.detect}: post-processing (YOLOv5's NMS) and the network size. */
export interface DetectImagesOptions extends PredictOptions {
  /**
   * Network size: each image's long side is resized to it (aspect ratio kept, padded to the stride).
   * A fixed-size ONNX export uses its own size. @default DEFAULT_IMG_SIZE (640)
   */
  imgsz?: number;
  /** Images per forward pass (a static ONNX export's batch overrides it). @default DETECT_BATCH_SIZE (1) */
  batchSize?: number;
}

/** The cells found in one image. */
export interface ImageDetections {
  /** The file path given, or null for an image given as bytes or pixels. */
  source: string | null;
  /** Size of the image in pixels (after EXIF orientation). */
  width: number;
  height: number;
  /**
   * By confidence, descending: box (x1, y1, x2, y2 in the image's pixels), class index and name, confidence, and,
   * when the model has an attribute head and `skipAttributes` is off, the 7 attributes by name, each with its value,
   * value index and the probability of every value (the schema of `predictions.json`, unrounded: the model's floats).
   */
  cells: PredictedCell[];
}

/** Options of {@link Detector.detectToFolder}: `sladet detect`'s options, less the model (the detector's). */
export type DetectToFolderOptions = Omit<
  DetectOptions,
  "source" | "weights" | "backend" | "predictor" | "predictorOptions"
>;

/** A model open for inference. Call {@link Detector.dispose} when done: it frees native memory. */
export class Detector {
  /** The weights file the model was read from. */
  readonly weights: string;
  /** Backend, class names, stride and whether the model predicts attributes. */
  readonly info: PredictorInfo;
  #predictor: Predictor | null;

  /** Use {@link load}. */
  constructor(weights: string, predictor: Predictor) {
    this.weights = weights;
    this.info = predictor.info;
    this.#predictor = predictor;
  }

  /** Class names, by class index. */
  get names(): readonly string[] {
    return this.info.names;
  }

  /** The attribute names and their value names, in the order of a cell's `attributes`. */
  get attributes(): readonly { name: string; values: readonly string[] }[] {
    return this.info.hasAttributes ? LLD_ATTRIBUTES.map((a) => ({ name: a.name, values: a.values })) : [];
  }

  /**
   * Finds the cells of one image or of several (one result per input, in order). Files are decoded with their EXIF
   * orientation; a file that cannot be decoded rejects the call with its path and the reason.
   */
  async detect(
    inputs: ImageInput | readonly ImageInput[],
    options: DetectImagesOptions = {},
  ): Promise<ImageDetections[]> {
    const predictor = this.#open();
    const list: readonly ImageInput[] = Array.isArray(inputs) ? inputs : [inputs as ImageInput];
    const { info } = predictor;
    const { imgsz: _imgsz, batchSize: _batchSize, ...post } = options;
    resolvePredictOptions(post); // range errors before any image is decoded
    const imgsz = info.fixedInput ? Math.max(...info.fixedInput) : (options.imgsz ?? DEFAULT_IMG_SIZE);
    checkPositiveInteger("imgsz", imgsz);
    if (imgsz < info.maxStride)
      throw new OptionError("imgsz", `${imgsz} is smaller than the model's stride ${info.maxStride}`);
    const batchSize = info.fixedBatch ?? options.batchSize ?? DETECT_BATCH_SIZE;
    checkPositiveInteger("batchSize", batchSize);
    const results: ImageDetections[] = [];
    for (let start = 0; start < list.length; start += batchSize) {
      const decoded = await Promise.all(list.slice(start, start + batchSize).map(decodeInput));
      const boxed = await letterboxBatch(decoded, {
        imgsz,
        stride: info.maxStride,
        fixedInput: info.fixedInput,
        batchSize: info.fixedBatch ?? decoded.length,
        fineScale: post.skipAttributes ? 1 : info.attributeImageScale,
      });
      const predictions = await predictor.predict(boxed.batch, post);
      decoded.forEach(({ file, image }, i) => {
        const cells = cellsOf(predictions[i]!, boxed.transforms[i]!).map((c) => predictedCell(c, info.names, false));
        results.push({ source: file || null, width: image.width, height: image.height, cells });
      });
    }
    return results;
  }

  /**
   * `sladet detect` with this model: finds the images of `source` (an image, a folder, a glob or a .txt list) and
   * writes a run folder (annotated images, predictions.csv, predictions.json, legend.txt, report.html); the detector
   * stays open.
   */
  async detectToFolder(source: string, options: DetectToFolderOptions = {}): Promise<DetectResult> {
    return runDetect({ ...options, source, weights: this.weights, predictor: this.#open() });
  }

  /** Frees the model's native memory (tensors or the onnxruntime session). Idempotent. */
  async dispose(): Promise<void> {
    const predictor = this.#predictor;
    this.#predictor = null;
    await predictor?.dispose();
  }

  #open(): Predictor {
    if (!this.#predictor) throw new Error("this Detector was disposed");
    return this.#predictor;
  }
}

function checkPositiveInteger(field: string, v: number): void {
  if (!(Number.isInteger(v) && v > 0)) throw new OptionError(field, `${v} must be a positive integer`);
}

/** An input as detect's decoded image; `file` is "" for bytes and pixels. */
async function decodeInput(input: ImageInput): Promise<DecodedImage> {
  if (typeof input === "string") {
    try {
      return await decodeImage(input);
    } catch (err) {
      throw new Error(`${input}: ${(err as Error).message}`);
    }
  }
  if (input instanceof Uint8Array) return { file: "", image: await decodeImageBytes(input) };
  const { data, width, height } = input;
  if (data.length !== width * height * 3)
    throw new OptionError(
      "inputs",
      `an RgbImage of ${width}×${height} needs ${width * height * 3} bytes, found ${data.length}`,
    );
  return { file: "", image: input };
}

/**
 * Opens a model for inference: a sladet checkpoint (`.safetensors`, with its attribute head when it carries one), a
 * YOLOv5 `.pt` (plus the seed's attribute head with `attrWeights`), a run folder (its `weights/best`; with backend
 * "onnx" its `weights/best.onnx`) or an `.onnx` export (run by onnxruntime).
 *
 * @example
 * const detector = await load("runs/train/exp");
 * const [image] = await detector.detect("film.jpg", { confThres: 0.3 });
 * for (const cell of image.cells) console.log(cell.name, cell.confidence, cell.attributes?.["Cell Size"]?.value);
 * await detector.dispose();
 */
export async function load(weights: string, options: LoadOptions = {}): Promise<Detector> {
  const backend = backendFor(weights, options.backend);
  const file = modelFileFor(weights, backend);
  const predictorOptions: CreatePredictorOptions = {
    ...(options.device === undefined ? {} : { device: options.device }),
    ...(options.threads === undefined ? {} : { threads: options.threads }),
    ...(options.attrWeights === undefined ? {} : { attrWeights: options.attrWeights }),
  };
  return new Detector(file, await createPredictor(backend, file, predictorOptions));
}
