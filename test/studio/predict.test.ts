/**
 * Predictions on demand through the real public API (`load()` and `Detector.detect` on libtorch): an untrained tiny
 * one-class detector (its low-confidence boxes are enough to compare), asked through the studio's HTTP
 * API, gives exactly the cells the API gives directly, and the second request comes from the cache.
 */
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { load } from "../../src/api/detector.js";
import { QUICKSTART_MODEL } from "../../src/demo/quickstart.js";
import { saveCheckpoint } from "../../src/model/checkpoint.js";
import { builtinModelYaml } from "../../src/model/config.js";
import { YoloModel } from "../../src/model/yolo.js";
import type { PredictResult } from "../../src/studio/api-types.js";
import type { Studio } from "../../src/studio/index.js";
import { manualSeed } from "../../src/torch/index.js";
import { makeSparseDataset, studioOn } from "./harness.js";

/** Low enough that an untrained detector finds boxes; the network size of the tiny test configuration. */
const PREDICT = { confThres: 0.01, imgsz: 128 };
const IMAGE = "images/train/synth_000001.jpg";

const dataYaml = await makeSparseDataset();
const root = dirname(dataYaml);
const weights = join(root, "untrained.safetensors");
let studio: Studio;

before(async () => {
  manualSeed(0);
  const model = new YoloModel({ ...builtinModelYaml("n"), ...QUICKSTART_MODEL, nc: 1 }, { names: ["cell"] });
  saveCheckpoint(weights, model);
  model.dispose();
  studio = await studioOn({ data: dataYaml, weights, ...PREDICT });
});
after(async () => {
  await studio?.close();
  rmSync(root, { recursive: true, force: true });
});

test("the studio's predictions are the public API's, cached per image", async () => {
  const predict = async () => {
    const res = await fetch(`http://127.0.0.1:${studio.port}/api/predict?path=${encodeURIComponent(IMAGE)}`, {
      method: "POST",
      headers: { "x-sladet-token": "t0k3n" },
    });
    assert.equal(res.status, 200);
    return (await res.json()) as PredictResult;
  };
  const first = await predict();
  assert.equal(first.cached, false);
  assert.deepEqual(first.names, ["cell"]);
  assert.ok(first.cells.length > 0, "the untrained detector finds low-confidence boxes");
  const detector = await load(weights);
  try {
    const [direct] = await detector.detect(join(root, IMAGE), PREDICT);
    assert.deepEqual(first.cells, JSON.parse(JSON.stringify(direct!.cells)));
  } finally {
    await detector.dispose();
  }
  const second = await predict();
  assert.equal(second.cached, true);
  assert.deepEqual(second.cells, first.cells);
});
