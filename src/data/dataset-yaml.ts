/**
 * The dataset YAML: the seed's files load unchanged (method.md §1.1) plus sladet's optional keys.
 *
 * Keys read: `path` (base folder, relative to the YAML), `train`/`val`/`test` (a folder, a list file or a list of
 * them, relative to `path` or, without it, to the YAML's folder; YOLOv5 resolved them against its working
 * directory, which is tried next with a note), `nc`, `names` (list or `{id: name}`), and sladet's `region_order`
 * (`x1y1x2y2` | `x1x2y1y2`), `region_units` (`px` | `norm`) and `attributes` (`[{name, code, values}]`, default the
 * 7 LLD attributes; `[]` = none). A missing `val` falls back to `test` with a warning.
 */
import { existsSync } from "node:fs";
import { dirname, isAbsolute, relative, resolve } from "node:path";
import { type Document, isMap, isScalar, parseDocument, stringify } from "yaml";
import { maxOf } from "../util/arrays.js";
import { describeBytes, InputFileError, MAX_YAML_BYTES, readBoundedText } from "../util/bounded-read.js";
import { writeFileAtomic } from "../util/fs.js";
import { MAX_ATTRIBUTES, MAX_CLASS_NAME_LENGTH, MAX_CLASSES } from "./limits.js";
import { DataFormatError, type DataProblem } from "./problems.js";
import { REGION_ORDERS, REGION_UNITS, type RegionOrder, type RegionUnits } from "./region.js";
import { type AttributeSpec, LLD_ATTRIBUTES } from "./schema.js";

/** The dataset splits. */
export const SPLITS = ["train", "val", "test"] as const;
export type Split = (typeof SPLITS)[number];

/** What {@link writeDataYaml} writes. */
export interface DataYamlSpec {
  /** Base folder the split paths are relative to (written as given). @default undefined (the YAML's folder) */
  path?: string;
  /** Train images: a folder or list file, relative to `path`. */
  train: string;
  /** Validation images. */
  val: string;
  /** Test images. @default undefined */
  test?: string;
  /** Class names, index = class id. */
  names: readonly string[];
  /** Attribute schema. @default undefined (not written: readers assume the 7 LLD attributes) */
  attributes?: readonly AttributeSpec[];
  /** Order of the region numbers on label lines. @default undefined ("x1y1x2y2") */
  regionOrder?: RegionOrder;
  /** Units of the region numbers. @default undefined ("px") */
  regionUnits?: RegionUnits;
  /** Folder that replaces `labels` for the held-out labels (see DataConfig.heldoutLabels). @default undefined */
  heldoutLabels?: string;
}

/** Writes a dataset YAML atomically (readable by YOLOv5 and the seed: `train`, `val`, `test`, `nc`, `names`). */
export function writeDataYaml(path: string, spec: DataYamlSpec): void {
  const doc: Record<string, unknown> = {};
  if (spec.path !== undefined) doc["path"] = spec.path;
  doc["train"] = spec.train;
  doc["val"] = spec.val;
  if (spec.test !== undefined) doc["test"] = spec.test;
  doc["nc"] = spec.names.length;
  doc["names"] = [...spec.names];
  if (spec.regionOrder !== undefined) doc["region_order"] = spec.regionOrder;
  if (spec.regionUnits !== undefined) doc["region_units"] = spec.regionUnits;
  if (spec.heldoutLabels !== undefined) doc["heldout_labels"] = spec.heldoutLabels;
  if (spec.attributes !== undefined) {
    doc["attributes"] = spec.attributes.map((a) => ({ name: a.name, code: a.code, values: [...a.values] }));
  }
  const header = "# Dataset for sladet (YOLOv5-compatible keys plus region_order, region_units, attributes)\n";
  writeFileAtomic(path, header + stringify(doc, { flowCollectionPadding: false }));
}

/** A loaded dataset YAML with every path resolved. */
export interface DataConfig {
  /** The YAML file (absolute). */
  file: string;
  /** Base folder split paths were resolved against. */
  root: string;
  /** Absolute image sources (folders or list files) per split; absent when the YAML has none. */
  splits: Partial<Record<Split, string[]>>;
  /** True when `val` came from `test` because the YAML has no `val`. */
  valFromTest: boolean;
  names: string[];
  nc: number;
  attributes: readonly AttributeSpec[];
  regionOrder: RegionOrder;
  regionUnits: RegionUnits;
  /**
   * `heldout_labels`: the folder name that replaces `labels` in an image's label path for the labels a sparse dataset
   * set aside (outside each region; `sladet sparsify` and `sladet synth --sparse` write `labels_heldout`). Used only to
   * measure pseudo-labels, never for training. null when the YAML has none.
   */
  heldoutLabels: string | null;
  /** Warnings and notes about the YAML itself (errors throw). */
  problems: DataProblem[];
}

