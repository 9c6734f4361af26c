/** The training section: results.csv as small line charts (losses, metrics, attributes, phase 2, learning rate). */
import type { ResultsTable } from "./artifacts.js";
import type { ChartRenderer, LineSeries } from "./charts.js";
import { type Card, cards, fmt } from "./html.js";

interface ChartGroup {
  title: string;
  yName?: string;
  /** [column, series name]. */
  series: ReadonlyArray<readonly [string, string]>;
  /** 0..1 axis. */
  unit?: boolean;
  /** A sentence under the chart; `sparse` replaces it when the data is sparse. */
  caption?: string;
  sparse?: string;
}

const MEANINGLESS_NOTE = "sparse labels: the whole-image line counts unlabelled cells as false positives (meaningless)";

/** results.csv columns drawn together (any other column gets a chart of its own). */
export const CHART_GROUPS: readonly ChartGroup[] = [
  {
    title: "Box loss",
    series: [
      ["train/box_loss", "train"],
      ["val/box_loss", "val"],
    ],
  },
  {
    title: "Objectness loss",
    series: [
      ["train/obj_loss", "train"],
      ["val/obj_loss", "val"],
    ],
  },
  {
    title: "Classification loss",
    series: [
      ["train/cls_loss", "train"],
      ["val/cls_loss", "val"],
    ],
  },
  {
    title: "Precision and recall",
    series: [
      ["metrics/precision", "precision"],
      ["metrics/recall", "recall"],
    ],
    unit: true,
    caption: "whole images, at the confidence of the best mean F1",
    sparse:
      "sparse labels: whole-image precision counts unlabelled cells as false positives (meaningless); recall is over the labelled cells",
  },
  {
    title: "mAP@0.5",
    series: [
      ["metrics/mAP_0.5", "whole images"],
      ["metrics/region_mAP_0.5", "labelled regions"],
    ],
    unit: true,
    sparse: MEANINGLESS_NOTE,
  },
  {
    title: "mAP@0.5:0.95",
    series: [
      ["metrics/mAP_0.5:0.95", "whole images"],
      ["metrics/region_mAP_0.5:0.95", "labelled regions"],
    ],
    unit: true,
    sparse: MEANINGLESS_NOTE,
  },
  { title: "Attribute loss", series: [["train/attr_loss", "train"]] },
  {
    title: "Attribute F1",
    series: [
      ["metrics/attr_mean_F1", "mean F1 a1–a6 (seed)"],
      ["metrics/attr_macro_F1", "macro F1, all 7"],
    ],
    unit: true,
  },
  {
    title: "Phase-2 losses",
    series: [
      ["train/pl_loss", "pseudo-label"],
      ["train/sim_loss", "similarity"],
    ],
  },
  { title: "Pseudo-labels", series: [["pl/count", "count"]], caption: "pseudo-labels made in the epoch" },
  { title: "Pseudo-label threshold", series: [["pl/threshold", "confidence threshold"]] },
  {
    title: "Pseudo-label quality",
    series: [
      ["pl/precision", "precision"],
      ["pl/class_precision", "class precision"],
      ["pl/recall", "held-out recall"],
      ["pl/iou", "mean IoU of the matched"],
    ],
    unit: true,
    caption: "against the held-out labels (never trained on)",
  },
  { title: "Similarity anchors", series: [["pl/anchors", "anchors"]] },
  {
    title: "Learning rate",
    series: [
      ["x/lr0", "lr0"],
      ["x/lr1", "lr1"],
      ["x/lr2", "lr2"],
    ],
  },
];

const hasValues = (t: ResultsTable, column: string) => t.rows.some((r) => Number.isFinite(r[column]));

/** True when results.csv has labelled-region metrics (training on sparse labels). */
export function isSparseTraining(t: ResultsTable): boolean {
  return hasValues(t, "metrics/region_mAP_0.5:0.95");
}

/** 1-based epochs, as the training log prints them. */
const epochOf = (row: Record<string, number>, i: number) => (Number.isFinite(row["epoch"]) ? row["epoch"]! + 1 : i + 1);

function seriesOf(t: ResultsTable, column: string, name: string, bold: boolean): LineSeries {
  return {
    name,
    points: t.rows.map((r, i) => [epochOf(r, i), r[column] ?? Number.NaN] as const),
    ...(bold ? { width: 2.5 } : {}),
  };
}

/** The best value of a column and its epoch. */
function best(t: ResultsTable, column: string): { value: number; epoch: number } | null {
  let out: { value: number; epoch: number } | null = null;
  t.rows.forEach((r, i) => {
    const v = r[column]!;
    if (Number.isFinite(v) && (!out || v > out.value)) out = { value: v, epoch: epochOf(r, i) };
  });
  return out;
}

function headline(t: ResultsTable, sparse: boolean): string {
  const prefix = sparse ? "metrics/region_" : "metrics/";
  const where = sparse ? " (labelled regions)" : "";
  const items: Card[] = [{ label: "epochs", value: String(t.rows.length) }];
  for (const [col, label] of [
    [`${prefix}mAP_0.5`, "mAP50"],
    [`${prefix}mAP_0.5:0.95`, "mAP50-95"],
  ] as const) {
    const b = best(t, col);
    if (b) items.push({ label: `best ${label}${where}, epoch ${b.epoch}`, value: fmt(b.value) });
  }
  const f1 = best(t, "metrics/attr_mean_F1");
  if (f1) items.push({ label: `best attribute mean F1, epoch ${f1.epoch}`, value: fmt(f1.value) });
  return cards(items);
}

/** The charts of results.csv (the section's HTML), or null when it has no rows. */
export function trainingSection(t: ResultsTable, charts: ChartRenderer): string | null {
  if (t.rows.length === 0) return null;
  const sparse = isSparseTraining(t);
  const drawn = new Set(["epoch"]);
  const figures: string[] = [];
  for (const g of CHART_GROUPS) {
    const present = g.series.filter(([c]) => hasValues(t, c));
    for (const [c] of g.series) drawn.add(c);
    if (present.length === 0) continue;
    figures.push(
      charts.line({
        title: g.title,
        xName: "epoch",
        series: present.map(([c, name]) => seriesOf(t, c, name, sparse && c.includes("region_"))),
        ...(g.unit ? { y: { min: 0 } } : {}),
        ...((sparse && g.sparse) || g.caption ? { caption: (sparse && g.sparse) || g.caption } : {}),
      }),
    );
  }
  for (const c of t.columns) {
    if (drawn.has(c) || !hasValues(t, c)) continue;
    figures.push(charts.line({ title: c, xName: "epoch", series: [seriesOf(t, c, c, false)] }));
  }
  const lead = `<p class="lead">From results.csv: one point per epoch (validation of the EMA weights after each epoch).${
    sparse ? " Sparse labels: weights/best and early stopping follow the labelled-region mAP." : ""
  }</p>`;
  return `${lead}${headline(t, sparse)}<div class="charts">${figures.join("\n")}</div>`;
}
