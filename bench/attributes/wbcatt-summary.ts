/**
 * The WBCAtt detector-and-head benchmark's summary (bench/attributes/wbcatt-detector.sh): for each `sladet test` run
 * under a folder, in WBCAtt's metrics (accuracy, and macro F1 over the values present, as its code computes them) for
 * the six attributes that map onto LLD's (Nucleolus is unknown on every WBCAtt crop), the cell type's accuracy (the
 * detector's class of the cells it found, from confusion_matrix.csv) and detection mAP50.
 *
 *   bin/sladet-node dist/bench/attributes/wbcatt-summary.js RUNS_TEST_FOLDER
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type AttributeSummary, presentValuesMacroF1 } from "../../src/eval/attribute-metrics.js";
import { parseCsv } from "../../src/util/csv.js";
import { formatTable } from "../../src/util/table.js";

interface TestMetrics {
  all: { mAP50: number; instances: number };
  attributes: AttributeSummary | null;
}

/**
 * Of the labelled cells the detector found (confusion_matrix.csv: rows predicted, columns true, the last row and
 * column background), the fraction given their true class.
 */
function typeAccuracy(csvText: string): { accuracy: number; found: number } {
  const rows = parseCsv(csvText).filter((r) => r.length > 1);
  const body = rows.slice(1, -1).map((r) => r.slice(1, -1).map(Number)); // class × class, background dropped
  let found = 0;
  let right = 0;
  for (const [p, row] of body.entries()) {
    for (const [t, n] of row.entries()) {
      found += n;
      if (p === t) right += n;
    }
  }
  return { accuracy: found > 0 ? right / found : 0, found };
}

const f3 = (x: number): string => x.toFixed(3);
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

const folder = process.argv[2];
if (!folder) throw new Error("usage: wbcatt-summary.js RUNS_TEST_FOLDER");
const rows: string[][] = [];
for (const name of readdirSync(folder).sort()) {
  const file = join(folder, name, "metrics.json");
  if (!existsSync(file)) continue;
  const m = JSON.parse(readFileSync(file, "utf8")) as TestMetrics;
  if (!m.attributes) continue;
  const scored = m.attributes.attributes.filter((a) => a.n > 0);
  const type = typeAccuracy(readFileSync(join(folder, name, "confusion_matrix.csv"), "utf8"));
  if (rows.length === 0)
    rows.push([
      "run",
      "mAP50",
      "type acc. (cells)",
      ...scored.map((a) => `${a.name} acc. / F1`),
      "mean acc. / F1",
      "attr. cells",
    ]);
  const f1s = scored.map((a) => presentValuesMacroF1(a.confusion));
  rows.push([
    name,
    f3(m.all.mAP50),
    `${f3(type.accuracy)} (${type.found})`,
    ...scored.map((a, i) => `${f3(a.accuracy)} / ${f3(f1s[i]!)}`),
    `${f3(mean(scored.map((a) => a.accuracy)))} / ${f3(mean(f1s))}`,
    `${scored[0]!.n} of ${m.all.instances}`,
  ]);
}
process.stdout.write(`${formatTable(rows)}\n`);
