/**
 * Shape checks of the run folder's JSON files, before the report draws from them: each returns its input typed, or
 * throws an Error naming the first field that is not what the report needs (`images[2].box: expected 4 numbers`).
 * Only what the report uses is checked; extra fields are ignored.
 */
import type { AttributeSummary } from "../eval/attribute-metrics.js";
import type { CocoStats } from "../eval/coco-eval.js";
import type { CurvesJson } from "../eval/curves.js";
import type { GalleryJson } from "../eval/gallery.js";
import type { PredictionsJson } from "../infer/prediction-json.js";

/** A summary row of metrics.json (`all`, `labelledRegions`). */
export interface MetricsSummary {
  images: number;
  instances: number;
  precision: number;
  recall: number;
  mAP50: number;
  "mAP50-95": number;
  fitness?: number;
}

/** metrics.json of a validation (sladet val / test, or the final validation of training). */
export interface MetricsJson {
  task?: string;
  weights?: string;
  attrWeights?: string;
  data?: string;
  epoch?: number;
  /** The validation's thresholds (absent in files written before issue 23). */
  thresholds?: { conf: number; iou: number; maxDet: number };
  all: MetricsSummary | null;
  labelledRegions: MetricsSummary | null;
  meaninglessOnSparse?: string[];
  loss: [number, number, number] | null;
  coco: CocoStats | null;
  attributes: AttributeSummary | null;
  seconds?: number;
}

type Obj = Record<string, unknown>;

function fail(path: string, expected: string): never {
  throw new Error(`${path || "the file"}: expected ${expected}`);
}

function object(v: unknown, path: string): Obj {
  if (v === null || typeof v !== "object" || Array.isArray(v)) fail(path, "an object");
  return v as Obj;
}

function array(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) fail(path, "an array");
  return v;
}

function number(v: unknown, path: string): number {
  if (typeof v !== "number") fail(path, "a number");
  return v;
}

function string(v: unknown, path: string): string {
  if (typeof v !== "string") fail(path, "a string");
  return v;
}

function strings(v: unknown, path: string): string[] {
  const a = array(v, path);
  a.forEach((x, i) => {
    string(x, `${path}[${i}]`);
  });
  return a as string[];
}

function numbers(v: unknown, path: string, length?: number): number[] {
  const a = array(v, path);
  if ((length !== undefined && a.length !== length) || a.some((x) => typeof x !== "number"))
    fail(path, length === undefined ? "numbers" : `${length} numbers`);
  return a as number[];
}

function optionalString(o: Obj, key: string, path: string): void {
  if (o[key] !== undefined) string(o[key], `${path}${key}`);
}

function summary(v: unknown, path: string): void {
  if (v === null || v === undefined) return;
  const o = object(v, path);
  for (const k of ["images", "instances", "precision", "recall", "mAP50", "mAP50-95"]) number(o[k], `${path}.${k}`);
}

function attributeSummary(v: unknown, path: string): void {
  if (v === null || v === undefined) return;
  const o = object(v, path);
  array(o["attributes"], `${path}.attributes`).forEach((a, i) => {
    const p = `${path}.attributes[${i}]`;
    const at = object(a, p);
    string(at["name"], `${p}.name`);
    strings(at["values"], `${p}.values`);
    for (const k of ["n", "accuracy", "precision", "recall", "f1", "macroF1", "balancedAccuracy", "majorityBaseline"])
      number(at[k], `${p}.${k}`);
    array(at["confusion"], `${p}.confusion`).forEach((row, j) => {
      numbers(row, `${p}.confusion[${j}]`);
    });
  });
  number(o["seedMeanF1"], `${path}.seedMeanF1`);
  number(o["macroF1"], `${path}.macroF1`);
}

export function checkMetrics(v: unknown): MetricsJson {
  const o = object(v, "");
  for (const k of ["task", "weights", "attrWeights", "data"]) optionalString(o, k, "");
  if (o["thresholds"] !== undefined) {
    const t = object(o["thresholds"], "thresholds");
    for (const k of ["conf", "iou", "maxDet"]) number(t[k], `thresholds.${k}`);
  }
  summary(o["all"], "all");
  summary(o["labelledRegions"], "labelledRegions");
  if (o["meaninglessOnSparse"] !== undefined) strings(o["meaninglessOnSparse"], "meaninglessOnSparse");
  if (o["loss"] !== null && o["loss"] !== undefined) numbers(o["loss"], "loss", 3);
  if (o["coco"] !== null && o["coco"] !== undefined) {
    const c = object(o["coco"], "coco");
    for (const k of ["ap", "ap50", "ap75", "ar100"]) number(c[k], `coco.${k}`);
  }
  attributeSummary(o["attributes"], "attributes");
  return {
    ...(o as unknown as MetricsJson),
    all: (o["all"] as MetricsSummary | undefined) ?? null,
    labelledRegions: (o["labelledRegions"] as MetricsSummary | undefined) ?? null,
    loss: (o["loss"] as MetricsJson["loss"] | undefined) ?? null,
    coco: (o["coco"] as CocoStats | undefined) ?? null,
    attributes: (o["attributes"] as AttributeSummary | undefined) ?? null,
  };
}

