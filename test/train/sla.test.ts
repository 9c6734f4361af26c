/**
 * Phase 2's parts against tools/oracle/sla.py: pseudo-label selection on fixed predictions (seed constants, the seed's
 * in-region behaviour, a calibrated threshold with the entropy filter), the triplet term and its gradients (both
 * signs); and the parts without an oracle: calibration, pseudo-label precision, epoch switches, the pseudo-label loss.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Batch } from "../../src/data/batch.js";
import { YoloModel } from "../../src/model/yolo.js";
import { cat, manualSeed, memoryStats, randn, type Tensor, tensor, tidy, zeros } from "../../src/torch/index.js";
import { fill_ } from "../../src/torch/inplace.js";
import { EMA_TAU, ModelEMA } from "../../src/train/ema.js";
import { DEFAULT_HYP } from "../../src/train/hyp.js";
import { buildTargets } from "../../src/train/loss/build-targets.js";
import { ComputeLoss } from "../../src/train/loss/compute-loss.js";
import { SEED_LOSS_HYP } from "../../src/train/loss/hyp.js";
import { labelledTargets } from "../../src/train/loss/region-mask.js";
import {
  CALIBRATION_MIN_CORRECT,
  type CalibrationRule,
  type CalibrationSample,
  calibrate,
  NO_PSEUDO_LABELS,
  ThresholdCalibrator,
  wilsonLowerBound,
} from "../../src/train/sla/calibration.js";
import { SEED_SLA_HYP } from "../../src/train/sla/hyp.js";
import {
  type Detection,
  fuseViews,
  type PseudoBox,
  pseudoTargets,
  selectPseudoLabels,
} from "../../src/train/sla/pseudo-labels.js";
import { matchPseudoLabels, PseudoLabelStats } from "../../src/train/sla/pseudo-stats.js";
import { type ClassBox, tripletLoss } from "../../src/train/sla/similarity.js";
import { SlaBranch } from "../../src/train/sla/sla-branch.js";
import { emaOptions, weakViewHsv } from "../../src/train/training-setup.js";
import { tinyModelYaml } from "../helpers/trained-fixture.js";
import { assertClose, loadGolden } from "../helpers.js";

const golden = loadGolden("sla.safetensors", "sla.py");
const ref = golden.ref;

function rows(key: string, width: number): number[][] {
  const t = ref(key);
  const flat = t.toArray();
  return Array.from({ length: t.size(0) }, (_, r) => flat.slice(r * width, (r + 1) * width));
}

function asRows(boxes: readonly PseudoBox[]): number[][] {
  return boxes.map((b) => [b.image, b.cls, b.xc, b.yc, b.w, b.h, b.conf]);
}

function assertRowsClose(actual: number[][], expected: number[][], label: string): void {
  assert.equal(actual.length, expected.length, `${label}: count`);
  actual.forEach((row, r) => {
    row.forEach((v, c) => {
      assert.ok(Math.abs(v - expected[r]![c]!) <= 1e-5, `${label} row ${r} col ${c}: ${v} vs ${expected[r]![c]}`);
    });
  });
}

for (const name of ["seed_constants", "in_region", "calibrated_entropy"]) {
  test(`pseudo-label selection matches the oracle: ${name}`, () => {
    tidy(() => {
      const [threshold, entropy, inRegion, nmsConf] = ref(`select/${name}/params`).toArray() as [
        number,
        number,
        number,
        number,
      ];
      const hyp = { ...SEED_SLA_HYP, pl_entropy: entropy };
      const sets = selectPseudoLabels(ref("select/pred"), ref("select/targets"), ref("select/mask"), hyp, {
        threshold,
        nmsConf,
        excludeRegion: inRegion === 0,
      });
      assert.ok(sets.pseudo.length > 5 && sets.anchors.length > 5, "the case exercises both sets");
      assertRowsClose(asRows(sets.pseudo), rows(`select/${name}/pseudo`, 7), "pseudo-labels");
      assertRowsClose(asRows(sets.anchors), rows(`select/${name}/anchors`, 7), "anchors");
      assertRowsClose(
        sets.calibration.map((s) => [s.conf, s.correct ? 1 : 0]),
        rows(`select/${name}/calibration`, 2),
        "calibration",
      );
      if (inRegion === 0) {
        const inside = labelledTargets(pseudoTargets([...sets.pseudo, ...sets.anchors]), ref("select/mask"));
        assert.equal(inside.any().item(), 0, "no pseudo-label or anchor centred in a labelled region");
      }
    });
  });
}

test("the entropy filter rejects uncertain pseudo-labels; 1 keeps all (the seed's filter never rejects)", () => {
  tidy(() => {
    const args = [ref("select/pred"), ref("select/targets"), ref("select/mask")] as const;
    const all = selectPseudoLabels(...args, { ...SEED_SLA_HYP, pl_entropy: 1 }, { threshold: 0.8 }).pseudo.length;
    const strict = selectPseudoLabels(...args, { ...SEED_SLA_HYP, pl_entropy: 0.3 }, { threshold: 0.8 }).pseudo.length;
    assert.ok(strict < all, `${strict} < ${all}`);
  });
});

test("no pseudo-label or anchor is centred on padding (imageMask 0); calibration does not change", () => {
  tidy(() => {
    const args = [ref("select/pred"), ref("select/targets"), ref("select/mask")] as const;
    const hyp = { ...SEED_SLA_HYP, sim_conf: 0.1 };
    const all = selectPseudoLabels(...args, hyp, { threshold: 0.3 });
    const [b, , h, w] = args[2].shape as [number, number, number, number];
    // padding: the left half of every image
    const onImage = Uint8Array.from({ length: b * h * w }, (_, i) => (i % w < w / 2 ? 0 : 1));
    const imageMask = tensor(onImage, [b, 1, h, w]);
    const some = selectPseudoLabels(...args, hyp, { threshold: 0.3, imageMask });
    const kept = (x: PseudoBox) => Math.floor(x.xc * w) >= w / 2;
    assert.ok(
      all.pseudo.length + all.anchors.length > some.pseudo.length + some.anchors.length,
      "some were on padding",
    );
    assert.deepEqual(some.pseudo, all.pseudo.filter(kept));
    assert.deepEqual(some.anchors, all.anchors.filter(kept));
    assert.deepEqual(some.calibration, all.calibration);
  });
});

const detection = (x1: number, y1: number, x2: number, y2: number, scores: number[]): Detection => ({
  image: 0,
  x1,
  y1,
  x2,
  y2,
  scores: Float32Array.from(scores),
  conf: Math.max(...scores),
  cls: scores.indexOf(Math.max(...scores)),
});

test("fuseViews (pl_flip): a pair's corners are its confidence-weighted mean and its scores their mean; lone boxes keep half", () => {
  const a = [detection(10, 10, 30, 30, [0.8, 0.1]), detection(200, 200, 220, 220, [0.1, 0.7])];
  const b = [detection(12, 10, 32, 30, [0.6, 0.2]), detection(100, 100, 120, 120, [0.2, 0.9])];
  const fused = fuseViews(a, b, 0.55);
  assert.equal(fused.length, 3);
  const [pair, loneA, loneB] = fused as [Detection, Detection, Detection];
  assert.ok(
    Math.abs(pair.x1 - (10 * 0.8 + 12 * 0.6) / 1.4) < 1e-9 && Math.abs(pair.x2 - (30 * 0.8 + 32 * 0.6) / 1.4) < 1e-9,
  );
  assertRowsClose([[pair.y1, pair.y2]], [[10, 30]], "pair y");
  assertRowsClose([Array.from(pair.scores)], [[0.7, 0.15]], "pair scores");
  assert.ok(Math.abs(pair.conf - 0.7) < 1e-6 && pair.cls === 0);
  assert.deepEqual([loneA.x1, loneA.cls], [200, 1]);
  assert.ok(Math.abs(loneA.conf - 0.35) < 1e-6, "a box only the image's view found keeps half");
  assert.ok(Math.abs(loneB.conf - 0.45) < 1e-6 && loneB.x1 === 100, "a box only the mirror's view found keeps half");
  assert.equal(fuseViews(a, [detection(25, 10, 45, 30, [0.9, 0])], 0.55).filter((d) => d.conf > 0.45).length, 0);
});

test("pl_flip: a mirror that sees the same boxes leaves the pseudo-labels as they were; an empty one halves them", () => {
  tidy(() => {
    const [pred, targets, mask] = [ref("select/pred"), ref("select/targets"), ref("select/mask")];
    const width = mask.size(3);
    const mirrorOfPred = cat([pred.slice(2, 0, 1).mul(-1).add(width), pred.slice(2, 1)], 2);
    const hyp = { ...SEED_SLA_HYP, pl_flip: 1 };
    const one = selectPseudoLabels(pred, targets, mask, hyp, { threshold: 0.6 });
    assert.ok(one.pseudo.length > 0);
    const same = selectPseudoLabels(pred, targets, mask, hyp, { threshold: 0.6, mirrored: mirrorOfPred });
    assertRowsClose(asRows(same.pseudo), asRows(one.pseudo), "pseudo-labels, mirror agreeing");
    const empty = selectPseudoLabels(pred, targets, mask, hyp, { threshold: 0.3, mirrored: zeros(pred.shape) });
    assertRowsClose(asRows(empty.pseudo), asRows(one.pseudo.map((p) => ({ ...p, conf: p.conf / 2 }))), "halved");
  });
});

const box = (image: number, cls: number, xc: number, yc: number, s = 0.1): ClassBox => ({
  image,
  cls,
  xc,
  yc,
  w: s,
  h: s,
});

for (const sign of ["conventional", "seed"] as const) {
  test(`triplet loss and gradients match the oracle (${sign} sign)`, () => {
    tidy(() => {
      const toBoxes = (key: string): ClassBox[] =>
        rows(key, 6).map(([image, cls, xc, yc, w, h]) => ({
          image: image!,
          cls: cls!,
          xc: xc!,
          yc: yc!,
          w: w!,
          h: h!,
        }));
      const a = ref("triplet/anchor_emb").clone().requiresGrad_(true);
      const g = ref("triplet/gt_emb").clone().requiresGrad_(true);
      const loss = tripletLoss(a, g, toBoxes("triplet/anchors"), toBoxes("triplet/gt"), {
        maxIou: 0.3,
        margin: 0.05,
        sign,
      });
      assertClose(loss.reshape(1), ref(`triplet/${sign}/loss`), "loss");
      assert.ok(loss.item() > 0, "the case has active triplets");
      loss.backward();
      assertClose(a.grad!, ref(`triplet/${sign}/grad_anchor`), "grad anchors");
      assertClose(g.grad!, ref(`triplet/${sign}/grad_gt`), "grad ground truth");
    });
  });
}

test("the conventional triplet pulls same-class features together; other images never count", () => {
  tidy(() => {
    const anchors = [box(0, 0, 0.2, 0.2)];
    const gt = [box(0, 0, 0.7, 0.7), box(0, 1, 0.5, 0.8), box(1, 0, 0.2, 0.2)];
    const a = tensor([[1, 0]]).requiresGrad_(true);
    const g = tensor([
      [0, 1], // same class, orthogonal: s_pos = 1
      [1, 0.1], // other class, similar: s_neg ≈ 2
      [-1, 0], // other image: ignored
    ]);
    const loss = tripletLoss(a, g, anchors, gt, { maxIou: 0.3, margin: 0.05, sign: "conventional" });
    assert.ok(Math.abs(loss.item() - (1.995 - 1 + 0.05)) < 1e-3, `loss ${loss.item()}`);
    const none = tripletLoss(a, g.slice(0, 0, 1), anchors, gt.slice(0, 1), { maxIou: 0.3, margin: 0.05, sign: "seed" });
    assert.equal(none.item(), 0, "no negative: no loss");
  });
});

/** The calibration rule at (precision, ceiling, floor, z), with the default support and no fallback. */
function calibratedThreshold(
  samples: readonly CalibrationSample[],
  precision: number,
  ceiling: number,
  floor: number,
  z = 0,
) {
  const rule: CalibrationRule = { precision, ceiling, floor, z, support: CALIBRATION_MIN_CORRECT, unsupported: "none" };
  return calibrate(samples, rule);
}

