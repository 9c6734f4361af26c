/**
 * results.csv of a run: one row per epoch, YOLOv5's column names. Rewritten whole (atomically) after each epoch, so a
 * kill never leaves a torn file and a resumed run continues it.
 */
import { existsSync, readFileSync } from "node:fs";
import { writeFileAtomic } from "../util/fs.js";

export const RESULTS_COLUMNS = [
  "epoch",
  "train/box_loss",
  "train/obj_loss",
  "train/cls_loss",
  "metrics/precision",
  "metrics/recall",
  "metrics/mAP_0.5",
  "metrics/mAP_0.5:0.95",
  "val/box_loss",
  "val/obj_loss",
  "val/cls_loss",
  "x/lr0",
  "x/lr1",
  "x/lr2",
  "train/attr_loss",
  "metrics/attr_mean_F1",
  "metrics/attr_macro_F1",
  "metrics/region_mAP_0.5",
  "metrics/region_mAP_0.5:0.95",
] as const;

/**
 * Phase 2's extra columns: its losses and the epoch's pseudo-labels (count, threshold, anchors; precision, recall and
 * the matched boxes' mean IoU against held-out labels).
 */
export const SLA_RESULTS_COLUMNS = [
  "train/pl_loss",
  "train/sim_loss",
  "pl/count",
  "pl/threshold",
  "pl/anchors",
  "pl/precision",
  "pl/class_precision",
  "pl/recall",
  "pl/iou",
] as const;

export type ResultsRow = Record<string, number>;

export class ResultsCsv {
  readonly rows: ResultsRow[] = [];

  constructor(
    readonly path: string,
    readonly columns: readonly string[] = RESULTS_COLUMNS,
  ) {}

  /** Loads the rows of an existing file (for --resume), keeping only epochs before `untilEpoch`. */
  static load(path: string, untilEpoch: number, columns: readonly string[] = RESULTS_COLUMNS): ResultsCsv {
    const csv = new ResultsCsv(path, columns);
    if (!existsSync(path)) return csv;
    const [header, ...lines] = readFileSync(path, "utf8").trim().split("\n");
    const names = (header ?? "").split(",").map((s) => s.trim());
    for (const line of lines) {
      // an empty cell is a value the epoch did not have (NaN, written empty): Number("") would make it 0
      const values = line.split(",").map((s) => (s.trim() === "" ? Number.NaN : Number(s.trim())));
      const row: ResultsRow = Object.fromEntries(names.map((n, i) => [n, values[i] ?? Number.NaN]));
      if ((row["epoch"] ?? Number.POSITIVE_INFINITY) < untilEpoch) csv.rows.push(row);
    }
    return csv;
  }

  append(row: ResultsRow): void {
    this.rows.push(row);
    this.write();
  }

  write(): void {
    const fmt = (v: number | undefined) =>
      v === undefined || Number.isNaN(v) ? "" : Number.isInteger(v) ? String(v) : v.toPrecision(6);
    const lines = [this.columns.join(","), ...this.rows.map((r) => this.columns.map((c) => fmt(r[c])).join(","))];
    writeFileAtomic(this.path, `${lines.join("\n")}\n`);
  }
}
