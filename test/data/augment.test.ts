import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  applyHsvGains,
  applyPerspective,
  augmentHsv,
  beta,
  flipLeftRight,
  flipUpDown,
  HYP_SCRATCH_HIGH,
  isBoxCandidate,
  letterbox,
  mixup,
  mosaic4,
  PADDING_MASK,
  randomPerspectiveMatrix,
  sampleRng,
  trainSample,
} from "../../src/data/augment/index.js";
import { rectBatches } from "../../src/data/rect.js";
import { loadedSize } from "../../src/data/sample-source.js";
import { Rng } from "../../src/util/random.js";
import { INSIDE, MemorySource, maskBounds, paintedSample, rowsOf } from "./augment-helpers.js";

const GREY = 114;

describe("letterbox: shapes, padding and the mask border", () => {
  test("640×480 into 640×640: 80 rows of grey, not labelled, above and below; boxes shift by 80", () => {
    const s = paintedSample(640, 480, null, [[3, 10, 20, 110, 220]]);
    const { sample, ratio, pad } = letterbox(s, { shape: [640, 640] });
    assert.deepEqual([sample.image.width, sample.image.height], [640, 640]);
    assert.deepEqual(ratio, [1, 1]);
    assert.deepEqual(pad, [0, 80]);
    assert.equal(sample.image.data[(79 * 640 + 5) * 3], GREY);
    assert.equal(sample.mask.data[79 * 640 + 5], PADDING_MASK); // not labelled, and no image
    assert.equal(sample.mask.data[80 * 640 + 5], 1);
    assert.equal(sample.mask.data[559 * 640 + 5], 1);
    assert.equal(sample.mask.data[560 * 640 + 5], PADDING_MASK);
    assert.deepEqual(rowsOf(sample)[0]?.slice(0, 5), [3, 10, 100, 110, 300]);
  });

  test("auto pads only to the next multiple of the stride", () => {
    const { sample } = letterbox(paintedSample(640, 470, null), { shape: [640, 640], auto: true, stride: 32 });
    assert.deepEqual([sample.image.width, sample.image.height], [640, 480]);
  });

  test("scaleUp false keeps a small image's size and centres it", () => {
    const { sample, ratio, pad } = letterbox(paintedSample(320, 240, null), { shape: [640, 640], scaleUp: false });
    assert.deepEqual(ratio, [1, 1]);
    assert.deepEqual(pad, [160, 200]);
    assert.deepEqual([sample.image.width, sample.image.height], [640, 640]);
  });

  test("a larger image is scaled down, boxes and region with it", () => {
    const s = paintedSample(1280, 960, { x1: 200, y1: 100, x2: 600, y2: 500 }, [[1, 200, 100, 600, 500]]);
    const { sample, ratio, pad } = letterbox(s, { shape: [640, 640] });
    assert.deepEqual(ratio, [0.5, 0.5]);
    assert.deepEqual(pad, [0, 80]);
    assert.deepEqual(rowsOf(sample)[0]?.slice(1, 5), [100, 130, 300, 330]);
    assert.deepEqual(maskBounds(sample.mask), [100, 130, 300, 330]);
  });

  test("paddingLabelled marks the border as labelled", () => {
    const { sample } = letterbox(paintedSample(640, 480, null), { shape: [640, 640], paddingLabelled: true });
    assert.ok(sample.mask.data.every((v) => v === 1));
  });
});

