/** Parsers for CLI option values: each rejects a bad value with a message naming the flag. */
import { InvalidArgumentError } from "commander";

/** An integer >= min. */
export function parseIntOption(flag: string, min = Number.NEGATIVE_INFINITY) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) {
      throw new InvalidArgumentError(
        `${flag} expects an integer${min > -Infinity ? ` >= ${min}` : ""}, got "${value}"`,
      );
    }
    return n;
  };
}

/** A finite number > 0. */
export function parsePositiveFloat(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${flag} expects a number > 0, got "${value}"`);
    return n;
  };
}

/** A finite number in [0, 1]. */
export function parseUnitFloat(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0 || n > 1)
      throw new InvalidArgumentError(`${flag} expects a number in [0, 1], got "${value}"`);
    return n;
  };
}
