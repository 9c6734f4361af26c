/**
 * The attribute branch's training inputs (issue 25): the image tap reads the loader's attribute pixels when a batch
 * has them (hyp attr_hsv), cells shrunk by scale augmentation below `minScale` are left out of the loss (hyp
 * attr_min_scale), and the head trains at the branch's dropout (hyp attr_dropout). Dropout is drawn from the global
 * generator, so each compared call starts from the same seed.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { YoloModel } from "../../src/model/yolo.js";
import { manualSeed, rand, type Tensor, tensor, tidy } from "../../src/torch/index.js";
import { AttributeBranch, EXTRA_STEP_FLIPS, rowsAtScale } from "../../src/train/attribute-branch.js";
import { tinyModelYaml } from "../helpers/trained-fixture.js";

const OPTIONS = { lr0: 0.01, momentum: 0.9, weightDecay: 0, taps: ["image"] };

/** Three cells of class `cls` in two 32×32 images: (image, class, xc, yc, w, h, a0..a6). */
function targets(cls = 0): Tensor {
  return tensor(
    [
      [0, cls, 0.3, 0.3, 0.3, 0.3, 1, 0, 1, 0, 1, 0, 1],
      [0, cls, 0.7, 0.6, 0.4, 0.3, 2, 1, 0, 1, 0, 1, 0],
      [1, cls, 0.5, 0.5, 0.5, 0.5, 0, 1, 1, 0, 0, 1, 1],
    ].flat(),
    [3, 13],
  );
}

function lossOf(branch: AttributeBranch, batch: Parameters<AttributeBranch["loss"]>[1]): number {
  manualSeed(3);
  return tidy(() => branch.loss({}, batch)!.loss.item());
}

test("rowsAtScale keeps the rows at or above the factor", () => {
  assert.deepEqual(rowsAtScale(Float32Array.from([1, 0.5, 0.8, 1.7]), 0.8), [0, 2, 3]);
  assert.deepEqual(rowsAtScale([0.1, 0.2], 0), [0, 1]);
  assert.deepEqual(rowsAtScale([0.1, 0.2], 0.5), []);
});

test("the image tap reads the batch's weak view when it has one, unless the view is the teacher's alone", () => {
  const model = new YoloModel(tinyModelYaml());
  const branch = new AttributeBranch(model, OPTIONS);
  const detectorImage = new AttributeBranch(model, { ...OPTIONS, readsWeakView: false }, branch.head);
  tidy(() => {
    const images = rand([2, 3, 32, 32]);
    const other = rand([2, 3, 32, 32]);
    const scales = Float32Array.from([1, 1, 1]);
    const base = { targets: targets(), targetScales: scales };
    const onImages = lossOf(branch, { ...base, images });
    const onOther = lossOf(branch, { ...base, images: other });
    const withCopy = lossOf(branch, { ...base, images, weakImages: other });
    assert.notEqual(onImages, onOther, "different pixels, different loss");
    assert.equal(withCopy, onOther, "the head read weakImages, not images");
    assert.equal(lossOf(detectorImage, { ...base, images, weakImages: other }), onImages, "attr_hsv 1: images");
  });
  detectorImage.optimizer.dispose();
  detectorImage.ema.ema.dispose();
  branch.dispose();
  model.dispose();
});

test("cells below minScale are left out of the loss; none left = no loss", () => {
  const model = new YoloModel(tinyModelYaml());
  const all = new AttributeBranch(model, OPTIONS);
  const filtered = new AttributeBranch(model, { ...OPTIONS, minScale: 0.8 }, all.head);
  tidy(() => {
    const images = rand([2, 3, 32, 32]);
    const scales = Float32Array.from([1, 0.3, 1.2]);
    const kept = tensor([0, 2], [2], { dtype: "int64" });
    const expected = lossOf(all, {
      images,
      targets: targets().indexSelect(0, kept),
      targetScales: Float32Array.from([1, 1.2]),
    });
    assert.equal(lossOf(filtered, { images, targets: targets(), targetScales: scales }), expected);
    assert.notEqual(lossOf(all, { images, targets: targets(), targetScales: scales }), expected);
    assert.equal(
      filtered.loss({}, { images, targets: targets(), targetScales: Float32Array.from([0.5, 0.5, 0.1]) }),
      null,
    );
  });
  filtered.optimizer.dispose();
  filtered.ema.ema.dispose();
  all.dispose();
  model.dispose();
});

