/** Attribute metrics on hand-computed cases. */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  AttributeMetrics,
  formatAttributeTable,
  matchCells,
  presentValuesMacroF1,
} from "../../src/eval/attribute-metrics.js";

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} vs ${b}`);

test("matching: the highest IoU at or above 0.5, class-agnostic; below the threshold no match", () => {
  const labels = [0, 0, 0, 10, 10, 1, 50, 50, 60, 60, 2, 100, 100, 110, 110];
  const dets = [0, 0, 10, 8, 0.9, 3, 0, 0, 10, 10, 0.5, 5, 50, 50, 60, 54, 0.9, 1];
  // label 0: IoUs 0.8 and 1.0 → detection 1; label 1: IoU 0.4 < 0.5 → none; label 2: nothing near
  assert.deepEqual(matchCells(labels, dets), [1, -1, -1]);
  assert.deepEqual(matchCells(labels, dets, { minIou: 0.3 }), [1, 2, -1]);
});

test("binary attribute scores, unknowns skipped, summaries", () => {
  const m = new AttributeMetrics();
  // Nuclear Chromatin (a1) over 6 known cells: truth 1,1,1,0,0,1; predicted 1,1,0,1,0,0
  // TP 2, FN 2, FP 1, TN 1 → precision 2/3, recall 2/4, accuracy 3/6; value 0: recall 1/2 → balanced (2/4 + 1/2)/2;
  // majority baseline: 4 of 6 are 1 → 4/6
  const truth = [1, 1, 1, 0, 0, 1];
  const pred = [1, 1, 0, 1, 0, 0];
  truth.forEach((t, i) => {
    m.add([-1, t, -1, -1, -1, -1, -1], [0, pred[i]!, 0, 0, 0, 0, 0]);
  });
  m.add([-1, 2, -1, -1, -1, -1, -1], [0, 1, 0, 0, 0, 0, 0]); // value 2 = not annotated: not counted
  const s = m.summary();
  assert.equal(s.attributes[1]!.n, 6);
  close(s.attributes[1]!.precision, 2 / 3);
  close(s.attributes[1]!.recall, 2 / 4);
  close(s.attributes[1]!.f1, (2 * (2 / 3) * (1 / 2)) / (2 / 3 + 1 / 2));
  close(s.attributes[1]!.accuracy, 3 / 6);
  close(s.attributes[1]!.majorityBaseline, 4 / 6);
  close(s.attributes[1]!.balancedAccuracy, (2 / 4 + 1 / 2) / 2);
  // other binary attributes have no known cell: F1 0; the seed's mean F1 = F1(a1) / 6
  close(s.seedMeanF1, s.attributes[1]!.f1 / 6);
  assert.equal(s.attributes[2]!.n, 0);
  assert.match(formatAttributeTable(s), /^Attribute\s+Cells\s+Accuracy/m);
});

test("Cell Size: 3-class confusion, macro scores", () => {
  const m = new AttributeMetrics();
  const pairs: Array<[number, number]> = [
    [0, 0],
    [0, 1],
    [1, 1],
    [2, 2],
    [2, 1],
  ];
  for (const [t, p] of pairs) m.add([t, -1, -1, -1, -1, -1, -1], [p, 0, 0, 0, 0, 0, 0]);
  m.addUnmatched(2);
  const cs = m.summary().attributes[0]!;
  assert.deepEqual(cs.confusion, [
    [1, 1, 0],
    [0, 1, 0],
    [0, 1, 1],
  ]);
  close(cs.accuracy, 3 / 5);
  // per value: small P 1 R 1/2; medium P 1/3 R 1; large P 1 R 1/2 → macro recall (1/2 + 1 + 1/2)/3 = 2/3
  close(cs.recall, 2 / 3);
  close(cs.balancedAccuracy, 2 / 3);
  close(cs.precision, (1 + 1 / 3 + 1) / 3);
  assert.equal(m.summary().unmatched, 2);
  assert.throws(() => m.add([0, 0, 0, 0, 0, 0, 0], [5, 0, 0, 0, 0, 0, 0]), /predicted Cell Size 5 is not a value/);
});

test("macro F1 over the values present (scikit-learn's average='macro'): a value never seen is left out", () => {
  // truth 0 0 0 1 1, predicted 0 0 1 1 2; value 3 neither true nor predicted. F1: 0.8, 0.5, 0 (predicted once, never
  // true); scikit-learn averages over the labels in either: (0.8 + 0.5 + 0) / 3.
  const confusion = [
    [2, 1, 0, 0],
    [0, 1, 1, 0],
    [0, 0, 0, 0],
    [0, 0, 0, 0],
  ];
  assert.ok(Math.abs(presentValuesMacroF1(confusion) - 1.3 / 3) < 1e-12);
  assert.equal(presentValuesMacroF1([[4]]), 1);
  assert.equal(presentValuesMacroF1([]), 0);
});
