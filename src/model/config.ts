/**
 * Model descriptions in the Ultralytics YAML form: `nc`, `depth_multiple`, `width_multiple`, `anchors`, and the
 * `backbone` + `head` rows `[from, number, module, args]`. Parsing validates the shape of the description and names the
 * file and the row of every problem; {@link resolveLayers} then applies YOLOv5's depth/width rules to give concrete
 * layer specifications (channels, repeats, resolved arguments) without allocating any tensor.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { InputFileError, MAX_YAML_BYTES, readBoundedText } from "../util/bounded-read.js";
import { PACKAGE_ROOT } from "../util/package-root.js";
import { pythonRound } from "../util/round.js";
import {
  BOTTLENECK_EXPANSION,
  BOX_OUTPUTS,
  C3_EXPANSION,
  CHANNEL_DIVISOR,
  DEFAULT_ANCHORS,
  SPPF_KERNEL,
  STRIDE_PROBE_SIZE,
} from "./constants.js";
import {
  MAX_ANCHOR_PIXELS,
  MAX_ANCHORS_PER_LEVEL,
  MAX_CLASSES,
  MAX_DEPTH_MULTIPLE,
  MAX_DETECT_LEVELS,
  MAX_LAYERS,
  MAX_MODEL_VALUES,
  MAX_PROBE_ACTIVATIONS,
  MAX_UPSAMPLE_FACTOR,
  MAX_WIDTH_MULTIPLE,
  probeActivationCount,
  stateValueCount,
} from "./limits.js";

/** Input layer(s) of a row: −1 = the previous layer, k ≥ 0 = layer k, a list for Concat and Detect. */
export type LayerFrom = number | number[];

/** One `[from, number, module, args]` row. */
export type LayerRow = [LayerFrom, number, string, unknown[]];

/** A model description (the dict Ultralytics keeps as `model.yaml`, also found inside its checkpoints). */
export interface ModelYaml {
  nc: number;
  depth_multiple: number;
  width_multiple: number;
  /** Per level, (w, h) pixel pairs; or the number of anchors per level (values then come from AutoAnchor). */
  anchors: number[][] | number;
  backbone: LayerRow[];
  head: LayerRow[];
  /** Input channels. @default 3 */
  ch?: number;
  /** Any other keys of the source (kept so that a description round-trips). */
  [extra: string]: unknown;
}

/** The module types a description may use (after dropping `nn.` / `torch.nn.` / `models.common.` prefixes). */
export const MODULE_KINDS = ["Conv", "C3", "Bottleneck", "SPPF", "Upsample", "Concat", "Detect"] as const;
export type ModuleKind = (typeof MODULE_KINDS)[number];

/** The built-in scales, with their published depth and width multiples (in `src/model/cfg/yolov5<scale>.yaml`). */
export const YOLOV5_SCALES = ["n", "s", "m", "l", "x"] as const;
export type Yolov5Scale = (typeof YOLOV5_SCALES)[number];

/** Folder of the built-in model YAMLs. */
export const CFG_DIR = join(PACKAGE_ROOT, "src", "model", "cfg");

/** An invalid model description: the message names the source and the row. */
export class ModelConfigError extends Error {
  override name = "ModelConfigError";
}

function fail(source: string, message: string): never {
  throw new ModelConfigError(`${source}: ${message}`);
}

const isInt = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v);
const isPositive = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v) && v > 0;

function checkRow(row: unknown, where: string, source: string): LayerRow {
  if (!Array.isArray(row) || row.length !== 4) fail(source, `${where}: expected [from, number, module, args]`);
  const [from, number, module, args] = row as unknown[];
  const fromOk = isInt(from) || (Array.isArray(from) && from.length > 0 && from.every(isInt));
  if (!fromOk) fail(source, `${where}: "from" must be an integer or a list of integers, found ${JSON.stringify(from)}`);
  if (!isInt(number) || number < 1) fail(source, `${where}: "number" must be an integer ≥ 1, found ${number}`);
  if (typeof module !== "string") fail(source, `${where}: "module" must be a name, found ${JSON.stringify(module)}`);
  if (!Array.isArray(args)) fail(source, `${where}: "args" must be a list, found ${JSON.stringify(args)}`);
  return [from as LayerFrom, number, module, args];
}

