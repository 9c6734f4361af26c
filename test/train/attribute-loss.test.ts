/** Attribute loss parity: ASL masked per attribute + Cell Size CE, against tools/oracle/attribute_loss.py. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { tensor, tidy } from "../../src/torch/index.js";
import {
  attributeLoss,
  BALANCE_PRIOR_FLOOR,
  balanceWeights,
  SEED_ATTRIBUTE_LOSS,
} from "../../src/train/loss/attribute-loss.js";
import { assertClose, loadGolden } from "../helpers.js";

const golden = loadGolden("attribute-loss.safetensors", "attribute_loss.py");
const ref = golden.ref;

/** The oracle's priors of value 1 for the class-balanced case (the third and last beyond the clamp). */
const PRIORS = [0.62, 0.5, 0.01, 0.68, 0.39, 0.995];

for (const name of ["all_known", "mixed_unknown", "nothing_known", "balanced"]) {
  test(`attribute loss and gradients: ${name}`, () => {
    tidy(() => {
      const cell = ref(`${name}/cell`).clone().requiresGrad_(true);
      const binary = ref(`${name}/binary`).clone().requiresGrad_(true);
      const hyp = name === "balanced" ? { ...SEED_ATTRIBUTE_LOSS, positive_priors: PRIORS } : SEED_ATTRIBUTE_LOSS;
      const r = attributeLoss(cell, binary, ref(`${name}/attrs`), hyp);
      assertClose(tensor([r.loss.item(), r.binary, r.cellSize]), ref(`${name}/loss`), "loss, binary, cell size");
      r.loss.backward();
      assertClose(cell.grad!, ref(`${name}/grad_cell`), "grad cell size");
      assertClose(binary.grad!, ref(`${name}/grad_binary`), "grad binary");
    });
  });
}

test("with every attribute known, the binary part is exactly the seed's ASL (sum over 12 logits / N)", () => {
  tidy(() => {
    const r = attributeLoss(ref("all_known/cell"), ref("all_known/binary"), ref("all_known/attrs"));
    assert.ok(Math.abs(r.binary - ref("all_known/seed_binary").item()) <= 1e-6 * r.binary);
  });
});

test("balanced weights: both values of an attribute weigh half of it, averaging 1 over the training cells", () => {
  tidy(() => {
    // 4 cells, prior of value 1 = 0.25 for every attribute: weights 2 for the one positive, 2/3 for the three negatives
    const values = tensor(
      [1, 0, 0, 0].flatMap((v) => new Array(6).fill(v)),
      [4, 6],
    );
    const w = balanceWeights(values, new Array(6).fill(0.25)).toArray() as number[];
    for (let a = 0; a < 6; a++) {
      assert.ok(Math.abs(w[a]! - 2) < 1e-6, `positive weight ${w[a]}`);
      assert.ok(Math.abs(w[6 + a]! - 2 / 3) < 1e-6, `negative weight ${w[6 + a]}`);
    }
    const mean = w.reduce((x, y) => x + y, 0) / w.length;
    assert.ok(Math.abs(mean - 1) < 1e-6, `mean weight ${mean}`);
    // a prior of 0 (a value never seen) is floored: finite weights
    const floored = balanceWeights(tensor([1, 1, 1, 1, 1, 1], [1, 6]), [0, 0, 0, 0, 0, 0]).toArray() as number[];
    assert.ok(Math.abs(floored[0]! - 0.5 / BALANCE_PRIOR_FLOOR) < 1e-4);
    assert.throws(() => balanceWeights(values, [0.5]), /6 numbers/);
  });
});

test("binary_softmax: a1..a6 by softmax cross-entropy over their two logits, balanced and masked as the ASL", () => {
  tidy(() => {
    const binary = ref("balanced/binary");
    const attrs = ref("balanced/attrs");
    const hyp = { ...SEED_ATTRIBUTE_LOSS, positive_priors: PRIORS, binary_softmax: true };
    const r = attributeLoss(ref("balanced/cell"), binary, attrs, hyp);
    // by hand: Σ over known (cell, attribute) of weight × −log softmax(logits)[value], / cells with a known attribute
    const x = binary.toArray() as number[];
    const a = attrs.toArray() as number[];
    const k = attrs.size(0);
    const clamp = (p: number) => Math.min(1 - BALANCE_PRIOR_FLOOR, Math.max(BALANCE_PRIOR_FLOOR, p));
    let sum = 0;
    let objects = 0;
    for (let i = 0; i < k; i++) {
      let any = false;
      for (let j = 0; j < 6; j++) {
        const v = Math.round(a[i * 7 + 1 + j]!);
        if (v !== 0 && v !== 1) continue;
        any = true;
        const [l0, l1] = [x[(i * 6 + j) * 2]!, x[(i * 6 + j) * 2 + 1]!];
        const m = Math.max(l0, l1);
        const logZ = m + Math.log(Math.exp(l0 - m) + Math.exp(l1 - m));
        const p = clamp(PRIORS[j]!);
        sum += (v === 1 ? 0.5 / p : 0.5 / (1 - p)) * (logZ - (v === 1 ? l1 : l0));
      }
      if (any) objects++;
    }
    assert.ok(
      Math.abs(r.binary - sum / objects) < 1e-5 * Math.max(1, sum / objects),
      `${r.binary} vs ${sum / objects}`,
    );
    assert.equal(r.cellSize, ref("balanced/loss").toArray()[2], "Cell Size unchanged");
  });
});
