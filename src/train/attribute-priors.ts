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

/**
 * Mean and standard deviation of the labelled cells' width and height as the attribute head receives them (box side
 * / the image's long side, AttributeHeadOptions.sizeNorm), over the training items: [mean w, mean h, sd w, sd h].
 * Null without two labelled cells or when every cell has the same size.
 */
export function cellSizeStatistics(
  items: readonly { width: number; height: number; labels: readonly CellLabel[] }[],
): [number, number, number, number] | null {
  const ws: number[] = [];
  const hs: number[] = [];
  for (const item of items) {
    const long = Math.max(item.width, item.height);
    for (const l of item.labels) {
      ws.push((l.w * item.width) / long);
      hs.push((l.h * item.height) / long);
    }
  }
  if (ws.length < 2) return null;
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = (xs: number[], m: number) => Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
  const [mw, mh] = [mean(ws), mean(hs)];
  const [sw, sh] = [sd(ws, mw), sd(hs, mh)];
  return sw > 0 && sh > 0 ? [mw, mh, sw, sh] : null;
}
