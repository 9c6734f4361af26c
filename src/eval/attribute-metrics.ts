/**
 * Attribute evaluation (design.md §4 decision 9; method.md §6.2 for the seed's version and its bugs). Each
 * ground-truth cell is matched to the detection with the highest IoU ≥ 0.5 (class-agnostic, as the seed, but with
 * a threshold); its predicted attributes are compared with the known ground-truth values, per attribute.
 * Per attribute: accuracy, precision / recall / F1 of value 1 (sklearn's binary average, the seed's numbers), macro F1
 * over the values, balanced accuracy (mean per-value recall) and the majority-class baseline. Summaries: the seed's
 * mean of the six binary F1s (a1..a6) and the macro F1 averaged over all 7 attributes. Cell Size gets its confusion
 * matrix. Pure TypeScript.
 */
import { type AttributeSpec, LLD_ATTRIBUTES, SEED_ATTRIBUTE_NAMES } from "../data/schema.js";
import { csvLine } from "../util/csv.js";
import { formatTable } from "../util/table.js";
import { iouAt } from "./box.js";

/** The seed's CSV header (val.py / test.py): filename, six ground-truth and six predicted binary attributes. */
export const SEED_ATTRIBUTE_COLUMNS: readonly string[] = [
  "filename",
  ...SEED_ATTRIBUTE_NAMES,
  ...SEED_ATTRIBUTE_NAMES.map((n) => `pred_${n}`),
];
export const EXTRA_ATTRIBUTE_COLUMNS = ["Cell Size", "pred_Cell Size", "class", "x1", "y1", "x2", "y2", "iou"] as const;

/** Minimum IoU of a ground-truth cell and the detection whose attributes it is compared with. */
export const ATTRIBUTE_MATCH_IOU = 0.5;

/**
 * For each label row [cls, x1, y1, x2, y2], the index of the detection row [x1, y1, x2, y2, …] (stride `detStride`)
 * with the highest IoU ≥ `minIou`, or −1.
 */
export function matchCells(
  labels: ArrayLike<number>,
  detections: ArrayLike<number>,
  options: { detStride?: number; minIou?: number } = {},
): number[] {
  const { detStride = 6, minIou = ATTRIBUTE_MATCH_IOU } = options;
  const out: number[] = [];
  for (let l = 0; l < labels.length; l += 5) {
    let best = -1;
    let bestIou = minIou;
    for (let d = 0; d < detections.length; d += detStride) {
      const iou = iouAt(labels, l + 1, detections, d);
      if (iou >= bestIou) [best, bestIou] = [d / detStride, iou];
    }
    out.push(best);
  }
  return out;
}

export interface AttributeScores {
  name: string;
  /** Value names, the order of the confusion matrix's rows and columns. */
  values: readonly string[];
  /** Compared cells (ground truth known, a match found). */
  n: number;
  accuracy: number;
  /** Of value 1 (binary attributes); for Cell Size the macro average over its values. */
  precision: number;
  recall: number;
  f1: number;
  macroF1: number;
  balancedAccuracy: number;
  /** Accuracy of always predicting the most frequent ground-truth value. */
  majorityBaseline: number;
  /** confusion[true][pred]. */
  confusion: number[][];
}

export interface AttributeSummary {
  attributes: AttributeScores[];
  /** The seed's summary: mean of the binary F1 of a1..a6. */
  seedMeanF1: number;
  /** Mean over all attributes of their macro F1. */
  macroF1: number;
  /** Ground-truth cells with no detection at IoU ≥ the threshold (their attributes are not scored). */
  unmatched: number;
}

const safe = (a: number, b: number) => (b > 0 ? a / b : 0);

function scores(spec: AttributeSpec, confusion: number[][]): AttributeScores {
  const k = spec.values.length;
  const n = confusion.flat().reduce((a, b) => a + b, 0);
  const row = (t: number) => confusion[t]!.reduce((a, b) => a + b, 0);
  const col = (p: number) => confusion.reduce((a, r) => a + r[p]!, 0);
  const perValue = Array.from({ length: k }, (_, v) => {
    const tp = confusion[v]![v]!;
    const precision = safe(tp, col(v));
    const recall = safe(tp, row(v));
    return { precision, recall, f1: safe(2 * precision * recall, precision + recall), support: row(v) };
  });
  const correct = perValue.reduce((a, _, v) => a + confusion[v]![v]!, 0);
  const present = perValue.filter((p) => p.support > 0);
  const mean = (xs: number[]) =>
    safe(
      xs.reduce((a, b) => a + b, 0),
      xs.length,
    );
  const binary = k === 2;
  return {
    name: spec.name,
    values: spec.values,
    n,
    accuracy: safe(correct, n),
    precision: binary ? perValue[1]!.precision : mean(perValue.map((p) => p.precision)),
    recall: binary ? perValue[1]!.recall : mean(perValue.map((p) => p.recall)),
    f1: binary ? perValue[1]!.f1 : mean(perValue.map((p) => p.f1)),
    macroF1: mean(perValue.map((p) => p.f1)),
    balancedAccuracy: mean(present.map((p) => p.recall)),
    majorityBaseline: safe(Math.max(0, ...perValue.map((p) => p.support)), n),
    confusion: confusion.map((r) => [...r]),
  };
}

