/** Training infrastructure: schedule and warmup, parameter groups, EMA, run folders, results.csv, early stopping, AutoAnchor. */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { BatchNorm2d, Conv2d, inplace, Linear, Sequential } from "../../src/torch/index.js";
import { anchorFit, evolveAnchors } from "../../src/train/autoanchor.js";
import { EarlyStopping } from "../../src/train/early-stopping.js";
import { ModelEMA } from "../../src/train/ema.js";
import { splitParameterGroups } from "../../src/train/param-groups.js";
import { ResultsCsv } from "../../src/train/results-csv.js";
import {
  accumulateSteps,
  iterationSettings,
  lrFactor,
  scaledWeightDecay,
  warmupIterations,
} from "../../src/train/schedule.js";
import { Rng } from "../../src/util/random.js";
import { incrementRunDir } from "../../src/util/run-dir.js";
import { FIXTURE_PREFIX, pruneStaleFixtures, STALE_FIXTURE_MS } from "../helpers/trained-fixture.js";

const close = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);
const HYP = { lr0: 0.01, lrf: 0.1, momentum: 0.937, warmup_epochs: 3, warmup_momentum: 0.8, warmup_bias_lr: 0.1 };

describe("schedule", () => {
  test("linear and cosine factors run from 1 to lrf", () => {
    close(lrFactor(0, 30, 0.1, false), 1);
    close(lrFactor(30, 30, 0.1, false), 0.1);
    close(lrFactor(15, 30, 0.1, false), 0.55);
    close(lrFactor(0, 30, 0.1, true), 1);
    close(lrFactor(30, 30, 0.1, true), 0.1);
    close(lrFactor(15, 30, 0.1, true), 0.55);
  });

  test("warmup: bias lr falls from warmup_bias_lr, others rise from 0, momentum and accumulation rise", () => {
    const base = { epoch: 0, epochs: 30, batchSize: 8, cosine: false, groups: 3 };
    const warmup = warmupIterations(HYP, 20); // max(3·20, 100) = 100
    assert.equal(warmup, 100);
    const s0 = iterationSettings(HYP, { ...base, ni: 0, warmup });
    assert.deepEqual(s0.lr, [0.1, 0, 0]);
    close(s0.momentum, 0.8);
    assert.equal(s0.accumulate, 1);
    const s50 = iterationSettings(HYP, { ...base, ni: 50, warmup });
    close(s50.lr[0]!, 0.1 + 0.5 * (0.01 - 0.1));
    close(s50.lr[1]!, 0.005);
    close(s50.momentum, 0.8 + 0.5 * (0.937 - 0.8));
    assert.equal(s50.accumulate, 4, "np.round(4.5) = 4: ties go to even, as YOLOv5's");
    const after = iterationSettings(HYP, { ...base, ni: 101, warmup, epoch: 3 });
    assert.deepEqual(after.lr, [
      0.01 * lrFactor(3, 30, 0.1, false),
      0.01 * lrFactor(3, 30, 0.1, false),
      0.01 * lrFactor(3, 30, 0.1, false),
    ]);
    assert.equal(after.accumulate, 8);
  });

  test("fine-tune warmup: the bias group rises from 0 like the others; no warmup at all when it lasts 0 iterations", () => {
    const base = { epoch: 0, epochs: 8, batchSize: 8, cosine: false, groups: 3, biasWarmup: false };
    const s0 = iterationSettings(HYP, { ...base, ni: 0, warmup: 100 });
    assert.deepEqual(s0.lr, [0, 0, 0], "no warmup_bias_lr jump");
    const s50 = iterationSettings(HYP, { ...base, ni: 50, warmup: 100 });
    close(s50.lr[0]!, 0.005);
    close(s50.lr[1]!, 0.005);
    const none = iterationSettings(HYP, { ...base, ni: 0, warmup: 0, biasWarmup: true });
    assert.deepEqual(none.lr, [0.01, 0.01, 0.01], "warmup 0: lr0 from the first iteration, whatever biasWarmup says");
    close(none.momentum, HYP.momentum);
    assert.equal(warmupIterations({ ...HYP, warmup_epochs: 0 }, 14, 0), 0);
  });

  test("warm-up as YOLOv5 v7.0 on BCCD (205 images, batch 16): 100 iterations, accumulate 1→4 rounded half to even", () => {
    // the sequence np.round(np.interp(ni, [0, 100], [1, 4])) gives; 2.5 at ni = 50 rounds to 2 (Math.round: 3)
    const warmup = warmupIterations(HYP, 13); // max(round(3 · 13), 100)
    assert.equal(warmup, 100);
    const base = { epoch: 0, epochs: 100, batchSize: 16, cosine: false, groups: 3, warmup };
    const acc = (ni: number) => iterationSettings(HYP, { ...base, ni }).accumulate;
    assert.deepEqual([0, 16, 17, 49, 50, 51, 83, 84, 100, 150].map(acc), [1, 1, 2, 2, 2, 3, 3, 4, 4, 4]);
    assert.equal(warmupIterations({ ...HYP, warmup_epochs: 2.5 }, 41), 102, "round(102.5) = 102");
    assert.equal(warmupIterations({ ...HYP, warmup_epochs: 3.5 }, 41), 144, "round(143.5) = 144");
  });

  test("accumulation and weight decay scale to the nominal batch of 64", () => {
    assert.equal(accumulateSteps(8), 8);
    assert.equal(accumulateSteps(128), 1);
    close(scaledWeightDecay(5e-4, 8), 5e-4);
    close(scaledWeightDecay(5e-4, 10), (5e-4 * 10 * 6) / 64);
  });
});

