/**
 * sladet's checkpoint: one safetensors file (written atomically) holding the detector's tensors under `detector.` and
 * the attribute head's under `attributes.`, with a JSON document in the header metadata (key `sladet`): the model
 * description, class names, anchors, strides, feature taps, attribute schema and head shape, training
 * hyperparameters, epoch, metrics and the sladet version that wrote it.
 */
import { isFineScale, MAX_FINE_SCALE } from "../data/constants.js";
import { type AttributeSpec, LLD_ATTRIBUTES } from "../data/schema.js";
import { firstNonFinite, parseSafetensors, serializeSafetensors, type Tensor } from "../torch/index.js";
import { writeFileAtomic } from "../util/fs.js";
import { sladetVersion } from "../util/package-root.js";
import { readWeightsFile } from "../util/weights-file.js";
import {
  AttributeHead,
  type AttributeHeadConfig,
  attributeHeadValueCount,
  extraInputChannels,
  IMAGE_NORMS,
} from "./attribute-head.js";
import { type ModelYaml, resolveLayers, validateModelYaml } from "./config.js";
import { MAX_ATTRIBUTE_IN_CHANNELS, MAX_ATTRIBUTE_ROI_SIDE, MAX_CLASSES, stateValueCount } from "./limits.js";
import { YoloModel } from "./yolo.js";

/** Value of `format` in the metadata. */
export const CHECKPOINT_FORMAT = "sladet-checkpoint";
/** Version of the layout below; readers refuse newer ones. */
export const CHECKPOINT_VERSION = 1;
/** Metadata key holding the JSON document. */
const META_KEY = "sladet";
const DETECTOR_PREFIX = "detector.";
const ATTRIBUTES_PREFIX = "attributes.";
const TRAINING_PREFIX = "train.";

/** The JSON document stored with the tensors. */
export interface CheckpointMeta {
  format: typeof CHECKPOINT_FORMAT;
  version: number;
  /** sladet version that wrote the file. */
  sladet: string;
  model: ModelYaml;
  nc: number;
  names: string[];
  /** Anchors per level in pixels ((w, h) pairs), as in a model YAML. */
  anchors: number[][];
  stride: number[];
  taps: Record<string, number>;
  /** The attribute schema the head predicts; null when there is no head. */
  attributes: readonly AttributeSpec[] | null;
  /** The attribute head's shape; null when there is no head. */
  /**
   * Absent in checkpoints written before they existed: taps (then p2, p3), tapChannels, inputNorm (false), boxScale
   * (1), sizeFromBox (false), sizeNorm (null), imageNorm ("cell"), classes (0), imageScale (1).
   */
  attributeHead: (Pick<AttributeHeadConfig, "inChannels" | "roiSize"> & Partial<AttributeHeadConfig>) | null;
  hyp: Record<string, unknown> | null;
  epoch: number | null;
  metrics: Record<string, number> | null;
  /** Where the weights came from (e.g. an imported .pt), free-form. */
  origin: Record<string, unknown> | null;
  /** Training state of an unfinished run (epoch counters, optimizer groups, options); absent otherwise. */
  training?: Record<string, unknown> | null;
}

export interface SaveCheckpointOptions {
  attributeHead?: AttributeHead | null;
  /** Training state for --resume: tensors stored under the "train." prefix, JSON in meta.training. */
  training?: { tensors: Iterable<[string, Tensor]>; state: Record<string, unknown> } | null;
  hyp?: Record<string, unknown> | null;
  epoch?: number | null;
  metrics?: Record<string, number> | null;
  origin?: Record<string, unknown> | null;
}

/** The installed sladet version (package.json); defined torch-free in src/util/package-root.ts. */
export { sladetVersion };

export class SladetCheckpointError extends Error {
  override name = "SladetCheckpointError";
}

/** Anchors of a model in pixels, per level. */
function anchorsPx(model: YoloModel): number[][] {
  const a = model.detect.anchors.data.toArray();
  const per = model.detect.na * 2;
  return model.stride.map((s, l) => a.slice(l * per, (l + 1) * per).map((v) => Math.round(v * s * 1e4) / 1e4));
}

