import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { imageToLabelPath, listImages, listSplitImages } from "../../src/data/dataset.js";
import { loadDataYaml, writeDataYaml } from "../../src/data/dataset-yaml.js";
import { DataFormatError, formatProblem } from "../../src/data/problems.js";
import { LLD_ATTRIBUTES, LLD_CLASS_NAMES } from "../../src/data/schema.js";
import { put, withTempDir } from "./helpers.js";

/** The seed's data/WBC_v1.yaml as its README prints it (no val key). */
const SEED_README_YAML = `train: ../images/train
test: ../images/test


# number of classes
nc: 14

# class names
names: ["None","Myeloblast","Lymphoblast", "Neutrophil","Atypical lymphocyte","Promonocyte","Monoblast","Lymphocyte","Myelocyte","Abnormal promyelocyte", "Monocyte","Metamyelocyte","Eosinophil","Basophil"]
`;

function throwsAt(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof DataFormatError, String(e));
    assert.match(e.message, pattern);
    return true;
  });
}

describe("dataset YAML", () => {
  test("the seed README's YAML loads: val falls back to test with a warning, LLD attributes by default", async () => {
    await withTempDir("yaml", (dir) => {
      mkdirSync(join(dir, "images", "train"), { recursive: true });
      mkdirSync(join(dir, "images", "test"), { recursive: true });
      const file = put(join(dir, "data", "WBC_v1.yaml"), SEED_README_YAML);
      const c = loadDataYaml(file);
      assert.deepEqual(c.names, [...LLD_CLASS_NAMES]);
      assert.equal(c.nc, 14);
      assert.deepEqual(c.splits.train, [join(dir, "images", "train")]);
      assert.deepEqual(c.splits.val, [join(dir, "images", "test")]);
      assert.equal(c.valFromTest, true);
      assert.equal(c.problems[0]?.severity, "warning");
      assert.match(formatProblem(c.problems[0]!), /expected a val split, found none/);
      assert.equal(c.attributes, LLD_ATTRIBUTES);
      assert.equal(c.regionOrder, "x1y1x2y2");
      assert.equal(c.regionUnits, "px");
    });
  });

  test("the seed's WBC_v1.yaml (val equal to test) warns about model selection on test", async () => {
    await withTempDir("yaml", (dir) => {
      mkdirSync(join(dir, "images", "test"), { recursive: true });
      const file = put(
        join(dir, "data", "WBC_v1.yaml"),
        "train: ../images/train\nval: ../images/test\ntest: ../images/test\nnc: 14\nnames: ['a','b','c','d','e','f','g','h','i','j','k','l','m','n']\n",
      );
      const c = loadDataYaml(file);
      assert.ok(c.problems.some((p) => p.expected === "val different from test" && p.line === 2));
    });
  });

  test("names as a dict, path:, lists of sources, sladet keys", async () => {
    await withTempDir("yaml", (dir) => {
      const file = put(
        join(dir, "cfg", "d.yaml"),
        [
          "path: ../ds",
          "train: [images/a, images/b]",
          "val: val.txt",
          "names:",
          "  0: RBC",
          "  1: WBC",
          "region_order: x1x2y1y2",
          "region_units: norm",
          "attributes:",
          "  - {name: Size, values: [S, L]}",
          "",
        ].join("\n"),
      );
      const c = loadDataYaml(file);
      assert.deepEqual(c.names, ["RBC", "WBC"]);
      assert.equal(c.root, join(dir, "ds"));
      assert.deepEqual(c.splits.train, [join(dir, "ds", "images", "a"), join(dir, "ds", "images", "b")]);
      assert.deepEqual(c.splits.val, [join(dir, "ds", "val.txt")]);
      assert.equal(c.regionOrder, "x1x2y1y2");
      assert.equal(c.regionUnits, "norm");
      assert.deepEqual(c.attributes, [{ name: "Size", code: "Size", values: ["S", "L"] }]);
    });
  });

  test("errors name the file and the line", async () => {
    await withTempDir("yaml", (dir) => {
      const bad = (name: string, text: string) => put(join(dir, name), text);
      throwsAt(
        () => loadDataYaml(bad("a.yaml", "train: x\nnc: 3\nnames: [a, b]\n")),
        /a\.yaml:2: expected nc equal to the number of names \(2\), found nc 3/,
      );
      throwsAt(
        () => loadDataYaml(bad("b.yaml", "train: x\nnames: [a]\nregion_order: xyxy\n")),
        /b\.yaml:3: expected region_order: x1y1x2y2 or x1x2y1y2/,
      );
      throwsAt(() => loadDataYaml(bad("c.yaml", "train: [x\nnames: [a]\n")), /c\.yaml:\d+: expected valid YAML/);
      throwsAt(
        () => loadDataYaml(bad("d.yaml", "names: [a]\n")),
        /d\.yaml:1: expected at least one of train, val, test/,
      );
      throwsAt(
        () => loadDataYaml(join(dir, "missing.yaml")),
        /missing\.yaml: expected a readable dataset YAML \(a regular file of at most 1\.0 MiB\), found ENOENT/,
      );
      throwsAt(
        () => loadDataYaml(bad("e.yaml", "train: x\nnames: {0: a, 2: c}\n")),
        /e\.yaml:2: expected names for every class id/,
      );
    });
  });

  test("writeDataYaml round trip", async () => {
    await withTempDir("yaml", (dir) => {
      const file = join(dir, "w.yaml");
      writeDataYaml(file, {
        path: ".",
        train: "images/train",
        val: "images/val",
        test: "images/test",
        names: LLD_CLASS_NAMES,
        attributes: LLD_ATTRIBUTES,
        regionOrder: "x1x2y1y2",
        regionUnits: "px",
      });
      const c = loadDataYaml(file);
      assert.deepEqual(c.names, [...LLD_CLASS_NAMES]);
      assert.deepEqual(
        c.attributes,
        LLD_ATTRIBUTES.map((a) => ({ ...a, values: [...a.values] })),
      );
      assert.equal(c.regionOrder, "x1x2y1y2");
      assert.deepEqual(c.splits.test, [join(dir, "images", "test")]);
    });
  });
});