test("calibrated threshold: lowest confidence reaching the precision, clamped to [floor, ceiling]", () => {
  const n = 100;
  // confidences 0.99 … 0.50; correct down to 0.8, then every other one
  const samples = Array.from({ length: n }, (_, i) => {
    const conf = 0.99 - 0.005 * i;
    return { conf, correct: conf >= 0.8 || i % 2 === 0 };
  });
  const t = calibratedThreshold(samples, 0.9, 0.95, 0.5);
  assert.ok(t < 0.8 && t > 0.7, `threshold ${t}`);
  const above = samples.filter((s) => s.conf > t);
  assert.ok(above.filter((s) => s.correct).length / above.length >= 0.9);
  const unreachable = samples.map((s, i) => ({ ...s, correct: i % 2 === 0 }));
  assert.equal(calibratedThreshold(unreachable, 0.9, 0.95, 0.5), NO_PSEUDO_LABELS, "enough evidence, never precise");
  const exact = calibratedThreshold(samples, 1.0, 0.95, 0.5);
  assert.ok(Math.abs(exact - 0.8) < 1e-5 && exact < 0.8, `precision 1: the end of the all-correct run, ${exact}`);
  const few = samples.slice(0, CALIBRATION_MIN_CORRECT - 1);
  assert.equal(calibratedThreshold(few, 0.5, 0.95, 0.5), NO_PSEUDO_LABELS, "too few correct: no pseudo-labels");
  assert.equal(calibratedThreshold(samples, 0.5, 0.95, 0.6), 0.6, "floor");
});