/**
 * Checks an anchors entry: a count from 1 to {@link MAX_ANCHORS_PER_LEVEL}, or 1 to {@link MAX_DETECT_LEVELS} lists of
 * equally many (w, h) pairs (at most {@link MAX_ANCHORS_PER_LEVEL}), each side positive and at most
 * {@link MAX_ANCHOR_PIXELS}.
 */
function checkAnchors(anchors: unknown, what: string, source: string): void {
  if (isInt(anchors)) {
    if (anchors < 1 || anchors > MAX_ANCHORS_PER_LEVEL) {
      fail(source, `${what} as a count must be from 1 to ${MAX_ANCHORS_PER_LEVEL}, found ${anchors}`);
    }
    return;
  }
  const side = (v: unknown) => isPositive(v) && v <= MAX_ANCHOR_PIXELS;
  const ok =
    Array.isArray(anchors) &&
    anchors.length > 0 &&
    anchors.length <= MAX_DETECT_LEVELS &&
    anchors.every(
      (a) =>
        Array.isArray(a) &&
        a.length > 0 &&
        a.length % 2 === 0 &&
        a.length <= 2 * MAX_ANCHORS_PER_LEVEL &&
        a.every(side) &&
        a.length === anchors[0].length,
    );
  if (!ok) {
    fail(
      source,
      `${what} must be 1 to ${MAX_DETECT_LEVELS} equal-length lists of at most ${MAX_ANCHORS_PER_LEVEL} (w, h) pixel pairs (each in (0, ${MAX_ANCHOR_PIXELS}]), or a count`,
    );
  }
}

/** Checks a parsed description (from YAML or from a checkpoint's `model.yaml` dict) and returns it typed. */
export function validateModelYaml(value: unknown, source: string): ModelYaml {
  if (value === null || typeof value !== "object" || Array.isArray(value)) fail(source, "expected a mapping");
  const d = value as Record<string, unknown>;
  const nc = d["nc"];
  if (!isInt(nc) || nc < 1 || nc > MAX_CLASSES) {
    fail(source, `"nc" must be an integer from 1 to ${MAX_CLASSES}, found ${nc}`);
  }
  const multiples = { depth_multiple: MAX_DEPTH_MULTIPLE, width_multiple: MAX_WIDTH_MULTIPLE };
  for (const [key, max] of Object.entries(multiples)) {
    if (!isPositive(d[key]) || (d[key] as number) > max) {
      fail(source, `"${key}" must be a number in (0, ${max}], found ${d[key]}`);
    }
  }
  const anchors = d["anchors"] ?? DEFAULT_ANCHORS.map((a) => [...a]);
  checkAnchors(anchors, `"anchors"`, source);
  if (d["ch"] !== undefined && (!isInt(d["ch"]) || (d["ch"] as number) < 1)) {
    fail(source, `"ch" must be an integer ≥ 1, found ${d["ch"]}`);
  }
  const rows = (key: "backbone" | "head"): LayerRow[] => {
    const list = d[key];
    if (!Array.isArray(list)) fail(source, `"${key}" must be a list of rows`);
    if (list.length > MAX_LAYERS) fail(source, `"${key}" has ${list.length} rows, more than ${MAX_LAYERS}`);
    return list.map((r, i) => checkRow(r, `${key} row ${i}`, source));
  };
  return {
    ...d,
    anchors: anchors as ModelYaml["anchors"],
    backbone: rows("backbone"),
    head: rows("head"),
  } as ModelYaml;
}

/** Parses YAML text holding a model description. */
export function parseModelYaml(text: string, source = "<model yaml>"): ModelYaml {
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (err) {
    fail(source, `not valid YAML (${(err as Error).message.split("\n")[0]})`);
  }
  return validateModelYaml(value, source);
}

