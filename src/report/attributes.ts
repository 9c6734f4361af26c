/** The attribute section: per-attribute metrics (table and chart) and the Cell Size confusion matrix. */
import type { AttributeSummary } from "../eval/attribute-metrics.js";
import type { ValueConfusion } from "./artifacts.js";
import type { ChartRenderer } from "./charts.js";
import { cards, count, esc, fmt } from "./html.js";
import { table } from "./tables.js";

const COLUMNS = [
  { label: "Attribute" },
  { label: "Values" },
  { label: "Cells", numeric: true, title: "ground-truth cells with a known value and a detection at IoU ≥ 0.5" },
  { label: "Accuracy", numeric: true },
  { label: "Precision", numeric: true, title: "of value 1 (binary attributes); macro average for Cell Size" },
  { label: "Recall", numeric: true, title: "of value 1 (binary attributes); macro average for Cell Size" },
  { label: "F1", numeric: true, title: "of value 1 (the seed's number); macro average for Cell Size" },
  { label: "Macro F1", numeric: true, title: "F1 averaged over the attribute's values" },
  { label: "Bal. acc.", numeric: true, title: "balanced accuracy: mean recall over the values" },
  { label: "Majority", numeric: true, title: "accuracy of always answering the most frequent value" },
];

export function attributeSection(
  attributes: { summary: AttributeSummary; source: string } | null,
  confusion: ValueConfusion[] | null,
  charts: ChartRenderer,
): string | null {
  if (!attributes && !confusion) return null;
  const parts: string[] = [];
  if (attributes) {
    const s = attributes.summary;
    parts.push(
      `<p class="lead">Each labelled cell is compared with the detection of highest IoU ≥ 0.5 in its image; its predicted ` +
        `attributes against the expert's (unknown values are skipped). Source: ${esc(attributes.source)}.</p>`,
      cards([
        { label: "mean F1 of a1–a6 (the seed's summary)", value: fmt(s.seedMeanF1) },
        { label: "macro F1 over all 7 attributes", value: fmt(s.macroF1) },
        { label: "labelled cells with no detection", value: count(s.unmatched) },
      ]),
      table(
        COLUMNS,
        s.attributes.map((a) => [
          a.name,
          a.values.join(" / "),
          count(a.n),
          fmt(a.accuracy),
          fmt(a.precision),
          fmt(a.recall),
          fmt(a.f1),
          fmt(a.macroF1),
          fmt(a.balancedAccuracy),
          fmt(a.majorityBaseline),
        ]),
        {
          className: "attributes",
          caption: "An accuracy near the majority baseline means the head learned little beyond the value's frequency.",
        },
      ),
      `<div class="charts">${charts.bars({
        title: "Attributes: balanced accuracy and macro F1 against the majority baseline",
        categories: s.attributes.map((a) => a.name),
        series: [
          { name: "balanced accuracy", values: s.attributes.map((a) => a.balancedAccuracy) },
          { name: "macro F1", values: s.attributes.map((a) => a.macroF1) },
          {
            name: "majority baseline (accuracy)",
            values: s.attributes.map((a) => a.majorityBaseline),
            color: "#adb5bd",
          },
        ],
        y: { min: 0, max: 1 },
        width: 760,
      })}</div>`,
    );
  }
  for (const m of confusion ?? []) {
    parts.push(
      `<h3>${esc(m.attribute)}: confusion</h3>`,
      `<div class="charts">${charts.heatmap({
        title: `${m.attribute}: true × predicted`,
        xName: "predicted",
        yName: "true",
        xLabels: m.values,
        yLabels: m.values,
        counts: m.matrix,
        normalise: "row",
        width: 420,
        height: 340,
      })}</div>`,
      table(
        [{ label: "true \\ predicted" }, ...m.values.map((v) => ({ label: v, numeric: true }))],
        m.matrix.map((row, t) => [m.values[t] ?? "", ...row.map((v) => count(v))]),
        {
          className: "value-confusion",
          caption: "Rows: the expert's value; columns: the predicted value. Colour: the share of the row.",
        },
      ),
    );
  }
  return parts.join("\n");
}
