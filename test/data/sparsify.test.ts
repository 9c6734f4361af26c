import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { checkDataset, checkDatasetForTraining, DatasetCheckError } from "../../src/data/check.js";
import { loadSplitItems } from "../../src/data/loader.js";
import { DataFormatError } from "../../src/data/problems.js";
import { centreInRegion } from "../../src/data/region.js";
import { mulberry32, randomRegion, sparsifyDataset } from "../../src/data/sparsify.js";
import { makeImage, put, withTempDir } from "./helpers.js";

/** A dense dataset: 6 train, 2 val, 2 test images of 100×80, each with a 5×4 grid of small boxes. */
async function denseDataset(dir: string): Promise<string> {
  const png = await makeImage(100, 80);
  const grid: string[] = [];
  for (let i = 0; i < 5; i++) {
    for (let j = 0; j < 4; j++) grid.push(`${(i + j) % 3} ${(i + 0.5) / 5} ${(j + 0.5) / 4} 0.1 0.1\n`);
  }
  for (const [split, n] of [
    ["train", 6],
    ["val", 2],
    ["test", 2],
  ] as const) {
    for (let k = 0; k < n; k++) {
      put(join(dir, "images", split, `${k}.png`), png);
      put(join(dir, "labels", split, `${k}.txt`), grid.join(""));
    }
  }
  return put(
    join(dir, "data.yaml"),
    "train: images/train\nval: images/val\ntest: images/test\nnames: [a, b, c]\nattributes: []\n",
  );
}

describe("sparsify", () => {
  test("random regions: area, bounds, integer pixels, determinism", () => {
    const r1 = mulberry32(7);
    const r2 = mulberry32(7);
    for (let i = 0; i < 200; i++) {
      const a = randomRegion({ width: 640, height: 480 }, 0.2, r1);
      const b = randomRegion({ width: 640, height: 480 }, 0.2, r2);
      assert.deepEqual(a, b);
      assert.ok(a.x1 >= 0 && a.y1 >= 0 && a.x2 <= 640 && a.y2 <= 480);
      assert.ok([a.x1, a.y1, a.x2, a.y2].every(Number.isInteger));
      const area = ((a.x2 - a.x1) * (a.y2 - a.y1)) / (640 * 480);
      assert.ok(Math.abs(area - 0.2) < 0.01, `area ${area}`);
    }
    const inside = randomRegion({ width: 640, height: 480 }, 0.5, mulberry32(1), { x1: 10, y1: 10, x2: 110, y2: 60 });
    assert.ok(inside.x1 >= 10 && inside.x2 <= 110 && inside.y1 >= 10 && inside.y2 <= 60);
  });

  test("keeps boxes whose centre is inside the region, writes the region, leaves test dense", async () => {
    await withTempDir("sparsify", async (dir) => {
      const yaml = await denseDataset(join(dir, "dense"));
      const out = join(dir, "sparse");
      const report = await sparsifyDataset(yaml, { out, area: 0.25, seed: 3, silent: true });
      assert.equal(report.splits.train?.images, 6);
      assert.equal(report.splits.train?.instancesBefore, 120);
      assert.ok((report.splits.train?.instancesKept ?? 0) < 120);
      assert.deepEqual(report.splits.test, { images: 2, instancesBefore: 40, instancesKept: 40, meanArea: 1 });
      const check = await checkDataset(report.yaml, { silent: true, cache: false });
      assert.equal(check.errors, 0, check.problems.map((p) => p.expected).join("\n"));
      assert.equal(check.splits.train?.summary.sparse, 6);
      assert.equal(check.splits.val?.summary.sparse, 2);
      assert.equal(check.splits.test?.summary.sparse, 0);
      assert.ok(Math.abs((check.splits.train?.summary.labelledAreaFraction ?? 0) - 0.25) < 0.02);
      for (const img of check.splits.train?.images ?? []) {
        const r = img.region;
        assert.ok(r);
        for (const l of img.labels) {
          assert.ok(l.xc * 100 >= r.x1 && l.xc * 100 <= r.x2 && l.yc * 80 >= r.y1 && l.yc * 80 <= r.y2);
        }
      }
      // The removed boxes are kept aside (labels_heldout/, the YAML's heldout_labels) and loaded with the items.
      assert.match(readFileSync(report.yaml, "utf8"), /heldout_labels: labels_heldout/);
      const items = await loadSplitItems(report.yaml, "train");
      const kept = items.reduce((n, it) => n + it.labels.length, 0);
      const heldout = items.reduce((n, it) => n + (it.heldout?.length ?? 0), 0);
      assert.equal(kept + heldout, 120, "every box is either kept or held out");
      for (const it of items) {
        for (const l of it.heldout ?? [])
          assert.ok(!centreInRegion(l, it.region!, it, 0), "held-out boxes lie outside");
      }
      assert.equal(existsSync(join(out, "labels_heldout", "test")), false, "test stays dense: nothing held out");
      // Every train/val image has its region in a sidecar, even with no box inside it.
      assert.equal(readdirSync(join(out, "labels", "train")).filter((f) => f.endsWith(".region")).length, 6);
      assert.equal(
        readFileSync(join(out, "labels", "test", "0.txt"), "utf8"),
        readFileSync(join(dir, "dense", "labels", "test", "0.txt"), "utf8"),
      );
      // Same seed, same dataset; another seed, other regions.
      const again = await sparsifyDataset(yaml, { out: join(dir, "again"), area: 0.25, seed: 3, silent: true });
      await sparsifyDataset(yaml, { out: join(dir, "other"), area: 0.25, seed: 4, silent: true });
      const region = (root: string) => readFileSync(join(root, "labels", "train", "0.region"), "utf8");
      assert.equal(region(join(dir, "again")), region(out));
      assert.equal(again.splits.train?.instancesKept, report.splits.train?.instancesKept);
      assert.notEqual(
        [0, 1, 2, 3, 4, 5]
          .map((k) => readFileSync(join(dir, "other", "labels", "train", `${k}.region`), "utf8"))
          .join(),
        [0, 1, 2, 3, 4, 5].map((k) => readFileSync(join(out, "labels", "train", `${k}.region`), "utf8")).join(),
      );
    });
  });

  test("refuses a dataset with errors unless forced; rejects a bad area", async () => {
    await withTempDir("sparsify-bad", async (dir) => {
      const yaml = await denseDataset(dir);
      put(join(dir, "labels", "train", "0.txt"), "0 0.5 0.5 0.1\n");
      await assert.rejects(
        sparsifyDataset(yaml, { out: join(dir, "o"), silent: true }),
        (e: unknown) => e instanceof DataFormatError && /0\.txt:1: expected 9 or 5 numbers/.test(e.message),
      );
      const forced = await sparsifyDataset(yaml, { out: join(dir, "o"), silent: true, force: true });
      assert.equal(forced.splits.train?.images, 6);
      await assert.rejects(sparsifyDataset(yaml, { out: join(dir, "o"), area: 0 }), RangeError);
      await assert.rejects(
        checkDatasetForTraining(yaml, { cache: false }),
        (e: unknown) => e instanceof DatasetCheckError && /1 error\(s\) in the dataset/.test(e.message),
      );
    });
  });
});
