/**
 * The table of the sparse-label ablation (bench/sparse/run.sh): per condition, test mAP50, mAP50-95 and (when
 * present) the attribute mean F1 over the seeds (mean ± sample standard deviation, and min–max), then the pseudo-label
 * count, threshold and precision per phase-2 epoch of each SLA run (results.csv), as markdown.
 *
 *   bin/sladet-node dist/bench/sparse/summary.js OUT
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { meanSdRange } from "../common/seeds.js";

interface RunResult {
  condition: string;
  seed: string;
  map50: number;
  map: number;
  attrF1: number | null;
  epochs: Record<string, number>[];
}

function readRun(out: string, name: string): RunResult | null {
  const metricsPath = join(out, "runs", "test", name, "metrics.json");
  if (!existsSync(metricsPath)) return null;
  const m = JSON.parse(readFileSync(metricsPath, "utf8")) as {
    all: { mAP50: number; "mAP50-95": number };
    attributes: { seedMeanF1: number } | null;
  };
  const csv = join(out, "runs", "phase2", name, "results.csv");
  const [header, ...lines] = existsSync(csv) ? readFileSync(csv, "utf8").trim().split("\n") : [""];
  const cols = (header ?? "").split(",");
  const epochs = lines.map((l) =>
    Object.fromEntries(l.split(",").map((v, i) => [cols[i]!, v === "" ? Number.NaN : Number(v)])),
  );
  const [condition, seed] = name.split(/-s(?=\d+$)/) as [string, string];
  return {
    condition,
    seed,
    map50: m.all.mAP50,
    map: m.all["mAP50-95"],
    attrF1: m.attributes?.seedMeanF1 ?? null,
    epochs,
  };
}

const fmt = (v: number | undefined, digits = 3) => (v === undefined || Number.isNaN(v) ? "–" : v.toFixed(digits));

function main(): void {
  const out = process.argv[2];
  if (!out) throw new Error("usage: summary.js OUT");
  const names = readdirSync(join(out, "runs", "test")).sort();
  const runs = names.map((n) => readRun(out, n)).filter((r): r is RunResult => r !== null);
  const conditions = [...new Set(runs.map((r) => r.condition))];
  const withAttr = runs.some((r) => r.attrF1 !== null);
  const lines = [
    `| condition | seeds | test mAP50 | test mAP50-95 |${withAttr ? " attribute mean F1 |" : ""}`,
    `|---|---|---|---|${withAttr ? "---|" : ""}`,
  ];
  for (const c of conditions) {
    const rs = runs.filter((r) => r.condition === c);
    const attr = withAttr ? ` ${meanSdRange(rs.map((r) => r.attrF1 ?? Number.NaN))} |` : "";
    lines.push(
      `| ${c} | ${rs.map((r) => r.seed).join(", ")} | ${meanSdRange(rs.map((r) => r.map50))} | ${meanSdRange(rs.map((r) => r.map))} |${attr}`,
    );
  }
  for (const r of runs.filter((x) => x.epochs.some((e) => "pl/count" in e))) {
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
  process.stdout.write(`${lines.join("\n")}\n`);
}

main();
