/** COCO-style evaluation on hand-computed cases. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { cocoEvaluate, formatCocoStats } from "../../src/eval/coco-eval.js";

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-9, `${a} vs ${b}`);

test("perfect detections: AP 1 everywhere (no 0.995 artefact); areas split small / medium / large", () => {
  // a small (20×20 = 400 < 32²), a medium (50×50 = 2500) and a large (100×100 = 10000 > 96²) cell, each found exactly
  const labels = [0, 0, 0, 20, 20, 0, 100, 100, 150, 150, 1, 200, 200, 300, 300];
  const detections = [0, 0, 20, 20, 0.9, 0, 100, 100, 150, 150, 0.8, 0, 200, 200, 300, 300, 0.7, 1];
  const s = cocoEvaluate([{ labels, detections }]);
  for (const v of [s.ap, s.ap50, s.ap75, s.apSmall, s.apMedium, s.apLarge, s.ar10, s.ar100]) close(v, 1);
  // AR@1: class 0 has 2 cells and 1 detection allowed → recall 1/2; class 1: 1 → mean 0.75
  close(s.ar1, 0.75);
  assert.match(formatCocoStats(s), /Average Precision \(AP\)\s+0\.50:0\.95\s+all\s+100\s+1\.000/);
});

test("one of two cells found: precision 1 up to recall 0.5 → AP = 51/101 at every threshold", () => {
  // recall points 0.00..0.50 (51 of 101) have precision 1; the rest 0
  const s = cocoEvaluate([{ labels: [0, 0, 0, 40, 40, 0, 100, 100, 140, 140], detections: [0, 0, 40, 40, 0.9, 0] }]);
  close(s.ap, 51 / 101);
  close(s.ar100, 0.5);
});

test("IoU 0.62 counts at thresholds 0.50–0.60 only: AP = 3/10, AP50 = 1, AP75 = 0", () => {
  const s = cocoEvaluate([{ labels: [0, 0, 0, 100, 100], detections: [0, 0, 100, 62, 0.9, 0] }]);
  close(s.ap, 0.3);
  close(s.ap50, 1);
  close(s.ap75, 0);
});

test("a false positive ranked first halves the precision: AP50 = 0.5", () => {
  // scores: FP 0.9 then TP 0.8 → precision [0, 0.5], envelope [0.5, 0.5] at recall 1 → 0.5 at every recall point
  const s = cocoEvaluate([
    { labels: [0, 0, 0, 40, 40], detections: [200, 200, 240, 240, 0.9, 0, 0, 0, 40, 40, 0.8, 0] },
  ]);
  close(s.ap50, 0.5);
});

test("ranges without ground truth are -1", () => {
  const s = cocoEvaluate([{ labels: [0, 0, 0, 50, 50], detections: [0, 0, 50, 50, 0.9, 0] }]);
  close(s.apSmall, -1);
  close(s.apLarge, -1);
  close(s.apMedium, 1);
});
