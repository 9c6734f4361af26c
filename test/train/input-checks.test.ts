/**
 * Issue 22, training inputs: an image size that is not a multiple of the stride is rounded up as YOLOv5's
 * check_img_size does (it used to fail inside `cat` after loading the data); out-of-range numbers are refused before
 * any data is read; a train split without a single object is refused (it trained on zero targets); AutoAnchor says
 * it has no labels instead of reporting recall 1.0.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { checkImgSize, checkImgSizeRange, MAX_IMG_SIZE } from "../../src/data/img-size.js";
import { YoloModel } from "../../src/model/yolo.js";
import { checkAnchors } from "../../src/train/anchor-check.js";
import { checkTrainNumbers } from "../../src/train/train-options.js";
import { train } from "../../src/train/trainer.js";
import { OptionError } from "../../src/util/errors.js";
import { makeCellDataset, tinyModelYaml } from "../helpers/trained-fixture.js";

const work = mkdtempSync(join(tmpdir(), "sladet-input-checks-"));
after(() => rmSync(work, { recursive: true, force: true }));

const base = (data: string) => ({
  data,
  cfg: tinyModelYaml(1),
  epochs: 1,
  batch: 4,
  workers: 0,
  verbose: false,
  noautoanchor: true,
  minWarmupIters: 1,
});

describe("training inputs", () => {
  let data = "";
  before(async () => {
    data = await makeCellDataset(join(work, "cells"), { images: 8, imgsz: 64, seed: 4 });
  });

  test("check_img_size: rounded up to the stride (floor 2·stride) with a warning; in range unchanged", () => {
    assert.deepEqual(checkImgSize(100, 32, 64), {
      imgsz: 128,
      warning: "warning: image size 100 must be a multiple of the model's largest stride 32, updating to 128",
    });
    assert.equal(checkImgSize(32, 32, 64).imgsz, 64);
    assert.deepEqual(checkImgSize(640, 32, 64), { imgsz: 640 });
    assert.throws(
      () => checkImgSizeRange(32768),
      /^OptionError: imgsz 32768 must be an integer in \[1, 8192\] pixels$/,
    );
    assert.equal(MAX_IMG_SIZE, 8192);
  });

  test("pretrain --imgsz 100 trains at 128 (it failed inside cat after loading the data)", async () => {
    const project = join(work, "imgsz");
    const r = await train({ ...base(data), imgsz: 100, project });
    assert.equal(r.epochsRun, 1);
    assert.ok(readdirSync(join(r.runDir, "weights")).includes("last.safetensors"));
  });

  test("zero or negative epochs, batch, workers; imgsz past the limit: an OptionError before any file is read", () => {
    for (const [field, value] of [
      ["epochs", 0],
      ["batch", -1],
      ["batch", 2.5],
      ["workers", -1],
      ["imgsz", 32768],
      ["imgsz", 0],
      ["patience", -3],
      ["attributeLambda", 2],
    ] as const) {
      assert.throws(
        () => checkTrainNumbers({ data: "/nonexistent.yaml", [field]: value }),
        (e: unknown) => e instanceof OptionError && e.option === field,
        `${field} ${value}`,
      );
    }
    checkTrainNumbers({ data: "d.yaml", epochs: 1, batch: 1, imgsz: MAX_IMG_SIZE, attributeLambda: 1 });
  });

  test("a train split whose label files hold no object: a ConfigError, no training on zero targets", async () => {
    const empty = await makeCellDataset(join(work, "empty"), { images: 8, imgsz: 64, seed: 5 });
    const labels = join(work, "empty", "labels", "train");
    for (const f of readdirSync(labels)) if (f.endsWith(".txt")) writeFileSync(join(labels, f), "");
    await assert.rejects(
      train({ ...base(empty), imgsz: 64, project: join(work, "zero") }),
      (e: unknown) =>
        e instanceof Error &&
        e.name === "ConfigError" &&
        /the train split has no labelled objects \(\d+ image\(s\), 0 objects\)/.test(e.message),
    );
  });

  test("AutoAnchor on zero labels says so and keeps the anchors (it reported recall 1.0)", () => {
    const model = new YoloModel(tinyModelYaml(1));
    const before = model.detect.anchors.data.toArray();
    const lines: string[] = [];
    checkAnchors(model, [], { anchorT: 4, evolve: true, seed: 0 }, (m) => lines.push(m));
    assert.deepEqual(lines, ["warning: AutoAnchor: no labels to check the anchors against: anchors kept"]);
    assert.deepEqual(model.detect.anchors.data.toArray(), before);
    model.dispose();
  });
});