function curveSet(v: unknown, path: string): void {
  if (v === null || v === undefined) return;
  const o = object(v, path);
  const x = numbers(o["x"], `${path}.x`);
  number(o["confidence"], `${path}.confidence`);
  array(o["classes"], `${path}.classes`).forEach((c, i) => {
    const p = `${path}.classes[${i}]`;
    const co = object(c, p);
    number(co["class"], `${p}.class`);
    string(co["name"], `${p}.name`);
    number(co["ap50"], `${p}.ap50`);
    for (const k of ["pr", "precision", "recall", "f1"]) numbers(co[k], `${p}.${k}`, x.length);
  });
}

export function checkCurves(v: unknown): CurvesJson {
  const o = object(v, "");
  strings(o["names"], "names");
  curveSet(o["all"], "all");
  curveSet(o["labelledRegions"], "labelledRegions");
  return { ...(o as unknown as CurvesJson), all: (o["all"] ?? null) as CurvesJson["all"] };
}

/** An image entry's common fields (file, width, height); returns the entry as an object. */
function imageEntry(im: unknown, p: string): Obj {
  const io = object(im, p);
  string(io["file"], `${p}.file`);
  number(io["width"], `${p}.width`);
  number(io["height"], `${p}.height`);
  return io;
}

/** A box with its class (and confidence when `scored`); returns it as an object. */
function boxEntry(d: unknown, q: string, scored: boolean): Obj {
  const dobj = object(d, q);
  numbers(dobj["box"], `${q}.box`, 4);
  number(dobj["class"], `${q}.class`);
  if (scored) number(dobj["confidence"], `${q}.confidence`);
  return dobj;
}

export function checkGallery(v: unknown): GalleryJson {
  const o = object(v, "");
  strings(o["names"], "names");
  number(o["confThres"], "confThres");
  array(o["images"], "images").forEach((im, i) => {
    const p = `images[${i}]`;
    const io = imageEntry(im, p);
    if (io["region"] !== null) numbers(io["region"], `${p}.region`, 4);
    for (const [j, l] of array(io["labels"], `${p}.labels`).entries()) boxEntry(l, `${p}.labels[${j}]`, false);
    for (const [j, d] of array(io["predictions"], `${p}.predictions`).entries())
      boxEntry(d, `${p}.predictions[${j}]`, true);
  });
  return o as unknown as GalleryJson;
}

export function checkPredictions(v: unknown): PredictionsJson {
  const o = object(v, "");
  const model = object(o["model"], "model");
  string(model["weights"], "model.weights");
  strings(model["names"], "model.names");
  if (model["attributes"] !== null && model["attributes"] !== undefined)
    array(model["attributes"], "model.attributes").forEach((a, i) => {
      const ao = object(a, `model.attributes[${i}]`);
      string(ao["name"], `model.attributes[${i}].name`);
      strings(ao["values"], `model.attributes[${i}].values`);
    });
  array(o["images"], "images").forEach((im, i) => {
    const p = `images[${i}]`;
    const io = imageEntry(im, p);
    optionalString(io, "annotated", `${p}.`);
    array(io["detections"], `${p}.detections`).forEach((d, j) => {
      const q = `${p}.detections[${j}]`;
      const dobj = boxEntry(d, q, true);
      string(dobj["name"], `${q}.name`);
      if (dobj["attributes"] !== undefined) {
        for (const [name, a] of Object.entries(object(dobj["attributes"], `${q}.attributes`))) {
          const ao = object(a, `${q}.attributes.${name}`);
          string(ao["value"], `${q}.attributes.${name}.value`);
          number(ao["index"], `${q}.attributes.${name}.index`);
        }
      }
    });
  });
  if (o["skipped"] !== undefined)
    array(o["skipped"], "skipped").forEach((s, i) => {
      const so = object(s, `skipped[${i}]`);
      string(so["file"], `skipped[${i}].file`);
      string(so["reason"], `skipped[${i}].reason`);
    });
  return { ...(o as unknown as PredictionsJson), skipped: (o["skipped"] ?? []) as PredictionsJson["skipped"] };
}