describe("rect batches and loaded sizes (YOLOv5's shapes)", () => {
  test("square 640 images with pad 0.5 become 672×672 (method.md §5.2)", () => {
    const plan = rectBatches([{ width: 640, height: 640 }], { imgSize: 640, batchSize: 16 });
    assert.deepEqual(plan.shapes, [[672, 672]]);
  });

  test("landscape batch: height from the tallest ratio, width from the image size", () => {
    const sizes = [
      { width: 640, height: 480 },
      { width: 800, height: 400 },
    ];
    const plan = rectBatches(sizes, { imgSize: 640, batchSize: 2, pad: 0.5 });
    // max h/w = 0.75 → ceil(0.75·640/32 + 0.5)·32 = 512; width ceil(20.5)·32 = 672
    assert.deepEqual(plan.shapes, [[512, 672]]);
    assert.deepEqual(plan.order, [1, 0]);
  });

  test("portrait batches and sorting by aspect ratio across batches", () => {
    const sizes = [
      { width: 480, height: 640 },
      { width: 640, height: 320 },
      { width: 640, height: 640 },
      { width: 400, height: 800 },
    ];
    const plan = rectBatches(sizes, { imgSize: 640, batchSize: 2, stride: 32, pad: 0 });
    assert.deepEqual(plan.order, [1, 2, 0, 3]);
    assert.deepEqual(plan.shapes, [
      [640, 640],
      [640, 480],
    ]);
  });

  test("loadedSize: long side to the image size, each side · r truncated (YOLOv5 v7.0's int(w0 * r))", () => {
    assert.deepEqual(loadedSize(1000, 800, 640), { width: 640, height: 512 });
    assert.deepEqual(loadedSize(640, 480, 640), { width: 640, height: 480 });
    // 200 · 640/300 = 426.67 → 426 (v7.0; later YOLOv5 versions take math.ceil: 427)
    assert.deepEqual(loadedSize(300, 200, 640), { width: 640, height: 426 });
    assert.deepEqual(loadedSize(3, 1000, 128), { width: 1, height: 128 }, "at least one pixel");
    assert.deepEqual(loadedSize(1000, 1000, 640), { width: 640, height: 640 });
  });
});

