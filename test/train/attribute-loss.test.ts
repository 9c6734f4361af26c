/** Attribute loss parity: ASL masked per attribute + Cell Size CE, against tools/oracle/attribute_loss.py. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { tensor, tidy } from "../../src/torch/index.js";
import { attributeLoss } from "../../src/train/loss/attribute-loss.js";
import { assertClose, loadGolden } from "../helpers.js";

const golden = loadGolden("attribute-loss.safetensors", "attribute_loss.py");
const ref = golden.ref;

for (const name of ["all_known", "mixed_unknown", "nothing_known"]) {
  test(`attribute loss and gradients: ${name}`, () => {
    tidy(() => {
      const cell = ref(`${name}/cell`).clone().requiresGrad_(true);
      const binary = ref(`${name}/binary`).clone().requiresGrad_(true);
      const r = attributeLoss(cell, binary, ref(`${name}/attrs`));
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
