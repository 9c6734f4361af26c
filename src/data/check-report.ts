/** Text output of `sladet check`: the problems, then one summary table per split. */
import type { CheckReport, SplitSummary } from "./check.js";
import { type DataProblem, formatProblem, type ProblemKind, SEVERITIES } from "./problems.js";
import type { AttributeSpec } from "./schema.js";

/** Options of {@link formatCheckReport}. */
export interface FormatCheckOptions {
  /** Notes shown per kind (errors and warnings are always all shown). @default 10 */
  maxNotesPerKind?: number;
}

function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows
    .map((row) =>
      row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join("  "),
    )
    .join("\n");
}

/** The summary table of one split: counts, instances per class, attribute value counts. */
export function formatSplitSummary(
  summary: SplitSummary,
  names: readonly string[],
  attributes: readonly AttributeSpec[],
): string {
  const total = summary.instances.reduce((a, b) => a + b, 0);
  const head = [
    ["images", String(summary.images)],
    ["  unreadable", String(summary.unreadable)],
    ["  background (no labels)", String(summary.backgrounds)],
    ["  sparse (region < image)", String(summary.sparse)],
    ["labelled-area fraction", summary.labelledAreaFraction.toFixed(3)],
    ["instances", String(total)],
    ["  duplicate lines dropped", String(summary.duplicates)],
    ["  invalid lines skipped", String(summary.skippedLines)],
  ];
  const classes = [["class", "instances"], ...names.map((n, i) => [`${i} ${n}`, String(summary.instances[i] ?? 0)])];
  let out = `== ${summary.split} ==\n${table(head)}\n\n${table(classes)}\n`;
  if (summary.instancesWithAttributes > 0 && attributes.length > 0) {
    const rows = [["attribute", "values (count)", "unknown"]];
    attributes.forEach((spec, i) => {
      const counts = summary.attributeCounts[i] ?? [];
      const known = spec.values.map((v, j) => `${v} ${counts[j] ?? 0}`).join(", ");
      rows.push([`a${i} ${spec.name}`, known, String(counts[spec.values.length] ?? 0)]);
    });
    out += `\n${table(rows)}\n(${summary.instancesWithAttributes} instances with attribute columns)\n`;
  }
  return out;
}

/** Formats the whole report: problems grouped by severity (notes capped per kind), summaries, a verdict line. */
export function formatCheckReport(report: CheckReport, options: FormatCheckOptions = {}): string {
  const { maxNotesPerKind = 10 } = options;
  const parts: string[] = [];
  for (const severity of SEVERITIES) {
    const list = report.problems.filter((p) => p.severity === severity);
    if (list.length === 0) continue;
    const shown: DataProblem[] = [];
    const hidden = new Map<ProblemKind, number>();
    const perKind = new Map<ProblemKind, number>();
    for (const p of list) {
      const n = (perKind.get(p.kind) ?? 0) + 1;
      perKind.set(p.kind, n);
      if (severity === "note" && n > maxNotesPerKind) hidden.set(p.kind, (hidden.get(p.kind) ?? 0) + 1);
      else shown.push(p);
    }
    const lines = shown.map(formatProblem);
    for (const [kind, n] of hidden) lines.push(`… ${n} more ${kind} note(s) (--all-notes shows them)`);
    parts.push(`${severity}s (${list.length}):\n${lines.join("\n")}\n`);
  }
  const { config } = report;
  for (const split of Object.values(report.splits)) {
    if (split) parts.push(formatSplitSummary(split.summary, config.names, config.attributes));
  }
  const summaries = Object.values(report.splits).flatMap((s) => (s ? [s.summary] : []));
  if (summaries.length > 1) {
    const unique = report.config.valFromTest ? summaries.filter((s) => s.split !== "val") : summaries;
    const rows = [["all splits", "images", ...config.names]];
    for (const s of unique)
      rows.push([s.split, String(s.images), ...config.names.map((_, i) => String(s.instances[i] ?? 0))]);
    rows.push([
      "total",
      String(unique.reduce((n, s) => n + s.images, 0)),
      ...config.names.map((_, i) => String(unique.reduce((n, s) => n + (s.instances[i] ?? 0), 0))),
    ]);
    parts.push(`${table(rows)}\n`);
  }
  const verdict =
    report.errors > 0
      ? `FAILED: ${report.errors} error(s), ${report.warnings} warning(s) in ${config.file}`
      : `OK: no errors, ${report.warnings} warning(s) in ${config.file}`;
  parts.push(`${verdict}${report.cached > 0 ? ` (${report.cached} image(s) from the check cache)` : ""}\n`);
  return parts.join("\n");
}
