/**
 * `sladet export --format onnx`: builds the detector graph (and the attribute head's, when asked and present) from
 * a sladet checkpoint or a YOLOv5 .pt, writes `<out>.onnx` (and `<out>.attributes.onnx`) atomically, and checks that
 * onnxruntime loads and runs each file before reporting success.
 */
import { basename, dirname, join } from "node:path";
import { ATTRIBUTE_LEAKY_SLOPE, type AttributeHead } from "../model/attribute-head.js";
import { modelTaps } from "../model/attribute-inference.js";
import { sladetVersion } from "../model/checkpoint.js";
import type { YoloModel } from "../model/yolo.js";
import { OptionError } from "../util/errors.js";
import { writeFileAtomic } from "../util/fs.js";
import { emitAttributeHead } from "./attribute-graph.js";
import { GraphBuilder } from "./graph-builder.js";
import {
  attributeSchema,
  metadataProps,
  ONNX_FORMAT,
  ONNX_FORMAT_VERSION,
  type OnnxModelMetadata,
} from "./onnx-metadata.js";
import { encodeOnnxModel, OnnxDataType, type OnnxDim } from "./onnx-proto.js";
import { emitYolo } from "./yolo-graph.js";

/** Opsets the exporter writes: 16 brings RoiAlign's aligned=false mode; 18 moves ReduceMean's axes to an input. */
export const ONNX_OPSETS = [16, 17] as const;
/** Default opset (the newest that ONNX 1.12's checker, Debian 12's, knows). */
export const DEFAULT_ONNX_OPSET = 17;

export interface OnnxExportOptions {
  /** [H, W] input size (multiples of the largest stride). */
  imgsz: [number, number];
  /** Symbolic batch, height and width. @default false */
  dynamic?: boolean;
  /** Batch size of a static export. @default 1 */
  batch?: number;
  /** @default DEFAULT_ONNX_OPSET */
  opset?: number;
}

export interface OnnxExportResult {
  /** The detector graph. */
  model: Uint8Array;
  /** The attribute head's graph, or null. */
  attributes: Uint8Array | null;
  meta: OnnxModelMetadata;
  nodes: number;
}

/** Largest multiple of `stride` ≥ `size` (YOLOv5's check_img_size rounds up). */
export function strideMultiple(size: number, stride: number): number {
  return Math.ceil(size / stride) * stride;
}

/** Builds the ONNX bytes of a model (and head) in memory. `attributeFile` names the head's file in the metadata. */
export function buildOnnx(
  model: YoloModel,
  head: AttributeHead | null,
  options: OnnxExportOptions,
  attributeFile: string | null,
): OnnxExportResult {
  const opset = options.opset ?? DEFAULT_ONNX_OPSET;
  if (!(ONNX_OPSETS as readonly number[]).includes(opset))
    throw new OptionError("opset", `${opset}: sladet writes opset ${ONNX_OPSETS.join(" or ")}`);
  const dynamic = options.dynamic ?? false;
  const batch = options.batch ?? 1;
  const maxStride = Math.max(...model.stride);
  const [h, w] = options.imgsz;
  if (h % maxStride || w % maxStride)
    throw new OptionError("imgsz", `${h}×${w}: sides must be multiples of the model's stride ${maxStride}`);
  const meta: OnnxModelMetadata = {
    format: ONNX_FORMAT,
    formatVersion: ONNX_FORMAT_VERSION,
    sladetVersion: sladetVersion(),
    graph: "detect",
    names: [...model.names],
    strides: [...model.stride],
    imgsz: [h, w],
    batch,
    dynamic,
    attributeModel: head ? attributeFile : null,
    attributeTaps: head ? [...head.taps] : null,
    ...(head && head.imageScale !== 1 ? { attributeImageScale: head.imageScale } : {}),
    attributes: head ? attributeSchema() : null,
  };
  const g = new GraphBuilder("sladet_detect");
  const inDims: OnnxDim[] = dynamic ? ["batch", 3, "height", "width"] : [batch, 3, h, w];
  const images = g.input("images", OnnxDataType.FLOAT, inDims, "RGB in 0..1, letterboxed");
  const taps = head ? modelTaps(head) : [];
  const out = emitYolo(g, model, images, taps);
  const detect = model.detect;
  const rows = model.stride.reduce((n, s) => n + detect.na * (h / s) * (w / s), 0);
  g.output(
    out.decoded,
    "output0",
    OnnxDataType.FLOAT,
    dynamic ? ["batch", "anchors", detect.no] : [batch, rows, detect.no],
  );
  for (const tap of taps) {
    g.output(out.taps[tap]!, tap, OnnxDataType.FLOAT, [
      "batch",
      model.tapChannels(tap),
      `${tap}_height`,
      `${tap}_width`,
    ]);
  }
  const props = metadataProps(meta);
  const modelBytes = encodeOnnxModel(g.toModel({ opset, producerVersion: meta.sladetVersion, metadata: props }));
  let attributes: Uint8Array | null = null;
  if (head) {
    const hg = new GraphBuilder("sladet_attributes");
    emitAttributeHead(hg, head, ATTRIBUTE_LEAKY_SLOPE);
    const headMeta = metadataProps({ ...meta, graph: "attributes", attributeModel: null });
    attributes = encodeOnnxModel(hg.toModel({ opset, producerVersion: meta.sladetVersion, metadata: headMeta }));
  }
  return { model: modelBytes, attributes, meta, nodes: g.nodeCount };
}

/** `<stem>.attributes.onnx` beside `<stem>.onnx`. */
export function attributeModelPath(modelPath: string): string {
  return join(dirname(modelPath), `${basename(modelPath).replace(/\.onnx$/i, "")}.attributes.onnx`);
}

/** Writes the files (the head's first, so a model never names a head that is not there). Returns their paths. */
export function writeOnnx(result: OnnxExportResult, out: string): { model: string; attributes: string | null } {
  const attrPath = result.attributes ? attributeModelPath(out) : null;
  if (attrPath && result.attributes) writeFileAtomic(attrPath, result.attributes);
  writeFileAtomic(out, result.model);
  return { model: out, attributes: attrPath };
}
