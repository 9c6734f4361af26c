/** YOLOv5's non_max_suppression against a torchvision-based reference on random overlapping predictions. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type NmsOptions, nonMaxSuppression } from "../../src/eval/nms.js";
import { tensor, tidy } from "../../src/torch/index.js";
import { assertClose, loadGolden } from "../helpers.js";

const golden = loadGolden("nms.safetensors", "nms.py");

const CASES: Array<[string, NmsOptions]> = [
  ["default", {}],
  ["val_multilabel", { confThres: 0.001, iouThres: 0.6, multiLabel: true }],
  ["agnostic", { agnostic: true, iouThres: 0.3 }],
  ["classes", { classes: [0, 2] }],
  ["max_det", { maxDet: 5, confThres: 0.1 }],
];

for (const [name, options] of CASES) {
  test(`non_max_suppression: ${name}`, () => {
    tidy(() => {
      const out = nonMaxSuppression(golden.tensors.get("pred")!, options);
      out.forEach((det, b) => {
        const want = golden.tensors.get(`${name}/${b}`)!;
        assert.ok(want.size(0) > 0, "the case keeps something");
        assertClose(det, want, `${name} image ${b}`, { rtol: 0, atolScale: 1e-7 });
      });
    });
  });
}

test("empty predictions and bad thresholds", () => {
  tidy(() => {
    const out = nonMaxSuppression(tensor([[[10, 10, 5, 5, 0.1, 0.9]]]));
    assert.deepEqual(out[0]!.shape, [0, 6]);
    assert.throws(() => nonMaxSuppression(tensor([[[10, 10, 5, 5, 0.9, 0.9]]]), { confThres: 2 }), /outside \[0, 1\]/);
  });
});
