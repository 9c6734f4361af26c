/**
 * Reads what a run folder holds for the report: each artifact is optional (null when absent); one that cannot be
 * parsed is also null and its problem is listed, so the page can say what it could not show. Nothing here throws.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { LLD_ATTRIBUTES } from "../data/schema.js";
import {
  AttributeMetrics,
  type AttributeSummary,
  EXTRA_ATTRIBUTE_COLUMNS,
  SEED_ATTRIBUTE_COLUMNS,
} from "../eval/attribute-metrics.js";
import type { CurvesJson } from "../eval/curves.js";
import type { ClassMetrics } from "../eval/detection-metrics.js";
import type { GalleryJson } from "../eval/gallery.js";
import type { PredictionsJson } from "../infer/prediction-json.js";
import { num, parseCsvTable } from "./csv.js";
import { checkCurves, checkGallery, checkMetrics, checkPredictions, type MetricsJson } from "./json-checks.js";

export type { MetricsJson, MetricsSummary } from "./json-checks.js";

/** What kind of run the folder holds. */
export type RunKind = "pretrain" | "train" | "val" | "test" | "detect" | "unknown";

/** results.csv: the columns in file order and one record per epoch (NaN where empty). */
export interface ResultsTable {
  columns: string[];
  rows: Record<string, number>[];
}

/** A row of per_class.csv (the validation's per-class metrics). */
export type PerClassRow = ClassMetrics;

/** confusion_matrix.csv: rows predicted, columns true; the last label is "background". */
export interface ConfusionTable {
  labels: string[];
  matrix: number[][];
}

/** One matrix of attributes/cell_size_confusion.csv: rows the ground truth, columns the prediction. */
export interface ValueConfusion {
  attribute: string;
  values: string[];
  matrix: number[][];
}

export interface RunArtifacts {
  runDir: string;
  kind: RunKind;
  /** args.yaml of a training run. */
  args: Record<string, unknown> | null;
  results: ResultsTable | null;
  metrics: MetricsJson | null;
  perClass: PerClassRow[] | null;
  confusion: ConfusionTable | null;
  curves: CurvesJson | null;
  /** The attribute metrics: metrics.json's, or recomputed from the newest attributes/*.csv; `source` says which. */
  attributes: { summary: AttributeSummary; source: string } | null;
  valueConfusion: ValueConfusion[] | null;
  gallery: GalleryJson | null;
  predictions: PredictionsJson | null;
  /** Files that are there but could not be read, with the reason. */
  problems: string[];
  /** Modification time of the newest artifact read (the run's date). */
  date: Date | null;
}

/** Reads one optional file: null when absent; a parse failure is listed in `problems`. */
class Reader {
  readonly problems: string[] = [];
  date: Date | null = null;

  constructor(readonly runDir: string) {}

  read<T>(name: string, parse: (text: string) => T): T | null {
    const path = join(this.runDir, name);
    if (!existsSync(path)) return null;
    try {
      const value = parse(readFileSync(path, "utf8"));
      const mtime = statSync(path).mtime;
      if (!this.date || mtime > this.date) this.date = mtime;
      return value;
    } catch (err) {
      this.problems.push(`${name}: ${(err as Error).message}`);
      return null;
    }
  }
}

function parseResults(text: string): ResultsTable {
  const { columns, rows } = parseCsvTable(text);
  if (!columns.includes("epoch")) throw new Error("no epoch column");
  return { columns, rows: rows.map((r) => Object.fromEntries(columns.map((c) => [c, num(r[c])]))) };
}

function parsePerClass(text: string): PerClassRow[] {
  const { columns, rows } = parseCsvTable(text);
  for (const c of ["class", "name", "instances", "precision", "recall", "mAP50", "mAP50-95"])
    if (!columns.includes(c)) throw new Error(`no ${c} column`);
  return rows.map((r) => ({
    cls: num(r["class"]),
    name: r["name"] ?? "",
    images: num(r["images"]),
    instances: num(r["instances"]),
    p: num(r["precision"]),
    r: num(r["recall"]),
    ap50: num(r["mAP50"]),
    ap: num(r["mAP50-95"]),
  }));
}

function parseConfusion(text: string): ConfusionTable {
  const { columns, rows } = parseCsvTable(text);
  const labels = columns.slice(1);
  if (labels.length === 0 || rows.length !== labels.length)
    throw new Error(`expected ${labels.length} rows (one per column), found ${rows.length}`);
  const matrix = rows.map((r) => labels.map((l) => num(r[l])));
  if (matrix.flat().some((v) => !Number.isFinite(v))) throw new Error("a count is not a number");
  return { labels, matrix };
}