describe("mosaic, mixup, flips, HSV and the box filter", () => {
  test("mosaic: each tile keeps its own mask (dense = ones), the canvas is not labelled", () => {
    const tiles = [
      paintedSample(100, 100, null),
      paintedSample(100, 100, { x1: 0, y1: 0, x2: 50, y2: 50 }),
      paintedSample(100, 100, { x1: 0, y1: 0, x2: 0, y2: 0 }),
      paintedSample(100, 100, { x1: 50, y1: 50, x2: 100, y2: 100 }, [[2, 60, 60, 90, 90]]),
    ];
    const m = mosaic4(tiles, 100, { xc: 100, yc: 100 });
    const at = (x: number, y: number) => m.mask.data[y * 200 + x];
    assert.equal(at(0, 0), 1); // dense top-left tile
    assert.equal(at(99, 99), 1);
    assert.equal(at(100, 0), 1); // top-right tile's region corner
    assert.equal(at(160, 60), 0);
    assert.equal(at(50, 150), 0); // empty-region tile
    assert.equal(at(149, 149), 0);
    assert.equal(at(150, 150), 1); // bottom-right region
    assert.deepEqual(rowsOf(m)[0]?.slice(0, 5), [2, 160, 160, 190, 190]);
    const off = mosaic4(tiles, 100, { xc: 150, yc: 150 });
    assert.equal(off.mask.data[10 * 200 + 10], PADDING_MASK, "canvas outside the tiles");
    assert.equal(off.image.data[(10 * 200 + 10) * 3], GREY);
    const labelled = mosaic4(tiles, 100, { xc: 150, yc: 150 }, { paddingLabelled: true });
    assert.equal(labelled.mask.data[10 * 200 + 10], 1);
  });

  test("mixup: masks intersected, labels of both kept, pixels blended", () => {
    const a = paintedSample(10, 10, { x1: 0, y1: 0, x2: 6, y2: 10 }, [[1, 0, 0, 2, 2]]);
    const b = paintedSample(10, 10, { x1: 4, y1: 0, x2: 10, y2: 10 }, [[2, 5, 5, 7, 7]]);
    const m = mixup(a, b, 0.5);
    for (let x = 0; x < 10; x++) assert.equal(m.mask.data[x], x >= 4 && x < 6 ? 1 : 0, `column ${x}`);
    assert.deepEqual(
      rowsOf(m).map((r) => r[0]),
      [1, 2],
    );
    assert.equal(m.image.data[0], Math.floor(INSIDE[0] * 0.5 + 20 * 0.5));
  });

  test("flips map boxes, masks and pixels together and undo themselves", () => {
    const s = paintedSample(40, 30, { x1: 0, y1: 0, x2: 10, y2: 5 }, [[1, 0, 0, 10, 5]]);
    const lr = flipLeftRight(s);
    assert.deepEqual(rowsOf(lr)[0]?.slice(1, 5), [30, 0, 40, 5]);
    assert.deepEqual(maskBounds(lr.mask), [30, 0, 40, 5]);
    const ud = flipUpDown(s);
    assert.deepEqual(rowsOf(ud)[0]?.slice(1, 5), [0, 25, 10, 30]);
    assert.deepEqual(maskBounds(ud.mask), [0, 25, 10, 30]);
    assert.deepEqual(flipLeftRight(lr).image.data, s.image.data);
    assert.deepEqual(flipUpDown(ud).mask.data, s.mask.data);
  });

  test("HSV: zero gains change nothing; unit gains round-trip within 2 levels; colour only", () => {
    const s = paintedSample(8, 8, null);
    const rgb = new Uint8Array(8 * 8 * 3);
    for (let i = 0; i < rgb.length; i++) rgb[i] = (i * 37) % 256;
    s.image.data.set(rgb);
    augmentHsv(s.image, { h: 0, s: 0, v: 0 }, new Rng(1));
    assert.deepEqual(s.image.data, rgb);
    applyHsvGains(s.image, 1, 1, 1);
    for (let i = 0; i < rgb.length; i++) assert.ok(Math.abs(s.image.data[i]! - rgb[i]!) <= 2, `channel ${i}`);
    applyHsvGains(s.image, 1, 1, 0.5);
    assert.ok(
      s.image.data.every((v, i) => v <= rgb[i]! + 2),
      "value gain 0.5 darkens",
    );
  });

  test("box candidates: YOLOv5's thresholds", () => {
    assert.equal(isBoxCandidate(10, 10, 10, 10), true);
    assert.equal(isBoxCandidate(10, 10, 2, 10), false, "width not above 2 px");
    assert.equal(isBoxCandidate(10, 10, 3, 3), false, "area ratio 0.09");
    assert.equal(isBoxCandidate(100, 1000, 3, 400), false, "aspect ratio above 100 is dropped… 133");
    assert.equal(isBoxCandidate(10, 10, 4, 4), true, "area ratio 0.16");
  });

  test("mixup ratio ~ Beta(32, 32): mean 0.5, sd ≈ 0.062", () => {
    const rng = new Rng(7);
    const xs = Array.from({ length: 4000 }, () => beta(rng, 32, 32));
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
    assert.ok(Math.abs(mean - 0.5) < 0.005, `mean ${mean}`);
    assert.ok(Math.abs(sd - 0.0615) < 0.005, `sd ${sd}`);
  });
});

