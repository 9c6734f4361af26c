import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { checkDataset } from "../../src/data/check.js";
import { convertDataset } from "../../src/data/convert.js";
import { makeImage, put, withTempDir } from "./helpers.js";

const NAMES =
  "[None, Myeloblast, Lymphoblast, Neutrophil, Atypical lymphocyte, Promonocyte, Monoblast, Lymphocyte, Myelocyte, Abnormal promyelocyte, Monocyte, Metamyelocyte, Eosinophil, Basophil]";

describe("sladet convert LLD ↔ COCO", () => {
  test("an LLD dataset with regions, sidecars and attributes survives LLD → COCO → LLD byte for byte", async () => {
    await withTempDir("convert", async (dir) => {
      const png = await makeImage(64, 48);
      const src = join(dir, "src");
      const files: Record<string, string> = {
        "train/a": "1 0.25 0.25 0.1 0.1 0 0 32 24 0 1 0 1 0 1 0\n13 0.3 0.2 0.05 0.1 0 0 32 24 3 2 2 2 2 2 1\n",
        "train/b": "",
        "test/c": "5 0.5 0.5 0.333333 0.25 0 0 64 48 2 0 0 0 0 0 0\n",
      };
      for (const [stem, text] of Object.entries(files)) {
        put(join(src, "images", `${stem}.png`), png);
        put(join(src, "labels", `${stem}.txt`), text);
      }
      put(join(src, "labels", "train", "a.region"), "0 0 32 24\n");
      put(join(src, "labels", "train", "b.region"), "10 10 40 30\n");
      const yaml = put(
        join(src, "data.yaml"),
        `train: images/train\nval: images/test\ntest: images/test\nnames: ${NAMES}\n`,
      );
      const coco = await convertDataset({
        from: "lld",
        to: "coco",
        source: yaml,
        out: join(dir, "coco"),
        silent: true,
      });
      assert.equal(coco.written.length, 3, "train, val and test");
      const train = JSON.parse(readFileSync(join(dir, "coco", "Annotations", "train.json"), "utf8"));
      assert.deepEqual(train.images[1].labelled_region, [10, 10, 40, 30]);
      assert.equal(train.annotations[1].attributes["Cell Size"], null);
      assert.equal(train.annotations[1].attributes["Cytoplasmic Vacuoles"], "Prominent");
      const back = await convertDataset({
        from: "coco",
        to: "lld",
        source: join(dir, "coco"),
        out: join(dir, "back"),
        silent: true,
      });
      assert.deepEqual(
        back.counts.train?.instances.filter((n) => n > 0),
        [1, 1],
      );
      for (const [stem, text] of Object.entries(files)) {
        assert.equal(readFileSync(join(dir, "back", "labels", `${stem}.txt`), "utf8"), text, stem);
      }
      assert.equal(readFileSync(join(dir, "back", "labels", "train", "b.region"), "utf8"), "10 10 40 30\n");
      assert.deepEqual(readdirSync(join(dir, "back", "images", "train")).sort(), ["a.png", "b.png"]);
    });
  });

  test("an image in two splits is warned about once per pair of splits", async () => {
    await withTempDir("overlap", async (dir) => {
      const png = await makeImage(16, 16);
      put(join(dir, "images", "a.png"), png);
      put(join(dir, "images", "b.png"), png);
      put(join(dir, "labels", "a.txt"), "0 0.5 0.5 0.2 0.2\n");
      const yaml = put(
        join(dir, "d.yaml"),
        "train: images\nval: images/a.png\ntest: images\nnames: [x]\nattributes: []\n",
      );
      const report = await checkDataset(yaml, { silent: true, cache: false });
      const overlaps = report.problems.filter((p) => p.kind === "split-overlap");
      assert.deepEqual(
        overlaps.map((p) => [p.expected, p.found.split(",")[0]]),
        [
          ["no image in both train and val", "1 such image(s)"],
          ["no image in both train and test", "2 such image(s)"],
        ],
      );
      assert.equal(report.errors, 0);
    });
  });
});
