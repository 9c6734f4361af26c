/**
 * What sladet writes into an exported model's metadata props and reads back when running it: class names, strides,
 * input geometry, the attribute schema and where the attribute graph is. Torch-free (the ONNX backend uses it).
 */
import { isFineScale, MAX_FINE_SCALE } from "../data/constants.js";
import { LLD_ATTRIBUTES } from "../data/schema.js";
import { ConfigError } from "../util/errors.js";

/** Marks a model file as sladet's ONNX export. */
export const ONNX_FORMAT = "sladet-onnx";
/** Bumped on an incompatible change of the graphs' inputs, outputs or metadata. */
export const ONNX_FORMAT_VERSION = 1;

export interface OnnxModelMetadata {
  format: typeof ONNX_FORMAT;
  formatVersion: number;
  sladetVersion: string;
  /** "detect" for the detector graph, "attributes" for the head's. */
  graph: "detect" | "attributes";
  names: string[];
  /** Stride of each Detect level; the input sides must be multiples of the largest. */
  strides: number[];
  /** [H, W] of the export (the only accepted size unless dynamic). */
  imgsz: [number, number];
  /** Batch size of a static export. */
  batch: number;
  dynamic: boolean;
  /** The attribute graph's file, relative to this file's folder; null without attributes. */
  attributeModel: string | null;
  /** The head's taps, in its input order (`image` = the input images; others are detector outputs of that name). */
  attributeTaps: string[] | null;
  /**
   * The head's fine view (hyp attr_image_scale): its `images` input takes the batch at this many times the detector
   * input's side, placed the same way. Absent (exports before it existed) or 1: the detector's input itself.
   */
  attributeImageScale?: number;
  /** Attribute names and value names (LLD order). */
  attributes: { name: string; code: string; values: string[] }[] | null;
}

/** The attribute schema recorded with an exported head. */
export function attributeSchema(): NonNullable<OnnxModelMetadata["attributes"]> {
  return LLD_ATTRIBUTES.map((a) => ({ name: a.name, code: a.code, values: [...a.values] }));
}

/** Metadata as ONNX metadata props: Ultralytics' keys (names as a {index: name} map, stride as the largest stride,
 * imgsz, batch, task) and sladet's full record under `sladet`. */
export function metadataProps(meta: OnnxModelMetadata): Record<string, string> {
  return {
    description: `sladet ${meta.graph === "detect" ? "white-blood-cell detector" : "cell attribute head"}`,
    author: "sladet",
    version: meta.sladetVersion,
    task: meta.graph === "detect" ? "detect" : "attributes",
    stride: String(Math.max(...meta.strides)),
    batch: String(meta.batch),
    imgsz: JSON.stringify(meta.imgsz),
    names: JSON.stringify(Object.fromEntries(meta.names.map((n, i) => [String(i), n]))),
    sladet: JSON.stringify(meta),
  };
}

/** A model file that is not a readable sladet ONNX export (a user error: names the file and what is wrong). */
export class OnnxModelError extends ConfigError {
  override name = "OnnxModelError";
}

/** Reads sladet's metadata from an exported model's metadata props. */
export function readMetadata(props: readonly { key: string; value: string }[], source: string): OnnxModelMetadata {
  const raw = props.find((p) => p.key === "sladet")?.value;
  if (raw === undefined)
    throw new OnnxModelError(
      `${source}: not a sladet ONNX export (no "sladet" metadata); export one with: sladet export --format onnx`,
    );
  let meta: OnnxModelMetadata;
  try {
    meta = JSON.parse(raw) as OnnxModelMetadata;
  } catch (err) {
    throw new OnnxModelError(`${source}: the "sladet" metadata is not JSON (${(err as Error).message})`);
  }
  if (meta.format !== ONNX_FORMAT) throw new OnnxModelError(`${source}: metadata format is not ${ONNX_FORMAT}`);
  if (!(meta.formatVersion <= ONNX_FORMAT_VERSION))
    throw new OnnxModelError(
      `${source}: exported by a newer sladet (format ${meta.formatVersion}; this one reads ${ONNX_FORMAT_VERSION})`,
    );
  const k = meta.attributeImageScale;
  if (k !== undefined && !isFineScale(k))
    throw new OnnxModelError(
      `${source}: metadata attributeImageScale must be a whole number from 1 to ${MAX_FINE_SCALE}, found ${JSON.stringify(k)}`,
    );
  return meta;
}
