/** The trainer's small parts: the losses record and its running mean, option defaults, the options of a resumed run. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { SEED_ATTRIBUTE_HYP } from "../../src/train/attribute-hyp.js";
import { DEFAULT_HYP } from "../../src/train/hyp.js";
import { LOSS_TERMS, updateMeanLosses, zeroLosses } from "../../src/train/train-losses.js";
import { FINETUNE_MIN_WARMUP_ITERATIONS, resolveTrainOptions, resumedOptions } from "../../src/train/train-options.js";
import { OptionError } from "../../src/util/errors.js";

describe("train losses", () => {
  test("the running mean is YOLOv5's (mean·seen + batch)/(seen + 1), term by term", () => {
    const batches = [
      { box: 0.3, obj: 0.02, cls: 0.01, attr: 2.5, pl: 0, sim: 0.1 },
      { box: 0.1, obj: 0.04, cls: 0.03, attr: 1.5, pl: 0.2, sim: 0 },
      { box: 0.2, obj: 0.06, cls: 0.02, attr: 2.0, pl: 0.4, sim: 0.3 },
    ];
    let mean = zeroLosses();
    batches.forEach((b, seen) => {
      mean = updateMeanLosses(mean, b, seen);
    });
    for (const k of LOSS_TERMS) {
      const expected = batches.reduce((s, b) => s + b[k], 0) / batches.length;
      assert.ok(Math.abs(mean[k] - expected) < 1e-15, `${k}: ${mean[k]} vs ${expected}`);
    }
    assert.deepEqual([...LOSS_TERMS], ["box", "obj", "cls", "attr", "pl", "sim"]);
  });

  test("the update leaves the previous mean unchanged", () => {
    const before = zeroLosses();
    updateMeanLosses(before, { box: 1, obj: 1, cls: 1, attr: 1, pl: 1, sim: 1 }, 0);
    assert.deepEqual(before, zeroLosses());
  });
});

describe("train options", () => {
  const quiet = () => {};

  test("defaults fill every option; the hyp is the seed's", () => {
    const o = resolveTrainOptions({ data: "d.yaml" }, quiet);
    assert.equal(o.epochs, 100);
    assert.equal(o.batch, 16);
    assert.equal(o.imgsz, 640);
    assert.equal(o.project, "runs/pretrain");
    assert.equal(o.nominalBatch, 64);
    assert.equal(o.minWarmupIters, 100);
    assert.equal(o.finetune, false);
    assert.deepEqual(o.attributeTaps, ["image"]);
    assert.equal(o.sla, null);
    assert.deepEqual(o.hyp, { ...DEFAULT_HYP });
  });

  test("phase 2 is a fine-tune by default (no warmup floor); finetune false or an explicit floor override it", () => {
    const sla = { proposer: "ema", tripletSign: "conventional", plInRegion: false } as const;
    const phase2 = resolveTrainOptions({ data: "d.yaml", sla }, quiet);
    assert.equal(phase2.finetune, true);
    assert.equal(phase2.minWarmupIters, FINETUNE_MIN_WARMUP_ITERATIONS);
    const fresh = resolveTrainOptions({ data: "d.yaml", sla, finetune: false }, quiet);
    assert.deepEqual([fresh.finetune, fresh.minWarmupIters], [false, 100]);
    assert.equal(resolveTrainOptions({ data: "d.yaml", sla, minWarmupIters: 7 }, quiet).minWarmupIters, 7);
    assert.equal(resolveTrainOptions({ data: "d.yaml", finetune: true }, quiet).minWarmupIters, 0, "phase 1 may too");
  });

  test("partial hyp values replace the seed's; a missing dataset is an error naming the way out", () => {
    assert.equal(resolveTrainOptions({ data: "d.yaml", hyp: { lr0: 0.02 } }, quiet).hyp.lr0, 0.02);
    assert.throws(
      () => resolveTrainOptions({}, quiet),
      /^OptionError: data is missing: give a dataset YAML, or resume a run/,
    );
  });

  test("a resumed run keeps its saved options; only resume, verbosity, the interruption hooks and the process group come from the call", () => {
    const saved = { data: "d.yaml", epochs: 30, batch: 4, verbose: true };
    const resume = "runs/x/weights/last.safetensors";
    // a data-parallel run may resume on another number of processes: the topology is not stored with the run
    const distributed = { masterAddr: "127.0.0.1", masterPort: 29500, rank: 0, worldSize: 2 };
    const merged = resumedOptions(saved, { resume, verbose: false, stopAfterEpochs: 2, epochs: 30, distributed });
    assert.deepEqual(merged, {
      ...saved,
      resume,
      verbose: false,
      stopAfterEpochs: 2,
      interruptAfterBatches: undefined,
      distributed,
    });
    // a run saved before issue 25's attribute keys continues its head the seed's way; a newer run keeps its own
    // values, and takes the seed's for a key added after it was saved (attr_clip: unclipped before it existed)
    const old = resumedOptions({ ...saved, hyp: { lr0: 0.02 } }, { resume });
    assert.deepEqual(old.hyp, { ...SEED_ATTRIBUTE_HYP, lr0: 0.02 });
    const newer = resumedOptions({ ...saved, hyp: { lr0: 0.02, attr_hsv: 0.5, attr_size_box: 1 } }, { resume });
    assert.deepEqual(newer.hyp, { ...SEED_ATTRIBUTE_HYP, lr0: 0.02, attr_hsv: 0.5, attr_size_box: 1 });
    assert.equal(newer.hyp?.attr_clip, 0);
    // another epoch count is refused, not ignored (the learning-rate schedule depends on it)
    assert.throws(
      () => resumedOptions(saved, { resume, epochs: 99 }),
      (e: unknown) => e instanceof OptionError && e.option === "epochs" && /saved 30 epochs/.test(e.problem),
    );
  });
});