test("calibration support: below pl_support correct predictions no pseudo-labels, or the ceiling as before issue 26", () => {
  // 30 predictions, all correct, confidences 0.90 … 0.61
  const samples = Array.from({ length: 30 }, (_, i) => ({ conf: 0.9 - 0.01 * i, correct: true }));
  const rule: CalibrationRule = { precision: 0.9, ceiling: 0.95, floor: 0.5, z: 0, support: 30, unsupported: "none" };
  assert.ok(Math.abs(calibrate(samples, rule) - 0.61) < 1e-5, "30 correct: supported down to the lowest");
  assert.ok(Math.abs(calibrate(samples, { ...rule, support: 10 }) - 0.61) < 1e-5, "a smaller support, the same");
  assert.equal(calibrate(samples.slice(0, 29), rule), NO_PSEUDO_LABELS, "29 correct of a support of 30: none");
  assert.equal(calibrate(samples.slice(0, 29), { ...rule, unsupported: "ceiling" }), 0.95, "the earlier fallback");
  // support counts the correct ones at or above the threshold: 25 correct, then 5 wrong below them
  const mixed = [...samples.slice(0, 25), ...samples.slice(25).map((s) => ({ conf: s.conf - 0.3, correct: false }))];
  assert.equal(calibrate(mixed, { ...rule, support: 26 }), NO_PSEUDO_LABELS);
  const exact = calibrate(mixed, { ...rule, precision: 1, support: 25 });
  assert.ok(Math.abs(exact - 0.66) < 1e-5, `precision 1: the 25 correct ones admitted, ${exact}`);
});

test("the calibrator admits nothing until supported (default) and follows the window once it is", () => {
  const calibrator = new ThresholdCalibrator({ precision: 0.9, ceiling: 0.95, floor: 0.5, support: 20 });
  assert.equal(calibrator.threshold, NO_PSEUDO_LABELS, "no evidence yet: no pseudo-labels");
  calibrator.add(Array.from({ length: 19 }, (_, i) => ({ conf: 0.9 - 0.01 * i, correct: true })));
  assert.equal(calibrator.threshold, NO_PSEUDO_LABELS, "19 correct: still none");
  calibrator.add([{ conf: 0.7, correct: true }]);
  assert.ok(Math.abs(calibrator.threshold - 0.7) < 1e-5, `20 correct: ${calibrator.threshold}`);
  // an overconfident spell: 60 wrong predictions above them pull every threshold below the target
  calibrator.add(Array.from({ length: 60 }, () => ({ conf: 0.99, correct: false })));
  assert.equal(calibrator.threshold, NO_PSEUDO_LABELS, "the target unreachable: none");
  const seedFallback = new ThresholdCalibrator({ precision: 0.9, ceiling: 0.95, floor: 0.5, unsupported: "ceiling" });
  assert.equal(seedFallback.threshold, 0.95, "pl_unsupported 1: pl_conf until supported");
  const off = new ThresholdCalibrator({ precision: 0, ceiling: 0.95, floor: 0.5 });
  off.add([{ conf: 0.99, correct: false }]);
  assert.equal(off.threshold, 0.95, "pl_precision 0: the fixed pl_conf (the seed)");
});

