/**
 * Issue 22, silently wrong datasets made loud: no labels/ folder (check fails, training refuses zero targets), an
 * edit that keeps size and mtime (the check cache keys on content), two images sharing a label file, label files
 * without an image, a split without images, held-out labels that are the training labels.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, symlinkSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { checkDataset } from "../../src/data/check.js";
import { loadSplitItems } from "../../src/data/loader.js";
import { formatProblem, type ProblemKind } from "../../src/data/problems.js";
import { makeImage, put, withTempDir } from "./helpers.js";

const YAML = "train: images/train\nval: images/val\nnames: [cell]\nattributes: []\n";
const LINE = "0 0.5 0.5 0.2 0.2\n";

/** A dataset of 32×32 images: `train` and `val` stems; labels written for those given in `labels`. */
async function dataset(dir: string, stems: { train: string[]; val: string[] }, labels: Record<string, string>) {
  const png = await makeImage(32, 32);
  for (const split of ["train", "val"] as const) {
    for (const stem of stems[split]) {
      put(join(dir, "images", split, stem.includes(".") ? stem : `${stem}.png`), png);
      const text = labels[`${split}/${stem.replace(/\.[^.]+$/, "")}`];
      if (text !== undefined) put(join(dir, "labels", split, `${stem.replace(/\.[^.]+$/, "")}.txt`), text);
    }
  }
  return put(join(dir, "data.yaml"), YAML);
}

function kinds(report: Awaited<ReturnType<typeof checkDataset>>, kind: ProblemKind) {
  return report.problems.filter((p) => p.kind === kind);
}

