/** Number formatting and parsing shared by the text label formats. */

/**
 * Formats a number for a label file: integers as integers, others with up to `digits` decimals and no trailing
 * zeros (0.5 → "0.5", 0.1234567 → "0.123457"). Negative zero is written "0".
 */
export function formatNumber(value: number, digits = 6): string {
  if (!Number.isFinite(value)) throw new RangeError(`cannot write ${value} to a label file`);
  if (Number.isInteger(value)) return Object.is(value, -0) ? "0" : String(value);
  const text = value.toFixed(digits).replace(/\.?0+$/, "");
  return text === "-0" ? "0" : text;
}

/** Parses one whitespace-separated field as a finite number (accepting exponents, e.g. "1e-3"); NaN otherwise. */
export function parseField(field: string): number {
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(field)) return Number.NaN;
  const value = Number(field);
  return Number.isFinite(value) ? value : Number.NaN;
}