test("Wilson lower bound: the proportion at z = 0, below it by more the fewer the samples", () => {
  assert.equal(wilsonLowerBound(8, 10, 0), 0.8);
  // values from the closed form (Wilson 1927), computed independently in Python
  assert.ok(Math.abs(wilsonLowerBound(8, 10, 1.645) - 0.5407687136381664) < 1e-12);
  assert.ok(Math.abs(wilsonLowerBound(45, 50, 1.645) - 0.8084525233650576) < 1e-12);
  assert.ok(Math.abs(wilsonLowerBound(90, 100, 1.645) - 0.8396381547641418) < 1e-12);
  assert.equal(wilsonLowerBound(0, 0, 1.645), 0);
});

test("conservative calibration: with z > 0 the threshold rises until the precision's lower bound reaches the target", () => {
  // 100 predictions, confidences 0.99 … 0.50: all correct down to 0.8, then 3 of 4 correct
  const samples = Array.from({ length: 100 }, (_, i) => {
    const conf = 0.99 - 0.005 * i;
    return { conf, correct: conf >= 0.8 || i % 4 !== 0 };
  });
  const point = calibratedThreshold(samples, 0.9, 0.95, 0.25);
  const bound = calibratedThreshold(samples, 0.9, 0.95, 0.25, 1.645);
  assert.ok(bound > point, `z 1.645: ${bound} above the point estimate's ${point}`);
  const kept = samples.filter((s) => s.conf > bound);
  const correct = kept.filter((s) => s.correct).length;
  assert.ok(wilsonLowerBound(correct, kept.length, 1.645) >= 0.9, `${correct}/${kept.length}`);
  const lower = samples.filter((s) => s.conf > point);
  assert.ok(wilsonLowerBound(lower.filter((s) => s.correct).length, lower.length, 1.645) < 0.9, "the point one is not");
  assert.equal(calibratedThreshold(samples, 0.9, 0.95, 0.95, 1.645), 0.95, "clamped to the floor");
});

test("pseudo-label weight: burn-in epoch at 0, linear ramp over pl_ramp of the epochs; pl_ramp 0 = the seed's", () => {
  const options = { proposer: "ema", tripletSign: "conventional", plInRegion: false } as const;
  const ramped = new SlaBranch({ ...SEED_SLA_HYP, pl_weight: 0.1, pl_ramp: 0.25 }, 8, options, false);
  const w = [0, 1, 2, 3, 7].map((e) => Math.round(ramped.plWeight(e) * 1e12) / 1e12);
  assert.deepEqual(w, [0, 0.05, 0.1, 0.1, 0.1]);
  const seed = new SlaBranch({ ...SEED_SLA_HYP, pl_weight: 0.1, pl_ramp: 0 }, 8, options, false);
  assert.equal(seed.plWeight(0), 0.1);
});

test("phase 2 as a fine-tune: the continued EMA averages over ≥ ft_ema_epochs epochs; phase 1 keeps YOLOv5's ramp", () => {
  // the demo's phase 2: 112 training images, batch 8 = nominal batch: 14 steps per epoch
  const base = { batch: 8, nominalBatch: 8, hyp: { ...DEFAULT_HYP, ft_ema_epochs: 2 } };
  const sla = { proposer: "ema", tripletSign: "conventional", plInRegion: false } as const;
  const ft = emaOptions({ ...base, sla, finetune: true }, 840, 112);
  assert.equal(ft.updates, 840);
  assert.ok(Math.abs(ft.floor - (1 - 1 / 28)) < 1e-12, `${ft.floor}`);
  // batch 4 of a nominal 64: 16 batches of 4 per step, 300 images = 75 batches ≈ 5 steps an epoch
  assert.ok(
    Math.abs(emaOptions({ ...base, batch: 4, nominalBatch: 64, sla, finetune: true }, 0, 300).floor - 0.9) < 1e-12,
  );
  assert.deepEqual(emaOptions({ ...base, sla, finetune: false }, 0, 112), { updates: 0, floor: 0 }, "--no-finetune");
  assert.deepEqual(emaOptions({ ...base, sla: null, finetune: false }, 0, 112), { updates: 0, floor: 0 }, "phase 1");
  const off = { ...base, hyp: { ...DEFAULT_HYP, ft_ema_epochs: 0 } };
  assert.equal(emaOptions({ ...off, sla, finetune: true }, 840, 112).floor, 0, "ft_ema_epochs 0: the ramp alone");
  // the decay the continued EMA starts phase 2 with: YOLOv5's ramp after 840 updates barely averages; the floor does
  const model = new YoloModel(tinyModelYaml(1), { names: ["a"] });
  const ema = (floor: number) =>
    new ModelEMA(new YoloModel(tinyModelYaml(1), { names: ["a"] }), model, { updates: 840, floor });
  const [ramp, floored] = [ema(0), ema(ft.floor)];
  assert.ok(Math.abs(ramp.currentDecay() - 0.9999 * (1 - Math.exp(-840 / EMA_TAU))) < 1e-12);
  assert.ok(ramp.currentDecay() < 0.35);
  assert.equal(floored.currentDecay(), ft.floor);
  const late = new ModelEMA(new YoloModel(tinyModelYaml(1), { names: ["a"] }), model, { updates: 50000, floor: 0.9 });
  assert.ok(late.currentDecay() > 0.999, "a floor below the ramp's decay changes nothing");
  for (const e of [ramp, floored, late]) e.ema.dispose();
  model.dispose();
});

