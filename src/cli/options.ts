/** Parsers for CLI option values: each rejects a bad value with a message naming the flag. */
import { InvalidArgumentError } from "commander";
import { MAX_IMG_SIZE } from "../data/img-size.js";

/** An integer >= min (and <= max when given). */
export function parseIntOption(flag: string, min = Number.NEGATIVE_INFINITY, max = Number.POSITIVE_INFINITY) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      const range = max < Infinity ? ` in [${min}, ${max}]` : min > -Infinity ? ` >= ${min}` : "";
      throw new InvalidArgumentError(`${flag} expects an integer${range}, got "${value}"`);
    }
    return n;
  };
}

/** A network input size: an integer in [min, MAX_IMG_SIZE] pixels (docs/input-contract.md). */
export function parseImgSize(min: number) {
  return parseIntOption("--imgsz", min, MAX_IMG_SIZE);
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
