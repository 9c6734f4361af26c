/**
 * Detection loss parity: ComputeLoss (stock, focal + label smoothing + pos weights, empty images, no targets) and the
 * region-masked variant against tools/oracle/yolo_loss.py: loss, items and gradients w.r.t. the raw maps.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { manualSeed, memoryStats, randn, type Tensor, tensor, tidy } from "../../src/torch/index.js";
import { bboxCiou } from "../../src/train/loss/box-iou.js";
import { ComputeLoss } from "../../src/train/loss/compute-loss.js";
import type { DetectionLossHyp } from "../../src/train/loss/hyp.js";
import { SEED_LOSS_HYP, scaleLossGains } from "../../src/train/loss/hyp.js";
import { assertClose, loadGolden } from "../helpers.js";

const golden = loadGolden("yolo-loss.safetensors", "yolo_loss.py");
const ref = golden.ref;

const BASE: DetectionLossHyp = {
  box: 0.05,
  obj: 0.7,
  cls: 0.0525,
  cls_pw: 1,
  obj_pw: 1,
  anchor_t: 4,
  label_smoothing: 0,
  fl_gamma: 0,
};
// the oracle's CASES, in its order (the order sets the seed of the raw maps)
const CASES: Array<[string, Partial<DetectionLossHyp>]> = [
  ["stock", {}],
  ["focal_smooth_pw", { fl_gamma: 1.5, label_smoothing: 0.1, cls_pw: 1.3, obj_pw: 0.8 }],
  ["empty_image", {}],
  ["masked", { fl_gamma: 1.5 }],
  ["masked_dense_equals_stock", {}],
  ["no_targets", {}],
];
const [BS, IMGSZ, NC, NA] = [4, 64, 3, 3];
const STRIDES = [8, 16, 32];

function rawMaps(caseIndex: number): Tensor[] {
  manualSeed(1000 + caseIndex);
  return STRIDES.map((s) =>
    randn([BS, NA, IMGSZ / s, IMGSZ / s, 5 + NC])
      .mul(1.5)
      .requiresGrad_(true),
  );
}

describe("ComputeLoss parity with the YOLOv5 definition", () => {
  CASES.forEach(([name, overrides], ci) => {
    test(name, () => {
      tidy(() => {
        const p = rawMaps(ci);
        p.forEach((pi, i) => {
          const sum = pi.detach().to("float64").sum().item();
          assert.ok(Math.abs(sum - ref(`${name}/p${i}/sum`).item()) < 1e-6, "raw maps regenerate PyTorch's draws");
        });
        const computeLoss = new ComputeLoss({
          nc: NC,
          anchors: ref("anchors"),
          strides: STRIDES,
          hyp: { ...BASE, ...overrides },
        });
        const mask = golden.tensors.get(`${name}/mask`);
        const { loss, items } = computeLoss.compute(p, ref(`${name}/targets`), mask);
        assertClose(loss.reshape(1), ref(`${name}/loss`), "loss");
        assertClose(items, ref(`${name}/items`), "items");
        loss.backward();
        p.forEach((pi, i) => {
          assertClose(pi.grad!, ref(`${name}/grad${i}`), `grad level ${i}`);
        });
        computeLoss.dispose();
      });
    });
  });

  test("an all-ones mask gives the stock loss", () => {
    tidy(() => {
      const computeLoss = new ComputeLoss({ nc: NC, anchors: ref("anchors"), strides: STRIDES, hyp: BASE });
      const name = "masked_dense_equals_stock";
      const p = rawMaps(4);
      const masked = computeLoss.compute(p, ref(`${name}/targets`), ref(`${name}/mask`)).loss.item();
      const stock = computeLoss.compute(p, ref(`${name}/targets`)).loss.item();
      assert.ok(Math.abs(masked - stock) <= 1e-6 * Math.abs(stock), `${masked} vs ${stock}`);
      computeLoss.dispose();
    });
  });

  test("repeated loss + backward keeps memory flat", () => {
    const computeLoss = new ComputeLoss({ nc: NC, anchors: ref("anchors"), strides: STRIDES, hyp: BASE });
    const p = rawMaps(3).map((t) => t.keep());
    const step = () =>
      tidy(() => {
        computeLoss.compute(p, ref("masked/targets"), ref("masked/mask")).loss.backward();
        for (const pi of p) pi.setGrad(null);
      });
    step();
    const before = memoryStats();
    for (let k = 0; k < 5; k++) step();
    const now = memoryStats();
    assert.equal(now.allocatedBytes, before.allocatedBytes);
    assert.equal(now.liveTensors, before.liveTensors);
    for (const t of p) t.dispose();
    computeLoss.dispose();
  });
});

test("gains scale like YOLOv5's train.py (nc 14, 640 px: box 0.05, obj 0.7, cls 0.0525)", () => {
  const h = scaleLossGains(SEED_LOSS_HYP, { levels: 3, classes: 14, imgsz: 640 });
  assert.equal(h.box, 0.05);
  assert.equal(h.obj, 0.7);
  assert.ok(Math.abs(h.cls - 0.0525) < 1e-12);
  assert.ok(Math.abs(scaleLossGains(SEED_LOSS_HYP, { levels: 3, classes: 14, imgsz: 320 }).obj - 0.175) < 1e-12);
});

test("CIoU of a box with (almost) itself is 1 and finite (a student's own pseudo-label; float32 rounds IoU to 1)", () => {
  tidy(() => {
    // the pair met in training: the prediction and the pseudo-label made from it, one float32 ulp apart
    const pred = tensor([[0.3331770896911621, 0.42683959007263184, 1.9716423749923706, 0.6890847086906433]]);
    const target = tensor([[0.3331770896911621, 0.42683959007263184, 1.9716424942016602, 0.6890847682952881]]);
    for (const [a, b] of [
      [pred, target],
      [pred, pred.clone()],
    ] as const) {
      const c = bboxCiou(a, b).item();
      assert.ok(Number.isFinite(c) && Math.abs(c - 1) < 1e-5, `CIoU ${c}`);
    }
  });
});