describe("per-sample randomness", () => {
  test("the same (seed, epoch, index) gives the same sample; another epoch another one", async () => {
    const source = new MemorySource(
      Array.from({ length: 5 }, (_, i) =>
        paintedSample(90 + 10 * i, 80, { x1: 10, y1: 10, x2: 60, y2: 60 }, [[i, 20, 20, 40, 40]]),
      ),
    );
    const options = { imgSize: 96, hyp: HYP_SCRATCH_HIGH, seed: 5 };
    const a = await trainSample(source, 2, 3, options);
    const b = await trainSample(source, 2, 3, options);
    assert.deepEqual(a, b);
    const c = await trainSample(source, 2, 4, options);
    assert.notDeepEqual(c.image.data, a.image.data);
    assert.notEqual(sampleRng(5, 3, 2).next(), sampleRng(5, 3, 1).next());
  });

  test("a warp with scale and translation only keeps boxes axis-aligned with the mask", () => {
    const s = paintedSample(100, 80, { x1: 20, y1: 10, x2: 70, y2: 50 }, [[0, 20, 10, 70, 50]]);
    const draw = randomPerspectiveMatrix(new Rng(3), 100, 80, {
      degrees: 0,
      translate: 0.1,
      scale: 0.5,
      shear: 0,
      perspective: 0,
    });
    const out = applyPerspective(s, draw);
    const box = rowsOf(out)[0]!;
    const bounds = maskBounds(out.mask)!;
    for (let k = 0; k < 4; k++) assert.ok(Math.abs(bounds[k]! - box[k + 1]!) <= 1, `side ${k}: ${bounds} vs ${box}`);
  });
});

describe("object scale through augmentation (the attribute head's sizes as loaded)", () => {
  test("a warp multiplies each row's scale by its scale factor; a letterbox by its ratio; flips keep it", () => {
    const s = paintedSample(100, 80, null, [
      [0, 20, 10, 50, 40],
      [1, 60, 30, 80, 60],
    ]);
    const draw = randomPerspectiveMatrix(new Rng(3), 100, 80, {
      degrees: 0,
      translate: 0,
      scale: 0.5,
      shear: 0,
      perspective: 0,
    });
    const warped = applyPerspective(s, draw);
    assert.equal(warped.labels.count, 2);
    for (let r = 0; r < 2; r++) {
      assert.ok(Math.abs(warped.labels.scale![r]! - draw.scale) < 1e-6);
      const [, x1, , x2] = rowsOf(warped)[r]!;
      const [, ox1, , ox2] = rowsOf(s)[r]!;
      assert.ok(Math.abs((x2! - x1!) / (ox2! - ox1!) - draw.scale) < 1e-4, "the box width scaled by the factor");
    }
    const boxed = letterbox(flipLeftRight(warped), { shape: [40, 40] }).sample;
    for (let r = 0; r < 2; r++) assert.ok(Math.abs(boxed.labels.scale![r]! - draw.scale * 0.4) < 1e-6);
  });

  test("training samples (mosaic, warp, mixup): each row's box is its loaded box times its scale", async () => {
    // one square object per image, each of a different size, so every output row can be traced to its source
    const sizes = [10, 14, 18, 22, 26];
    const source = new MemorySource(
      sizes.map((d, i) => paintedSample(96, 96, null, [[i, 48 - d / 2, 48 - d / 2, 48 + d / 2, 48 + d / 2]])),
    );
    const hyp = { ...HYP_SCRATCH_HIGH, mosaic: 1, mixup: 0.5, degrees: 0, shear: 0, perspective: 0 };
    let checked = 0;
    for (let epoch = 0; epoch < 6; epoch++) {
      const out = await trainSample(source, epoch % 5, epoch, { imgSize: 96, hyp, seed: 11 });
      rowsOf(out).forEach((row, r) => {
        const [cls, x1, y1, x2, y2] = row as [number, number, number, number, number];
        const w = x2 - x1;
        const h = y2 - y1;
        // clipped (by the mosaic's tile crop or the output's border): not its full size; the objects are squares
        if (x1 <= 0 || y1 <= 0 || x2 >= 96 || y2 >= 96 || Math.abs(w - h) > 0.1 * Math.max(w, h)) return;
        const loaded = sizes[cls]! * out.labels.scale![r]!;
        assert.ok(Math.abs(w - loaded) < 0.05 * loaded + 0.5, `row ${r}: width ${w} vs ${loaded}`);
        assert.ok(Math.abs(h - loaded) < 0.05 * loaded + 0.5, `row ${r}: height ${h} vs ${loaded}`);
        checked++;
      });
    }
    assert.ok(checked >= 6, `checked ${checked} rows`);
  });
});
