/**
 * A head that reads each cell's class (hyp attr_class 1) end to end: trained from the labels' classes, saved with its
 * class count, evaluated by `sladet val` on the detections' classes and run by the libtorch predictor on them. The
 * shared fixture's detector finds the cells, so validation has matched cells for the head to describe.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { decodeImage, letterboxBatch } from "../../src/infer/sources.js";
import { createTorchPredictor } from "../../src/infer/torch-predictor.js";
import { loadCheckpoint } from "../../src/model/checkpoint.js";
import { assertValidationDescribesCells, trainAttributeRun } from "../helpers/trained-fixture.js";

const IMGSZ = 128;
const work = mkdtempSync(join(tmpdir(), "sladet-attr-class-"));
after(() => rmSync(work, { recursive: true, force: true }));

test("attr_class 1: trained on the labels' classes, saved, validated and predicted on the detections' classes", async () => {
  const { data, run } = await trainAttributeRun(work, { attr_class: 1 }, IMGSZ);
  const saved = loadCheckpoint(run.last);
  try {
    assert.equal(saved.attributeHead?.classes, saved.model.detect.nc, "the head reads the detector's classes");
    assert.ok(saved.attributeHead!.fcClass!.weight.data.abs().sum().item() > 0, "its class weights were trained");
  } finally {
    saved.model.dispose();
    saved.attributeHead?.dispose();
    for (const t of saved.training.values()) t.dispose();
  }
  await assertValidationDescribesCells(data, run.last, work, IMGSZ);

  const predictor = await createTorchPredictor(run.last);
  try {
    const images = join(work, "data", "images", "val");
    const decoded = await Promise.all(
      readdirSync(images)
        .slice(0, 2)
        .map((f) => decodeImage(join(images, f))),
    );
    const { batch } = await letterboxBatch(decoded, { imgsz: IMGSZ, stride: predictor.info.maxStride });
    const preds = await predictor.predict(batch, { confThres: 0.1 });
    assert.ok(preds.some((p) => p.count > 0));
    for (const p of preds) assert.equal(p.attributes?.cellSize.length, p.count * 3);
  } finally {
    await predictor.dispose();
  }
});
