/**
 * Rounding as Python's `round` and NumPy's `np.round` do it: to the nearest integer, ties to the even one (banker's
 * rounding). `Math.round` rounds ties up, so 2.5 → 3 where YOLOv5's formulas give 2.
 */

/** `x` rounded to the nearest integer, ties to even (Python `round(x)`, `np.round(x)`). */
export function pythonRound(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
