/**
 * The validation sections: the YOLOv5 table (per class), the labelled-region statistics of sparse data, the PR and
 * F1-confidence curves, the confusion matrix, and the gallery items of gallery.json.
 */
import { CONFUSION_CONF, CONFUSION_IOU } from "../eval/confusion.js";
import type { CurveSet, CurvesJson } from "../eval/curves.js";
import type { GalleryJson } from "../eval/gallery.js";
import { SPARSE_CAVEAT, SPARSE_MEANINGLESS } from "../eval/sparse.js";
import type { ConfusionTable, MetricsJson, MetricsSummary, PerClassRow } from "./artifacts.js";
import type { ChartRenderer, LineSeries } from "./charts.js";
import type { GalleryItem } from "./gallery.js";
import { type Card, callout, cards, count, esc, fmt } from "./html.js";
import { COLORS } from "./style.js";
import { type Cell, type Row, table } from "./tables.js";

/** The metrics marked meaningless on this run's data (metrics.json's list; empty on dense data). */
export function meaningless(metrics: MetricsJson | null): Set<string> {
  if (!metrics?.labelledRegions) return new Set();
  return new Set(metrics.meaninglessOnSparse ?? SPARSE_MEANINGLESS);
}

const MEANINGLESS_TITLE = "meaningless on sparse labels: unlabelled cells count as false positives";

function metricCell(value: number, key: string, bad: Set<string>): Cell {
  return bad.has(key) ? { text: fmt(value), className: "meaningless", title: MEANINGLESS_TITLE } : fmt(value);
}

const TABLE_COLUMNS = [
  { label: "Class" },
  { label: "Images", numeric: true, title: "images with at least one labelled cell of the class" },
  { label: "Instances", numeric: true, title: "labelled cells" },
  { label: "P", numeric: true, title: "precision at the confidence of the best mean F1" },
  { label: "R", numeric: true, title: "recall at that confidence" },
  { label: "mAP50", numeric: true, title: "average precision at IoU 0.5" },
  { label: "mAP50-95", numeric: true, title: "average precision averaged over IoU 0.5 to 0.95" },
];

function summaryRow(label: string, s: MetricsSummary, bad: Set<string>, className: string): Row {
  return {
    className,
    cells: [
      label,
      count(s.images),
      count(s.instances),
      metricCell(s.precision, "precision", bad),
      fmt(s.recall),
      metricCell(s.mAP50, "mAP50", bad),
      metricCell(s["mAP50-95"], "mAP50-95", bad),
    ],
  };
}

/** The headline numbers, struck through where meaningless. */
function headline(s: MetricsSummary, bad: Set<string>): string {
  const card = (label: string, value: string, key?: string): Card => ({
    label,
    value,
    ...(key && bad.has(key) ? { meaningless: MEANINGLESS_TITLE } : {}),
  });
  return cards([
    card("images", count(s.images)),
    card("labelled cells", count(s.instances)),
    card("precision", fmt(s.precision), "precision"),
    card("recall", fmt(s.recall)),
    card("mAP50", fmt(s.mAP50), "mAP50"),
    card("mAP50-95", fmt(s["mAP50-95"]), "mAP50-95"),
  ]);
}

/** A COCO number; −1 (no object of that size) as "–". */
const cocoFmt = (v: number) => (v < 0 ? "–" : fmt(v));