test("parameter groups: biases, weights with decay, norm weights", () => {
  const net = new Sequential(new Conv2d(3, 4, 3, { bias: false }), new BatchNorm2d(4), new Conv2d(4, 2, 1));
  const g = splitParameterGroups(net);
  const names = new Map(net.namedParameters().map(([k, p]) => [p, k]));
  assert.deepEqual(
    g.weights.map((p) => names.get(p)),
    ["0.weight", "2.weight"],
  );
  assert.deepEqual(
    g.normWeights.map((p) => names.get(p)),
    ["1.weight"],
  );
  assert.deepEqual(
    g.biases.map((p) => names.get(p)),
    ["1.bias", "2.bias"],
  );
  assert.equal(splitParameterGroups(net, { frozen: (n) => n.startsWith("0.") }).weights.length, 1);
  net.dispose();
});

test("EMA: ramped decay d = 0.9999·(1 − e^(−u/2000)) and ema ← d·ema + (1 − d)·model", () => {
  const model = new Linear(2, 1);
  const ema = new ModelEMA(new Linear(2, 1), model);
  const before = ema.ema.weight.data.toArray();
  assert.deepEqual(before, model.weight.data.toArray(), "starts as a copy");
  inplace.add_(model.weight.data, 1);
  ema.update(model);
  const d = 0.9999 * (1 - Math.exp(-1 / 2000));
  ema.ema.weight.data.toArray().forEach((v, i) => {
    close(v, d * before[i]! + (1 - d) * (before[i]! + 1), 1e-6);
  });
  assert.equal(ema.ema.training, false);
  model.dispose();
  ema.ema.dispose();
});

