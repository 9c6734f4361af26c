/**
 * The weak view (the attribute head's pixels, hyp attr_hsv, issue 25; phase 2's teacher's, pl_teacher_hsv, issue 26): a
 * training sample can carry a copy of its image with the same geometry and flips but a fraction of the HSV jitter,
 * without changing the detector's sample; the batch carries it as `weakImages`.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { HYP_SCRATCH_HIGH, trainSample } from "../../src/data/augment/index.js";
import { assembleRawBatch, rawBatchTransferList } from "../../src/data/raw-batch.js";
import { MemorySource, paintedSample } from "./augment-helpers.js";

function source(): MemorySource {
  return new MemorySource(
    Array.from({ length: 4 }, (_, i) =>
      paintedSample(90 + 10 * i, 80, { x1: 10, y1: 10, x2: 60, y2: 60 }, [[i, 20, 20, 40, 40]]),
    ),
  );
}

/** Full HSV jitter and both flips certain, so every colour and geometry path runs. */
const HYP = { ...HYP_SCRATCH_HIGH, mosaic: 0, mixup: 0, flipud: 1, fliplr: 1 };

test("weakHsv 0: the detector's sample is unchanged, the head's copy has its geometry and no colour jitter", async () => {
  const options = { imgSize: 96, hyp: HYP, seed: 5 };
  const plain = await trainSample(source(), 1, 2, options);
  const withCopy = await trainSample(source(), 1, 2, { ...options, weakHsv: 0 });
  assert.deepEqual(withCopy.image, plain.image, "the detector's pixels do not depend on the head's copy");
  assert.deepEqual(withCopy.labels, plain.labels);
  assert.equal(plain.weakImage, undefined);
  const unjittered = await trainSample(source(), 1, 2, { ...options, hyp: { ...HYP, hsv_h: 0, hsv_s: 0, hsv_v: 0 } });
  assert.deepEqual(withCopy.weakImage, unjittered.image, "same warp and flips, colours as loaded");
  assert.notDeepEqual(withCopy.weakImage!.data, withCopy.image.data, "the detector's copy is jittered");
});

test("weakHsv 1 gives the detector's pixels; a fraction scales the same random gains", async () => {
  const options = { imgSize: 96, hyp: HYP, seed: 5 };
  const full = await trainSample(source(), 2, 0, { ...options, weakHsv: 1 });
  assert.deepEqual(full.weakImage, full.image);
  const none = await trainSample(source(), 2, 0, { ...options, weakHsv: 0 });
  const half = await trainSample(source(), 2, 0, { ...options, weakHsv: 0.5 });
  const s = none.weakImage!.data;
  const distance = (d: Uint8Array) => d.reduce((a, v, i) => a + Math.abs(v - s[i]!), 0) / d.length;
  const [dHalf, dFull] = [distance(half.weakImage!.data), distance(full.image.data)];
  assert.ok(dHalf > 0, "half the jitter still changes colours");
  assert.ok(dHalf < dFull, `but less than the detector's (mean |Δ| ${dHalf.toFixed(2)} vs ${dFull.toFixed(2)})`);
  assert.deepEqual(half.image, full.image, "the detector's pixels are the same whatever the fraction");
});

test("the batch carries the head's pixels as a second CHW image, transferred with the rest", async () => {
  const options = { imgSize: 96, hyp: HYP, seed: 5, weakHsv: 0 };
  const samples = [await trainSample(source(), 0, 0, options), await trainSample(source(), 3, 0, options)];
  const raw = assembleRawBatch(samples, [0, 3], 0, 7);
  assert.ok(raw.weakImages);
  assert.equal(raw.weakImages.length, raw.images.length);
  const plane = 96 * 96;
  const hwc = samples[1]!.weakImage!.data;
  assert.equal(raw.weakImages[3 * plane + plane + 5], hwc[5 * 3 + 1]!, "image 1, green, pixel 5");
  assert.ok(rawBatchTransferList(raw).includes(raw.weakImages.buffer as ArrayBuffer));
  const without = assembleRawBatch([await trainSample(source(), 0, 0, { ...options, weakHsv: undefined })], [0], 0, 7);
  assert.equal(without.weakImages, undefined);
});
