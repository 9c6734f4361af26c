/**
 * Runs a command's work, turning the error classes that describe a user's input (a data file, a checkpoint, a model
 * YAML, a hyp file, an option) into {@link UserError}s: printed as one message, no stack trace. Loaded lazily by the
 * commands that need the engine.
 */
import { DatasetCheckError } from "../data/check.js";
import { DataFormatError } from "../data/problems.js";
import { PickleError } from "../io/pickle.js";
import { CheckpointError } from "../io/torch-archive.js";
import { ZipError } from "../io/zip.js";
import { SladetCheckpointError } from "../model/checkpoint.js";
import { ModelConfigError } from "../model/config.js";
import { ConfigError } from "../util/errors.js";
import { UserError } from "./errors.js";

const USER_ERRORS = [
  DatasetCheckError,
  DataFormatError,
  PickleError,
  CheckpointError,
  ZipError,
  SladetCheckpointError,
  ModelConfigError,
  ConfigError,
];

export async function asUserErrors<T>(fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (USER_ERRORS.some((E) => err instanceof E)) throw new UserError((err as Error).message);
    throw err;
  }
}