test("pseudo-label precision against held-out labels: greedy, one object per label, class precision, mean IoU", () => {
  const p = (image: number, cls: number, xc: number, conf: number): PseudoBox => ({
    ...box(image, cls, xc, 0.5),
    conf,
  });
  const heldout = [box(0, 1, 0.3, 0.5), box(1, 2, 0.3, 0.5)];
  // the third is 0.02 to the right of its object: IoU 0.08 × 0.1 / (0.02 − 0.008) = 2/3
  const pseudo = [p(0, 1, 0.3, 0.9), p(0, 1, 0.31, 0.8), p(1, 0, 0.32, 0.99), p(0, 0, 0.8, 0.99)];
  const [tp, classTp, iouSum] = matchPseudoLabels(pseudo, heldout);
  assert.deepEqual([tp, classTp], [2, 1]);
  assert.ok(Math.abs(iouSum - (1 + 2 / 3)) < 1e-6, `${iouSum}`);
  const stats = new PseudoLabelStats(true);
  const heldoutRows = Float32Array.from(heldout.flatMap((b) => [b.image, b.cls, b.xc, b.yc, b.w, b.h]));
  stats.add(pseudo, 3, 2, heldoutRows);
  const { iou, ...rest } = stats.summary();
  assert.deepEqual(rest, { count: 4, anchors: 3, images: 2, precision: 0.5, classPrecision: 0.25, recall: 1 });
  assert.ok(Math.abs(iou - (1 + 2 / 3) / 2) < 1e-6, `mean IoU of the matched ${iou}`);
  assert.ok(Number.isNaN(new PseudoLabelStats(false).summary().precision));
});

test("epoch switches are fractions of the run: similarity for the first 2/3, the last epoch region-only", () => {
  const of = (epochs: number) =>
    new SlaBranch(SEED_SLA_HYP, epochs, { proposer: "ema", tripletSign: "conventional", plInRegion: false }, false);
  const seed = of(30);
  assert.equal(seed.similarityOn(19), true);
  assert.equal(seed.similarityOn(20), false);
  assert.equal(seed.regionOnly(28), false);
  assert.equal(seed.regionOnly(29), true);
  const short = of(6);
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5].map((e) => [short.similarityOn(e), short.regionOnly(e)]),
    [
      [true, false],
      [true, false],
      [true, false],
      [true, false],
      [false, false],
      [false, true],
    ],
  );
  assert.deepEqual(short.taps(0), ["neckP3"]);
  assert.deepEqual(short.taps(4), []);
});

test("pseudo-label loss: box and class are the detection loss's terms without gains; objectness only at matches", () => {
  tidy(() => {
    const nc = 3;
    const anchors = tensor(
      [10, 13, 16, 30, 33, 23, 30, 61, 62, 45, 59, 119, 116, 90, 156, 198, 373, 326].map(
        (v, i) => v / [8, 16, 32][Math.floor(i / 6)]!,
      ),
      [3, 3, 2],
    );
    const loss = new ComputeLoss({ nc, anchors, strides: [8, 16, 32], hyp: { ...SEED_LOSS_HYP, fl_gamma: 0 } });
    const maps = [8, 4, 2].map((s) =>
      tensor(
        Array.from({ length: 2 * 3 * s * s * (5 + nc) }, (_, i) => Math.sin(i) * 2),
        [2, 3, s, s, 5 + nc],
      ),
    );
    const targets = tensor([0, 1, 0.5, 0.5, 0.3, 0.2, 1, 2, 0.3, 0.6, 0.1, 0.25], [2, 6]);
    const [box, obj, cls] = loss.computePseudo(maps, targets).toArray() as [number, number, number];
    const dense = ComputeLoss.itemsOf(loss.compute(maps, targets));
    assert.ok(Math.abs(box * SEED_LOSS_HYP.box - dense.box) < 1e-6, "box");
    assert.ok(Math.abs(cls * SEED_LOSS_HYP.cls - dense.cls) < 1e-6, "cls");
    assert.ok(
      obj > 0 && obj < dense.obj / SEED_LOSS_HYP.obj,
      "objectness: matched cells only, averaged over all cells",
    );
    assert.deepEqual(loss.computePseudo(maps, zeros([0, 6])).toArray(), [0, 0, 0], "no pseudo-labels: zero");
    loss.dispose();
  });
});

/** YOLOv5's default anchors in grid units of P3–P5 ([3, 3, 2]). */
function gridAnchors(): Tensor {
  return tensor(
    [10, 13, 16, 30, 33, 23, 30, 61, 62, 45, 59, 119, 116, 90, 156, 198, 373, 326].map(
      (v, i) => v / [8, 16, 32][Math.floor(i / 6)]!,
    ),
    [3, 3, 2],
  );
}

/** A 3-class loss on fixed pseudo-random maps and two pseudo-labels (one per image), for the pseudo-label loss tests. */
function pseudoLossCase() {
  const nc = 3;
  const loss = new ComputeLoss({
    nc,
    anchors: gridAnchors(),
    strides: [8, 16, 32],
    hyp: { ...SEED_LOSS_HYP, fl_gamma: 0 },
  });
  const maps = [8, 4, 2].map((s) =>
    tensor(
      Array.from({ length: 2 * 3 * s * s * (5 + nc) }, (_, i) => Math.sin(i) * 2),
      [2, 3, s, s, 5 + nc],
    ),
  );
  const targets = tensor([0, 1, 0.5, 0.5, 0.3, 0.2, 1, 2, 0.3, 0.6, 0.1, 0.25], [2, 6]);
  const positives = (rows: Tensor) =>
    buildTargets(
      maps.map((m) => m.shape),
      rows,
      gridAnchors(),
      SEED_LOSS_HYP.anchor_t,
    );
  return { loss, maps, targets, positives };
}

