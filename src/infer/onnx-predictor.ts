/**
 * The onnxruntime backend: runs a model written by `sladet export --format onnx` (the detector graph and, when
 * exported, the attribute graph beside it) with onnxruntime-node, NMS in JavaScript (js-nms.ts). Nothing here loads
 * libtorch: this backend works where the native addon cannot be built.
 */
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import type { InferenceSession, Tensor as OrtTensor } from "onnxruntime-node";
import { OnnxModelError, type OnnxModelMetadata, readMetadata } from "../export/onnx-metadata.js";
import { decodeOnnxModel } from "../export/onnx-proto.js";
import { attributeInputName } from "../model/attribute-io.js";
import { nmsRows } from "./js-nms.js";
import {
  checkInputBatch,
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

export interface OnnxPredictorOptions {
  /** Intra-op threads. @default SLADET_THREADS, else the core count */
  threads?: number;
  /**
   * Let the intra-op workers spin-wait between runs and ops. Off by default: in `sladet detect` the detector's and
   * the attribute head's pools and sharp's threads share the cores, and spinning workers took them from each other
   * (bench/detect: attributes 31 → 17 ms, drawing 38 → 29 ms per image on 2 cores, the forward unchanged). A bare
   * loop of forwards with nothing else to run may gain from it. @default false
   */
  spinning?: boolean;
}

/**
 * The session options of both graphs (detector and attribute head): `threads` intra-op threads, one inter-op thread
 * with sequential execution (the graphs are chains: no parallel branches worth a second pool), every graph
 * optimisation (Conv+activation fusion, NCHWc layout on x86), spin-waiting as {@link OnnxPredictorOptions.spinning}.
 */
export function onnxSessionOptions(threads: number, spinning = false): InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: "all",
    executionMode: "sequential",
    extra: { session: { intra_op: { allow_spinning: spinning ? "1" : "0" } } },
  };
}

type Ort = typeof import("onnxruntime-node");

function defaultThreads(): number {
  const env = Number(process.env.SLADET_THREADS);
  return Number.isInteger(env) && env > 0 ? env : availableParallelism();
}

