import { DataFormatError } from "../data/problems.js";
import { InputFileError } from "../util/bounded-read.js";
import { UserError } from "./errors.js";

/** Runs `fn`, turning data-format errors (a file the user can fix) into {@link UserError}s. */
export async function withDataErrors<T>(fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof DataFormatError) throw new UserError(e.message);
    if (e instanceof RangeError || e instanceof InputFileError) throw new UserError(e.message);
    throw e;
  }
}
