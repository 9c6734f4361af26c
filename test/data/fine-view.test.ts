/**
 * The fine view (hyp attr_image_scale, issue 25; src/data/augment/fine-view.ts): a sample can carry its picture at k×
 * the network input's pixels, made by the same geometric steps with the same random draws, so that a box normalised
 * to the network input frames the same cell in both. Checked on images painted from one continuous picture at any
 * size: the fine view averaged over k × k blocks is the network input to within resampling, and a one-pixel shift
 * already breaks that.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  evalSample,
  HYP_SCRATCH_HIGH,
  labelsFromRows,
  type RgbImage,
  type Sample,
  type SampleSource,
  scaleMat,
  trainSample,
} from "../../src/data/augment/index.js";
import { applyMat } from "../../src/data/augment/perspective.js";
import { assembleRawBatch, rawBatchTransferList } from "../../src/data/raw-batch.js";

/** A smooth picture in coordinates normalised to its image (period ≈ 12 px at 96 px: a shift of one pixel shows). */
function paint(index: number, width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [u, v] = [(x + 0.5) / width, (y + 0.5) / height];
      const o = (y * width + x) * 3;
      data[o] = 128 + 100 * Math.sin(2 * Math.PI * (8 * u + index / 4));
      data[o + 1] = 128 + 100 * Math.cos(2 * Math.PI * 7 * v);
      data[o + 2] = 40 + 160 * u * v;
    }
  }
  return { data, width, height };
}

/** Four pictures of different aspect ratios; `load` gives them with a long side of 96, `loadFine` at any size. */
class PaintedSource implements SampleSource {
  readonly sizes = [
    [96, 80],
    [72, 96],
    [96, 96],
    [96, 64],
  ] as const;
  get length(): number {
    return this.sizes.length;
  }
  async load(index: number): Promise<Sample> {
    const [w, h] = this.sizes[index]!;
    return {
      image: paint(index, w, h),
      mask: { data: new Uint8Array(w * h).fill(1), width: w, height: h },
      labels: labelsFromRows([[index, 10, 12, 40, 44]], 7),
    };
  }
  async loadFine(index: number, width: number, height: number): Promise<RgbImage> {
    return paint(index, width, height);
  }
}

/** Mean |Δ| between `coarse` and `fine` averaged over k × k blocks, the fine view shifted by (dx, dy) coarse pixels. */
function blockDistance(coarse: RgbImage, fine: RgbImage, k: number, dx = 0, dy = 0): number {
  assert.equal(fine.width, k * coarse.width);
  assert.equal(fine.height, k * coarse.height);
  let sum = 0;
  let n = 0;
  for (let y = 2; y < coarse.height - 2; y++) {
    for (let x = 2; x < coarse.width - 2; x++) {
      for (let c = 0; c < 3; c++) {
        let mean = 0;
        for (let j = 0; j < k; j++)
          for (let i = 0; i < k; i++) mean += fine.data[(((y + dy) * k + j) * fine.width + (x + dx) * k + i) * 3 + c]!;
        sum += Math.abs(mean / (k * k) - coarse.data[(y * coarse.width + x) * 3 + c]!);
        n++;
      }
    }
  }
  return sum / n;
}

/** Every geometric step at once: mosaic, mixup, rotation, shear, perspective, both flips; full HSV jitter. */
const HYP = {
  ...HYP_SCRATCH_HIGH,
  mosaic: 1,
  mixup: 1,
  degrees: 10,
  shear: 5,
  perspective: 0.0005,
  flipud: 1,
  fliplr: 1,
};

