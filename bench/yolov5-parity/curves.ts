/**
 * Per-epoch validation curves of training runs side by side (issue 23: sladet's BCCD runs beside Ultralytics'), from
 * their results.csv files (sladet writes YOLOv5's column names, so both read alike): an SVG of val mAP50 (solid) and
 * mAP50-95 (dashed) against the epoch (counted from 1), and a Markdown table of milestones per run.
 *
 *   bin/sladet-node dist/bench/yolov5-parity/curves.js --out docs/bench/bccd-val-map.svg \
 *     "sladet seed 0=/work/bccd-run/runs/main-seed0/results.csv" "Ultralytics seed 0=/tmp/yolov5/runs/train/exp/results.csv"
 */
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { chartRenderer, type LineSeries, PALETTE } from "../../src/report/charts.js";
import { num, parseCsvTable } from "../../src/report/csv.js";

/** A run's val mAP50 and mAP50-95 by epoch (from 1). */
interface Curve {
  label: string;
  map50: number[];
  map: number[];
}

/** Milestones of the table: the first epoch at or above each val mAP50. */
const MILESTONES = [0.5, 0.8] as const;

const DEFAULT_TITLE = "BCCD val mAP per epoch (YOLOv5n from scratch, hyp.scratch-low, 640, batch 16)";

const USAGE = `usage: curves.js --out FILE.svg [--title TEXT] LABEL=results.csv [LABEL=results.csv …]

Plots the val mAP50 (solid) and mAP50-95 (dashed) of each results.csv (sladet's or Ultralytics') per epoch into
FILE.svg, and prints a Markdown table of each run's milestones (first epoch at val mAP50 ≥ ${MILESTONES.join(", ")}) and best epoch.
--title: the chart's title (default "${DEFAULT_TITLE}").`;

function readCurve(spec: string): Curve {
  const at = spec.indexOf("=");
  if (at <= 0) throw new Error(`expected LABEL=results.csv, got "${spec}"`);
  const [label, file] = [spec.slice(0, at), spec.slice(at + 1)];
  const table = parseCsvTable(readFileSync(file, "utf8"));
  // Ultralytics pads its column names with spaces
  const column = (name: string) => {
    const key = table.columns.find((h) => h.trim() === name);
    if (key === undefined) throw new Error(`${file}: no column ${name}`);
    return table.rows.map((r) => num(r[key]?.trim()));
  };
  return { label, map50: column("metrics/mAP_0.5"), map: column("metrics/mAP_0.5:0.95") };
}

function firstEpochAtLeast(values: readonly number[], level: number): string {
  const i = values.findIndex((v) => v >= level);
  return i < 0 ? "–" : String(i + 1);
}

function markdownTable(curves: readonly Curve[]): string {
  const best = (c: Curve) =>
    c.map50.reduce((b, _, i) => (c.map[i]! * 0.9 + c.map50[i]! * 0.1 > c.map[b]! * 0.9 + c.map50[b]! * 0.1 ? i : b), 0);
  const head = [
    "run",
    "epochs",
    ...MILESTONES.map((m) => `first mAP50 ≥ ${m}`),
    "best-fitness epoch",
    "its mAP50 / mAP50-95",
    "last mAP50 / mAP50-95",
  ];
  const rows = curves.map((c) => {
    const b = best(c);
    const n = c.map50.length;
    return [
      c.label,
      String(n),
      ...MILESTONES.map((m) => firstEpochAtLeast(c.map50, m)),
      String(b + 1),
      `${c.map50[b]!.toFixed(3)} / ${c.map[b]!.toFixed(3)}`,
      `${c.map50[n - 1]!.toFixed(3)} / ${c.map[n - 1]!.toFixed(3)}`,
    ];
  });
  return [head, head.map(() => "---"), ...rows].map((r) => `| ${r.join(" | ")} |`).join("\n");
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: {
      out: { type: "string" },
      title: { type: "string", default: DEFAULT_TITLE },
      help: { type: "boolean", short: "h" },
    },
    allowPositionals: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (!values.out || positionals.length === 0) throw new Error(USAGE);
  const curves = positionals.map(readCurve);
  const series: LineSeries[] = curves.flatMap((c, k) => {
    const color = PALETTE[k % PALETTE.length]!;
    const points = (v: number[]) => v.map((y, i) => [i + 1, y] as const);
    return [
      { name: `${c.label} mAP50`, points: points(c.map50), color },
      { name: `${c.label} mAP50-95`, points: points(c.map), color, dashed: true },
    ];
  });
  const charts = await chartRenderer();
  const svg = charts.lineSvg({
    title: values.title!,
    xName: "epoch",
    yName: "val mAP",
    series,
    x: { min: 1 },
    y: { min: 0, max: 1 },
    width: 760,
    height: 420,
  });
  const tmp = `${values.out}.tmp-${process.pid}`;
  writeFileSync(tmp, svg);
  renameSync(tmp, values.out);
  console.log(markdownTable(curves));
  console.log(`\n![val mAP per epoch](${values.out})`);
}

await main();