/** The metadata document for a model (and optional head). */
export function checkpointMeta(model: YoloModel, options: SaveCheckpointOptions = {}): CheckpointMeta {
  const head = options.attributeHead ?? null;
  return {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    sladet: sladetVersion(),
    model: model.yaml,
    nc: model.nc,
    names: [...model.names],
    anchors: anchorsPx(model),
    stride: [...model.stride],
    taps: { ...model.taps },
    attributes: head ? LLD_ATTRIBUTES : null,
    attributeHead: head ? head.config : null,
    hyp: options.hyp ?? null,
    epoch: options.epoch ?? null,
    metrics: options.metrics ?? null,
    origin: options.origin ?? null,
    training: options.training?.state ?? null,
  };
}

/** Serialises a model (and optional attribute head) with its metadata to safetensors bytes. */
export function serializeCheckpoint(model: YoloModel, options: SaveCheckpointOptions = {}): Uint8Array {
  const tensors: Array<[string, Tensor]> = [];
  for (const [k, t] of model.stateDict()) tensors.push([DETECTOR_PREFIX + k, t]);
  for (const [k, t] of options.attributeHead?.stateDict() ?? []) tensors.push([ATTRIBUTES_PREFIX + k, t]);
  for (const [k, t] of options.training?.tensors ?? []) tensors.push([TRAINING_PREFIX + k, t]);
  return serializeSafetensors(tensors, { [META_KEY]: JSON.stringify(checkpointMeta(model, options)) });
}

/** Writes a checkpoint atomically (a crash leaves the old file or the new one, never half of one). */
export function saveCheckpoint(path: string, model: YoloModel, options: SaveCheckpointOptions = {}): void {
  writeFileAtomic(path, serializeCheckpoint(model, options));
}

export interface LoadedCheckpoint {
  model: YoloModel;
  attributeHead: AttributeHead | null;
  meta: CheckpointMeta;
  /** Training-state tensors (without their "train." prefix); the caller disposes them. Empty for final weights. */
  training: Map<string, Tensor>;
}

function checkMeta(raw: string | undefined, source: string): CheckpointMeta {
  if (raw === undefined)
    throw new SladetCheckpointError(`${source}: no "${META_KEY}" metadata: not a sladet checkpoint`);
  let meta: CheckpointMeta;
  try {
    meta = JSON.parse(raw) as CheckpointMeta;
  } catch (err) {
    throw new SladetCheckpointError(`${source}: metadata is not JSON (${(err as Error).message})`);
  }
  if (meta?.format !== CHECKPOINT_FORMAT)
    throw new SladetCheckpointError(`${source}: format is not ${CHECKPOINT_FORMAT}`);
  if (!Number.isInteger(meta.version) || meta.version > CHECKPOINT_VERSION) {
    throw new SladetCheckpointError(
      `${source}: checkpoint version ${meta.version} is newer than this sladet reads (${CHECKPOINT_VERSION})`,
    );
  }
  meta.model = validateModelYaml(meta.model, `${source}: model`);
  const names = meta.names as unknown;
  if (!Array.isArray(names) || names.length > MAX_CLASSES || !names.every((n) => typeof n === "string")) {
    throw new SladetCheckpointError(`${source}: metadata "names" must be a list of at most ${MAX_CLASSES} class names`);
  }
  const taps = meta.taps as unknown;
  if (taps === null || typeof taps !== "object" || !Object.values(taps).every((i) => Number.isInteger(i))) {
    throw new SladetCheckpointError(`${source}: metadata "taps" must map tap names to layer indices`);
  }
  if (meta.attributeHead !== null && meta.attributeHead !== undefined) checkHeadMeta(meta.attributeHead, source);
  return meta;
}

const isIntIn = (v: unknown, lo: number, hi: number): v is number =>
  Number.isInteger(v) && (v as number) >= lo && (v as number) <= hi;

