/**
 * Ground-truth attributes reach evaluation (and training) per image at any batch size: the seed indexed the batch's
 * attribute tensor by the image's position in the batch only for batch 1 (method.md §6.2, §8). Detections are the
 * ground-truth boxes themselves, so every cell is matched at IoU 1 and each CSV row must carry the attributes written
 * in its own image's label file, whatever the batch size and order.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { after, before, test } from "node:test";
import { readLldLabelFile } from "../../src/data/formats/lld.js";
import { DataLoader, type LoaderItem, loadSplitItems } from "../../src/data/loader.js";
import { AttributeEvaluation } from "../../src/eval/attribute-eval.js";
import { modelTaps, newAttributeHead, YoloModel } from "../../src/model/index.js";
import { inferenceMode, stack, type Tensor, tensor, tidy } from "../../src/torch/index.js";
import { parseCsv } from "../../src/util/csv.js";
import { makeCellDataset, tinyModelYaml } from "../helpers/trained-fixture.js";

let dir: string;
let items: LoaderItem[];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "sladet-attr-gt-"));
  await makeCellDataset(dir, { images: 24, imgsz: 96, seed: 5 });
  items = await loadSplitItems(join(dir, "data.yaml"), "train", { cache: false });
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** "a0 … a6" of each labelled cell of an image file, sorted (a multiset to compare). */
function expectedTuples(image: string): string[] {
  const label = image.replace(`${join("images", "train")}`, join("labels", "train")).replace(/\.[a-z]+$/, ".txt");
  return readLldLabelFile(label)
    .labels.map((l) => l.attributes.join(" "))
    .sort();
}

/** Per-image [x1, y1, x2, y2, conf 1, cls] detections equal to the batch's ground-truth boxes (input pixels). */
function truthAsDetections(targets: Tensor, images: number, h: number, w: number): Tensor[] {
  return tidy(() => {
    const [b, cls, xc, yc, bw, bh] = [0, 1, 2, 3, 4, 5].map((i) => targets.select(1, i)) as Tensor[];
    const rows = stack(
      [
        xc!.sub(bw!.div(2)).mul(w),
        yc!.sub(bh!.div(2)).mul(h),
        xc!.add(bw!.div(2)).mul(w),
        yc!.add(bh!.div(2)).mul(h),
        cls!.mul(0).add(1),
        cls!,
      ],
      1,
    );
    const ids = b!.toArray();
    return Array.from({ length: images }, (_, i) => {
      const keep = ids.flatMap((v, k) => (v === i ? [k] : []));
      return rows.indexSelect(0, tensor(keep, [keep.length], { dtype: "int64" }));
    });
  });
}

/** Runs the evaluations over the items' batches with the ground-truth boxes as detections; returns the cell count. */
async function evaluateTruth(evaluations: readonly AttributeEvaluation[], batchSize: number): Promise<number> {
  const model = new YoloModel(tinyModelYaml()).eval();
  const head = evaluations[0]!.head;
  const loader = new DataLoader({ items, imgSize: 96, batchSize, rect: true, workers: 0, numAttributes: 7 });
  let cells = 0;
  try {
    for await (const batch of loader.epoch(0)) {
      const [, , h, w] = batch.images.shape as number[];
      const dets = truthAsDetections(batch.targets, batch.indices.length, h!, w!);
      inferenceMode(() => {
        const { features } = model.forward(batch.images, { decode: false, taps: modelTaps(head) });
        for (const e of evaluations) e.add(batch, dets, features);
        for (const f of Object.values(features)) f.dispose();
      });
      cells += batch.targets.size(0);
      for (const d of dets) d.dispose();
      batch.dispose();
    }
  } finally {
    await loader.dispose();
    model.dispose();
  }
  return cells;
}

test("with a CSV path the rows stream to a file published at commit (the same rows); abort leaves nothing", async () => {
  const model = new YoloModel(tinyModelYaml()).eval();
  const head = newAttributeHead(model).eval();
  model.dispose();
  const out = mkdtempSync(join(tmpdir(), "sladet-attr-csv-"));
  try {
    const [kept, streamed, dropped] = [undefined, "a.csv", "b.csv"].map(
      (csv) => new AttributeEvaluation(head, { imgSize: 96, ...(csv ? { csv: join(out, "attributes", csv) } : {}) }),
    ) as [AttributeEvaluation, AttributeEvaluation, AttributeEvaluation];
    await evaluateTruth([kept, streamed, dropped], 4);
    assert.ok(!existsSync(join(out, "attributes", "a.csv")), "nothing at the path before the commit");
    streamed.commitCsv();
    dropped.abortCsv();
    assert.equal(streamed.rows.length, 0, "streamed rows are not kept");
    const lines = readFileSync(join(out, "attributes", "a.csv"), "utf8")
      .trimEnd()
      .split("\n");
    assert.deepEqual(lines.slice(1), kept.rows);
    assert.match(lines[0]!, /^filename,Nuclear Chromatin,/);
    assert.deepEqual(readdirSync(join(out, "attributes")), ["a.csv"], "the aborted file and the temporary ones gone");
  } finally {
    head.dispose();
    rmSync(out, { recursive: true, force: true });
  }
});

for (const batchSize of [1, 4, 16]) {
  test(`batch ${batchSize}: every CSV row carries its own image's ground-truth attributes`, async () => {
    const model = new YoloModel(tinyModelYaml()).eval();
    const evaluation = new AttributeEvaluation(newAttributeHead(model).eval(), { imgSize: 96 });
    model.dispose();
    let cells = 0;
    try {
      cells = await evaluateTruth([evaluation], batchSize);
    } finally {
      evaluation.head.dispose();
    }
    assert.equal(evaluation.rows.length, cells, "every ground-truth cell matched its own box");
    assert.equal(evaluation.metrics.summary().unmatched, 0);
    const byFile = new Map<string, string[]>();
    for (const row of evaluation.rows) {
      const cols = parseCsv(row)[0]!;
      const file = cols[0]!;
      const unknown = (v: string) => (v === "" ? "-1" : v);
      // the seed's six GT columns are a1..a6; Cell Size (a0) is column 13
      const tuple = [cols[13]!, ...cols.slice(1, 7)].map(unknown).join(" ");
      byFile.set(file, [...(byFile.get(file) ?? []), tuple]);
    }
    assert.equal(byFile.size, items.filter((i) => expectedTuples(i.image).length > 0).length);
    for (const item of items) {
      const expected = expectedTuples(item.image);
      if (expected.length === 0) continue;
      assert.deepEqual(byFile.get(basename(item.image))?.sort(), expected, basename(item.image));
    }
  });
}

test("training batches: each target row carries its own image's attributes (batch 16)", async () => {
  const loader = new DataLoader({ items, imgSize: 96, batchSize: 16, rect: true, workers: 0, numAttributes: 7 });
  try {
    for await (const batch of loader.epoch(0)) {
      const t = batch.targets.toArray();
      batch.indices.forEach((index, b) => {
        const rows: string[] = [];
        for (let i = 0; i < t.length; i += 13) if (t[i] === b) rows.push(t.slice(i + 6, i + 13).join(" "));
        assert.deepEqual(rows.sort(), expectedTuples(items[index]!.image), basename(items[index]!.image));
      });
      batch.dispose();
    }
  } finally {
    await loader.dispose();
  }
});