describe("layout checks", () => {
  test("no labels/ folder at all: an error per split, check fails, training refuses the split", async () => {
    await withTempDir("no-labels", async (dir) => {
      const yaml = await dataset(dir, { train: ["a", "b"], val: ["c"] }, {});
      const report = await checkDataset(yaml, { silent: true, cache: false });
      const missing = kinds(report, "labels-missing");
      assert.deepEqual(
        missing.map((p) => [p.severity, p.found]),
        [
          ["error", "no label file for any of its 2 image(s)"],
          ["error", "no label file for any of its 1 image(s)"],
        ],
      );
      assert.match(
        formatProblem(missing[0]!),
        /data\.yaml: expected a label file per image of the train split \(e\.g\. .*labels\/train\/a\.txt/,
      );
      assert.equal(report.errors, 2);
      await assert.rejects(
        loadSplitItems(yaml, "train", { cache: false }),
        /DatasetCheckError|2 error\(s\) in the dataset/,
      );
    });
  });

  test("label files with no object: a warning in check (training refuses it, see the training test)", async () => {
    await withTempDir("empty-labels", async (dir) => {
      const yaml = await dataset(dir, { train: ["a"], val: ["c"] }, { "train/a": "", "val/c": LINE });
      const report = await checkDataset(yaml, { silent: true, cache: false });
      assert.deepEqual(
        kinds(report, "labels-missing").map((p) => [p.severity, p.found]),
        [["warning", "1 image(s), 0 objects"]],
      );
      assert.equal(report.errors, 0);
    });
  });

  test("an edit that keeps size and mtime (cp -p, touch -r) is seen by check and by training's items", async () => {
    await withTempDir("cache-hash", async (dir) => {
      const yaml = await dataset(dir, { train: ["a"], val: ["c"] }, { "train/a": LINE, "val/c": LINE });
      const cacheDir = join(dir, "cache");
      const label = join(dir, "labels", "train", "a.txt");
      const first = await checkDataset(yaml, { silent: true, cacheDir });
      assert.equal(first.errors, 0);
      assert.equal(first.splits.train?.images[0]?.labels[0]?.cls, 0);
      const when = new Date("2020-01-01T00:00:00Z");
      utimesSync(label, when, when);
      await checkDataset(yaml, { silent: true, cacheDir }); // the cache now holds this mtime
      put(label, LINE.replace(/^0/, "7")); // same size: class 7 of a 1-class dataset
      utimesSync(label, when, when);
      const second = await checkDataset(yaml, { silent: true, cacheDir });
      assert.equal(second.cached, 1, "only the unchanged val image comes from the cache");
      assert.equal(kinds(second, "class-out-of-range").length, 1, second.problems.map(formatProblem).join("\n"));
      put(label, LINE.replace("0.2 0.2", "0.3 0.2"));
      utimesSync(label, when, when);
      const items = await loadSplitItems(yaml, "train", { cacheDir });
      assert.equal(items[0]?.labels[0]?.w, 0.3, "training reads the edited label, not the cached one");
    });
  });

  test("two images with one stem share a label file: an error naming the label file and both images", async () => {
    await withTempDir("shared", async (dir) => {
      const yaml = await dataset(
        dir,
        { train: ["a.png", "a.jpg", "b"], val: ["c"] },
        {
          "train/a": LINE,
          "train/b": LINE,
          "val/c": LINE,
        },
      );
      const report = await checkDataset(yaml, { silent: true, cache: false });
      const shared = kinds(report, "label-shared");
      assert.equal(shared.length, 1);
      assert.equal(shared[0]?.severity, "error");
      assert.equal(shared[0]?.file, join(dir, "labels", "train", "a.txt"));
      assert.match(shared[0]!.found, /2 images with this stem: a\.jpg, a\.png/);
    });
  });

  test("label files without an image: one warning per labels folder (only when every split is checked)", async () => {
    await withTempDir("orphans", async (dir) => {
      const yaml = await dataset(dir, { train: ["a"], val: ["c"] }, { "train/a": LINE, "val/c": LINE });
      put(join(dir, "labels", "train", "gone.txt"), LINE);
      put(join(dir, "labels", "train", "gone2.txt"), LINE);
      const report = await checkDataset(yaml, { silent: true, cache: false });
      const orphans = kinds(report, "label-orphan");
      assert.deepEqual(
        orphans.map((p) => [p.severity, p.file, p.found]),
        [["warning", join(dir, "labels", "train"), "2 label file(s) without an image: gone.txt, gone2.txt"]],
      );
      const trainOnly = await checkDataset(yaml, { silent: true, cache: false, splits: ["val"] });
      assert.equal(kinds(trainOnly, "label-orphan").length, 0);
    });
  });

  test("a split that resolves to zero images is an error (the folder exists but holds none)", async () => {
    await withTempDir("empty-split", async (dir) => {
      const yaml = await dataset(dir, { train: ["a"], val: [] }, { "train/a": LINE });
      mkdirSync(join(dir, "images", "val"), { recursive: true });
      const report = await checkDataset(yaml, { silent: true, cache: false });
      const empty = kinds(report, "split-empty");
      assert.equal(empty.length, 1);
      assert.match(
        formatProblem(empty[0]!),
        /data\.yaml: expected at least one image in the val split, found none in .*images\/val/,
      );
      assert.equal(report.errors, 1);
    });
  });

  test("held-out labels resolving to the training labels (a link) are an error", async () => {
    await withTempDir("heldout", async (dir) => {
      await dataset(dir, { train: ["a"], val: ["c"] }, { "train/a": LINE, "val/c": LINE });
      symlinkSync(join(dir, "labels"), join(dir, "labels_heldout"));
      const yaml = put(join(dir, "data.yaml"), `${YAML}heldout_labels: labels_heldout\n`);
      const report = await checkDataset(yaml, { silent: true, cache: false });
      const hit = report.problems.find((p) => p.expected.startsWith("heldout_labels"));
      assert.ok(hit, report.problems.map(formatProblem).join("\n"));
      assert.equal(hit.severity, "error");
      execFileSync("rm", [join(dir, "labels_heldout")]);
      mkdirSync(join(dir, "labels_heldout"));
      const fine = await checkDataset(yaml, { silent: true, cache: false });
      assert.equal(fine.errors, 0);
    });
  });
});