/**
 * The attribute head's shape in the metadata: input channels up to {@link MAX_ATTRIBUTE_IN_CHANNELS}, an RoI grid of
 * sides up to {@link MAX_ATTRIBUTE_ROI_SIDE}, tap channels that sum to the input channels, a finite box scale.
 */
function checkHeadMeta(head: NonNullable<CheckpointMeta["attributeHead"]>, source: string): void {
  const fail = (what: string): never => {
    throw new SladetCheckpointError(`${source}: metadata "attributeHead" ${what}`);
  };
  if (!isIntIn(head.inChannels, 1, MAX_ATTRIBUTE_IN_CHANNELS)) {
    fail(`inChannels must be an integer from 1 to ${MAX_ATTRIBUTE_IN_CHANNELS}, found ${head.inChannels}`);
  }
  const roi = head.roiSize as unknown;
  if (!Array.isArray(roi) || roi.length !== 2 || !roi.every((v) => isIntIn(v, 1, MAX_ATTRIBUTE_ROI_SIDE))) {
    fail(`roiSize must be two integers from 1 to ${MAX_ATTRIBUTE_ROI_SIDE}, found ${JSON.stringify(roi)}`);
  }
  const channels = head.tapChannels as unknown;
  if (channels !== undefined) {
    const ok = Array.isArray(channels) && channels.every((c) => isIntIn(c, 1, MAX_ATTRIBUTE_IN_CHANNELS));
    if (!ok || (channels as number[]).reduce((a, b) => a + b, 0) !== head.inChannels) {
      fail(`tapChannels must be channel counts that sum to inChannels (${head.inChannels})`);
    }
  }
  const taps = head.taps as unknown;
  if (taps !== undefined && !(Array.isArray(taps) && taps.every((t) => typeof t === "string")))
    fail("taps must be names");
  if (head.boxScale !== undefined && !Number.isFinite(head.boxScale)) fail("boxScale must be a finite number");
  if (head.sizeFromBox !== undefined && typeof head.sizeFromBox !== "boolean")
    fail("sizeFromBox must be true or false");
  if (head.classes !== undefined && !isIntIn(head.classes, 0, Number.MAX_SAFE_INTEGER))
    fail(`classes must be a whole number >= 0 (0: no class input), found ${JSON.stringify(head.classes)}`);
  if (head.imageScale !== undefined && !isFineScale(head.imageScale))
    fail(`imageScale must be a whole number from 1 to ${MAX_FINE_SCALE}, found ${JSON.stringify(head.imageScale)}`);
  if (head.imageNorm !== undefined && !IMAGE_NORMS.includes(head.imageNorm))
    fail(`imageNorm must be one of ${IMAGE_NORMS.join(", ")}, found ${JSON.stringify(head.imageNorm)}`);
  const norm = head.sizeNorm as unknown;
  if (norm !== undefined && norm !== null) {
    const ok =
      Array.isArray(norm) && norm.length === 4 && norm.every((v) => typeof v === "number" && Number.isFinite(v));
    if (!ok || !(norm[2] > 0 && norm[3] > 0))
      fail("sizeNorm must be [mean w, mean h, sd w, sd h] with positive deviations");
  }
}

/** Number of values a set of tensors holds. */
function valueCount(tensors: Iterable<Tensor>): number {
  let n = 0;
  for (const t of tensors) n += t.numel;
  return n;
}

/**
 * Checks, before any model is built, that the file holds the model its metadata describes: exactly as many detector
 * values as the description gives (counted without building it), as many attribute-head values as its shape gives,
 * and only finite floating-point values.
 */
