/**
 * Which backend opens which file for inference: the one rule the API's `load` and the CLI's `detect` share. A
 * checkpoint or `.pt` opens in libtorch, an `.onnx` in onnxruntime; a run folder gives its `weights/best` (libtorch)
 * or its ONNX export (onnx).
 */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { OptionError } from "../util/errors.js";
import { RUN_FOLDER_ONNX, runFolderWeights } from "../util/run-dir.js";
import type { Backend } from "./predictor.js";

/** The backend for `weights` (given, or by the file: onnxruntime for an `.onnx`, else libtorch); libtorch cannot open an ONNX file. */
export function backendFor(weights: string, backend: Backend | undefined): Backend {
  const isOnnx = weights.toLowerCase().endsWith(".onnx");
  if (backend === "libtorch" && isOnnx)
    throw new OptionError(
      "backend",
      `"libtorch" cannot open ${weights}, an ONNX model: use "onnx" (or leave backend out)`,
    );
  return backend ?? (isOnnx ? "onnx" : "libtorch");
}

/** The file a backend opens for `weights`: the file itself, or a run folder's best weights (or its ONNX export). */
export function modelFileFor(weights: string, backend: Backend): string {
  if (!existsSync(weights))
    throw new OptionError(
      "weights",
      `${weights}: no such file or run folder (a checkpoint, a .pt, an .onnx or a run folder)`,
    );
  if (backend === "libtorch") {
    const file = runFolderWeights(weights, "best");
    if (!file) throw new OptionError("weights", `${weights} is a folder without weights/best.safetensors`);
    return file;
  }
  if (!statSync(weights).isDirectory()) return weights;
  const inside = join(weights, RUN_FOLDER_ONNX);
  if (!existsSync(inside))
    throw new OptionError("weights", `${weights} has no ${RUN_FOLDER_ONNX}: write it with exportOnnx (sladet export)`);
  return inside;
}