/** The YOLOv5 validation table ("all", the labelled-regions row on sparse data, one row per class), plus losses and COCO. */
export function metricsSection(metrics: MetricsJson | null, perClass: PerClassRow[] | null): string | null {
  if (!metrics?.all && !perClass) return null;
  const bad = meaningless(metrics);
  const rows: Row[] = [];
  if (metrics?.all) rows.push(summaryRow("all", metrics.all, bad, "total"));
  if (metrics?.labelledRegions)
    rows.push(summaryRow("all, labelled regions", metrics.labelledRegions, new Set(), "total"));
  for (const c of perClass ?? []) {
    rows.push({
      cells: [
        c.name,
        count(c.images),
        count(c.instances),
        metricCell(c.p, "precision", bad),
        fmt(c.r),
        metricCell(c.ap50, "mAP50", bad),
        metricCell(c.ap, "mAP50-95", bad),
      ],
    });
  }
  const parts: string[] = [];
  if (metrics?.labelledRegions)
    parts.push(
      '<p class="hint">In the labelled regions (sparse labels: the whole-image numbers marked † are meaningless):</p>',
      headline(metrics.labelledRegions, new Set()),
    );
  else if (metrics?.all) parts.push(headline(metrics.all, bad));
  parts.push(
    table(TABLE_COLUMNS, rows, {
      className: "per-class",
      ...(bad.size ? { caption: `† ${MEANINGLESS_TITLE}; judge by the labelled-regions row` } : {}),
    }),
  );
  const t = metrics?.thresholds;
  if (t)
    parts.push(
      `<p class="hint">Detections with confidence ≥ ${t.conf}, NMS IoU ${t.iou}, at most ${t.maxDet} per image; boxes clipped to the image before matching (as YOLOv5's val.py).</p>`,
    );
  if (metrics?.loss)
    parts.push(
      `<p class="hint">Validation loss: box ${fmt(metrics.loss[0], 4)}, objectness ${fmt(metrics.loss[1], 4)}, class ${fmt(metrics.loss[2], 4)}.</p>`,
    );
  if (metrics?.coco) {
    const c = metrics.coco;
    parts.push(
      "<h3>COCO-style evaluation</h3>",
      table(
        [{ label: "Metric" }, { label: "IoU" }, { label: "area" }, { label: "value", numeric: true }],
        [
          ["AP", "0.50:0.95", "all", cocoFmt(c.ap)],
          ["AP", "0.50", "all", cocoFmt(c.ap50)],
          ["AP", "0.75", "all", cocoFmt(c.ap75)],
          [
            "AP",
            "0.50:0.95",
            "small / medium / large",
            `${cocoFmt(c.apSmall)} / ${cocoFmt(c.apMedium)} / ${cocoFmt(c.apLarge)}`,
          ],
          [
            "AR (1 / 10 / 100 detections)",
            "0.50:0.95",
            "all",
            `${cocoFmt(c.ar1)} / ${cocoFmt(c.ar10)} / ${cocoFmt(c.ar100)}`,
          ],
          [
            "AR",
            "0.50:0.95",
            "small / medium / large",
            `${cocoFmt(c.arSmall)} / ${cocoFmt(c.arMedium)} / ${cocoFmt(c.arLarge)}`,
          ],
        ],
      ),
    );
  }
  return parts.join("\n");
}

/** Whole-image against labelled-region numbers, the caveat the validation prints, and which numbers to ignore. */
export function regionSection(metrics: MetricsJson | null): string | null {
  const region = metrics?.labelledRegions;
  if (!metrics?.all || !region) return null;
  const bad = meaningless(metrics);
  const all = metrics.all;
  const row = (label: string, key: string, a: number, r: number, digits: boolean): Row => ({
    cells: [
      label,
      bad.has(key)
        ? { text: digits ? fmt(a) : count(a), className: "meaningless", title: MEANINGLESS_TITLE }
        : digits
          ? fmt(a)
          : count(a),
      digits ? fmt(r) : count(r),
      bad.has(key) ? "meaningless on whole images" : "",
    ],
  });
  const rows = [
    row("images", "images", all.images, region.images, false),
    row("labelled cells", "instances", all.instances, region.instances, false),
    row("precision", "precision", all.precision, region.precision, true),
    row("recall", "recall", all.recall, region.recall, true),
    row("mAP50", "mAP50", all.mAP50, region.mAP50, true),
    row("mAP50-95", "mAP50-95", all["mAP50-95"], region["mAP50-95"], true),
    ...(all.fitness !== undefined && region.fitness !== undefined
      ? [row("fitness", "fitness", all.fitness, region.fitness, true)]
      : []),
  ];
  const explanation =
    '<p class="lead">Experts labelled only a region of each field of view (the dashed box in the gallery). Inside it every cell ' +
    "is labelled; outside it, a cell the model finds has no label, so whole-image precision and mAP count it as a false " +
    "positive. The labelled-region numbers count only detections and labels whose centre lies inside the region.</p>";
  return [
    explanation,
    callout(
      `<strong>As the validation prints it:</strong> <code>${esc(SPARSE_CAVEAT)}</code><br>` +
        `Meaningless here (metrics.json <code>meaninglessOnSparse</code>): ${[...bad].map((k) => `<code>${esc(k)}</code>`).join(", ")}.`,
      "warn",
    ),
    table(
      [
        { label: "Metric" },
        { label: "Whole images", numeric: true },
        { label: "Labelled regions", numeric: true },
        { label: "" },
      ],
      rows,
      { className: "regions" },
    ),
  ].join("\n");
}

/** The mean of per-class curves (YOLOv5's "all classes" line). */
function meanCurve(curves: readonly (readonly number[])[]): number[] {
  const n = curves[0]?.length ?? 0;
  return Array.from({ length: n }, (_, i) => curves.reduce((s, c) => s + (c[i] ?? 0), 0) / Math.max(1, curves.length));
}

