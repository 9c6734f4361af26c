/**
 * The training prior of each binary attribute (a1..a6): the fraction of value 1 among the training cells whose value
 * is known. The class-balanced attribute loss (hyp attr_balance) weights each value by the inverse of its prior.
 */
import type { CellLabel } from "../data/schema.js";

/** Binary attributes a1..a6 occupy label columns 1..6 (a0 is Cell Size). */
const FIRST_BINARY = 1;
const BINARY_COUNT = 6;

/**
 * Prior of value 1 of a1..a6 over the cells of `items` (values other than 0 and 1 are unknown and not counted);
 * 0.5 for an attribute no cell knows (balanced weights are then 1).
 */
export function binaryAttributePriors(items: readonly { labels: readonly CellLabel[] }[]): number[] {
  const ones = new Array<number>(BINARY_COUNT).fill(0);
  const known = new Array<number>(BINARY_COUNT).fill(0);
  for (const item of items) {
    for (const label of item.labels) {
      for (let a = 0; a < BINARY_COUNT; a++) {
        const v = label.attributes[FIRST_BINARY + a];
        if (v !== 0 && v !== 1) continue;
        known[a]!++;
        ones[a]! += v;
      }
    }
  }
  return ones.map((o, a) => (known[a]! > 0 ? o / known[a]! : 0.5));
}