test("soft pseudo-labels: weights 1 give the hard loss, a common weight scales every term, a zero weight drops one", () => {
  tidy(() => {
    const { loss, maps, targets } = pseudoLossCase();
    const hard = loss.computePseudo(maps, targets).toArray();
    const ones = loss.computePseudo(maps, targets, tensor([1, 1])).toArray();
    for (const [k, v] of ones.entries()) assert.ok(Math.abs(v - hard[k]!) < 1e-7, `term ${k}: ${v} vs ${hard[k]}`);
    const half = loss.computePseudo(maps, targets, tensor([0.5, 0.5])).toArray();
    for (const [k, v] of half.entries()) assert.ok(Math.abs(v - 0.5 * hard[k]!) < 1e-7, `term ${k} halved: ${v}`);
    // the first pseudo-label at weight 0: objectness (a mean over every cell) is the second one's alone; box and
    // class (means over the positives) keep only the second one's positives in the sum
    const second = loss.computePseudo(maps, targets.slice(0, 1, 2)).toArray();
    const dropped = loss.computePseudo(maps, targets, tensor([0, 1])).toArray();
    assert.ok(Math.abs(dropped[1]! - second[1]!) < 1e-7, `objectness ${dropped[1]} vs ${second[1]}`);
    for (const k of [0, 2])
      assert.ok(dropped[k]! > 0 && dropped[k]! < hard[k]!, `term ${k}: ${dropped[k]} < ${hard[k]}`);
    loss.dispose();
  });
});

test("build_targets: each positive names the target row it comes from", () => {
  tidy(() => {
    const { targets, positives } = pseudoLossCase();
    const levels = positives(targets);
    const rows = targets.toArray();
    let total = 0;
    for (const l of levels) {
      const [row, b, cls] = [l.target.toArray(), l.b.toArray(), l.tcls.toArray()];
      row.forEach((r, k) => {
        assert.equal(b[k], rows[6 * r]!, "the image of its row");
        assert.equal(cls[k], rows[6 * r + 1]!, "the class of its row");
      });
      total += row.length;
    }
    assert.ok(total > 2, `${total} positives from 2 targets`);
    const none = positives(zeros([0, 6]));
    assert.deepEqual(
      none.map((l) => l.target.size(0)),
      [0, 0, 0],
    );
  });
});

test("pseudo-label loss ignores every cell without a pseudo-label: no objectness gradient there", () => {
  tidy(() => {
    const { loss, maps, targets, positives } = pseudoLossCase();
    const leaves = maps.map((m) => m.detach().requiresGrad_(true));
    loss.computePseudo(leaves, targets).sum().backward();
    const levels = positives(targets);
    leaves.forEach((leaf, i) => {
      const l = levels[i]!;
      const objGrad = leaf.grad!.select(-1, 4);
      const positive = zeros(objGrad.shape).indexPut([l.b, l.a, l.gj, l.gi], 1).gt(0);
      const outside = objGrad.abs().mul(positive.logicalNot().float()).sum().item();
      assert.equal(outside, 0, `level ${i}: an unlabelled cell without a pseudo-label is not taught as background`);
      if (l.b.size(0) > 0) assert.ok(objGrad.abs().sum().item() > 0, `level ${i}: its pseudo-labels' cells learn`);
    });
    loss.dispose();
  });
});

test("dense pseudo-labels: a teacher of zeros on every cell is the stock loss without targets; agreement teaches nothing", () => {
  tidy(() => {
    const { loss, maps } = pseudoLossCase();
    const everyCell = maps.map((m) => zeros([m.size(0), 1, m.size(2), m.size(3)]).add(1));
    const [box, obj, cls] = loss
      .computeDense(
        maps,
        maps.map((m) => zeros(m.shape)),
        everyCell,
      )
      .toArray() as number[];
    const stock = ComputeLoss.itemsOf(loss.compute(maps, zeros([0, 6])));
    assert.equal(box, 0, "no box term");
    assert.equal(cls, 0, "the teacher sees no object: no class term");
    assert.ok(
      Math.abs(obj! * SEED_LOSS_HYP.obj - stock.obj) < 1e-6,
      `objectness ${obj! * SEED_LOSS_HYP.obj} vs ${stock.obj}`,
    );
    // a student that already gives the teacher's probabilities gets no gradient, objectness and class alike
    const leaves = maps.map((m) => m.detach().requiresGrad_(true));
    loss
      .computeDense(
        leaves,
        maps.map((m) => m.sigmoid()),
        everyCell,
      )
      .sum()
      .backward();
    for (const [i, leaf] of leaves.entries()) assert.ok(leaf.grad!.abs().max().item() < 1e-6, `level ${i}`);
    loss.dispose();
  });
});

test("dense pseudo-labels teach only their cells, class where the teacher sees an object", () => {
  tidy(() => {
    const { loss, maps } = pseudoLossCase();
    const leftHalf = maps.map((m) => {
      const cells = zeros([m.size(0), 1, m.size(2), m.size(3)]);
      fill_(cells.slice(3, 0, m.size(3) / 2), 1);
      return cells;
    });
    // the teacher: objectness 0.9 in the top row of every level, 0 elsewhere; class 0 certain
    const teacher = maps.map((m) => {
      const t = zeros(m.shape);
      fill_(t.select(-1, 5), 1);
      fill_(t.select(-1, 4).slice(2, 0, 1), 0.9);
      return t;
    });
    const leaves = maps.map((m) => m.detach().requiresGrad_(true));
    const terms = loss.computeDense(leaves, teacher, leftHalf);
    const [, obj, cls] = terms.toArray() as number[];
    assert.ok(obj! > 0 && cls! > 0, `objectness ${obj}, class ${cls}`);
    terms.sum().backward();
    for (const [i, leaf] of leaves.entries()) {
      const [w, h] = [leaf.size(3), leaf.size(2)];
      const grad = leaf.grad!.abs();
      assert.equal(
        grad
          .slice(3, w / 2, w)
          .sum()
          .item(),
        0,
        `level ${i}: nothing right of the cells`,
      );
      assert.ok(
        grad
          .slice(3, 0, w / 2)
          .select(-1, 4)
          .sum()
          .item() > 0,
        `level ${i}: objectness learns in the cells`,
      );
      const classGrad = grad.slice(3, 0, w / 2).slice(-1, 5);
      assert.ok(classGrad.slice(2, 0, 1).sum().item() > 0, `level ${i}: class where the teacher sees an object`);
      if (h > 1) assert.equal(classGrad.slice(2, 1, h).sum().item(), 0, `level ${i}: no class where it sees none`);
      assert.equal(grad.slice(-1, 0, 4).sum().item(), 0, `level ${i}: no box term`);
    }
    loss.dispose();
  });
});

