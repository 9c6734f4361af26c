/**
 * Checks of numeric options of the library's calls (`train()`, `runValidation()`, `runDetect()`): each throws an
 * {@link OptionError} naming the field, which the CLI shows as its flag. The CLI's parsers check the same ranges
 * earlier (src/cli/options.ts); these keep a library caller from getting an internal error (or minutes of work)
 * from the same values.
 */
import { OptionError } from "./errors.js";

/** Throws unless `value` (when given) is an integer in [min, max]. */
export function checkIntegerOption(
  option: string,
  value: number | undefined,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): void {
  if (value === undefined) return;
  if (!Number.isInteger(value)) throw new OptionError(option, `${value} must be an integer`);
  if (value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in [${min}, ${max}]`;
    throw new OptionError(option, `${value} must be ${range}`);
  }
}

/** Throws unless `value` (when given) is a finite number in [min, max]. */
export function checkNumberOption(option: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined) return;
  if (!(Number.isFinite(value) && value >= min && value <= max))
    throw new OptionError(option, `${value} is outside [${min}, ${max}]`);
}
