/**
 * The table of the sparse-label ablation (bench/sparse/run.sh, finetune.sh): per condition, test mAP50, mAP50-95 and
 * (when present) the attribute mean F1 over the seeds (mean ± sample standard deviation, and min–max) of
 * `weights/last` (OUT/runs/test) and, where scored, `weights/best` (OUT/runs/test-best); then every run's validation
 * mAP50 of the labelled regions per phase-2 epoch beside the pseudo-labels' count, precision and mean IoU against the
 * held-out boxes, and its lowest epoch against phase 1's best (when P1_RUN, phase 1's run folder, is given; against
 * phase 1's epoch P1_EPOCH when the arms started from that epoch's checkpoint); then the pseudo-label details per
 * epoch of each SLA run (results.csv), as markdown.
 *
 *   bin/sladet-node dist/bench/sparse/summary.js OUT [P1_RUN [P1_EPOCH]]
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { meanSdRange } from "../common/seeds.js";

interface Scores {
  map50: number;
  map: number;
  attrF1: number | null;
}

interface RunResult {
  condition: string;
  seed: string;
  last: Scores;
  best: Scores | null;
  epochs: Record<string, number>[];
}

function readScores(path: string): Scores | null {
  if (!existsSync(path)) return null;
  const m = JSON.parse(readFileSync(path, "utf8")) as {
    all: { mAP50: number; "mAP50-95": number };
    attributes: { seedMeanF1: number } | null;
  };
  return { map50: m.all.mAP50, map: m.all["mAP50-95"], attrF1: m.attributes?.seedMeanF1 ?? null };
}

function readResultsCsv(csv: string): Record<string, number>[] {
  const [header, ...lines] = existsSync(csv) ? readFileSync(csv, "utf8").trim().split("\n") : [""];
  const cols = (header ?? "").split(",");
  return lines.map((l) =>
    Object.fromEntries(l.split(",").map((v, i) => [cols[i]!, v === "" ? Number.NaN : Number(v)])),
  );
}

function readRun(out: string, name: string): RunResult | null {
  const last = readScores(join(out, "runs", "test", name, "metrics.json"));
  if (!last) return null;
  const best = readScores(join(out, "runs", "test-best", name, "metrics.json"));
  const epochs = readResultsCsv(join(out, "runs", "phase2", name, "results.csv"));
  const [condition, seed] = name.split(/-s(?=\d+$)/) as [string, string];
  return { condition, seed, last, best, epochs };
}

const fmt = (v: number | undefined, digits = 3) => (v === undefined || Number.isNaN(v) ? "–" : v.toFixed(digits));

/** Validation mAP50 of an epoch: of the labelled regions, or of the whole images on a fully labelled set. */
function valMap50(e: Record<string, number>): number {
  const region = e["metrics/region_mAP_0.5"];
  return region === undefined || Number.isNaN(region) ? e["metrics/mAP_0.5"]! : region;
}

