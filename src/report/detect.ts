/**
 * The detect run's sections, from predictions.json: a summary (cells per class, per image, distribution of each
 * attribute's predicted values) and the gallery items (predictions with class, confidence and attributes).
 */
import { existsSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import type { PredictedCell, PredictionsJson } from "../infer/prediction-json.js";
import type { ChartRenderer } from "./charts.js";
import type { GalleryItem } from "./gallery.js";
import { cards, count, esc, fmt, pct } from "./html.js";
import { table } from "./tables.js";

/** Rows of the per-image table at most (a detect run can hold thousands of images). */
export const MAX_IMAGE_ROWS = 200;

function perClass(p: PredictionsJson) {
  const rows = p.model.names.map((name, cls) => ({ cls, name, cells: 0, images: 0, confidence: 0 }));
  for (const im of p.images) {
    const seen = new Set<number>();
    for (const d of im.detections) {
      rows[d.class] ??= { cls: d.class, name: d.name, cells: 0, images: 0, confidence: 0 };
      const r = rows[d.class]!;
      r.cells++;
      r.confidence += d.confidence;
      seen.add(d.class);
    }
    for (const c of seen) rows[c]!.images++;
  }
  return rows.filter((r) => r !== undefined);
}

/** Per attribute, how many cells got each value. */
function attributeCounts(p: PredictionsJson): { name: string; values: string[]; counts: number[]; total: number }[] {
  const schema = p.model.attributes ?? [];
  return schema.map((a) => {
    const counts = new Array<number>(a.values.length).fill(0);
    let total = 0;
    for (const im of p.images)
      for (const d of im.detections) {
        const v = d.attributes?.[a.name];
        if (!v) continue;
        total++;
        if (v.index >= 0 && v.index < counts.length) counts[v.index]!++;
      }
    return { name: a.name, values: a.values, counts, total };
  });
}

export function detectSummarySection(p: PredictionsJson, charts: ChartRenderer): string {
  const cells = p.images.reduce((s, im) => s + im.detections.length, 0);
  const classes = perClass(p);
  const parts: string[] = [
    `<p class="lead">Predictions of ${esc(p.model.weights)} (${esc(p.model.backend)}, ${p.model.imgsz} px) at confidence ≥ ${p.settings?.confThres ?? "?"}, NMS IoU ${p.settings?.iouThres ?? "?"}.</p>`,
    cards([
      { label: "images", value: count(p.images.length) },
      { label: "cells detected", value: count(cells) },
      { label: "cells per image", value: p.images.length ? (cells / p.images.length).toFixed(1) : "–" },
      { label: "inputs skipped", value: count(p.skipped.length) },
    ]),
    "<h3>Cells per class</h3>",
    table(
      [
        { label: "Class" },
        { label: "Cells", numeric: true },
        { label: "Share", numeric: true },
        { label: "Images", numeric: true, title: "images with at least one such cell" },
        { label: "Mean confidence", numeric: true },
      ],
      classes.map((c) => [
        c.name,
        count(c.cells),
        pct(cells ? c.cells / cells : Number.NaN),
        count(c.images),
        c.cells ? fmt(c.confidence / c.cells) : "–",
      ]),
      { className: "detect-classes" },
    ),
  ];
  if (cells > 0)
    parts.push(
      `<div class="charts">${charts.bars({
        title: "Cells per class",
        categories: classes.map((c) => c.name),
        series: [{ name: "cells", values: classes.map((c) => c.cells) }],
        y: { min: 0 },
      })}</div>`,
    );
  const attrs = attributeCounts(p);
  if (attrs.length > 0 && attrs.some((a) => a.total > 0)) {
    const width = Math.max(...attrs.map((a) => a.values.length));
    parts.push(
      "<h3>Predicted attribute values</h3>",
      table(
        [
          { label: "Attribute" },
          { label: "Cells", numeric: true },
          ...Array.from({ length: width }, (_, i) => ({ label: `value ${i}` })),
        ],
        attrs.map((a) => [
          a.name,
          count(a.total),
          ...Array.from({ length: width }, (_, i) =>
            i < a.values.length
              ? `${a.values[i]}: ${count(a.counts[i])} (${pct(a.total ? a.counts[i]! / a.total : Number.NaN, 0)})`
              : "",
          ),
        ]),
        { className: "detect-attributes" },
      ),
      `<div class="charts">${charts.bars({
        title: "Share of each predicted value",
        categories: attrs.map((a) => a.name),
        series: Array.from({ length: width }, (_, i) => ({
          name: `value ${i}`,
          values: attrs.map((a) => (a.total && i < a.counts.length ? a.counts[i]! / a.total : Number.NaN)),
        })),
        stacked: true,
        y: { min: 0, max: 1 },
        caption: "Stacked: value 0 (Small, Open, Regular, …) at the bottom; the table names the values.",
        width: 680,
      })}</div>`,
    );
  }
  const shown = p.images.slice(0, MAX_IMAGE_ROWS);
  parts.push(
    "<h3>Per image</h3>",
    table(
      [{ label: "Image" }, { label: "Size" }, { label: "Cells", numeric: true }, { label: "By class" }],
      shown.map((im) => {
        const byClass = new Map<string, number>();
        for (const d of im.detections) byClass.set(d.name, (byClass.get(d.name) ?? 0) + 1);
        return [
          im.file,
          `${im.width}×${im.height}`,
          count(im.detections.length),
          [...byClass.entries()].map(([n, k]) => `${n} ${k}`).join(", "),
        ];
      }),
      {
        className: "detect-images",
        ...(p.images.length > shown.length ? { caption: `first ${shown.length} of ${p.images.length} images` } : {}),
      },
    ),
  );
  if (p.skipped.length > 0)
    parts.push(
      "<h3>Skipped inputs</h3>",
      table(
        [{ label: "File" }, { label: "Reason" }],
        p.skipped.map((s) => [s.file, s.reason]),
      ),
    );
  return parts.join("\n");
}

function attributeText(d: PredictedCell): string {
  if (!d.attributes) return "";
  return Object.entries(d.attributes)
    .map(([name, a]) => {
      const prob = a.probabilities?.[a.index];
      return `${name}: ${a.value}${prob === undefined ? "" : ` (${prob.toFixed(2)})`}`;
    })
    .join("; ");
}

function detailsTable(dets: readonly PredictedCell[], withAttributes: boolean): string {
  return table(
    [
      { label: "#", numeric: true },
      { label: "Class" },
      { label: "Conf.", numeric: true },
      ...(withAttributes ? [{ label: "Attributes (probability)" }] : []),
    ],
    dets.map((d, i) => [String(i + 1), d.name, d.confidence.toFixed(2), ...(withAttributes ? [attributeText(d)] : [])]),
  );
}

/**
 * The first `limit` images of predictions.json as gallery items. The image is read from its path (relative to the
 * folder detect ran in, recorded as `workingDir`); when it is gone, the annotated copy in the run folder is shown
 * instead, without an overlay.
 */
export function detectGalleryItems(p: PredictionsJson, runDir: string, limit = 16): GalleryItem[] {
  const withAttributes = p.model.attributes !== null && p.model.attributes !== undefined;
  return p.images.slice(0, limit).map((im) => {
    const original = isAbsolute(im.file) ? im.file : resolve(p.workingDir ?? ".", im.file);
    const useAnnotated = !existsSync(original) && im.annotated !== undefined;
    const dets = im.detections;
    return {
      file: useAnnotated ? join(runDir, im.annotated!) : original,
      width: im.width,
      height: im.height,
      region: null,
      truth: [],
      predictions: useAnnotated
        ? []
        : dets.map((d, i) => ({
            box: d.box,
            tag: `${i + 1} ${d.name} ${d.confidence.toFixed(2)}`,
            tooltip: [`#${i + 1} ${d.name} ${d.confidence.toFixed(3)}`, attributeText(d)].filter(Boolean).join("\n"),
          })),
      summary: `${dets.length} cell(s)${useAnnotated ? " (annotated copy: the original is gone)" : ""}`,
      ...(dets.length ? { detailsHtml: detailsTable(dets, withAttributes) } : {}),
    };
  });
}
