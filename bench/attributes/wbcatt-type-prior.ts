/**
 * How much of WBCAtt's attributes the cell type alone gives (issue 25 item 3): each attribute predicted as the value
 * most common among the training split's cells of the same type (a perfect cell-type classifier plus a lookup table,
 * no pixels read), scored on the test split. Two tables: the six WBCAtt columns sladet maps onto LLD attributes (as
 * `sladet convert --from wbcatt` maps them, docs/wbcatt.md), with the numbers the head-alone bench prints (accuracy,
 * macro F1 over the values present, balanced accuracy); then all 11 WBCAtt columns as WBCAtt has them, the set the
 * paper's baseline averages over (accuracy 94.09 %, macro F1 91.27 %).
 *
 *   bin/sladet-node dist/bench/attributes/wbcatt-type-prior.js CSV_DIR     (the folder of pbc_attr_v1_*.csv)
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseWbcattCsv, WBCATT_SPLIT_FILES, type WbcattRow } from "../../src/data/formats/wbcatt.js";
import { isKnownAttribute, NUM_ATTRIBUTES } from "../../src/data/schema.js";
import { AttributeMetrics, presentValuesMacroF1 } from "../../src/eval/attribute-metrics.js";
import { parseCsv } from "../../src/util/csv.js";
import { formatTable } from "../../src/util/table.js";

/** WBCAtt's 11 attribute columns (every column of its CSVs but img_name, label and path). */
const WBCATT_COLUMNS = [
  "cell_size",
  "cell_shape",
  "nucleus_shape",
  "nuclear_cytoplasmic_ratio",
  "chromatin_density",
  "cytoplasm_vacuole",
  "cytoplasm_texture",
  "cytoplasm_colour",
  "granule_type",
  "granule_colour",
  "granularity",
] as const;

const dir = process.argv[2];
if (!dir) throw new Error("usage: wbcatt-type-prior.js CSV_DIR (the folder holding pbc_attr_v1_{train,test}.csv)");
const text = (split: "train" | "test") => readFileSync(join(dir, WBCATT_SPLIT_FILES[split]), "utf8");
const f3 = (x: number) => x.toFixed(3);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** The most common value of each key's observations (ties: the value seen first). */
function modes<K, V>(pairs: Iterable<[K, V]>): Map<K, V> {
  const counts = new Map<K, Map<V, number>>();
  for (const [k, v] of pairs) {
    const c = counts.get(k) ?? new Map<V, number>();
    c.set(v, (c.get(v) ?? 0) + 1);
    counts.set(k, c);
  }
  return new Map([...counts].map(([k, c]) => [k, [...c].reduce((a, b) => (b[1] > a[1] ? b : a))[0]]));
}

/** The six mapped LLD attributes: the type's training mode for each known value, scored as the heads are. */
function mappedTable(train: WbcattRow[], test: WbcattRow[]): string {
  const predictions = Array.from({ length: NUM_ATTRIBUTES }, (_, a) =>
    modes(
      train
        .filter((r) => isKnownAttribute(r.attributes[a]!, a))
        .map((r) => [r.cls, r.attributes[a]!] as [number, number]),
    ),
  );
  const metrics = new AttributeMetrics();
  for (const r of test)
    metrics.add(
      r.attributes,
      predictions.map((p) => p.get(r.cls) ?? 0),
    );
  const scored = metrics.summary().attributes.filter((s) => s.n > 0);
  const rows = scored.map((s) => [
    s.name,
    String(s.n),
    f3(s.accuracy),
    f3(presentValuesMacroF1(s.confusion)),
    f3(s.balancedAccuracy),
    f3(s.majorityBaseline),
  ]);
  rows.push([
    "mean",
    "",
    f3(mean(scored.map((s) => s.accuracy))),
    f3(mean(scored.map((s) => presentValuesMacroF1(s.confusion)))),
    f3(mean(scored.map((s) => s.balancedAccuracy))),
    "",
  ]);
  return formatTable([["LLD attribute", "cells", "accuracy", "macro F1", "balanced acc.", "majority"], ...rows]);
}

/** All 11 WBCAtt columns as annotated: accuracy and macro F1 of the type's training mode. */
function rawTable(trainCsv: string, testCsv: string): string {
  const [trainHeader, ...trainRows] = parseCsv(trainCsv);
  const [testHeader, ...testRows] = parseCsv(testCsv);
  const rows = WBCATT_COLUMNS.map((column) => {
    const [label, col] = ["label", column].map((c) => trainHeader!.indexOf(c));
    const [testLabel, testCol] = ["label", column].map((c) => testHeader!.indexOf(c));
    if ([label, col, testLabel, testCol].some((i) => i! < 0)) throw new Error(`${dir}: no column ${column} or label`);
    const byType = modes(trainRows.map((r) => [r[label!]!, r[col!]!] as [string, string]));
    const values = [...new Set([...trainRows, ...testRows].map((r, i) => r[i < trainRows.length ? col! : testCol!]!))];
    const confusion = values.map(() => new Array<number>(values.length).fill(0));
    for (const r of testRows) {
      const predicted = byType.get(r[testLabel!]!) ?? values[0]!;
      confusion[values.indexOf(r[testCol!]!)]![values.indexOf(predicted)]! += 1;
    }
    const accuracy = confusion.reduce((a, row, v) => a + row[v]!, 0) / testRows.length;
    return { column, accuracy, macroF1: presentValuesMacroF1(confusion) };
  });
  return formatTable([
    ["WBCAtt column", "accuracy", "macro F1"],
    ...rows.map((r) => [r.column, f3(r.accuracy), f3(r.macroF1)]),
    ["mean of 11", f3(mean(rows.map((r) => r.accuracy))), f3(mean(rows.map((r) => r.macroF1)))],
  ]);
}

const train = parseWbcattCsv(text("train"), WBCATT_SPLIT_FILES.train).rows;
const test = parseWbcattCsv(text("test"), WBCATT_SPLIT_FILES.test).rows;
process.stdout.write(
  `cell type alone: each attribute = the most common value of the cell's type in the training split ` +
    `(${train.length} cells), scored on the test split (${test.length} cells)\n\n` +
    `${mappedTable(train, test)}\n\n${rawTable(text("train"), text("test"))}\n`,
);
