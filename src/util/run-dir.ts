/**
 * Run folders as YOLOv5 makes them: runs/<task>/<name>, then <name>2, <name>3, … unless exist-ok reuses the name.
 */
import { existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

/** A run folder's ONNX export, as `sladet export` writes it for `--weights RUN` (and detect's onnx backend finds it). */
export const RUN_FOLDER_ONNX = join("weights", "best.onnx");

/** Run name: runs land in <project>/exp, exp2, … */
export const DEFAULT_RUN_NAME = "exp";

/** The first free path among name, name2, name3, … (or name itself with existOk). Creates the folder. */
export function incrementRunDir(project: string, name: string, existOk = false): string {
  let dir = join(project, name);
  if (!existOk) {
    for (let n = 2; existsSync(dir); n++) dir = join(project, `${name}${n}`);
  }
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * The most recently written `weights/<file>.safetensors` of the runs under any of `projects` (YOLOv5's --resume
 * without a path; `sladet test` without --weights), or null.
 */
export function newestRunWeights(projects: readonly string[], file: "last" | "best"): string | null {
  const candidates = projects
    .filter((p) => existsSync(p))
    .flatMap((p) => readdirSync(p).map((d) => join(p, d, "weights", `${file}.safetensors`)))
    .filter((p) => existsSync(p))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  return candidates[0] ?? null;
}

/**
 * `weights` itself, or, when it is a run folder, its `weights/<file>.safetensors` (design.md §7.7); null when a
 * folder has no such file.
 */
export function runFolderWeights(weights: string, file: "last" | "best"): string | null {
  if (!(existsSync(weights) && statSync(weights).isDirectory())) return weights;
  const inside = join(weights, "weights", `${file}.safetensors`);
  return existsSync(inside) ? inside : null;
}