describe("split listing and label paths", () => {
  test("images/ → labels/ like YOLOv5 (last images segment, extension .txt)", () => {
    assert.equal(imageToLabelPath("/d/images/train/a.b.jpg"), "/d/labels/train/a.b.txt");
    assert.equal(imageToLabelPath("/images/x/images/train/a.PNG"), "/images/x/labels/train/a.txt");
    assert.equal(imageToLabelPath("/d/pics/a.jpg"), "/d/pics/a.txt");
  });

  test("folders are searched recursively; list files resolve ./ against their folder; bad entries reported", async () => {
    await withTempDir("list", (dir) => {
      put(join(dir, "images", "train", "sub", "b.png"), "");
      put(join(dir, "images", "train", "a.JPG"), "");
      put(join(dir, "images", "train", "notes.txt"), "");
      const list = put(join(dir, "val.txt"), "./images/train/a.JPG\n\n# comment\nimages/train/sub/b.png\nREADME.md\n");
      const fromDir = listImages([join(dir, "images", "train")]);
      assert.deepEqual(fromDir.images, [join(dir, "images/train/a.JPG"), join(dir, "images/train/sub/b.png")]);
      const fromList = listImages([list]);
      assert.deepEqual(fromList.images, fromDir.images);
      assert.equal(formatProblem(fromList.problems[0]!).startsWith(`${list}:5: expected an image path`), true);
      const missing = listImages([join(dir, "nope")], "d.yaml");
      assert.match(formatProblem(missing.problems[0]!), /^d\.yaml: expected an existing image folder or list file/);
    });
  });

  test("listSplitImages of a config without the split is empty", async () => {
    await withTempDir("list", (dir) => {
      mkdirSync(join(dir, "t"));
      const c = loadDataYaml(put(join(dir, "d.yaml"), "train: t\nnames: [a]\n"));
      assert.deepEqual(listSplitImages(c, "test"), { images: [], problems: [] });
    });
  });
});