test("run folders increment like YOLOv5's (exp, exp2, exp3) unless exist-ok", () => {
  const dir = mkdtempSync(join(tmpdir(), "sladet-runs-"));
  try {
    assert.equal(incrementRunDir(dir, "exp"), join(dir, "exp"));
    assert.equal(incrementRunDir(dir, "exp"), join(dir, "exp2"));
    assert.equal(incrementRunDir(dir, "exp"), join(dir, "exp3"));
    assert.equal(incrementRunDir(dir, "exp", true), join(dir, "exp"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("results.csv: rows appended atomically; resume keeps the earlier epochs", () => {
  const dir = mkdtempSync(join(tmpdir(), "sladet-csv-"));
  try {
    const path = join(dir, "results.csv");
    const csv = new ResultsCsv(path);
    for (let e = 0; e < 3; e++) csv.append({ epoch: e, "train/box_loss": 0.1 / (e + 1), "metrics/mAP_0.5": 0.2 * e });
    const lines = readFileSync(path, "utf8").trim().split("\n");
    assert.equal(lines.length, 4);
    assert.match(lines[0]!, /^epoch,train\/box_loss,train\/obj_loss/);
    const resumed = ResultsCsv.load(path, 2);
    assert.equal(resumed.rows.length, 2);
    close(resumed.rows[1]!["metrics/mAP_0.5"]!, 0.2);
    assert.ok(existsSync(path));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("early stopping after `patience` epochs without improvement", () => {
  const es = new EarlyStopping(3);
  assert.equal(es.step(0, 0.1), false);
  assert.equal(es.step(1, 0.3), false);
  assert.equal(es.step(2, 0.2), false);
  assert.equal(es.step(3, 0.2), false);
  assert.equal(es.step(4, 0.25), true);
  assert.equal(new EarlyStopping(0).step(1000, 0), false);
});

describe("AutoAnchor", () => {
  test("BPR: labels equal to anchors fit; labels 5× larger than every anchor with anchor_t 4 do not", () => {
    const anchors = [10, 13, 16, 30, 33, 23];
    // every ratio here is above 1/4 (the smallest: 10/33 = 0.30), so both labels fit all 3 anchors: aat = 3
    assert.deepEqual(anchorFit([10, 13, 16, 30], anchors, 4), { bpr: 1, aat: 3 });
    assert.equal(anchorFit([200, 200], anchors, 4).bpr, 0);
  });

  test("evolution finds anchors for clustered sizes and raises BPR", () => {
    const rng = new Rng(1);
    const wh: number[] = [];
    for (const [w, h] of [
      [20, 20],
      [60, 40],
      [150, 160],
    ] as const) {
      for (let i = 0; i < 100; i++) wh.push(w * (1 + 0.1 * rng.normal()), h * (1 + 0.1 * rng.normal()));
    }
    const poor = [400, 400, 500, 500, 600, 600];
    assert.ok(anchorFit(wh, poor, 4).bpr < 0.5);
    const evolved = evolveAnchors(wh, 3, { anchorT: 4, seed: 0, generations: 300 });
    assert.equal(anchorFit(wh, evolved, 4).bpr, 1);
    const areas = [0, 1, 2].map((i) => evolved[2 * i]! * evolved[2 * i + 1]!);
    assert.ok(areas[0]! < areas[1]! && areas[1]! < areas[2]!, "sorted by area");
  });
});

test("the test fixture cache: fixtures of other versions unused for an hour go, the current, fresh and locked ones stay", () => {
  const parent = mkdtempSync(join(tmpdir(), "sladet-prune-"));
  try {
    const fixture = (key: string, usedMsAgo: number | null, locked = false) => {
      const dir = join(parent, `${FIXTURE_PREFIX}${key}`);
      mkdirSync(dir);
      if (usedMsAgo !== null) {
        writeFileSync(join(dir, "fixture.json"), "{}");
        const then = new Date(Date.now() - usedMsAgo);
        utimesSync(join(dir, "fixture.json"), then, then);
      }
      if (locked) mkdirSync(join(dir, "lock"));
      return dir;
    };
    const hour = STALE_FIXTURE_MS;
    const current = fixture("current", 2 * hour);
    const stale = fixture("stale", 2 * hour);
    const fresh = fixture("fresh", hour / 2);
    const training = fixture("training", null, true);
    const other = join(parent, "other-folder");
    mkdirSync(other);
    assert.deepEqual(pruneStaleFixtures(parent, current), [stale]);
    for (const kept of [current, fresh, training, other]) assert.ok(existsSync(kept), kept);
    assert.ok(!existsSync(stale));
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
});