/** Objectness and class 0 near 1 at every anchor of `model` (its Detect biases), so pseudo-labels are plentiful. */
function makeConfident(model: YoloModel, nc: number): void {
  for (const conv of model.detect.m) {
    const bias = conv.bias!.data;
    const values = bias.toArray().map((v, i) => (i % (5 + nc) === 4 || i % (5 + nc) === 5 ? 3.2 + (i % 7) * 0.3 : v));
    conv.bias!.data = tensor(values, bias.shape);
  }
}

/** A tiny 3-class student (training mode) and EMA teacher (eval mode) with their ComputeLoss; `confident` ones scored up. */
function phase2Parts(seed: number, confident: readonly ("student" | "ema")[] = []) {
  manualSeed(seed);
  const nc = 3;
  const make = () => new YoloModel(tinyModelYaml(nc), { names: ["a", "b", "c"] });
  const models = { student: make(), ema: make() };
  for (const name of confident) makeConfident(models[name], nc);
  models.student.train();
  models.ema.eval();
  const { student } = models;
  const computeLoss = new ComputeLoss({
    nc,
    anchors: student.detect.anchors.data,
    strides: student.stride,
    hyp: { ...SEED_LOSS_HYP },
  });
  return {
    ...models,
    computeLoss,
    dispose() {
      computeLoss.dispose();
      models.student.dispose();
      models.ema.dispose();
    },
  };
}

test("phase-2 terms and their backward leave native memory and the tensor count flat across steps", () => {
  const { student, ema, computeLoss, dispose } = phase2Parts(3, ["student", "ema"]);
  const hyp = { ...DEFAULT_HYP, pl_precision: 0, pl_conf: 0.93, pl_nms_iou: 0.5, pl_ramp: 0, pl_dense: 0 };
  // dense pseudo-labels on too (from the EMA teacher while the student proposes), so their path is counted
  const branch = new SlaBranch(
    { ...hyp, pl_dense: 0.5 },
    10,
    { proposer: "student", tripletSign: "conventional", plInRegion: false },
    true,
  );
  const images = randn([2, 3, 64, 64]).keep();
  const targets = tensor(
    [0, 0, 0.3, 0.3, 0.2, 0.2, 0, 1, 0.2, 0.2, 0.15, 0.15, 1, 2, 0.25, 0.3, 0.2, 0.25],
    [3, 6],
  ).keep();
  const regionMask = zeros([2, 1, 64, 64], { dtype: "uint8" }).keep();
  fill_(regionMask.slice(2, 0, 32).slice(3, 0, 32), 1);
  const imageMask = zeros([2, 1, 64, 64], { dtype: "uint8" }).add(1).to("uint8").keep();
  const batch = {
    images,
    targets,
    regionMask,
    imageMask,
    heldout: Float32Array.from([0, 1, 0.8, 0.8, 0.2, 0.2]),
  } as unknown as Batch;
  const step = () =>
    tidy(() => {
      const out = student.forward(images, { decode: false, taps: branch.taps(0) });
      const terms = branch.terms({ student, ema, computeLoss }, batch, out, 0);
      assert.ok(terms, JSON.stringify(branch.stats.summary()));
      assert.ok(Number.isFinite(terms.loss.item()), `pl ${terms.pl} sim ${terms.sim}`);
      terms.loss.backward();
      for (const p of student.parameters()) p.data.setGrad(null);
    });
  step();
  const before = memoryStats();
  for (let k = 0; k < 3; k++) step();
  const now = memoryStats();
  assert.equal(now.liveTensors, before.liveTensors, "tensor count");
  assert.equal(now.allocatedBytes, before.allocatedBytes, "native bytes");
  const s = branch.stats.summary();
  assert.ok(s.count > 0 && s.anchors > 0, `pseudo-labels ${s.count}, anchors ${s.anchors}: both paths ran`);
  // pl_loss_gains 1 scales the pseudo-label terms by the detection gains; 0 leaves them unscaled (the seed)
  tidy(() => {
    const ctx = { student, ema, computeLoss };
    const options = { proposer: "ema", tripletSign: "conventional", plInRegion: false } as const;
    const gained = new SlaBranch({ ...hyp, pl_loss_gains: 1 }, 10, options, false);
    const plain = new SlaBranch({ ...hyp, pl_loss_gains: 0 }, 10, options, false);
    const out = student.forward(images, { decode: false, taps: [] });
    const selected = selectPseudoLabels(ema.forward(images, { decode: true }).decoded!, targets, regionMask, hyp);
    assert.ok(selected.pseudo.length > 0);
    const [box, obj, cls] = computeLoss.computePseudo(out.maps, pseudoTargets(selected.pseudo)).toArray() as number[];
    const g = computeLoss.hyp;
    const a = gained.terms(ctx, batch, out, 0)!;
    const b = plain.terms(ctx, batch, out, 0)!;
    const near = (x: number, y: number, label: string) =>
      assert.ok(Math.abs(x - y) <= 1e-5 * Math.abs(y), `${label}: ${x} vs ${y}`);
    near(a.pl, box! * g.box + obj! * g.obj + cls! * g.cls, "gains");
    near(b.pl, box! + obj! + cls!, "no gains");
    near(a.loss.item(), a.pl * hyp.pl_weight * 2, "× pl_weight × batch size");
  });
  for (const t of [images, targets, regionMask, imageMask]) t.dispose();
  dispose();
});