test("extra steps: the head alone takes `count` steps (EMA updated each time); none without cells at minScale", () => {
  const model = new YoloModel(tinyModelYaml());
  const branch = new AttributeBranch(model, { ...OPTIONS, minScale: 0.5 });
  tidy(() => {
    const images = rand([2, 3, 32, 32]);
    const before = branch.head.fc3.weight.data.clone();
    const batch = { images, targets: targets(), targetScales: Float32Array.from([1, 1, 1]) };
    branch.extraSteps({}, batch, 0.01, 3);
    assert.equal(branch.ema.updates, 3);
    assert.ok(branch.head.fc3.weight.data.sub(before).abs().max().item() > 0, "the head moved");
    for (const p of branch.head.parameters()) {
      const g = p.data.grad;
      assert.ok(!g || g.abs().max().item() === 0, "grads cleared");
    }
    branch.extraSteps({}, { ...batch, targetScales: Float32Array.from([0.1, 0.1, 0.1]) }, 0.01, 3);
    assert.equal(branch.ema.updates, 3, "no cell at minScale: no step");
  });
  assert.deepEqual(EXTRA_STEP_FLIPS, [[3], [2], [2, 3]]);
  branch.dispose();
  model.dispose();
});

test("clipNorm: the head's step moves its weights by at most lr × clipNorm (first SGD step, no weight decay)", () => {
  const model = new YoloModel(tinyModelYaml());
  const moved = (clipNorm: number) => {
    manualSeed(5);
    const branch = new AttributeBranch(model, { ...OPTIONS, clipNorm });
    const lr = 0.01;
    const norm = tidy(() => {
      const before = branch.head.parameters().map((p) => p.data.clone());
      const images = rand([2, 3, 32, 32]);
      const loss = branch.loss({}, { images, targets: targets(), targetScales: Float32Array.from([1, 1, 1]) })!;
      loss.loss.mul(1e4).backward(); // a gradient far above any clip
      branch.step(lr);
      const squares = branch.head.parameters().map((p, i) => p.data.sub(before[i]!).pow(2).sum().item());
      return Math.sqrt(squares.reduce((a, b) => a + b, 0)) / lr;
    });
    branch.dispose();
    return norm;
  };
  const clipped = moved(2);
  assert.ok(Math.abs(clipped - 2) < 1e-3, `clipped to 2: the step's norm / lr is ${clipped}`);
  assert.ok(moved(0) > 100, "0: not clipped");
  model.dispose();
});

test("dropout and imageNorm: the branch sets a given head's dropout (hyp attr_dropout) and builds a new head's norm", () => {
  const model = new YoloModel(tinyModelYaml());
  const branch = new AttributeBranch(model, { ...OPTIONS, imageNorm: "channel" }); // a new head: dropout 0.5
  assert.equal(branch.head.imageNorm, "channel");
  /** Two training forwards of the same cells, with different dropout draws. */
  const twice = (b: AttributeBranch) =>
    tidy(() => {
      manualSeed(2);
      const batch = { images: rand([2, 3, 32, 32]), targets: targets(), targetScales: Float32Array.from([1, 1, 1]) };
      return [b.loss({}, batch)!.loss.item(), b.loss({}, batch)!.loss.item()];
    });
  const [a0, a1] = twice(branch);
  assert.notEqual(a0, a1, "dropout 0.5: the draws differ");
  const continued = new AttributeBranch(model, { ...OPTIONS, dropout: 0 }, branch.head);
  const [b0, b1] = twice(continued);
  assert.equal(b0, b1, "dropout 0: two training forwards of the same cells agree");
  assert.throws(() => branch.head.setDropout(1.5), /Dropout: p must be in \[0, 1\], got 1.5/);
  continued.optimizer.dispose();
  continued.ema.ema.dispose();
  branch.dispose();
  model.dispose();
});

test("classes: a new head reads each training cell's class from its label (hyp attr_class)", () => {
  const model = new YoloModel(tinyModelYaml(3));
  const branch = new AttributeBranch(model, { ...OPTIONS, dropout: 0, classes: model.detect.nc });
  assert.equal(branch.head.classes, model.detect.nc);
  tidy(() => {
    // a class term of 1 on class 1 only: the loss changes when a label's class becomes 1
    branch.head.fcClass!.weight.data = tensor(
      Array.from({ length: branch.head.fcClass!.weight.data.numel }, (_, i) => (i % model.detect.nc === 1 ? 1 : 0)),
      [...branch.head.fcClass!.weight.data.shape],
    );
    const images = rand([2, 3, 32, 32]);
    const scales = Float32Array.from([1, 1, 1]);
    const asLabelled = lossOf(branch, { images, targets: targets(0), targetScales: scales });
    const asClass1 = lossOf(branch, { images, targets: targets(1), targetScales: scales });
    assert.notEqual(asLabelled, asClass1, "the labels' classes reach the head");
    assert.throws(
      () => lossOf(branch, { images, targets: targets(3), targetScales: scales }),
      /cells of class 3\.\.3 for a head that reads classes 0\.\.2/,
    );
  });
  branch.dispose();
  model.dispose();
});