function curveCharts(set: CurveSet, charts: ChartRenderer, where: string): string {
  const many = set.classes.length > 1;
  const legend = many ? ("right" as const) : ("top" as const);
  const points = (ys: readonly number[]) => set.x.map((x, i) => [x, ys[i] ?? Number.NaN] as const);
  const perClass = (pick: (c: CurveSet["classes"][number]) => readonly number[], withAp: boolean): LineSeries[] =>
    many
      ? set.classes.map((c) => ({
          name: withAp ? `${c.name} ${fmt(c.ap50)}` : c.name,
          points: points(pick(c)),
          width: 1,
        }))
      : [];
  const all = (ys: number[], name: string): LineSeries => ({
    name,
    points: points(ys),
    width: 3,
    color: COLORS.accent,
  });
  const map50 = set.classes.reduce((s, c) => s + c.ap50, 0) / Math.max(1, set.classes.length);
  const f1 = meanCurve(set.classes.map((c) => c.f1));
  let bestF1 = 0;
  f1.forEach((v, i) => {
    if (v > f1[bestF1]!) bestF1 = i;
  });
  const unit = { min: 0, max: 1 };
  return [
    charts.line({
      title: `Precision–recall${where}`,
      xName: "recall",
      yName: "precision",
      x: unit,
      y: unit,
      legend,
      series: [
        ...perClass((c) => c.pr, true),
        all(meanCurve(set.classes.map((c) => c.pr)), `all classes ${fmt(map50)} mAP@0.5`),
      ],
      width: many ? 580 : 360,
      height: 320,
      caption: "at IoU 0.5; the area under each curve is its AP",
    }),
    charts.line({
      title: `F1–confidence${where}`,
      xName: "confidence",
      yName: "F1",
      x: unit,
      y: unit,
      legend,
      series: [...perClass((c) => c.f1, false), all(f1, `all classes ${fmt(f1[bestF1])} at ${fmt(set.x[bestF1], 2)}`)],
      width: many ? 580 : 360,
      height: 320,
      caption: `P and R in the tables are read at confidence ${fmt(set.confidence, 3)} (the maximum of the smoothed mean F1)`,
    }),
    charts.line({
      title: `Precision–confidence${where}`,
      xName: "confidence",
      yName: "precision",
      x: unit,
      y: unit,
      legend,
      series: [
        ...perClass((c) => c.precision, false),
        all(meanCurve(set.classes.map((c) => c.precision)), "all classes"),
      ],
      width: many ? 580 : 360,
      height: 320,
    }),
    charts.line({
      title: `Recall–confidence${where}`,
      xName: "confidence",
      yName: "recall",
      x: unit,
      y: unit,
      legend,
      series: [...perClass((c) => c.recall, false), all(meanCurve(set.classes.map((c) => c.recall)), "all classes")],
      width: many ? 580 : 360,
      height: 320,
    }),
  ].join("\n");
}

/** PR, F1, P and R curves; on sparse data both the whole-image and the labelled-region sets. */
export function curvesSection(curves: CurvesJson, charts: ChartRenderer): string | null {
  const parts: string[] = [];
  if (curves.labelledRegions && curves.labelledRegions.classes.length > 0) {
    parts.push(
      "<h3>Labelled regions</h3>",
      `<div class="charts">${curveCharts(curves.labelledRegions, charts, " (labelled regions)")}</div>`,
    );
  }
  if (curves.all && curves.all.classes.length > 0) {
    if (curves.labelledRegions)
      parts.push(
        "<h3>Whole images</h3>",
        callout(
          "Sparse labels: the precision of these curves (and so PR and F1) counts unlabelled cells as false positives.",
          "warn",
        ),
      );
    parts.push(`<div class="charts">${curveCharts(curves.all, charts, "")}</div>`);
  }
  return parts.length ? parts.join("\n") : null;
}

/** The detection confusion matrix as a heatmap (columns true class, rows predicted, colour = share of the column). */
export function confusionSection(c: ConfusionTable, charts: ChartRenderer, sparse: boolean): string {
  const caption =
    `Columns: the true class; rows: the predicted class, at confidence ≥ ${CONFUSION_CONF} and IoU > ${CONFUSION_IOU}. ` +
    "The background row holds missed cells, the background column detections with no label. Colour: the share of the column; numbers: counts.";
  const note = sparse
    ? callout(
        "Sparse labels: the background column also holds detections of unlabelled cells outside the labelled regions.",
        "warn",
      )
    : "";
  return `${note}<div class="charts">${charts.heatmap({
    title: "Confusion matrix",
    xName: "true",
    yName: "predicted",
    xLabels: c.labels,
    yLabels: c.labels,
    counts: c.matrix,
  })}</div><p class="hint">${esc(caption)}</p>`;
}

/** gallery.json as gallery items: ground truth, region and predictions with class and confidence. */
export function validationGalleryItems(g: GalleryJson): GalleryItem[] {
  const name = (c: number) => g.names[c] ?? String(c);
  return g.images.map((im) => ({
    file: im.file,
    width: im.width,
    height: im.height,
    region: im.region,
    truth: im.labels.map((l) => ({ box: l.box, tooltip: `ground truth: ${name(l.class)}` })),
    predictions: im.predictions.map((p) => ({
      box: p.box,
      tag: `${name(p.class)} ${p.confidence.toFixed(2)}`,
      tooltip: `prediction: ${name(p.class)} ${p.confidence.toFixed(3)}`,
    })),
    summary: `${im.labels.length} labelled, ${im.predictions.length} predicted (conf ≥ ${g.confThres})${im.region ? "; sparse" : ""}`,
  }));
}
