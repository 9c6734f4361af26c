/** Hyperparameter files: the seed's keys load; unknown keys warned, missing keys defaulted, bad values named. */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { parse } from "yaml";
import { ATTRIBUTE_ROI_SIZE, IMAGE_NORMS } from "../../src/model/attribute-head.js";
import {
  ATTRIBUTE_IMAGE_NORMS,
  AUTO_GRID_PIXELS_PER_ROW,
  attributeGrid,
  attributeStepLr,
  autoAttributeGrid,
  DEFAULT_ATTRIBUTE_HYP,
  SEED_ATTRIBUTE_HYP,
  SEED_ROI_GRID,
} from "../../src/train/attribute-hyp.js";
import { DEFAULT_HYP, loadHyp, mosaicClosed, resolveFullHyp } from "../../src/train/hyp.js";

// hyp.scratch-high.yaml as the seed ships it (values re-typed here from its documented settings)
const SEED_HYP = `# Hyperparameters for high-augmentation COCO training from scratch
lr0: 0.01
lrf: 0.1
momentum: 0.937
weight_decay: 0.0005
warmup_epochs: 3.0
warmup_momentum: 0.8
warmup_bias_lr: 0.1
box: 0.05
cls: 0.3
cls_pw: 1.0
obj: 0.7
obj_pw: 1.0
iou_t: 0.20
anchor_t: 4.0
fl_gamma: 1.5
hsv_h: 0.015
hsv_s: 0.7
hsv_v: 0.4
degrees: 0.0
translate: 0.1
scale: 0.9
shear: 0.0
perspective: 0.0
flipud: 0.0
fliplr: 0.5
mosaic: 1.0
mixup: 0.1
copy_paste: 0.1
`;