/** The text of a model YAML file: a regular file of at most MAX_YAML_BYTES (a ModelConfigError otherwise). */
function readModelYamlText(path: string): string {
  try {
    return readBoundedText(path, MAX_YAML_BYTES);
  } catch (e) {
    if (e instanceof InputFileError) throw new ModelConfigError(e.message);
    throw e;
  }
}

/**
 * Reads a model description: a path to a YAML file, or a built-in name (`yolov5n` … `yolov5x`, with or without
 * `.yaml`) when no such file exists.
 */
export function loadModelYaml(pathOrName: string): ModelYaml {
  if (existsSync(pathOrName)) return parseModelYaml(readModelYamlText(pathOrName), pathOrName);
  const m = /^yolov5([nsmlx])(\.ya?ml)?$/.exec(pathOrName);
  if (m) return builtinModelYaml(m[1] as Yolov5Scale);
  throw new ModelConfigError(
    `${pathOrName}: no such model YAML (give a file, or one of ${YOLOV5_SCALES.map((s) => `yolov5${s}`).join(", ")})`,
  );
}

/** One of the built-in YOLOv5 v6.0 descriptions, with `nc` replaced when given. */
export function builtinModelYaml(scale: Yolov5Scale, nc?: number): ModelYaml {
  const path = join(CFG_DIR, `yolov5${scale}.yaml`);
  const yaml = parseModelYaml(readFileSync(path, "utf8"), path);
  return nc === undefined ? yaml : { ...yaml, nc };
}

/** YOLOv5's channel rounding: the smallest multiple of `divisor` ≥ x. */
export function makeDivisible(x: number, divisor = CHANNEL_DIVISOR): number {
  return Math.ceil(x / divisor) * divisor;
}

/** Python's round() (halves to even), which YOLOv5's depth rule uses (re-exported from util/round). */
export { pythonRound };

/** YOLOv5's depth rule: repeats n > 1 become max(round(n·depth), 1); n = 1 stays 1. */
export function scaledDepth(n: number, depthMultiple: number): number {
  return n > 1 ? Math.max(pythonRound(n * depthMultiple), 1) : n;
}

/** Arguments per module kind, after YOLOv5's rules (channels scaled, repeats moved into C3). */
export type LayerArgs =
  | { kind: "Conv"; c1: number; c2: number; k: number; s: number; p: number | null; g: number; act: boolean }
  | { kind: "C3"; c1: number; c2: number; n: number; shortcut: boolean; g: number; e: number }
  | { kind: "Bottleneck"; c1: number; c2: number; shortcut: boolean; g: number; e: number }
  | { kind: "SPPF"; c1: number; c2: number; k: number }
  | { kind: "Upsample"; size: number | [number, number] | null; scaleFactor: number | null; mode: string }
  | { kind: "Concat"; dim: number }
  | { kind: "Detect"; nc: number; anchors: number[][]; ch: number[] };

/** A concrete layer: where its input comes from, what it is, how many copies (a Sequential when > 1). */
export interface LayerSpec {
  index: number;
  /** Input layer indices as written (−1 = previous), see {@link absoluteFrom}. */
  from: LayerFrom;
  /** Copies chained in a Sequential (1 = the module itself). C3 holds its repeats inside, so this is 1 for C3. */
  repeats: number;
  args: LayerArgs;
  /** Output channels. */
  outChannels: number;
}

/** The absolute index of input `f` of layer `i` (Python list indexing over the outputs so far; −1 for the image). */
export function absoluteFrom(f: number, i: number): number {
  return f < 0 ? i + f : f;
}

function normaliseKind(module: string): ModuleKind | undefined {
  const name = module.replace(/^(torch\.nn\.|nn\.|models\.common\.|models\.yolo\.)/, "");
  return (MODULE_KINDS as readonly string[]).includes(name) ? (name as ModuleKind) : undefined;
}