function checkTensorsAgainstMeta(meta: CheckpointMeta, tensors: Map<string, Tensor>, source: string): void {
  const expected = stateValueCount(resolveLayers(meta.model, `${source}: model`));
  const detector = [...tensors].filter(([k]) => k.startsWith(DETECTOR_PREFIX)).map(([, t]) => t);
  const found = valueCount(detector);
  if (found !== expected) {
    throw new SladetCheckpointError(
      `${source}: the metadata describes a detector of ${expected} values, but the file holds ${found}`,
    );
  }
  if (meta.attributeHead) {
    const { inChannels, roiSize } = meta.attributeHead;
    const head = valueCount([...tensors].filter(([k]) => k.startsWith(ATTRIBUTES_PREFIX)).map(([, t]) => t));
    const extra = extraInputChannels({
      taps: meta.attributeHead.taps ?? [],
      tapChannels: meta.attributeHead.tapChannels ?? [inChannels],
      inputNorm: meta.attributeHead.inputNorm ?? false,
      imageNorm: meta.attributeHead.imageNorm,
    });
    const classes = meta.attributeHead.classes ?? 0;
    if (classes !== 0 && classes !== meta.model.nc) {
      throw new SladetCheckpointError(
        `${source}: the attribute head reads ${classes} classes but the detector has ${meta.model.nc}`,
      );
    }
    const wanted = attributeHeadValueCount(
      inChannels,
      roiSize,
      meta.attributeHead.sizeFromBox ?? false,
      extra,
      classes,
    );
    if (head !== wanted) {
      throw new SladetCheckpointError(
        `${source}: the metadata describes an attribute head of ${wanted} values (${inChannels} channels, RoI ${roiSize.join("×")}), but the file holds ${head}`,
      );
    }
  }
  const bad = firstNonFinite(tensors);
  if (bad !== null) throw new SladetCheckpointError(`${source}: tensor "${bad}" holds NaN or infinite values`);
}

/** A multi-line message (a state dict's problems, one per line) as one line, for the CLI. */
function oneLine(message: string): string {
  return message.replace(/\n\s*/g, "; ");
}

/** Reads checkpoint bytes: builds the model (and head) and loads every tensor strictly. */
export function parseCheckpoint(bytes: Uint8Array, source = "<checkpoint>"): LoadedCheckpoint {
  let parsed: ReturnType<typeof parseSafetensors>;
  try {
    parsed = parseSafetensors(bytes, { source });
  } catch (err) {
    const message = (err as Error).message; // names the file, unless something unforeseen broke
    throw new SladetCheckpointError(message.startsWith(`${source}:`) ? message : `${source}: ${message}`);
  }
  const { tensors, metadata } = parsed;
  let model: YoloModel | null = null;
  let head: AttributeHead | null = null;
  try {
    const meta = checkMeta(metadata[META_KEY], source);
    checkTensorsAgainstMeta(meta, tensors, source);
    const part = (prefix: string) =>
      new Map([...tensors].filter(([k]) => k.startsWith(prefix)).map(([k, t]) => [k.slice(prefix.length), t]));
    model = new YoloModel(meta.model, { source, names: meta.names, taps: meta.taps, initBiases: false });
    model.loadStateDict(part(DETECTOR_PREFIX));
    if (meta.attributeHead) {
      head = new AttributeHead({ inputNorm: false, boxScale: 1, ...meta.attributeHead });
      head.loadStateDict(part(ATTRIBUTES_PREFIX));
    }
    const known = [DETECTOR_PREFIX, ATTRIBUTES_PREFIX, TRAINING_PREFIX];
    const stray = [...tensors.keys()].filter((k) => !known.some((p) => k.startsWith(p)));
    if (stray.length) throw new SladetCheckpointError(`${source}: unexpected tensors ${stray.join(", ")}`);
    const training = part(TRAINING_PREFIX);
    for (const k of training.keys()) tensors.delete(TRAINING_PREFIX + k); // handed to the caller, not disposed below
    return { model, attributeHead: head, meta, training };
  } catch (err) {
    model?.dispose();
    head?.dispose();
    if (err instanceof SladetCheckpointError) throw err;
    throw new SladetCheckpointError(`${source}: ${oneLine((err as Error).message)}`);
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
}

/** Reads a sladet checkpoint file. */
export function loadCheckpoint(path: string): LoadedCheckpoint {
  return parseCheckpoint(readWeightsFile(path, "checkpoint"), path);
}