function withFile(text: string, fn: (path: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), "sladet-hyp-"));
  try {
    const path = join(dir, "hyp.yaml");
    writeFileSync(path, text);
    fn(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("the seed's hyp.scratch-high.yaml loads; only label_smoothing is defaulted; inert keys are reported", () => {
  withFile(SEED_HYP, (path) => {
    const { hyp, defaulted, warnings } = loadHyp(path);
    assert.deepEqual(hyp, DEFAULT_HYP);
    assert.deepEqual(defaulted, ["label_smoothing"]);
    assert.equal(warnings.length, 2);
    assert.match(warnings[0]!, /iou_t has no effect/);
    assert.match(warnings[1]!, /copy_paste has no effect/);
  });
});

test("unknown keys are warned about; missing keys take the defaults", () => {
  withFile("lr0: 0.02\nlearning_rate: 3\n", (path) => {
    const { hyp, defaulted, warnings } = loadHyp(path);
    assert.equal(hyp.lr0, 0.02);
    assert.equal(hyp.fl_gamma, 1.5);
    assert.ok(defaulted.includes("momentum"));
    assert.deepEqual(warnings, [`${path}: unknown hyperparameter learning_rate ignored`]);
  });
});

test("bad values name the file and the key", () => {
  withFile("lr0: fast\n", (path) =>
    assert.throws(() => loadHyp(path), new RegExp(`${path}: lr0: expected a number, found "fast"`)),
  );
  withFile("mosaic: 2\n", (path) => assert.throws(() => loadHyp(path), /mosaic is a probability/));
  withFile("anchor_t: 0.5\n", (path) => assert.throws(() => loadHyp(path), /expected anchor_t > 1/));
  withFile("- 1\n- 2\n", (path) => assert.throws(() => loadHyp(path), /expected a mapping/));
  assert.throws(() => loadHyp("/nonexistent/hyp.yaml"), /cannot read the hyp file \(ENOENT\)/);
});

test("the shipped phase-2 hyp (src/train/cfg/hyp.sla.yaml) is exactly the defaults, every key present", () => {
  const path = join(process.cwd(), "src", "train", "cfg", "hyp.sla.yaml");
  const { hyp, defaulted, warnings } = loadHyp(path);
  assert.deepEqual(hyp, DEFAULT_HYP);
  assert.deepEqual(defaulted, []);
  const raw = parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  assert.deepEqual(
    Object.keys(DEFAULT_HYP).filter((k) => !(k in raw)),
    [],
    "every key written out (phase-2 and attribute keys are not reported as defaulted)",
  );
  assert.deepEqual(warnings, []);
  assert.equal(DEFAULT_HYP.pl_conf, 0.95, "the seed's constants");
  assert.equal(DEFAULT_HYP.sim_margin, 0.05);
});

test("the shipped hyp.scratch-low.yaml holds YOLOv5 v7.0's published values, every detection key present", () => {
  const { hyp, defaulted, warnings } = loadHyp(join(process.cwd(), "src", "train", "cfg", "hyp.scratch-low.yaml"));
  assert.deepEqual(defaulted, []);
  assert.deepEqual(warnings, []);
  const published = {
    lr0: 0.01,
    lrf: 0.01,
    momentum: 0.937,
    weight_decay: 0.0005,
    warmup_epochs: 3.0,
    warmup_momentum: 0.8,
    warmup_bias_lr: 0.1,
    box: 0.05,
    cls: 0.5,
    cls_pw: 1.0,
    obj: 1.0,
    obj_pw: 1.0,
    anchor_t: 4.0,
    fl_gamma: 0.0,
    label_smoothing: 0.0,
    hsv_h: 0.015,
    hsv_s: 0.7,
    hsv_v: 0.4,
    degrees: 0.0,
    translate: 0.1,
    scale: 0.5,
    shear: 0.0,
    perspective: 0.0,
    flipud: 0.0,
    fliplr: 0.5,
    mosaic: 1.0,
    mixup: 0.0,
  };
  for (const [key, value] of Object.entries(published)) assert.equal(hyp[key as keyof typeof hyp], value, key);
});

test("phase-2 keys are range-checked with the file named", () => {
  withFile("pl_conf: 1.5\n", (path) => {
    assert.throws(
      () => loadHyp(path),
      (e: Error) => e.message.includes(path) && e.message.includes("0 <= pl_conf <= 1"),
    );
  });
});

test("attribute keys (issue 25): sladet's defaults, range-checked, not reported as defaulted from a seed file", () => {
  for (const [key, value] of Object.entries(DEFAULT_ATTRIBUTE_HYP))
    assert.equal(DEFAULT_HYP[key as keyof typeof DEFAULT_HYP], value, key);
  const { defaulted } = resolveFullHyp({ lr0: 0.01 }, "h.yaml");
  assert.ok(!defaulted.some((k) => k.startsWith("attr_")), `defaulted: ${defaulted.join(", ")}`);
  assert.equal(resolveFullHyp({ ...SEED_ATTRIBUTE_HYP }, "h.yaml").hyp.attr_hsv, 1);
  assert.throws(() => resolveFullHyp({ attr_hsv: 1.5 }, "h.yaml"), /h\.yaml: expected 0 <= attr_hsv <= 1/);
  assert.throws(() => resolveFullHyp({ attr_balance: 0.5 }, "h.yaml"), /attr_balance 0 or 1/);
  assert.throws(() => resolveFullHyp({ attr_softmax: 2 }, "h.yaml"), /attr_softmax 0 or 1/);
  assert.throws(() => resolveFullHyp({ attr_lr: 0 }, "h.yaml"), /attr_lr > 0/);
  assert.throws(() => resolveFullHyp({ attr_min_scale: -1 }, "h.yaml"), /attr_min_scale >= 0/);
  assert.throws(() => resolveFullHyp({ attr_steps: 1.5 }, "h.yaml"), /attr_steps an integer >= 1/);
  assert.throws(
    () => resolveFullHyp({ attr_grid: 0.2 }, "h.yaml"),
    /attr_grid 0 \(fitted to the cells\) or in \(0, 4\]/,
  );
  assert.throws(
    () => resolveFullHyp({ attr_grid: -1 }, "h.yaml"),
    /attr_grid 0 \(fitted to the cells\) or in \(0, 4\]/,
  );
  assert.equal(resolveFullHyp({ attr_grid: 0 }, "h.yaml").hyp.attr_grid, 0);
  assert.throws(() => resolveFullHyp({ attr_size_box: 2 }, "h.yaml"), /attr_size_box 0 or 1/);
  assert.throws(() => resolveFullHyp({ attr_clip: -1 }, "h.yaml"), /attr_clip >= 0/);
  assert.throws(() => resolveFullHyp({ attr_image_norm: 3 }, "h.yaml"), /attr_image_norm 0 \(per cell\), 1/);
  assert.throws(() => resolveFullHyp({ attr_dropout: 1 }, "h.yaml"), /0 <= attr_dropout < 1/);
  assert.throws(() => resolveFullHyp({ attr_class: 2 }, "h.yaml"), /attr_class 0 or 1/);
  for (const bad of [0, 1.5, 5])
    assert.throws(
      () => resolveFullHyp({ attr_image_scale: bad }, "h.yaml"),
      /attr_image_scale a whole number from 1 to 4/,
    );
  assert.deepEqual(ATTRIBUTE_IMAGE_NORMS, IMAGE_NORMS, "attr_image_norm's values are the head's imageNorm names");
  assert.deepEqual(attributeGrid(0.5), [12, 15]);
  assert.deepEqual(attributeGrid(1), [...ATTRIBUTE_ROI_SIZE]);
  assert.deepEqual(SEED_ROI_GRID, ATTRIBUTE_ROI_SIZE);
});

test("attr_grid 0 fits the grid to the training cells: the coarsest with at most 2 px of the mean cell a row", () => {
  assert.equal(AUTO_GRID_PIXELS_PER_ROW, 2);
  assert.equal(autoAttributeGrid(null), 1, "no cells: the seed's grid");
  assert.equal(autoAttributeGrid(20), 1, "never coarser than the seed's");
  assert.equal(autoAttributeGrid(38.4), 1, "the demo's 192 px films: 1.6 px a row at 24×30");
  assert.equal(autoAttributeGrid(48), 1, "2 px a row at 24 rows: still 24×30");
  assert.equal(autoAttributeGrid(48.5), 2, "just over 2 px a row: 48×60");
  assert.equal(autoAttributeGrid(62.3), 2, "issue 25's 640 px films: 2.6 px a row at 24, 1.3 at 48");
  assert.equal(autoAttributeGrid(97), 3, "over 2 px a row at 48 rows: 72×90");
  assert.equal(autoAttributeGrid(1000), 3, "huge cells: the finest grid offered");
  assert.deepEqual(attributeGrid(autoAttributeGrid(62.3)), [48, 60]);
});

test("attributeStepLr: the detector's epoch rate × attr_lr, shared by the attr_steps steps of a batch", () => {
  assert.equal(attributeStepLr(SEED_ATTRIBUTE_HYP, 0.01, 0.5), 0.005, "the seed: lr0 × the schedule's factor");
  assert.equal(attributeStepLr({ attr_lr: 2, attr_steps: 1 }, 0.01, 1), 0.02);
  const four = attributeStepLr({ attr_lr: 1, attr_steps: 4 }, 0.02, 1);
  assert.equal(four, 0.005, "4 steps a batch: a quarter each");
  assert.equal(four * 4, attributeStepLr({ attr_lr: 1, attr_steps: 1 }, 0.02, 1), "a batch's steps sum to one step's");
});

test("close_mosaic: 0 by default (mosaic every epoch, YOLOv5's), closes the last N epochs, whole numbers only", () => {
  assert.equal(DEFAULT_HYP.close_mosaic, 0);
  assert.deepEqual(
    [0, 1, 2, 3, 4].map((e) => mosaicClosed(e, 5, 0)),
    [false, false, false, false, false],
  );
  assert.deepEqual(
    [0, 1, 2, 3, 4].map((e) => mosaicClosed(e, 5, 2)),
    [false, false, false, true, true],
  );
  assert.ok(mosaicClosed(0, 5, 9), "more closing epochs than epochs: every epoch without mosaic");
  const { hyp, defaulted } = resolveFullHyp({ close_mosaic: 10 }, "h.yaml");
  assert.equal(hyp.close_mosaic, 10);
  assert.ok(!resolveFullHyp({}, "h.yaml").defaulted.includes("close_mosaic"), "sladet's key, not reported");
  assert.ok(!defaulted.includes("close_mosaic"));
  for (const bad of [-1, 2.5]) {
    assert.throws(() => resolveFullHyp({ close_mosaic: bad }, "h.yaml"), /h\.yaml: expected close_mosaic/);
  }
});