function testTable(runs: RunResult[]): string[] {
  const withAttr = runs.some((r) => r.last.attrF1 !== null);
  const withBest = runs.some((r) => r.best !== null);
  const head = ["condition", "seeds", "test mAP50, last", "test mAP50-95, last"];
  if (withAttr) head.push("attribute mean F1, last");
  if (withBest) head.push("test mAP50, best", "test mAP50-95, best");
  const lines = [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`];
  for (const c of [...new Set(runs.map((r) => r.condition))]) {
    const rs = runs.filter((r) => r.condition === c);
    const col = (pick: (r: RunResult) => number | null | undefined) =>
      meanSdRange(rs.map((r) => pick(r) ?? Number.NaN));
    const cells = [c, rs.map((r) => r.seed).join(", "), col((r) => r.last.map50), col((r) => r.last.map)];
    if (withAttr) cells.push(col((r) => r.last.attrF1));
    if (withBest)
      cells.push(
        col((r) => r.best?.map50),
        col((r) => r.best?.map),
      );
    lines.push(`| ${cells.join(" | ")} |`);
  }
  return lines;
}

/** One row per phase-2 epoch: val mAP50 · pseudo-labels @ precision, IoU; then each run's lowest epoch. */
function epochTable(runs: RunResult[], phase1: { label: string; map50: number } | null): string[] {
  const names = runs.map((r) => `${r.condition}-s${r.seed}`);
  const lines = [
    "",
    "val mAP50 per phase-2 epoch (labelled regions; whole images for a fully labelled run) · pseudo-labels @ precision against the held-out boxes, mean IoU of the matched ones",
    "",
    `| epoch | ${names.join(" | ")} |`,
    `|---|${names.map(() => "---").join("|")}|`,
  ];
  const cell = (e: Record<string, number> | undefined) => {
    if (!e) return "";
    const count = e["pl/count"] ?? 0;
    const pl = count > 0 ? `${count} @ ${fmt(100 * e["pl/precision"]!, 0)} %, IoU ${fmt(e["pl/iou"], 2)}` : "0";
    return `${fmt(valMap50(e))} · ${pl}`;
  };
  const epochs = Math.max(0, ...runs.map((r) => r.epochs.length));
  for (let i = 0; i < epochs; i++) lines.push(`| ${i + 1} | ${runs.map((r) => cell(r.epochs[i])).join(" | ")} |`);
  const minima = runs.map((r) => Math.min(...r.epochs.map(valMap50)));
  lines.push(`| min | ${minima.map((m) => fmt(m)).join(" | ")} |`);
  if (phase1 !== null) {
    const below = minima.map((m) => fmt(m - phase1.map50)).join(" | ");
    lines.push(`| min − phase 1 ${phase1.label} (${fmt(phase1.map50)}) | ${below} |`);
  }
  return lines;
}

function pseudoLabelTables(runs: RunResult[]): string[] {
  const lines: string[] = [];
  for (const r of runs.filter((x) => x.epochs.some((e) => (e["pl/count"] ?? 0) > 0))) {
    lines.push("", `**${r.condition}, seed ${r.seed}**: pseudo-labels per phase-2 epoch`, "");
    lines.push(
      "| epoch | count | threshold | precision | class precision | held-out recall | anchors | pl loss | sim loss |",
    );
    lines.push("|---|---|---|---|---|---|---|---|---|");
    for (const e of r.epochs) {
      lines.push(
        `| ${(e["epoch"] ?? 0) + 1} | ${e["pl/count"]} | ${fmt(e["pl/threshold"])} | ${fmt(e["pl/precision"])} | ${fmt(e["pl/class_precision"])} | ${fmt(e["pl/recall"])} | ${e["pl/anchors"]} | ${fmt(e["train/pl_loss"], 4)} | ${fmt(e["train/sim_loss"], 4)} |`,
      );
    }
  }
  return lines;
}

/** Phase 1's best val mAP50, or that of its epoch `epoch` (1-based, as the checkpoints epochN are named). */
function phase1Reference(run: string | undefined, epoch: string | undefined): { label: string; map50: number } | null {
  if (!run) return null;
  const rows = readResultsCsv(join(run, "results.csv"));
  if (epoch === undefined) return { label: "best", map50: Math.max(...rows.map(valMap50)) };
  const row = rows.find((e) => e["epoch"] === Number(epoch) - 1);
  if (!row) throw new Error(`${run}/results.csv has no epoch ${epoch}`);
  return { label: `at epoch ${epoch}`, map50: valMap50(row) };
}

function main(): void {
  const [out, phase1Run, phase1Epoch] = process.argv.slice(2);
  if (!out) throw new Error("usage: summary.js OUT [P1_RUN [P1_EPOCH]]");
  const names = readdirSync(join(out, "runs", "test")).sort();
  const runs = names.map((n) => readRun(out, n)).filter((r): r is RunResult => r !== null);
  const lines = [
    ...testTable(runs),
    ...epochTable(runs, phase1Reference(phase1Run, phase1Epoch)),
    ...pseudoLabelTables(runs),
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}

main();