/**
 * Macro F1 over the values that occur in the truth or the predictions (scikit-learn's `f1_score(average="macro")`,
 * the WBCAtt paper's metric), from a confusion matrix (rows true, columns predicted). `AttributeScores.macroF1`
 * averages over every value of the attribute instead, so a value that never occurs counts as F1 0 there.
 */
export function presentValuesMacroF1(confusion: readonly (readonly number[])[]): number {
  const f1s: number[] = [];
  confusion.forEach((row, v) => {
    const tp = row[v]!;
    const trueN = row.reduce((a, b) => a + b, 0);
    const predN = confusion.reduce((a, r) => a + r[v]!, 0);
    if (trueN + predN > 0) f1s.push((2 * tp) / (trueN + predN));
  });
  return safe(
    f1s.reduce((a, b) => a + b, 0),
    f1s.length,
  );
}

export class AttributeMetrics {
  readonly #confusion: number[][][];
  #unmatched = 0;

  constructor(readonly schema: readonly AttributeSpec[] = LLD_ATTRIBUTES) {
    this.#confusion = schema.map((s) =>
      Array.from({ length: s.values.length }, () => new Array<number>(s.values.length).fill(0)),
    );
  }

  /** Adds one matched cell: ground truth (−1 / out of range = unknown) and predicted values, a0..a6. */
  add(truth: ArrayLike<number>, predicted: ArrayLike<number>): void {
    this.schema.forEach((spec, a) => {
      const t = truth[a]!;
      const p = predicted[a]!;
      if (!Number.isInteger(t) || t < 0 || t >= spec.values.length) return;
      if (!Number.isInteger(p) || p < 0 || p >= spec.values.length)
        throw new RangeError(`predicted ${spec.name} ${p} is not a value`);
      this.#confusion[a]![t]![p]! += 1;
    });
  }

  /** Counts a ground-truth cell that no detection matched. */
  addUnmatched(count = 1): void {
    this.#unmatched += count;
  }

  summary(): AttributeSummary {
    const attributes = this.schema.map((spec, a) => scores(spec, this.#confusion[a]!));
    const binary = attributes.filter((_, a) => this.schema[a]!.values.length === 2);
    const mean = (xs: number[]) =>
      safe(
        xs.reduce((x, y) => x + y, 0),
        xs.length,
      );
    return {
      attributes,
      seedMeanF1: mean(binary.map((s) => s.f1)),
      macroF1: mean(attributes.map((s) => s.macroF1)),
      unmatched: this.#unmatched,
    };
  }
}

/** The attribute table (one row per attribute) and the two summaries. */
export function formatAttributeTable(s: AttributeSummary): string {
  const f = (x: number) => x.toFixed(3);
  const rows = [["Attribute", "Cells", "Accuracy", "Precision", "Recall", "F1", "Macro F1", "Bal. acc.", "Majority"]];
  for (const a of s.attributes) {
    rows.push([
      a.name,
      String(a.n),
      f(a.accuracy),
      f(a.precision),
      f(a.recall),
      f(a.f1),
      f(a.macroF1),
      f(a.balancedAccuracy),
      f(a.majorityBaseline),
    ]);
  }
  return `${formatTable(rows)}\nmean F1 of a1..a6 (the seed's summary) ${f(s.seedMeanF1)}; macro F1 over all attributes ${f(s.macroF1)}; unmatched cells ${s.unmatched}`;
}

/** The multi-valued attributes (Cell Size in LLD) whose confusion matrices are worth printing. */
function multiValued(s: AttributeSummary): AttributeScores[] {
  return s.attributes.filter((a) => a.values.length > 2);
}

/** Confusion matrices of the multi-valued attributes: rows the ground truth, columns the prediction. */
export function formatCellSizeConfusion(s: AttributeSummary): string {
  return multiValued(s)
    .map((a) => {
      const header = [`${a.name}: true \\ predicted`, ...a.values];
      return formatTable([header, ...a.confusion.map((row, t) => [a.values[t]!, ...row.map(String)])]);
    })
    .join("\n\n");
}

/** The same matrices as CSV: attribute, true value, then one count column per predicted value. */
export function cellSizeConfusionCsv(s: AttributeSummary): string {
  const rows: string[] = [];
  for (const a of multiValued(s)) {
    rows.push(csvLine(["attribute", "true", ...a.values.map((v) => `pred_${v}`)]));
    a.confusion.forEach((row, t) => {
      rows.push(csvLine([a.name, a.values[t]!, ...row]));
    });
  }
  return `${rows.join("\n")}\n`;
}