test("training: the fine view is the network input at k× its pixels, whatever the augmentation", async () => {
  for (const [hyp, k] of [
    [HYP, 2],
    [{ ...HYP, mosaic: 0, mixup: 0 }, 3],
  ] as const) {
    const sample = await trainSample(new PaintedSource(), 1, 4, { imgSize: 96, hyp, seed: 3, fine: { scale: k } });
    const fine = sample.fineImage!;
    const aligned = blockDistance(sample.image, fine, k);
    assert.ok(aligned < 2, `mosaic ${hyp.mosaic}, k ${k}: mean |Δ| ${aligned.toFixed(2)}`);
    for (const [dx, dy] of [
      [1, 0],
      [0, 1],
    ] as const) {
      const shifted = blockDistance(sample.image, fine, k, dx, dy);
      assert.ok(
        shifted > 3 * aligned,
        `a shift of (${dx}, ${dy}) shows: ${shifted.toFixed(2)} vs ${aligned.toFixed(2)}`,
      );
    }
  }
});

test("training: the detector's sample and the random stream do not depend on the fine view", async () => {
  const options = { imgSize: 96, hyp: HYP, seed: 7 };
  const plain = await trainSample(new PaintedSource(), 2, 1, options);
  const withFine = await trainSample(new PaintedSource(), 2, 1, { ...options, fine: { scale: 2, hsv: 0 } });
  assert.deepEqual(withFine.image, plain.image);
  assert.deepEqual(withFine.mask, plain.mask);
  assert.deepEqual(withFine.labels, plain.labels);
  assert.equal(plain.fineImage, undefined);
  const unjittered = await trainSample(new PaintedSource(), 2, 1, {
    ...options,
    hyp: { ...HYP, hsv_h: 0, hsv_s: 0, hsv_v: 0 },
    fine: { scale: 2 },
  });
  assert.deepEqual(withFine.fineImage, unjittered.fineImage, "hsv 0: the same geometry, colours as loaded");
});

test("evaluation: the fine view of a rectangular letterbox lines up with it, borders included", async () => {
  const sample = await evalSample(new PaintedSource(), 3, [80, 96], { fine: { scale: 3 } });
  assert.deepEqual([sample.image.width, sample.image.height], [96, 80]);
  assert.ok(blockDistance(sample.image, sample.fineImage!, 3) < 2);
  const padded = await evalSample(new PaintedSource(), 1, [96, 96], { fine: { scale: 2 } });
  assert.ok(blockDistance(padded.image, padded.fineImage!, 2) < 2, "a 72 px wide image bordered to 96");
  assert.equal(padded.fineImage!.data[0], 114, "the border is padding grey in the fine view too");
});

test("a warp in k× finer coordinates maps k·p where the warp maps p", () => {
  const m = [1.1, 0.2, 5, -0.1, 0.9, 3, 0.001, 0.002, 1] as const;
  const [x, y] = applyMat(m, 10, 20);
  const [fx, fy] = applyMat(scaleMat(m, 3), 30, 60);
  assert.ok(Math.abs(fx - 3 * x) < 1e-9 && Math.abs(fy - 3 * y) < 1e-9);
});

test("the batch carries the fine views as [B, 3, kH, kW], transferred with the rest", async () => {
  const options = { imgSize: 96, hyp: HYP, seed: 5, fine: { scale: 2 } };
  const samples = [
    await trainSample(new PaintedSource(), 0, 0, options),
    await trainSample(new PaintedSource(), 3, 0, options),
  ];
  const raw = assembleRawBatch(samples, [0, 3], 0, 7);
  assert.equal(raw.fineScale, 2);
  assert.equal(raw.fineImages!.length, 4 * raw.images.length);
  const plane = 192 * 192;
  assert.equal(raw.fineImages![3 * plane + 2 * plane + 7], samples[1]!.fineImage!.data[7 * 3 + 2], "image 1, blue");
  assert.ok(rawBatchTransferList(raw).includes(raw.fineImages!.buffer as ArrayBuffer));
  const plain = await trainSample(new PaintedSource(), 1, 0, { imgSize: 96, hyp: HYP, seed: 5 });
  assert.throws(() => assembleRawBatch([samples[0]!, plain], [0, 1], 0, 7), /fine views/);
});