/** Offset in the source of the top-level key `key`, if present. */
function keyOffset(doc: Document, key: string): number | undefined {
  if (!isMap(doc.contents)) return undefined;
  for (const item of doc.contents.items) {
    if (isScalar(item.key) && item.key.value === key) return item.key.range?.[0];
  }
  return undefined;
}

/** Loads a dataset YAML; a problem that makes it unusable throws a {@link DataFormatError} naming file and line. */
export function loadDataYaml(file: string): DataConfig {
  const abs = resolve(file);
  let source: string;
  try {
    source = readBoundedText(abs, MAX_YAML_BYTES);
  } catch (e) {
    const limit = e instanceof InputFileError;
    const tooLarge = limit && e.tooLarge;
    throw new DataFormatError({
      severity: "error",
      kind: tooLarge ? "limit-exceeded" : "unreadable-file",
      file,
      expected: `a readable dataset YAML (a regular file of at most ${describeBytes(MAX_YAML_BYTES)})`,
      found: limit ? e.reason : ((e as NodeJS.ErrnoException).code ?? String(e)),
    });
  }
  const lineAt = (offset: number | undefined) =>
    offset === undefined ? undefined : source.slice(0, offset).split("\n").length;
  const doc = parseDocument(source, { uniqueKeys: true, prettyErrors: false });
  const fail = (expected: string, found: string, line?: number): never => {
    throw new DataFormatError({
      severity: "error",
      kind: "yaml",
      file,
      ...(line !== undefined ? { line } : {}),
      expected,
      found,
    });
  };
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    fail("valid YAML", e?.message.split("\n")[0] ?? "a syntax error", e?.linePos?.[0]?.line ?? lineAt(e?.pos?.[0]));
  }
  let data: unknown;
  try {
    data = doc.toJS();
  } catch (e) {
    // e.g. an alias whose anchor is missing: the yaml library throws a ReferenceError here, not a parse error
    fail("valid YAML", (e as Error).message.split("\n")[0] ?? "an unreadable document");
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    fail("a mapping with train/val/test, nc and names", data === null ? "an empty document" : typeof data);
  }
  const y = data as Record<string, unknown>;
  const keyLine = (key: string) => lineAt(keyOffset(doc, key));
  const problems: DataProblem[] = [];
  const yamlDir = dirname(abs);

  // names / nc
  let names: string[];
  const rawNames = y["names"];
  const tooMany = (what: string, count: number, line?: number): never =>
    fail(`at most ${MAX_CLASSES} classes (sladet's limit)`, `${what} ${count}`, line);
  if (Array.isArray(rawNames)) {
    if (rawNames.length > MAX_CLASSES) tooMany("a names list of", rawNames.length, keyLine("names"));
    names = rawNames.map(String);
  } else if (typeof rawNames === "object" && rawNames !== null) {
    const entries = Object.entries(rawNames as Record<string, unknown>);
    const ids = entries.map(([k]) => Number(k));
    if (entries.length > MAX_CLASSES) tooMany("a names mapping of", entries.length, keyLine("names"));
    if (ids.some((id) => id >= MAX_CLASSES)) tooMany("a class id", maxOf(ids), keyLine("names"));
    if (ids.some((id) => !Number.isInteger(id) || id < 0)) {
      fail(
        "names as a list or a mapping {0: name, 1: name, …}",
        `keys ${entries.map(([k]) => k).join(", ")}`,
        keyLine("names"),
      );
    }
    names = [];
    for (const [k, v] of entries) names[Number(k)] = String(v);
    const hole = Array.from({ length: names.length }, (_, i) => i in names).indexOf(false);
    if (hole >= 0 || names.length !== entries.length) {
      fail(
        `names for every class id 0..${names.length - 1}`,
        `no name for class ${hole >= 0 ? hole : "?"}`,
        keyLine("names"),
      );
    }
  } else if (rawNames === undefined) {
    names = [];
  } else {
    return fail("names as a list or a mapping {0: name, …}", JSON.stringify(rawNames), keyLine("names"));
  }
  const rawNc = y["nc"];
  if (rawNc !== undefined && (typeof rawNc !== "number" || !Number.isInteger(rawNc) || rawNc <= 0)) {
    fail("nc as a positive integer", JSON.stringify(rawNc), keyLine("nc"));
  }
  if (typeof rawNc === "number" && rawNc > MAX_CLASSES) tooMany("nc", rawNc, keyLine("nc"));
  const longName = names.findIndex((n) => n.length > MAX_CLASS_NAME_LENGTH);
  if (longName >= 0) {
    fail(
      `class names of at most ${MAX_CLASS_NAME_LENGTH} characters`,
      `a name of ${names[longName]?.length} for class ${longName}`,
      keyLine("names"),
    );
  }
  const nc = (rawNc as number | undefined) ?? names.length;
  if (names.length === 0) {
    if (nc === 0) fail("names (or nc)", "neither", 1);
    names = Array.from({ length: nc }, (_, i) => `class${i}`);
  } else if (nc !== names.length) {
    fail(`nc equal to the number of names (${names.length})`, `nc ${nc}`, keyLine("nc"));
  }

  // sladet keys
  const enumKey = <T extends string>(key: string, allowed: readonly T[], fallback: T): T => {
    const v = y[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v === "string" && (allowed as readonly string[]).includes(v)) return v as T;
    return fail(`${key}: ${allowed.join(" or ")}`, JSON.stringify(v), keyLine(key));
  };
  const regionOrder = enumKey("region_order", REGION_ORDERS, "x1y1x2y2");
  const regionUnits = enumKey("region_units", REGION_UNITS, "px");
  const rawHeldout = y["heldout_labels"];
  if (
    rawHeldout !== undefined &&
    rawHeldout !== null &&
    (typeof rawHeldout !== "string" || !/^[\w.-]+$/.test(rawHeldout))
  ) {
    fail("heldout_labels: a folder name (e.g. labels_heldout)", JSON.stringify(rawHeldout), keyLine("heldout_labels"));
  }
  if (rawHeldout === "labels" || rawHeldout === "images") {
    fail(
      "heldout_labels: a folder other than labels and images (e.g. labels_heldout)",
      rawHeldout,
      keyLine("heldout_labels"),
    );
  }
  const heldoutLabels = typeof rawHeldout === "string" ? rawHeldout : null;
  let attributes: readonly AttributeSpec[] = LLD_ATTRIBUTES;
  const rawAttrs = y["attributes"];
  if (rawAttrs !== undefined && rawAttrs !== null) {
    if (!Array.isArray(rawAttrs))
      fail("attributes as a list of {name, values}", typeof rawAttrs, keyLine("attributes"));
    if ((rawAttrs as unknown[]).length > MAX_ATTRIBUTES)
      fail(`at most ${MAX_ATTRIBUTES} attributes`, `${(rawAttrs as unknown[]).length}`, keyLine("attributes"));
    attributes = (rawAttrs as unknown[]).map((a, i) => {
      const r = a as Record<string, unknown>;
      if (
        typeof a !== "object" ||
        a === null ||
        typeof r["name"] !== "string" ||
        !Array.isArray(r["values"]) ||
        r["values"].length < 1 ||
        r["values"].length > MAX_ATTRIBUTES
      ) {
        return fail(
          `attributes[${i}] = {name, values: [1 to ${MAX_ATTRIBUTES} values]}`,
          JSON.stringify(a),
          keyLine("attributes"),
        );
      }
      return { name: r["name"], code: String(r["code"] ?? r["name"]), values: (r["values"] as unknown[]).map(String) };
    });
  }

  // paths
  let root = yamlDir;
  if (y["path"] !== undefined && y["path"] !== null) {
    if (typeof y["path"] !== "string") fail("path as a folder", JSON.stringify(y["path"]), keyLine("path"));
    root = resolve(yamlDir, y["path"] as string);
  }
  const splits: Partial<Record<Split, string[]>> = {};
  for (const split of SPLITS) {
    const v = y[split];
    if (v === undefined || v === null) continue;
    const list = Array.isArray(v) ? v : [v];
    if (list.length === 0 || !list.every((p) => typeof p === "string" && p !== "")) {
      fail(`${split}: a folder, a list file or a list of them`, JSON.stringify(v), keyLine(split));
    }
    splits[split] = (list as string[]).map((p) => {
      if (isAbsolute(p)) return p;
      const own = resolve(root, p);
      if (existsSync(own)) return own;
      const cwd = resolve(p);
      if (existsSync(cwd)) {
        problems.push({
          severity: "note",
          kind: "yaml",
          file,
          line: keyLine(split),
          expected: `${split} relative to ${relative(process.cwd(), root) || "."}`,
          found: `it relative to the working directory (${cwd}), as YOLOv5 resolves it`,
          consequence: "used that",
        });
        return cwd;
      }
      return own;
    });
  }
  let valFromTest = false;
  if (!splits.val && splits.test) {
    splits.val = splits.test;
    valFromTest = true;
    problems.push({
      severity: "warning",
      kind: "yaml",
      file,
      expected: "a val split",
      found: "none",
      consequence: "validating on the test split (model selection on test data)",
    });
  } else if (
    splits.val &&
    splits.test &&
    splits.val.length === splits.test.length &&
    splits.val.every((p, i) => p === splits.test?.[i])
  ) {
    problems.push({
      severity: "warning",
      kind: "yaml",
      file,
      line: keyLine("val"),
      expected: "val different from test",
      found: "the same images",
      consequence: "best weights will be chosen on the test set",
    });
  }
  if (!splits.train && !splits.val && !splits.test) fail("at least one of train, val, test", "none", 1);
  return {
    file: abs,
    root,
    splits,
    valFromTest,
    names,
    nc,
    attributes,
    regionOrder,
    regionUnits,
    heldoutLabels,
    problems,
  };
}
