/**
 * A detect run's memory does not grow with the number of images (issue 24): predictions.json and predictions.csv are
 * written image by image (src/infer/prediction-files.ts), byte for byte what JSON.stringify of the whole document
 * gives, and published atomically.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import sharp from "sharp";
import { PredictionsCsvWriter, PredictionsJsonWriter } from "../../src/infer/prediction-files.js";
import type { PredictedImage, PredictionsJson } from "../../src/infer/prediction-json.js";
import type { ImagePrediction, InputBatch, Predictor } from "../../src/infer/predictor.js";
import { runDetect } from "../../src/runs/detect-run.js";
import { fullGarbageCollection } from "../../src/util/gc.js";

const work = mkdtempSync(join(tmpdir(), "sladet-detect-memory-"));
after(() => rmSync(work, { recursive: true, force: true }));

const collectGarbage = fullGarbageCollection();

const head: Omit<PredictionsJson, "images" | "skipped"> = {
  version: 1,
  workingDir: "/work",
  model: { weights: "w.safetensors", backend: "libtorch", names: ["cell"], imgsz: 64, attributes: null },
  settings: { confThres: 0.25, iouThres: 0.45, maxDet: 1000, classes: null, agnostic: false },
};
const image = (k: number, cells: number): PredictedImage => ({
  file: `im${k}.png`,
  width: 64,
  height: 48,
  detections: Array.from({ length: cells }, (_, j) => ({
    box: [j, 1.5, j + 10, 20.25],
    class: 0,
    name: "cell",
    confidence: 0.5 + j / 100,
  })),
  ...(k % 2 ? { annotated: `im${k}.png` } : {}),
});

test("predictions.json written image by image is JSON.stringify(document, null, 1) exactly", () => {
  for (const [images, skipped] of [
    [[], []],
    [[image(0, 0)], [{ file: "bad.jpg", reason: "not an image" }]],
    [[image(0, 2), image(1, 0), image(2, 3)], []],
  ] as const) {
    const path = join(work, `p${images.length}.json`);
    const writer = new PredictionsJsonWriter(path, head);
    for (const im of images) writer.add(im);
    assert.equal(existsSync(path), false, "nothing is published before the commit");
    writer.commit([...skipped]);
    const whole: PredictionsJson = { ...head, images: [...images], skipped: [...skipped] };
    assert.equal(readFileSync(path, "utf8"), `${JSON.stringify(whole, null, 1)}\n`);
  }
});

test("an aborted prediction file leaves no file and no temporary file behind", () => {
  const dir = join(work, "aborted");
  mkdirSync(dir);
  const json = new PredictionsJsonWriter(join(dir, "predictions.json"), head);
  const csv = new PredictionsCsvWriter(join(dir, "predictions.csv"), "a,b");
  json.add(image(0, 1));
  csv.add(["1,2"]);
  json.abort();
  csv.abort();
  assert.deepEqual(readdirSync(dir), []);
});

/** Cells per image of the fake predictor: enough that keeping them per image would be seen in the heap. */
const CELLS_PER_IMAGE = 300;
const IMAGES = 240;
/** Heap growth allowed between the 5th batch and the last (keeping every image's cells would take ~20 MB). */
const MAX_HEAP_GROWTH_MB = 4;

/** A predictor that finds CELLS_PER_IMAGE cells in every image and records the heap (after a GC) at each batch. */
function fakePredictor(heapMB: number[]): Predictor {
  return {
    info: {
      backend: "onnx",
      names: ["cell"],
      maxStride: 32,
      hasAttributes: false,
      fixedInput: null,
      fixedBatch: null,
      attributeImageScale: 1,
    },
    async predict(batch: InputBatch): Promise<ImagePrediction[]> {
      collectGarbage();
      heapMB.push(process.memoryUsage().heapUsed / 2 ** 20);
      return Array.from({ length: batch.shape[0] }, () => {
        const boxes = new Float32Array(CELLS_PER_IMAGE * 6);
        for (let k = 0; k < CELLS_PER_IMAGE; k++)
          boxes.set([k % 20, k % 17, (k % 20) + 9, (k % 17) + 11, 0.9, 0], k * 6);
        return { count: CELLS_PER_IMAGE, boxes, attributes: null };
      });
    },
    async dispose() {},
  };
}

test("detect keeps no per-image results: the heap stays flat over 240 images of 300 cells each", async () => {
  const source = join(work, "images");
  mkdirSync(source);
  const png = await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: 200, g: 90, b: 120 } } })
    .png()
    .toBuffer();
  for (let k = 0; k < IMAGES; k++) writeFileSync(join(source, `f${String(k).padStart(3, "0")}.png`), png);
  const heapMB: number[] = [];
  const result = await runDetect({
    weights: "fake.onnx",
    predictor: fakePredictor(heapMB),
    source,
    imgsz: 32,
    batchSize: 8,
    nosave: true,
    project: join(work, "runs"),
    verbose: false,
  });
  const written = JSON.parse(readFileSync(result.predictionsJson, "utf8")) as PredictionsJson;
  assert.equal(written.images.length, IMAGES);
  assert.ok(written.images.every((im) => im.detections.length === CELLS_PER_IMAGE));
  const rows = readFileSync(join(result.runDir, "predictions.csv"), "utf8").trim().split("\n");
  assert.equal(rows.length, 1 + IMAGES * CELLS_PER_IMAGE, "a header and one row per cell");
  const growth = heapMB.at(-1)! - heapMB[4]!;
  assert.ok(
    growth < MAX_HEAP_GROWTH_MB,
    `heap grew ${growth.toFixed(1)} MB from batch 5 to batch ${heapMB.length} (${heapMB.map((h) => h.toFixed(1)).join(" ")})`,
  );
});
