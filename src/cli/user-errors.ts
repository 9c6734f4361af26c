/**
 * Runs a command's work, turning the error classes that describe a user's input (a data file, a checkpoint, a model
 * YAML, a hyp file, an ONNX file, an option) into {@link UserError}s: printed as one message, no stack trace.
 * The classes are recognised by name, so that this module loads none of them: a command that runs without the
 * native addon (detect on onnxruntime) must not load the modules that define the checkpoint errors.
 */
import { ConfigError, OptionError } from "../util/errors.js";
import { UserError } from "./errors.js";

/**
 * The flag of each library option field that an {@link OptionError} may name (the library names fields; a CLI user
 * reads flags). A field missing here is shown as it is.
 */
export const OPTION_FLAGS: Readonly<Record<string, string>> = {
  attrIou: "--attr-iou",
  attrWeights: "--attr-weights",
  attributeLambda: "--attr-lambda",
  attributes: "--attributes",
  backend: "--backend",
  batch: "--batch-size",
  batchSize: "--batch-size",
  cfg: "--cfg",
  classes: "--classes",
  confThres: "--conf-thres",
  data: "--data",
  epochs: "--epochs",
  freeze: "--freeze",
  imgsz: "--imgsz",
  include: "--include",
  iouThres: "--iou-thres",
  lineThickness: "--line-thickness",
  maxDet: "--max-det",
  opset: "--opset",
  patience: "--patience",
  savePeriod: "--save-period",
  seed: "--seed",
  source: "--source",
  weights: "--weights",
  workers: "--workers",
};

/** The message of `err` for a CLI user: an option field becomes its flag. */
export function userMessage(err: Error): string {
  if (!(err instanceof OptionError)) return err.message;
  return `${OPTION_FLAGS[err.option] ?? err.option} ${err.problem}`;
}

/** Names of the error classes whose message is for the user (each class sets `name` to its class name). */
export const USER_ERROR_NAMES: ReadonlySet<string> = new Set([
  "DatasetCheckError", // src/data/check.ts
  "DataFormatError", // src/data/problems.ts
  "PickleError", // src/io/pickle.ts
  "CheckpointError", // src/io/torch-archive.ts
  "ZipError", // src/io/zip.ts
  "SladetCheckpointError", // src/model/checkpoint.ts
  "ModelConfigError", // src/model/config.ts
  "InputFileError", // src/util/bounded-read.ts
  "FileWriteError", // src/util/errors.ts: a full disk, a read-only folder
  "DistributedError", // src/train/data-parallel.ts: a rank died or hung
]);

/** True for an error whose message a user can act on (see {@link USER_ERROR_NAMES}; ConfigError and its subclasses). */
export function isUserInputError(err: unknown): err is Error {
  return err instanceof ConfigError || (err instanceof Error && USER_ERROR_NAMES.has(err.name));
}

export async function asUserErrors<T>(fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isUserInputError(err)) throw new UserError(userMessage(err));
    throw err;
  }
}