/** Reads an exported model's sladet metadata (the ONNX file's metadata props). */
export function readOnnxMetadata(path: string): OnnxModelMetadata {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new OnnxModelError(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let props: { key: string; value: string }[];
  try {
    props = decodeOnnxModel(bytes).metadata_props ?? [];
  } catch (err) {
    throw new OnnxModelError(`${path}: not an ONNX model (${(err as Error).message})`);
  }
  return readMetadata(props, path);
}

class OnnxPredictor implements Predictor, StageTimedPredictor {
  readonly info: PredictorInfo;
  lastTimings: PredictTimings | null = null;
  #released = false;

  constructor(
    private readonly ort: Ort,
    private readonly detector: InferenceSession,
    private readonly head: InferenceSession | null,
    readonly meta: OnnxModelMetadata,
  ) {
    this.info = {
      backend: "onnx",
      names: meta.names,
      maxStride: Math.max(...meta.strides),
      hasAttributes: head !== null,
      fixedInput: meta.dynamic ? null : meta.imgsz,
      fixedBatch: meta.dynamic ? null : meta.batch,
      attributeImageScale: head ? (meta.attributeImageScale ?? 1) : 1,
    };
  }

  async predict(batch: InputBatch, options: PredictOptions = {}): Promise<ImagePrediction[]> {
    if (this.#released) throw new Error("OnnxPredictor: used after dispose()");
    this.#checkShape(batch);
    const resolved = resolvePredictOptions(options);
    const t0 = performance.now();
    const [b, , h, w] = batch.shape;
    const images = new this.ort.Tensor("float32", batch.data, [...batch.shape]);
    let out: InferenceSession.OnnxValueMapType | null = null;
    let headImages: OrtTensor | null = null; // the fine view, for a head that pools one
    try {
      out = await this.detector.run({ images });
      const tNms = performance.now();
      const decoded = out.output0!;
      const no = decoded.dims[2]!;
      const rows = decoded.data as Float32Array;
      const perImage = rows.length / b;
      const preds: ImagePrediction[] = Array.from({ length: b }, (_, i) => ({
        ...nmsRows(rows.subarray(i * perImage, (i + 1) * perImage), no, resolved),
        attributes: null,
      }));
      const t1 = performance.now();
      const withHead = this.head !== null && !resolved.skipAttributes;
      if (withHead) {
        const fine = fineView(batch, this.info.attributeImageScale);
        headImages = fine ? new this.ort.Tensor("float32", fine.data, [...fine.shape]) : null;
        await this.#attributes(preds, headImages ?? images, out, { h, w, imgsz: batch.imgsz });
      }
      this.lastTimings = { forwardMs: t1 - t0, nmsMs: t1 - tNms, attributesMs: withHead ? performance.now() - t1 : 0 };
      return preds;
    } finally {
      for (const t of Object.values(out ?? {})) t.dispose();
      images.dispose();
      headImages?.dispose();
    }
  }

  #checkShape(batch: InputBatch): void {
    checkInputBatch(batch, this.info.maxStride);
    const [b, , h, w] = batch.shape;
    const fixed = this.info.fixedInput;
    if (fixed && (fixed[0] !== h || fixed[1] !== w))
      throw new Error(
        `this ONNX export takes ${fixed[0]}×${fixed[1]} inputs only (re-export with --dynamic), got ${h}×${w}`,
      );
    if (this.info.fixedBatch !== null && this.info.fixedBatch !== b)
      throw new Error(`this ONNX export takes batches of ${this.info.fixedBatch} (re-export with --dynamic), got ${b}`);
  }

  /** Runs the attribute graph once on every detection of the batch. */
  async #attributes(
    preds: ImagePrediction[],
    images: OrtTensor,
    out: InferenceSession.OnnxValueMapType,
    size: { h: number; w: number; imgsz: number },
  ): Promise<void> {
    const { rois, sizes, classes, counts } = detectionRois(
      preds.map((p) => p.boxes),
      size,
    );
    const k = counts.reduce((a, b) => a + b, 0);
    if (k === 0) {
      for (const p of preds) p.attributes = { cellSize: new Float32Array(0), binary: new Float32Array(0) };
      return;
    }
    const own: OrtTensor[] = [
      new this.ort.Tensor("float32", rois, [k, 5]),
      new this.ort.Tensor("float32", sizes, [k, 2]),
    ];
    const feeds: Record<string, OrtTensor> = { rois: own[0]!, sizes: own[1]! };
    if (this.head!.inputNames.includes("classes")) {
      own.push(
        new this.ort.Tensor(
          "int64",
          BigInt64Array.from(classes, (c) => BigInt(c)),
          [k],
        ),
      );
      feeds.classes = own[2]!;
    }
    for (const tap of this.meta.attributeTaps ?? []) {
      const name = attributeInputName(tap);
      feeds[name] = name === "images" ? images : (out[tap] as OrtTensor);
    }
    let res: InferenceSession.OnnxValueMapType | null = null;
    try {
      res = await this.head!.run(feeds);
      const parts = splitAttributes(res.cell_size!.data as Float32Array, res.binary!.data as Float32Array, counts);
      preds.forEach((p, i) => {
        p.attributes = parts[i]!;
      });
    } finally {
      for (const t of [...own, ...Object.values(res ?? {})]) t.dispose();
    }
  }

  async dispose(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    await this.detector.release();
    await this.head?.release();
  }
}

/** Opens an ONNX model written by `sladet export --format onnx` (and its attribute graph, when it names one). */
export async function createOnnxPredictor(path: string, options: OnnxPredictorOptions = {}): Promise<Predictor> {
  const meta = readOnnxMetadata(path);
  if (meta.graph !== "detect")
    throw new OnnxModelError(`${path}: this is an attribute graph; pass the detector's .onnx file beside it`);
  const ort = await import("onnxruntime-node");
  const sessionOptions = onnxSessionOptions(options.threads ?? defaultThreads(), options.spinning ?? false);
  const open = async (file: string) => {
    try {
      return await ort.InferenceSession.create(file, sessionOptions);
    } catch (err) {
      throw new OnnxModelError(`${file}: onnxruntime cannot load it (${(err as Error).message})`);
    }
  };
  const detector = await open(path);
  let head: InferenceSession | null = null;
  if (meta.attributeModel) {
    try {
      head = await open(join(dirname(path), meta.attributeModel));
    } catch (err) {
      await detector.release();
      throw err;
    }
  }
  return new OnnxPredictor(ort, detector, head, meta);
}
