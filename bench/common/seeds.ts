/** Summaries over a few seeds' numbers, as the ablation tables print them. */

/** "mean ± sample sd (min–max)" of `values`, three decimals (sd 0 for a single value). */
export function meanSdRange(values: readonly number[]): string {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const sd = values.length > 1 ? Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1)) : 0;
  return `${mean.toFixed(3)} ± ${sd.toFixed(3)} (${Math.min(...values).toFixed(3)}–${Math.max(...values).toFixed(3)})`;
}