/** YOLOv5 evaluates string arguments: `nc`, `anchors`, `None`, `True`, `False` name values; other strings stay. */
function evalArg(a: unknown, nc: number, anchors: ModelYaml["anchors"]): unknown {
  if (typeof a !== "string") return a;
  const table: Record<string, unknown> = { nc, anchors, None: null, True: true, False: false };
  return a in table ? table[a] : a;
}

/** Expands the anchors entry: a count n gives n placeholder pairs per level (to be set by AutoAnchor or a checkpoint). */
function anchorLists(anchors: unknown, levels: number, where: string, source: string): number[][] {
  if (isInt(anchors)) return Array.from({ length: levels }, () => Array.from({ length: anchors * 2 }, (_, j) => j));
  if (!Array.isArray(anchors) || anchors.length !== levels) {
    fail(source, `${where}: Detect needs one anchor list per input (${levels}), found ${JSON.stringify(anchors)}`);
  }
  return anchors as number[][];
}

/** An Upsample scales by an integer factor up to {@link MAX_UPSAMPLE_FACTOR}, or to a size it could reach by one. */
function checkUpsample(size: unknown, scale: number | null, where: string, source: string): void {
  if (scale !== null && !(scale > 0 && scale <= MAX_UPSAMPLE_FACTOR)) {
    fail(source, `${where}: the scale factor must be in (0, ${MAX_UPSAMPLE_FACTOR}], found ${scale}`);
  }
  if (size === null) return;
  const sides = Array.isArray(size) ? size : [size];
  const maxSide = STRIDE_PROBE_SIZE * MAX_UPSAMPLE_FACTOR;
  if (sides.length === 0 || sides.length > 2 || !sides.every((v) => isInt(v) && v >= 1 && v <= maxSide)) {
    fail(source, `${where}: the size must be one or two integers from 1 to ${maxSide}, found ${JSON.stringify(size)}`);
  }
}

/**
 * The model the layers describe must hold at most {@link MAX_MODEL_VALUES} values and its stride probe compute at most
 * {@link MAX_PROBE_ACTIVATIONS}: both counted before anything is allocated.
 */
function checkModelSize(specs: readonly LayerSpec[], source: string): void {
  const values = stateValueCount(specs);
  if (values > MAX_MODEL_VALUES) {
    fail(
      source,
      `describes a model of ${values.toExponential(2)} values, more than ${MAX_MODEL_VALUES} (a damaged or crafted description?)`,
    );
  }
  const activations = probeActivationCount(specs, STRIDE_PROBE_SIZE);
  if (activations > MAX_PROBE_ACTIVATIONS) {
    fail(
      source,
      `a ${STRIDE_PROBE_SIZE}² image through this model makes ${activations.toExponential(2)} activation values, more than ${MAX_PROBE_ACTIVATIONS}`,
    );
  }
}

/**
 * Applies YOLOv5's rules (v6.0 `parse_model`) to a description: channels of Conv/C3/Bottleneck/SPPF are
 * `make_divisible(c·width, 8)`, repeats `max(round(n·depth), 1)` (C3 holds them inside), Concat sums its inputs'
 * channels, Detect receives its inputs' channels.
 */
