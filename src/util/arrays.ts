/**
 * Array helpers that stay correct for arrays of any length. A spread into a call (`out.push(...items)`,
 * `Math.max(...values)`) passes every element as an argument on the stack: past roughly 100k elements V8 throws
 * "Maximum call stack size exceeded" (a label file with 200k bad lines did). src/ uses these instead; a test forbids
 * such spreads.
 */

/** Appends every element of `items` to `target` (what `target.push(...items)` means, for any length). */
export function pushAll<T>(target: T[], items: Iterable<T>): T[] {
  for (const item of items) target.push(item);
  return target;
}

/** The largest value (−Infinity for none), as `Math.max(...values)` for any length. */
export function maxOf(values: Iterable<number>): number {
  let best = Number.NEGATIVE_INFINITY;
  for (const v of values) if (v > best || Number.isNaN(v)) best = v;
  return best;
}

/** The smallest value (+Infinity for none), as `Math.min(...values)` for any length. */
export function minOf(values: Iterable<number>): number {
  let best = Number.POSITIVE_INFINITY;
  for (const v of values) if (v < best || Number.isNaN(v)) best = v;
  return best;
}
