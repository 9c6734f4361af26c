/**
 * `sladet export --format onnx` as a library call: load the weights (sladet checkpoint, YOLOv5 .pt with the seed's
 * head, or a run folder's weights/best), build the graphs, write them, then open them in onnxruntime and run one
 * batch of zeros before reporting success (a file onnxruntime rejects is removed, not left behind).
 */
import { rmSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import {
  attributeModelPath,
  buildOnnx,
  DEFAULT_ONNX_OPSET,
  type OnnxExportOptions,
  strideMultiple,
  writeOnnx,
} from "../export/onnx-export.js";
import { loadInferenceModel, resolveWeightsFile } from "../io/inference-model.js";
import { OptionError } from "../util/errors.js";

/** Options of {@link runOnnxExport} (every field given: the CLI and the public API apply the defaults). */
export interface OnnxCommandOptions {
  /** A sladet checkpoint, a YOLOv5 .pt or a run folder (its weights/best). */
  weights: string;
  /** The seed's attribute head (Attribute_model/*.pth) to export instead of the checkpoint's; null: none. */
  attrWeights: string | null;
  /** Output path; default: the weights' path with .onnx. */
  out: string | null;
  /** [size] or [height, width]; rounded up to stride multiples. */
  imgsz: number[];
  /** Dynamic batch, height and width. */
  dynamic: boolean;
  /** Batch size of a static export. */
  batch: number;
  /** @default DEFAULT_ONNX_OPSET */
  opset?: number;
  /** auto = the attribute head when the weights have one. */
  include: "auto" | "attributes" | "none";
  /** Print what was written (and the image-size rounding). @default true */
  verbose?: boolean;
}

/** The files an ONNX export wrote and the input size it was exported at. */
export interface OnnxCommandResult {
  model: string;
  attributes: string | null;
  imgsz: [number, number];
}

function defaultOut(weights: string): string {
  return join(dirname(weights), `${basename(weights).replace(/\.(safetensors|pt)$/i, "")}.onnx`);
}

const mib = (path: string) => `${(statSync(path).size / 2 ** 20).toFixed(1)} MiB`;

/** Exports weights to ONNX, checks the files in onnxruntime, and prints where they are (see the module comment). */
export async function runOnnxExport(options: OnnxCommandOptions): Promise<OnnxCommandResult> {
  const weights = resolveWeightsFile(options.weights);
  if (options.imgsz.length < 1 || options.imgsz.length > 2)
    throw new OptionError("imgsz", `takes one size or height and width, got ${options.imgsz.length} numbers`);
  const started = performance.now();
  const loaded = loadInferenceModel(weights, options.attrWeights ? { attrWeights: options.attrWeights } : {});
  const head = loaded.attributeHead;
  try {
    if (options.include === "attributes" && !head)
      throw new OptionError("include", `attributes: ${weights} has no attribute head`);
    const exportHead = options.include === "none" ? null : head;
    const maxStride = Math.max(...loaded.model.stride);
    const [h0, w0] = [options.imgsz[0]!, options.imgsz[1] ?? options.imgsz[0]!];
    const imgsz: [number, number] = [strideMultiple(h0, maxStride), strideMultiple(w0, maxStride)];
    const verbose = options.verbose ?? true;
    if (verbose && (imgsz[0] !== h0 || imgsz[1] !== w0))
      process.stderr.write(
        `export: image size ${h0} ${w0} rounded up to ${imgsz.join(" ")} (multiples of stride ${maxStride})\n`,
      );
    const exportOptions: OnnxExportOptions = {
      imgsz,
      dynamic: options.dynamic,
      batch: options.batch,
      ...(options.opset === undefined ? {} : { opset: options.opset }),
    };
    const out = options.out ?? defaultOut(weights);
    const built = buildOnnx(loaded.model, exportHead, exportOptions, basename(attributeModelPath(out)));
    const paths = writeOnnx(built, out);
    await verifyInOnnxRuntime(paths, imgsz, options.dynamic ? 1 : options.batch);
    const secs = ((performance.now() - started) / 1000).toFixed(1);
    if (!verbose) return { ...paths, imgsz };
    const shape = options.dynamic
      ? "[batch, 3, height, width] (dynamic)"
      : `[${options.batch}, 3, ${imgsz.join(", ")}]`;
    process.stdout.write(
      `export: ${weights} → ONNX opset ${exportOptions.opset ?? DEFAULT_ONNX_OPSET}, input images ${shape}, ` +
        `output0 [batch, anchors, ${built.meta.names.length + 5}] (xywh, objectness, class scores), ${built.nodes} nodes\n` +
        `  ${paths.model} (${mib(paths.model)})\n` +
        (paths.attributes ? `  ${paths.attributes} (${mib(paths.attributes)}): the attribute head\n` : "") +
        `  checked in onnxruntime; ${secs} s\n` +
        `run it: sladet detect --backend onnx --weights ${paths.model} --source <images>\n`,
    );
    return { ...paths, imgsz };
  } finally {
    loaded.model.dispose();
    head?.dispose();
  }
}

/** Opens the files in onnxruntime and runs a batch of zeros; removes them when that fails. */
async function verifyInOnnxRuntime(
  paths: { model: string; attributes: string | null },
  [h, w]: [number, number],
  batch: number,
): Promise<void> {
  const { createOnnxPredictor } = await import("../infer/onnx-predictor.js"); // onnxruntime loads only here
  try {
    const predictor = await createOnnxPredictor(paths.model);
    try {
      const k = predictor.info.attributeImageScale;
      const fine = { data: new Float32Array(batch * 3 * k * h * k * w), shape: [batch, 3, k * h, k * w] as const };
      await predictor.predict({
        data: new Float32Array(batch * 3 * h * w),
        shape: [batch, 3, h, w],
        imgsz: Math.max(h, w),
        ...(k === 1 ? {} : { fine }),
      });
    } finally {
      await predictor.dispose();
    }
  } catch (err) {
    rmSync(paths.model, { force: true });
    if (paths.attributes) rmSync(paths.attributes, { force: true });
    throw new Error(`the exported model failed in onnxruntime and was removed: ${(err as Error).message}`);
  }
}
