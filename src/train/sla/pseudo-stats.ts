/**
 * How many pseudo-labels phase 2 selects and how good they are: each epoch's pseudo-labels are matched (greedily, by
 * confidence, IoU ≥ {@link PSEUDO_MATCH_IOU}) to the held-out objects of their image (the labels sparsify or the
 * synthetic generator set aside, carried through augmentation in Batch.heldout). Precision = matched / selected;
 * class precision also needs the class right; recall = held-out objects matched / held-out objects seen; IoU = the mean
 * IoU of the matched pseudo-labels with their objects (how well the teacher's boxes fit, beyond IoU 0.5).
 */
import { TARGET_BOX_FIELDS } from "../../data/raw-batch.js";
import type { PseudoBox } from "./pseudo-labels.js";
import { type ClassBox, rowsToClassBoxes, xywhIou } from "./similarity.js";

/** IoU at which a pseudo-label counts as finding a held-out object. */
export const PSEUDO_MATCH_IOU = 0.5;

export interface PseudoLabelSummary {
  /** Pseudo-labels selected. */
  count: number;
  /** Similarity anchors selected. */
  anchors: number;
  /** Images seen. */
  images: number;
  /** Fraction of pseudo-labels on a held-out object (NaN without held-out labels or pseudo-labels). */
  precision: number;
  /** … with the right class. */
  classPrecision: number;
  /** Fraction of held-out objects found (NaN without held-out labels). */
  recall: number;
  /** Mean IoU of the matched pseudo-labels with their held-out objects (NaN when none matched). */
  iou: number;
}

/**
 * Greedy matching by confidence: for each box (highest confidence first) the unmatched ground truth of its image with
 * the highest IoU ≥ {@link PSEUDO_MATCH_IOU}; returns the matched index per box (−1: none).
 */
export function greedyMatch(boxes: readonly (ClassBox & { conf: number })[], truth: readonly ClassBox[]): Int32Array {
  const matched = new Int32Array(boxes.length).fill(-1);
  const taken = new Uint8Array(truth.length);
  const order = boxes.map((_, i) => i).sort((a, b) => boxes[b]!.conf - boxes[a]!.conf);
  for (const i of order) {
    const p = boxes[i]!;
    let bestIou = PSEUDO_MATCH_IOU;
    truth.forEach((g, j) => {
      if (taken[j] || g.image !== p.image) return;
      const iou = xywhIou(p, g);
      if (iou >= bestIou) [matched[i], bestIou] = [j, iou];
    });
    if (matched[i]! >= 0) taken[matched[i]!] = 1;
  }
  return matched;
}

/** [matched, matched with the right class, summed IoU of the matched] of pseudo-labels against held-out objects. */
export function matchPseudoLabels(
  pseudo: readonly PseudoBox[],
  heldout: readonly ClassBox[],
): [number, number, number] {
  const matched = greedyMatch(pseudo, heldout);
  let tp = 0;
  let classTp = 0;
  let iouSum = 0;
  matched.forEach((j, i) => {
    if (j < 0) return;
    tp++;
    iouSum += xywhIou(pseudo[i]!, heldout[j]!);
    if (heldout[j]!.cls === pseudo[i]!.cls) classTp++;
  });
  return [tp, classTp, iouSum];
}

export class PseudoLabelStats {
  #count = 0;
  #anchors = 0;
  #images = 0;
  #tp = 0;
  #classTp = 0;
  #heldout = 0;
  #iouSum = 0;
  /** Matches whose IoU #iouSum holds: #tp, less those counted before a resume from a checkpoint without the IoU. */
  #iouMatched = 0;

  /** @param heldoutKnown whether the dataset has held-out labels (otherwise precision and recall are NaN) */
  constructor(readonly heldoutKnown: boolean) {}

  add(pseudo: readonly PseudoBox[], anchors: number, images: number, heldout: Float32Array): void {
    this.#count += pseudo.length;
    this.#anchors += anchors;
    this.#images += images;
    if (!this.heldoutKnown) return;
    const boxes = rowsToClassBoxes(heldout, TARGET_BOX_FIELDS);
    const [tp, classTp, iouSum] = matchPseudoLabels(pseudo, boxes);
    this.#tp += tp;
    this.#classTp += classTp;
    this.#iouSum += iouSum;
    this.#iouMatched += tp;
    this.#heldout += boxes.length;
  }

  /** The counters, for a checkpoint of an interrupted epoch (and the sum over data-parallel ranks). */
  toJSON(): number[] {
    const counts = [this.#count, this.#anchors, this.#images, this.#tp, this.#classTp, this.#heldout];
    return [...counts, this.#iouMatched, this.#iouSum];
  }

  /**
   * Counters saved by {@link toJSON} (an interrupted epoch continues counting from them). Six counters are a
   * checkpoint from before the IoU was counted: the epoch's mean IoU then counts the matches from the resume on.
   */
  restore(counters: unknown): void {
    const valid =
      Array.isArray(counters) &&
      (counters.length === 6 || counters.length === 8) &&
      counters.every((c, i) => (i < 7 ? Number.isInteger(c) : Number.isFinite(c)) && c >= 0);
    if (!valid) throw new Error("the saved pseudo-label counts are damaged");
    const [count, anchors, images, tp, classTp, heldout, iouMatched = 0, iouSum = 0] = counters as number[];
    this.#iouMatched = iouMatched;
    this.#iouSum = iouSum;
    this.#count = count!;
    this.#anchors = anchors!;
    this.#images = images!;
    this.#tp = tp!;
    this.#classTp = classTp!;
    this.#heldout = heldout!;
  }

  summary(): PseudoLabelSummary {
    const known = this.heldoutKnown;
    return {
      count: this.#count,
      anchors: this.#anchors,
      images: this.#images,
      precision: known && this.#count > 0 ? this.#tp / this.#count : Number.NaN,
      classPrecision: known && this.#count > 0 ? this.#classTp / this.#count : Number.NaN,
      recall: known && this.#heldout > 0 ? this.#tp / this.#heldout : Number.NaN,
      iou: known && this.#iouMatched > 0 ? this.#iouSum / this.#iouMatched : Number.NaN,
    };
  }
}
