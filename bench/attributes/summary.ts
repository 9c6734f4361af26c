/**
 * The attribute benchmark's summary (bench/attributes/run.sh): for each test run under a folder, the numbers issue 25
 * sets goals for, read from its metrics.json: mean binary F1 of a1..a6 (≥ 0.85), Cell Size accuracy (≥ 0.90), every
 * attribute's balanced accuracy (≥ 0.80), and detection mAP50 beside them.
 *
 *   bin/sladet-node dist/bench/attributes/summary.js RUNS_TEST_FOLDER
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { AttributeSummary } from "../../src/eval/attribute-metrics.js";
import { formatTable } from "../../src/util/table.js";

/** Issue 25's goals. */
const GOALS = { meanBinaryF1: 0.85, cellSizeAccuracy: 0.9, balancedAccuracy: 0.8 } as const;

const folder = process.argv[2];
if (!folder) throw new Error("usage: summary.js RUNS_TEST_FOLDER");
const rows: string[][] = [
  ["run", "mAP50", "mean binary F1", "Cell Size acc.", "min bal. acc. (attribute)", "goals met"],
];
for (const name of readdirSync(folder).sort()) {
  const file = join(folder, name, "metrics.json");
  if (!existsSync(file)) continue;
  const m = JSON.parse(readFileSync(file, "utf8")) as { all: { mAP50: number }; attributes: AttributeSummary | null };
  if (!m.attributes) continue;
  const attrs = m.attributes.attributes;
  const size = attrs[0]!;
  const worst = attrs.reduce((a, b) => (b.balancedAccuracy < a.balancedAccuracy ? b : a));
  const met =
    m.attributes.seedMeanF1 >= GOALS.meanBinaryF1 &&
    size.accuracy >= GOALS.cellSizeAccuracy &&
    worst.balancedAccuracy >= GOALS.balancedAccuracy;
  rows.push([
    name,
    m.all.mAP50.toFixed(3),
    m.attributes.seedMeanF1.toFixed(3),
    size.accuracy.toFixed(3),
    `${worst.balancedAccuracy.toFixed(3)} (${worst.name})`,
    met ? "yes" : "no",
  ]);
}
process.stdout.write(`${formatTable(rows)}\n`);