export function resolveLayers(yaml: ModelYaml, source = "<model yaml>"): LayerSpec[] {
  const rows = [...yaml.backbone, ...yaml.head];
  const { nc, depth_multiple: gd, width_multiple: gw } = yaml;
  const na = isInt(yaml.anchors) ? yaml.anchors : (yaml.anchors[0]?.length ?? 0) / 2;
  const no = na * (nc + BOX_OUTPUTS);
  const channels: number[] = [];
  const specs: LayerSpec[] = [];
  for (const [i, [from, number, module, rawArgs]] of rows.entries()) {
    const where = `layer ${i} (${module})`;
    const kind = normaliseKind(module);
    if (!kind) fail(source, `${where}: unknown module "${module}" (supported: ${MODULE_KINDS.join(", ")})`);
    const inputs = (Array.isArray(from) ? from : [from]).map((f) => {
      const j = absoluteFrom(f, i);
      if (i === 0 && j === -1) return j; // the first layer reads the image
      if (j < 0 || j >= i) fail(source, `${where}: "from" ${f} does not name an earlier layer`);
      return j;
    });
    const chIn = (j: number) => (i === 0 ? (yaml.ch ?? 3) : channels[j]!);
    const args = rawArgs.map((a) => evalArg(a, nc, yaml.anchors));
    const num = (k: number, dflt: number): number => {
      const v = args[k] ?? dflt;
      if (typeof v !== "number" || !Number.isFinite(v)) fail(source, `${where}: argument ${k} must be a number`);
      return v;
    };
    const bool = (k: number, dflt: boolean): boolean => {
      const v = args[k] ?? dflt;
      if (typeof v !== "boolean") fail(source, `${where}: argument ${k} must be true or false`);
      return v;
    };
    const single = (): number => {
      if (Array.isArray(from)) fail(source, `${where}: takes one input, "from" is a list`);
      return chIn(inputs[0]!);
    };
    const outCh = (k: number): number => {
      const c2 = num(k, Number.NaN);
      if (!isInt(c2) || c2 < 1) fail(source, `${where}: output channels must be an integer ≥ 1`);
      return c2 !== no ? makeDivisible(c2 * gw) : c2;
    };
    let n = scaledDepth(number, gd);
    let spec: LayerArgs;
    let c2: number;
    switch (kind) {
      case "Conv": {
        const p = args[3] ?? null;
        if (p !== null && !isInt(p)) fail(source, `${where}: padding must be an integer or null`);
        c2 = outCh(0);
        spec = { kind, c1: single(), c2, k: num(1, 1), s: num(2, 1), p, g: num(4, 1), act: bool(5, true) };
        break;
      }
      case "C3":
        c2 = outCh(0);
        spec = { kind, c1: single(), c2, n, shortcut: bool(1, true), g: num(2, 1), e: num(3, C3_EXPANSION) };
        n = 1;
        break;
      case "Bottleneck":
        c2 = outCh(0);
        spec = { kind, c1: single(), c2, shortcut: bool(1, true), g: num(2, 1), e: num(3, BOTTLENECK_EXPANSION) };
        break;
      case "SPPF":
        c2 = outCh(0);
        spec = { kind, c1: single(), c2, k: num(1, SPPF_KERNEL) };
        break;
      case "Upsample": {
        c2 = single();
        const size = args[0] ?? null;
        const scale = args[1] ?? null;
        if (size === null && scale === null) fail(source, `${where}: needs a size or a scale factor`);
        spec = {
          kind,
          size: size as number | [number, number] | null,
          scaleFactor: scale === null ? null : num(1, 2),
          mode: String(args[2] ?? "nearest"),
        };
        if (spec.mode !== "nearest") fail(source, `${where}: only mode "nearest" is supported, found ${spec.mode}`);
        checkUpsample(spec.size, spec.scaleFactor, where, source);
        break;
      }
      case "Concat":
        c2 = inputs.reduce((s, j) => s + chIn(j), 0);
        spec = { kind, dim: num(0, 1) };
        break;
      case "Detect": {
        const detNc = num(0, nc);
        if (!isInt(detNc) || detNc < 1 || detNc > MAX_CLASSES) {
          fail(source, `${where}: nc must be an integer from 1 to ${MAX_CLASSES}`);
        }
        checkAnchors(args[1] ?? yaml.anchors, `${where}: anchors`, source);
        const anchors = anchorLists(args[1] ?? yaml.anchors, inputs.length, where, source);
        c2 = 0;
        spec = { kind, nc: detNc, anchors, ch: inputs.map(chIn) };
        break;
      }
    }
    if (i === rows.length - 1 && kind !== "Detect") fail(source, `${where}: the last layer must be Detect`);
    if (kind === "Detect" && i !== rows.length - 1) fail(source, `${where}: Detect must be the last layer`);
    specs.push({ index: i, from, repeats: n, args: spec, outChannels: c2 });
    channels.push(c2);
  }
  if (specs.length === 0) fail(source, "the description has no layers");
  checkModelSize(specs, source);
  return specs;
}
