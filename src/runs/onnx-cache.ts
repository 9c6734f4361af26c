/**
 * The ONNX export `sladet detect` runs by default on the CPU, made on first use and cached next to the weights: for
 * `<dir>/<file>` (a checkpoint or a YOLOv5 .pt) the folder `<dir>/<file>.onnx-cache/` holds `model.onnx`,
 * `model.attributes.onnx` (when the weights have an attribute head) and `source.json`, which records what the files
 * were exported from (size, modification time and SHA-256 of the weights and of the seed's attribute head, sladet's
 * version and {@link ONNX_CACHE_VERSION}). Every file is written atomically and `source.json` last, so a cache whose
 * `source.json` matches the weights is complete. The cache is used while the weights are unchanged: same size and
 * modification time, or, when only the time differs (a copy, a touch), the same SHA-256; anything else re-exports.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { ONNX_FORMAT_VERSION } from "../export/onnx-metadata.js";
import { writeFileAtomic } from "../util/fs.js";
import { sladetVersion } from "../util/package-root.js";
import type { OnnxCommandOptions } from "./export-run.js";

/** Bumped when the exported graphs change for the same weights (a cache of another version is re-exported). */
export const ONNX_CACHE_VERSION = 1;
/** Suffix of the cache folder beside the weights file. */
export const ONNX_CACHE_SUFFIX = ".onnx-cache";
/** The detector graph in the cache folder (its attribute graph: `model.attributes.onnx`, named by its metadata). */
export const ONNX_CACHE_MODEL = "model.onnx";
/** What the cached files were exported from. */
export const ONNX_CACHE_SOURCE = "source.json";
/** Input size the cached export is checked at (a dynamic export: any stride multiple runs). */
export const ONNX_CACHE_CHECK_SIZE = 64;

/** A file's identity: size and modification time (the quick check), SHA-256 (the sure one). */
export interface FileFingerprint {
  size: number;
  mtimeMs: number;
  sha256: string;
}

/** Contents of `source.json`. */
export interface OnnxCacheSource {
  cacheVersion: number;
  onnxFormatVersion: number;
  sladetVersion: string;
  weights: FileFingerprint;
  /** The seed's attribute head exported with the weights, or null. */
  attrWeights: FileFingerprint | null;
}

/** What {@link cachedOnnxExport} did: reused a cache, made a new one, or replaced a stale one (and why). */
export type OnnxCacheStatus = { kind: "reused" } | { kind: "written" } | { kind: "replaced"; reason: string };

/** The cached detector graph and how it came to be. */
export interface CachedOnnx {
  model: string;
  status: OnnxCacheStatus;
}

/** Writes an export of `weights` (with `attrWeights`, or none) to `out`; {@link runOnnxExport} by default. */
export type OnnxExporter = (weights: string, attrWeights: string | null, out: string) => Promise<void>;

/** Options of {@link cachedOnnxExport}. */
export interface CachedOnnxOptions {
  /** The seed's attribute head exported with a YOLOv5 .pt. @default none */
  attrWeights?: string;
  /** Replaces the exporter (tests). @default a dynamic export by runOnnxExport, silent */
  exporter?: OnnxExporter;
}

/** The cache folder of a weights file. */
export function onnxCacheDir(weights: string): string {
  return join(dirname(weights), `${basename(weights)}${ONNX_CACHE_SUFFIX}`);
}

function sha256(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

/** The fingerprint of a file (hashes it). */
export function fingerprint(path: string): FileFingerprint {
  const st = statSync(path);
  return { size: st.size, mtimeMs: st.mtimeMs, sha256: sha256(path) };
}

/** Why `path` no longer matches `recorded` (null: it matches). Hashes only when the size agrees and the time does not. */
function changed(path: string, recorded: FileFingerprint | null | undefined, what: string): string | null {
  if (!recorded) return `no record of ${what}`;
  const st = statSync(path);
  if (st.size !== recorded.size) return `${what} changed (size ${recorded.size} → ${st.size} bytes)`;
  if (st.mtimeMs === recorded.mtimeMs) return null;
  return sha256(path) === recorded.sha256 ? null : `${what} changed (contents)`;
}

function readSource(dir: string): OnnxCacheSource | null {
  try {
    return JSON.parse(readFileSync(join(dir, ONNX_CACHE_SOURCE), "utf8")) as OnnxCacheSource;
  } catch {
    return null;
  }
}

/** Why the cache in `dir` cannot serve `weights` (+ `attrWeights`), or null when it can. */
export function staleReason(dir: string, weights: string, attrWeights: string | null): string | null {
  const source = readSource(dir);
  if (!source) return "no cache";
  if (source.cacheVersion !== ONNX_CACHE_VERSION || source.onnxFormatVersion !== ONNX_FORMAT_VERSION)
    return "made by another version of the exporter";
  if (source.sladetVersion !== sladetVersion()) return `made by sladet ${source.sladetVersion}`;
  if (!existsSync(join(dir, ONNX_CACHE_MODEL))) return `${ONNX_CACHE_MODEL} is missing`;
  const weightsChange = changed(weights, source.weights, "the weights");
  if (weightsChange) return weightsChange;
  if (attrWeights === null) return source.attrWeights ? "exported with another attribute head" : null;
  return changed(attrWeights, source.attrWeights, "the attribute head");
}

const exportDynamic: OnnxExporter = async (weights, attrWeights, out) => {
  const options: OnnxCommandOptions = {
    weights,
    attrWeights,
    out,
    imgsz: [ONNX_CACHE_CHECK_SIZE],
    dynamic: true,
    batch: 1,
    include: "auto",
    verbose: false,
  };
  const { runOnnxExport } = await import("./export-run.js"); // libtorch loads only to export
  await runOnnxExport(options);
};

/**
 * The ONNX export of `weights` (a checkpoint or a .pt file, not a folder) from its cache, exported first when the
 * cache is missing or stale (see the module comment). Throws what the exporter or the file system throws (a
 * read-only folder, a model the exporter cannot write).
 */
export async function cachedOnnxExport(weights: string, options: CachedOnnxOptions = {}): Promise<CachedOnnx> {
  const dir = onnxCacheDir(weights);
  const model = join(dir, ONNX_CACHE_MODEL);
  const attrWeights = options.attrWeights ?? null;
  const reason = staleReason(dir, weights, attrWeights);
  if (reason === null) return { model, status: { kind: "reused" } };
  // fingerprints taken before the export: weights rewritten meanwhile leave a cache that will not match them
  const source: OnnxCacheSource = {
    cacheVersion: ONNX_CACHE_VERSION,
    onnxFormatVersion: ONNX_FORMAT_VERSION,
    sladetVersion: sladetVersion(),
    weights: fingerprint(weights),
    attrWeights: attrWeights === null ? null : fingerprint(attrWeights),
  };
  mkdirSync(dir, { recursive: true });
  await (options.exporter ?? exportDynamic)(weights, attrWeights, model);
  writeFileAtomic(join(dir, ONNX_CACHE_SOURCE), `${JSON.stringify(source, null, 1)}\n`);
  return { model, status: reason === "no cache" ? { kind: "written" } : { kind: "replaced", reason } };
}
