/** Detection metrics: hand-computed cases (arithmetic written out) and a numpy reference on random images. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { apPerClass, computeAp, smooth } from "../../src/eval/ap.js";
import { ConfusionMatrix } from "../../src/eval/confusion.js";
import { DetectionMetrics, formatDetectionTable } from "../../src/eval/detection-metrics.js";
import { matchDetections } from "../../src/eval/match.js";
import { fixturePath } from "../helpers.js";

function close(a: number, b: number, tol = 1e-9): void {
  assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);
}
const det = (...rows: number[][]) => Float64Array.from(rows.flat());
const lab = det;

describe("hand-computed AP", () => {
  test("perfect: recall reaches 1 at precision 1 → AP = 0.99 + (1 + 0)/2·0.01 = 0.995 at every IoU", () => {
    // mrec = [0, .5, 1, 1], mpre = [1, 1, 1, 0]; on the 101-point grid the envelope is 1 except at recall 1 (0,
    // numpy's interp takes the last of equal xp): trapezoids 100 × 0.01 with the last one (1 + 0)/2·0.01.
    const m = new DetectionMetrics(["cell"]);
    m.add(det([0, 0, 10, 10, 0.9, 0], [20, 20, 30, 30, 0.8, 0]), lab([0, 0, 0, 10, 10], [0, 20, 20, 30, 30]));
    const s = m.summary();
    close(s.map50, 0.995);
    close(s.map, 0.995);
    close(s.mp, 1);
    close(s.mr, 1);
    close(s.fitness, 0.1 * 0.995 + 0.9 * 0.995);
  });

  test("shifted: IoU 0.62 is a hit at 0.50, 0.55, 0.60 only → mAP50 0.995, mAP50-95 3·0.995/10 = 0.2985", () => {
    // GT [0,0,100,100], detection [0,0,100,62]: IoU = 6200 / 10000 = 0.62
    const m = new DetectionMetrics(["cell"]);
    m.add(det([0, 0, 100, 62, 0.9, 0]), lab([0, 0, 0, 100, 100]));
    const s = m.summary();
    close(s.map50, 0.995);
    close(s.map, 0.2985);
  });

  test("duplicate: the second detection of one cell is a false positive; AP stays 0.995", () => {
    // recall [1, 1], precision [1, 0.5]: the envelope is 1 up to recall 1 → 0.995.
    // The P and R curves interpolate over confidence between the detections (0.9: P 1; 0.5: P 0.5) and R drops to 0
    // above 0.9, so the best smoothed F1 lies at a confidence c in [0.5, 0.9] with R = 1, P = 0.5 + 0.5·(c − 0.5)/0.4.
    const m = new DetectionMetrics(["cell"]);
    m.add(det([0, 0, 10, 10, 0.9, 0], [0, 0, 10, 10, 0.5, 0]), lab([0, 0, 0, 10, 10]));
    const s = m.summary();
    close(s.map50, 0.995);
    const c = s.details!.confidence;
    assert.ok(c >= 0.5 && c <= 0.9, `confidence ${c}`);
    close(s.perClass[0]!.r, 1, 1e-9);
    close(s.perClass[0]!.p, 0.5 + (0.5 * (c - 0.5)) / 0.4, 1e-9);
  });

  test("missing: one of two cells found → AP = 0.5 + ∫_.5^1 (2 − 2r) dr = 0.75", () => {
    // mrec = [0, .5, 1], mpre = [1, 1, 0]: envelope 1 on [0, .5], then linear to 0 at recall 1 (0.5 is a grid point,
    // so the trapezoid rule is exact).
    const m = new DetectionMetrics(["cell"]);
    m.add(det([0, 0, 10, 10, 0.9, 0]), lab([0, 0, 0, 10, 10], [0, 50, 50, 60, 60]));
    const s = m.summary();
    close(s.map50, 0.75);
    close(s.perClass[0]!.r, 0.5, 1e-6);
  });

  test("multi-class: class 0 perfect (+1 FP after its TP) = 0.995, class 1 found only as class 0 = 0 → mAP50 0.4975", () => {
    const m = new DetectionMetrics(["a", "b"]);
    m.add(det([0, 0, 10, 10, 0.9, 0], [50, 50, 60, 60, 0.7, 0]), lab([0, 0, 0, 10, 10], [1, 50, 50, 60, 60]));
    const s = m.summary();
    close(s.perClass[0]!.ap50, 0.995);
    close(s.perClass[1]!.ap50, 0);
    close(s.map50, 0.4975);
    // confusion: a→a, b predicted as a; nothing missed, no false alarm
    assert.deepEqual(s.confusion.matrix, [
      [1, 1, 0],
      [0, 0, 0],
      [0, 0, 0],
    ]);
    const table = formatDetectionTable(s);
    assert.match(table, /^Class\s+Images\s+Instances\s+P\s+R\s+mAP50\s+mAP50-95$/m);
    assert.match(table, /^all\s+1\s+2\s+/m);
  });

  test("no detections and no labels", () => {
    const m = new DetectionMetrics(["a"]);
    m.add(det(), lab([0, 0, 0, 10, 10]));
    m.add(det([0, 0, 5, 5, 0.5, 0]), lab());
    const s = m.summary();
    close(s.map50, 0);
    assert.equal(s.confusion.matrix[1]![0], 1, "missed label counted as background");
    assert.equal(s.confusion.matrix[0]![1], 1, "false alarm counted against background");
  });

  test("computeAp and smooth basics", () => {
    close(computeAp([1], [1]).ap, 0.995);
    // nf = round(5·0.3·2)//2 + 1 = 2; padded [0, 0,0,3,0,0, 0]; mean of each 2-window
    assert.deepEqual(smooth([0, 0, 3, 0, 0], 0.3), [0, 0, 1.5, 1.5, 0, 0]);
  });
});

describe("numpy reference on 30 random images", () => {
  const ref = JSON.parse(readFileSync(fixturePath("metrics.json"), "utf8")) as {
    nc: number;
    detections: number[][][];
    labels: number[][][];
    correct: number[][][];
    ap_per_class: { classes: number[]; ap: number[][]; p: number[]; r: number[]; f1: number[]; k: number };
    confusion: number[][];
  };

  test("greedy matching per image equals process_batch", () => {
    ref.detections.forEach((d, i) => {
      const got = matchDetections(det(...d), lab(...ref.labels[i]!));
      assert.deepEqual(Array.from(got), ref.correct[i]!.flat(), `image ${i}`);
    });
  });

  test("AP, P, R, F1 per class equal ap_per_class", () => {
    const tp = Uint8Array.from(ref.correct.flat(2));
    const dets = ref.detections.flat();
    const res = apPerClass(
      tp,
      dets.map((r) => r[4]!),
      dets.map((r) => r[5]!),
      ref.labels.flat().map((r) => r[0]!),
      10,
    );
    const want = ref.ap_per_class;
    assert.deepEqual(res.classes, want.classes);
    assert.equal(Math.round(res.confidence * 999), want.k);
    for (const [c, row] of res.ap.entries()) {
      for (const [t, v] of row.entries()) close(v, want.ap[c]![t]!, 1e-9);
    }
    for (const [c, v] of res.p.entries()) close(v, want.p[c]!, 1e-9);
    for (const [c, v] of res.r.entries()) close(v, want.r[c]!, 1e-9);
    for (const [c, v] of res.f1.entries()) close(v, want.f1[c]!, 1e-9);
  });

  test("confusion matrix equals YOLOv5's", () => {
    const cm = new ConfusionMatrix(ref.nc);
    ref.detections.forEach((d, i) => {
      cm.add(det(...d), lab(...ref.labels[i]!));
    });
    assert.deepEqual(cm.matrix, ref.confusion);
  });
});
