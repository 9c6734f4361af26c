/**
 * The seed's attribute head (`Attribute_model/last_weights.pth`: MyCNN's state dict, six binary attributes, no box
 * size input) onto {@link AttributeHead}: conv1…3, fc1, fc2 and fc3 load by name; the Cell Size output (`fcSize`)
 * and the box-size weights (`fcBox`, zero) are initialised fresh, and the report says so.
 */
import { AttributeHead } from "../model/attribute-head.js";
import type { Tensor } from "../torch/index.js";
import { readWeightsFile } from "../util/weights-file.js";
import { describe } from "./pickle.js";
import { CheckpointError, materialise, parseTorchArchive, TensorRef } from "./torch-archive.js";

/** How the seed's weights were mapped. */
export interface SeedAttributeReport {
  /** Keys loaded from the file. */
  loaded: string[];
  /** Head keys initialised fresh (not in the seed's head). */
  fresh: string[];
  /** File keys the head has no place for (ignored). */
  ignored: string[];
}

/** Reads a plain state dict (a pickled dict of tensors) from a `.pth`/`.pt` zip file's bytes. */
export function parseStateDict(bytes: Uint8Array, source = "<state dict>"): Map<string, Tensor> {
  const { root } = parseTorchArchive(bytes, source);
  const dict = root instanceof Map && root.get("state_dict") instanceof Map ? root.get("state_dict") : root;
  if (!(dict instanceof Map)) throw new CheckpointError(`${source}: expected a state dict, found a ${describe(root)}`);
  const refs = new Map<string, TensorRef>();
  for (const [k, v] of dict as Map<unknown, unknown>) {
    if (!(v instanceof TensorRef))
      throw new CheckpointError(`${source}: "${String(k)}" is a ${describe(v)}, not a tensor`);
    refs.set(String(k), v);
  }
  return materialise(refs, source);
}

/** Loads the seed's MyCNN state dict onto `head` (shapes must agree) and reports what was initialised fresh. */
export function loadSeedAttributeState(
  head: AttributeHead,
  state: Map<string, Tensor>,
  source = "<seed attribute head>",
): SeedAttributeReport {
  const report = head.loadStateDict(state, { strict: false });
  if (report.shapeMismatch.length || report.dtypeMismatch.length) {
    const shapes = report.shapeMismatch.map((s) => `${s.key}: head [${s.expected}], file [${s.found}]`);
    const dtypes = report.dtypeMismatch.map((s) => `${s.key}: head ${s.expected}, file ${s.found}`);
    const m = [...shapes, ...dtypes].join("; ");
    throw new CheckpointError(`${source}: the seed's attribute head does not fit this head (${m})`);
  }
  if (report.loaded.length === 0) throw new CheckpointError(`${source}: no attribute-head weights found`);
  head.zeroBoxWeights();
  return { loaded: report.loaded, fresh: report.missing, ignored: report.unexpected };
}

/**
 * Reads the seed's attribute head file and returns an AttributeHead built to its input width (conv1's input
 * channels: 480 for YOLOv5x), with the seed's weights mapped on.
 */
export function readSeedAttributeHead(path: string): { head: AttributeHead; report: SeedAttributeReport } {
  const state = parseStateDict(readWeightsFile(path, "attribute head"), path);
  try {
    const w = state.get("conv1.weight") ?? null;
    if (w === null || w.ndim !== 4)
      throw new CheckpointError(`${path}: no conv1.weight [out, in, 3, 3]: not the seed's head`);
    const head = new AttributeHead({ inChannels: w.shape[1]!, inputNorm: false }); // the seed's head had no input norm
    try {
      return { head, report: loadSeedAttributeState(head, state, path) };
    } catch (err) {
      head.dispose();
      throw err;
    }
  } finally {
    for (const t of state.values()) t.dispose();
  }
}

/** A readable account of the mapping. */
export function describeSeedAttributeReport(report: SeedAttributeReport): string {
  const lines = [`attribute head: loaded ${report.loaded.length} tensors from the seed's head`];
  if (report.fresh.length) lines.push(`  initialised fresh: ${report.fresh.join(", ")}`);
  if (report.ignored.length) lines.push(`  ignored (not used by this head): ${report.ignored.join(", ")}`);
  return lines.join("\n");
}