function parseValueConfusion(text: string): ValueConfusion[] {
  const { columns, rows } = parseCsvTable(text);
  if (columns[0] !== "attribute" || columns[1] !== "true") throw new Error("expected the columns attribute, true, …");
  const out: ValueConfusion[] = [];
  for (const r of rows) {
    const name = r["attribute"] ?? "";
    let m = out.find((c) => c.attribute === name);
    if (!m) {
      m = { attribute: name, values: [], matrix: [] };
      out.push(m);
    }
    m.values.push(r["true"] ?? "");
    m.matrix.push(columns.slice(2).map((c) => num(r[c])));
  }
  for (const m of out)
    if (m.matrix.some((row) => row.length !== m.values.length || row.some((v) => !Number.isFinite(v))))
      throw new Error(`${m.attribute}: the matrix is not square or has a non-number`);
  return out;
}

/** Attribute metrics of an attributes/*.csv (per-cell rows: the seed's 13 columns, then Cell Size …). */
export function attributeSummaryFromCsv(text: string): AttributeSummary {
  const { columns, rows } = parseCsvTable(text);
  const truthColumns = [EXTRA_ATTRIBUTE_COLUMNS[0], ...SEED_ATTRIBUTE_COLUMNS.slice(1, 7)];
  const predColumns = [EXTRA_ATTRIBUTE_COLUMNS[1], ...SEED_ATTRIBUTE_COLUMNS.slice(7, 13)];
  for (const c of [...truthColumns, ...predColumns]) if (!columns.includes(c)) throw new Error(`no "${c}" column`);
  const metrics = new AttributeMetrics(LLD_ATTRIBUTES);
  rows.forEach((r, k) => {
    const truth = truthColumns.map((c) => (r[c] === "" ? -1 : num(r[c])));
    const pred = predColumns.map((c) => num(r[c]));
    try {
      metrics.add(truth, pred);
    } catch (err) {
      throw new Error(`line ${k + 2}: ${(err as Error).message}`);
    }
  });
  return metrics.summary();
}

/** The attribute CSV the report summarises: test.csv, val.csv, or the last epoch's val_epochN.csv. */
function newestAttributeCsv(runDir: string): string | null {
  let names: string[];
  try {
    names = readdirSync(join(runDir, "attributes")).filter(
      (n) => n.endsWith(".csv") && n !== "cell_size_confusion.csv",
    );
  } catch {
    return null;
  }
  const epoch = (n: string) => Number(/^val_epoch(\d+)\.csv$/.exec(n)?.[1] ?? -1);
  const fixed = names.find((n) => epoch(n) < 0);
  if (fixed) return fixed;
  const last = names.sort((a, b) => epoch(b) - epoch(a))[0];
  return last ?? null;
}

function runKind(runDir: string, a: Pick<RunArtifacts, "args" | "metrics" | "predictions" | "results">): RunKind {
  if (a.predictions || existsSync(join(runDir, "predictions.json"))) return "detect";
  if (a.args) return a.args["sla"] ? "train" : "pretrain";
  if (a.results) return "pretrain";
  if (a.metrics?.task === "test") return "test";
  if (a.metrics) return "val";
  return "unknown";
}

function parseArgs(text: string): Record<string, unknown> {
  const v: unknown = parseYaml(text);
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw new Error("not a mapping");
  return v as Record<string, unknown>;
}

/** Reads every artifact of `runDir` the report knows. */
export function readRunArtifacts(runDir: string): RunArtifacts {
  const r = new Reader(runDir);
  const args = r.read("args.yaml", parseArgs);
  const results = r.read("results.csv", parseResults);
  const metrics = r.read("metrics.json", (t) => checkMetrics(JSON.parse(t)));
  const perClass = r.read("per_class.csv", parsePerClass);
  const confusion = r.read("confusion_matrix.csv", parseConfusion);
  const curves = r.read("curves.json", (t) => checkCurves(JSON.parse(t)));
  const valueConfusion = r.read(join("attributes", "cell_size_confusion.csv"), parseValueConfusion);
  const gallery = r.read("gallery.json", (t) => checkGallery(JSON.parse(t)));
  const predictions = r.read("predictions.json", (t) => checkPredictions(JSON.parse(t)));
  let attributes: RunArtifacts["attributes"] = null;
  if (metrics?.attributes) attributes = { summary: metrics.attributes, source: "metrics.json" };
  else {
    const csv = newestAttributeCsv(runDir);
    const name = csv && join("attributes", csv);
    const summary = name ? r.read(name, attributeSummaryFromCsv) : null;
    if (summary && name) attributes = { summary, source: name };
  }
  const partial = { args, results, metrics, predictions };
  return {
    runDir,
    kind: runKind(runDir, partial),
    ...partial,
    perClass,
    confusion,
    curves,
    attributes,
    valueConfusion,
    gallery,
    problems: r.problems,
    date: r.date,
  };
}
