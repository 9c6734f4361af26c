/**
 * How much of WBCAtt's Cell Size (big/small, LLD a0 Large/Small after `sladet convert --from wbcatt`) the size of the
 * cell's box alone gives (issue 25 item 3): the threshold on the box's area (and on its longer side) that best
 * separates Large from Small on the training split, scored on the test split; then one threshold per cell type (a
 * perfect type classifier plus a size rule). A head that reads the box's size (attr_size_box) has this as its floor
 * and, for cells whose label is not their size, as its ceiling.
 *
 *   bin/sladet-node dist/bench/attributes/wbcatt-size-threshold.js LLD_ROOT     (the folder with labels/{train,test})
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseLldLabelText } from "../../src/data/formats/lld.js";
import { LLD_CLASS_NAMES } from "../../src/data/schema.js";
import { formatTable } from "../../src/util/table.js";

/** LLD's a0 value that WBCAtt's "big" maps to (docs/wbcatt.md). */
const LARGE = 2;

interface Cell {
  cls: number;
  area: number;
  side: number;
  large: boolean;
}

/** Every cell with a known Cell Size in LLD_ROOT/labels/SPLIT, its box in pixels of the crop. */
function readCells(root: string, split: string): Cell[] {
  const dir = join(root, "labels", split);
  const cells: Cell[] = [];
  for (const name of readdirSync(dir).filter((n) => n.endsWith(".txt"))) {
    const file = join(dir, name);
    const parsed = parseLldLabelText(readFileSync(file, "utf8"), file);
    const r = parsed.region;
    if (!r) throw new Error(`${file}: expected the crop's size in the label line (sladet convert --from wbcatt)`);
    for (const l of parsed.labels) {
      const a0 = l.attributes[0];
      if (a0 === undefined || a0 < 0) continue;
      const w = l.w * (r.x2 - r.x1);
      const h = l.h * (r.y2 - r.y1);
      cells.push({ cls: l.cls, area: w * h, side: Math.max(w, h), large: a0 === LARGE });
    }
  }
  return cells;
}

/** Share of `cells` that "Large when key > t" gets right. */
function accuracy(cells: readonly Cell[], key: (c: Cell) => number, t: number): number {
  let right = 0;
  for (const c of cells) if (key(c) > t === c.large) right++;
  return cells.length > 0 ? right / cells.length : 0;
}

/** The threshold between two sorted neighbours that is best on `cells` (ties: the first). */
function bestThreshold(cells: readonly Cell[], key: (c: Cell) => number): number {
  const values = [...new Set(cells.map(key))].sort((a, b) => a - b);
  let best = { acc: -1, t: 0 };
  for (let i = 0; i + 1 < values.length; i++) {
    const t = (values[i]! + values[i + 1]!) / 2;
    const acc = accuracy(cells, key, t);
    if (acc > best.acc) best = { acc, t };
  }
  return best.t;
}

const root = process.argv[2];
if (!root) throw new Error("usage: wbcatt-size-threshold.js LLD_ROOT");
const train = readCells(root, "train");
const test = readCells(root, "test");
const f3 = (x: number): string => x.toFixed(3);
const rows: string[][] = [];
for (const [name, key] of [
  ["box area", (c: Cell) => c.area],
  ["box's longer side", (c: Cell) => c.side],
] as const) {
  const t = bestThreshold(train, key);
  rows.push([
    `one threshold on the ${name} (${t.toFixed(0)})`,
    f3(accuracy(train, key, t)),
    f3(accuracy(test, key, t)),
  ]);
}
let trainRight = 0;
let testRight = 0;
const area = (c: Cell) => c.area;
for (const cls of [...new Set(train.map((c) => c.cls))].sort((a, b) => a - b)) {
  const tr = train.filter((c) => c.cls === cls);
  const te = test.filter((c) => c.cls === cls);
  const t = bestThreshold(tr, area);
  const [trainAcc, testAcc] = [accuracy(tr, area, t), accuracy(te, area, t)];
  trainRight += trainAcc * tr.length;
  testRight += testAcc * te.length;
  rows.push([`  ${LLD_CLASS_NAMES[cls] ?? cls}: box area (${t.toFixed(0)})`, f3(trainAcc), f3(testAcc)]);
}
rows.push(["one area threshold per cell type", f3(trainRight / train.length), f3(testRight / test.length)]);
const majority = Math.max(test.filter((c) => c.large).length, test.filter((c) => !c.large).length) / test.length;
rows.push(["the majority value", "", f3(majority)]);
process.stdout.write(
  `Cell Size (Large vs Small) from the box alone: ${train.length} training cells, ${test.length} test cells\n` +
    `${formatTable([["rule", "train acc.", "test acc."], ...rows])}\n`,
);