test("SlaBranch with pl_dense: the dense term alone when nothing is admitted, none where every cell is labelled", () => {
  const { student, ema, computeLoss, dispose } = phase2Parts(4);
  tidy(() => {
    // pseudo-labels closed (pl_conf 1, no calibration): only the dense pseudo-labels can teach
    const hyp = { ...DEFAULT_HYP, pl_precision: 0, pl_conf: 1, pl_ramp: 0, pl_dense: 0.5 };
    const options = { proposer: "ema", tripletSign: "conventional", plInRegion: false } as const;
    const images = randn([2, 3, 64, 64]);
    const targets = tensor([0, 0, 0.3, 0.3, 0.2, 0.2], [1, 6]);
    const mask = (labelled: number) => {
      const m = zeros([2, 1, 64, 64], { dtype: "uint8" });
      fill_(m.slice(3, 0, labelled), 1);
      return m;
    };
    const batchWith = (labelledColumns: number) =>
      ({
        images,
        targets,
        regionMask: mask(labelledColumns),
        imageMask: mask(64),
        heldout: new Float32Array(0),
      }) as unknown as Batch;
    const out = student.forward(images, { decode: false, taps: [] });
    const ctx = { student, ema, computeLoss };
    const dense = new SlaBranch(hyp, 10, options, false).terms(ctx, batchWith(32), out, 0);
    assert.ok(dense && dense.pl > 0, `dense term ${dense?.pl}`);
    assert.ok(Math.abs(dense.loss.item() - dense.pl * hyp.pl_dense * 2) <= 1e-5 * dense.pl, "× pl_dense × batch size");
    const everyCell = new SlaBranch(hyp, 10, options, false).terms(ctx, batchWith(64), out, 0);
    assert.equal(everyCell?.pl, 0, "every cell labelled: nothing for the dense pseudo-labels");
    const off = new SlaBranch({ ...hyp, pl_dense: 0 }, 10, options, false).terms(ctx, batchWith(32), out, 0);
    assert.equal(off, null, "pl_dense 0 and nothing admitted: no phase-2 term");
  });
  dispose();
});

test("pl_teacher_hsv < 1: the EMA teacher proposes and sets dense targets from the weak view; none there, it says so", () => {
  // the teacher confident everywhere, so boxes are admitted from either view
  const { student, ema, computeLoss, dispose } = phase2Parts(5, ["ema"]);
  tidy(() => {
    const hyp = { ...DEFAULT_HYP, pl_precision: 0, pl_conf: 0.93, pl_nms_iou: 0.5, pl_ramp: 0, pl_dense: 0.5 };
    const options = { proposer: "ema", tripletSign: "conventional", plInRegion: false } as const;
    const [images, weak] = [randn([2, 3, 64, 64]), randn([2, 3, 64, 64]).mul(0.3)];
    const mask = zeros([2, 1, 64, 64], { dtype: "uint8" });
    fill_(mask.slice(3, 0, 32), 1);
    const common = {
      targets: tensor([0, 0, 0.3, 0.3, 0.2, 0.2], [1, 6]),
      regionMask: mask,
      imageMask: zeros([2, 1, 64, 64], { dtype: "uint8" }).add(1).to("uint8"),
      heldout: new Float32Array(0),
    };
    const out = student.forward(images, { decode: false, taps: [] });
    const ctx = { student, ema, computeLoss };
    const termsOf = (h: typeof hyp & { pl_teacher_hsv?: number }, batch: object) => {
      const branch = new SlaBranch({ ...h, pl_teacher_hsv: h.pl_teacher_hsv ?? 1 }, 10, options, false);
      const t = branch.terms(ctx, { ...common, ...batch } as unknown as Batch, out, 1);
      return { pl: t?.pl ?? 0, count: branch.stats.summary().count };
    };
    const weakTeacher = termsOf({ ...hyp, pl_teacher_hsv: 0 }, { images, weakImages: weak });
    const teacherSeesWeak = termsOf(hyp, { images: weak }); // the same teacher input, the same student maps
    const ownView = termsOf(hyp, { images, weakImages: weak }); // pl_teacher_hsv 1 ignores the weak view
    assert.ok(weakTeacher.count > 0, "pseudo-labels admitted");
    assert.equal(weakTeacher.count, teacherSeesWeak.count);
    assert.ok(
      Math.abs(weakTeacher.pl - teacherSeesWeak.pl) <= 1e-6 * teacherSeesWeak.pl,
      "the teacher read the weak view",
    );
    assert.ok(Math.abs(weakTeacher.pl - ownView.pl) > 1e-4 * ownView.pl, "and not the student's batch");
    assert.throws(
      () => termsOf({ ...hyp, pl_teacher_hsv: 0 }, { images }),
      /pl_teacher_hsv 0: the batch has no weak view/,
    );
  });
  dispose();
});

test("the weak view: one for the attribute head and phase 2's teacher, only in phase 2 for the teacher, never two", () => {
  const sla = { proposer: "ema", tripletSign: "conventional", plInRegion: false } as const;
  const teacher = { ...DEFAULT_HYP, pl_teacher_hsv: 0 };
  assert.equal(weakViewHsv({ sla: null, hyp: teacher }, undefined), undefined, "phase 1 has no teacher");
  assert.equal(weakViewHsv({ sla, hyp: DEFAULT_HYP }, undefined), undefined, "pl_teacher_hsv 1: the batch itself");
  assert.equal(weakViewHsv({ sla, hyp: teacher }, undefined), 0);
  assert.equal(weakViewHsv({ sla, hyp: teacher }, 0), 0, "shared with the head");
  assert.equal(weakViewHsv({ sla, hyp: DEFAULT_HYP }, 0.5), 0.5, "the head's alone");
  assert.throws(() => weakViewHsv({ sla, hyp: teacher }, 0.5), /attr_hsv 0.5 and pl_teacher_hsv 0 differ/);
});
