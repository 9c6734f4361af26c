/**
 * `sladet convert` as a library: reads a dataset in VOC, COCO or LLD form (or WBCAtt's attribute CSVs with the PBC
 * crops they annotate) into annotations per split, and writes it
 * as LLD or COCO, reporting every object or image that was dropped and why.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { basename, extname, isAbsolute, join, resolve } from "node:path";
import { pushAll } from "../util/arrays.js";
import { mapPool } from "../util/async.js";
import { readBoundedText } from "../util/bounded-read.js";
import { progress } from "../util/progress.js";
import { checkDataset } from "./check.js";
import { type SplitAnnotations, writeCocoFolder, writeLldDataset } from "./dataset-writer.js";
import { SPLITS, type Split } from "./dataset-yaml.js";
import { readCocoJson } from "./formats/coco.js";
import { parseVocXml, vocToAnnotation } from "./formats/voc.js";
import { IMAGE_EXTENSIONS, probeImageSize } from "./images.js";
import { MAX_LIST_FILE_BYTES, MAX_VOC_XML_BYTES } from "./limits.js";
import { DataFormatError, type DataProblem } from "./problems.js";
import { type AttributeSpec, type ImageAnnotation, LLD_ATTRIBUTES, LLD_CLASS_NAMES } from "./schema.js";
import { readWbcattDataset, type WbcattDataset } from "./wbcatt-source.js";

/** Formats `sladet convert` reads. */
export const CONVERT_SOURCES = ["voc", "coco", "lld", "wbcatt"] as const;
export type ConvertSource = (typeof CONVERT_SOURCES)[number];
/** Formats `sladet convert` writes. */
export const CONVERT_TARGETS = ["lld", "coco"] as const;
export type ConvertTarget = (typeof CONVERT_TARGETS)[number];

/** A dataset read into memory. */
export interface LoadedDataset {
  splits: SplitAnnotations;
  classNames: string[];
  attributes: readonly AttributeSpec[];
  /** What was dropped while reading, and why. */
  problems: DataProblem[];
}

/** Options of {@link readVocDataset}. */
export interface VocSourceOptions {
  /** Class names in id order; absent = names in order of first appearance (files sorted by name). @default undefined */
  classNames?: readonly string[];
  /** Hide the progress display. @default false */
  silent?: boolean;
}

function findImage(dir: string, filename: string, stem: string): string | undefined {
  if (filename && existsSync(join(dir, filename))) return join(dir, filename);
  for (const ext of IMAGE_EXTENSIONS) {
    for (const e of [ext, ext.toUpperCase()]) if (existsSync(join(dir, stem + e))) return join(dir, stem + e);
  }
  return undefined;
}

/**
 * Reads a Pascal VOC folder (`Annotations/*.xml`, `JPEGImages/`, optional `ImageSets/Main/{train,val,test}.txt`;
 * without split lists every image goes to train). Box sizes are normalised with the image's real size.
 */
export async function readVocDataset(root: string, options: VocSourceOptions = {}): Promise<LoadedDataset> {
  const annDir = existsSync(join(root, "Annotations")) ? join(root, "Annotations") : root;
  const imgDir = existsSync(join(root, "JPEGImages")) ? join(root, "JPEGImages") : annDir;
  if (!existsSync(annDir)) {
    throw new DataFormatError({
      severity: "error",
      kind: "split-missing",
      file: root,
      expected: "a VOC folder with Annotations/ and JPEGImages/",
      found: "no such folder",
    });
  }
  const xmlFiles = readdirSync(annDir)
    .filter((f) => f.toLowerCase().endsWith(".xml"))
    .sort();
  if (xmlFiles.length === 0) {
    throw new DataFormatError({
      severity: "error",
      kind: "split-missing",
      file: annDir,
      expected: "VOC .xml annotation files",
      found: "none",
    });
  }
  const problems: DataProblem[] = [];
  const bar = progress({ total: xmlFiles.length, label: "read voc", unit: "file", silent: options.silent ?? false });
  const parsed = await mapPool(xmlFiles, availableParallelism(), async (name) => {
    const file = join(annDir, name);
    const stem = basename(name, extname(name));
    const first = parseVocXml(readBoundedText(file, MAX_VOC_XML_BYTES), file);
    const image = findImage(imgDir, first.filename, stem);
    let size: { width: number; height: number } | undefined;
    if (!image) {
      problems.push({
        severity: "warning",
        kind: "image-missing",
        file,
        expected: `its image ${first.filename || `${stem}.jpg`} in ${imgDir}`,
        found: "none",
        consequence: "file skipped",
      });
    } else {
      try {
        size = await probeImageSize(image);
      } catch (e) {
        problems.push({
          severity: "warning",
          kind: "image-corrupt",
          file: image,
          expected: "a readable image",
          found: e instanceof Error ? e.message : String(e),
          consequence: "file skipped",
        });
      }
      if (size && first.width > 0 && (first.width !== size.width || first.height !== size.height)) {
        problems.push({
          severity: "warning",
          kind: "annotation",
          file,
          expected: `<size> equal to the image's ${size.width}×${size.height}`,
          found: `${first.width}×${first.height}`,
          consequence: "boxes normalised with the image's size",
        });
      }
    }
    bar.tick();
    const voc = size ? parseVocXml(readBoundedText(file, MAX_VOC_XML_BYTES), file, { imageSize: size }) : first;
    return { file, stem, image, size, voc };
  });
  bar.stop();

  const classNames = options.classNames ? [...options.classNames] : [];
  if (!options.classNames) {
    for (const p of parsed) for (const o of p.voc.objects) if (!classNames.includes(o.name)) classNames.push(o.name);
  }
  const classIndex = new Map(classNames.map((n, i) => [n, i]));
  const byStem = new Map<string, ImageAnnotation>();
  for (const p of parsed) {
    pushAll(problems, p.voc.problems);
    if (!p.image || !p.size || p.voc.problems.some((q) => q.severity === "error")) continue;
    const { annotation, problems: dropped } = vocToAnnotation(p.voc, p.image, classIndex, p.file, p.size);
    pushAll(problems, dropped);
    byStem.set(p.stem, annotation);
  }

  const splits: SplitAnnotations = {};
  const listDir = join(root, "ImageSets", "Main");
  const lists = SPLITS.filter((s) => existsSync(join(listDir, `${s}.txt`)));
  if (lists.length === 0) {
    splits.train = [...byStem.values()];
  } else {
    for (const split of lists) {
      const file = join(listDir, `${split}.txt`);
      const list: ImageAnnotation[] = [];
      readBoundedText(file, MAX_LIST_FILE_BYTES)
        .split(/\r?\n/)
        .forEach((raw, i) => {
          const stem = raw.trim().split(/\s+/)[0] ?? "";
          if (stem === "") return;
          const annotation = byStem.get(stem);
          if (annotation) list.push(annotation);
          else
            problems.push({
              severity: "warning",
              kind: "image-missing",
              file,
              line: i + 1,
              expected: "the name of an annotated image",
              found: JSON.stringify(stem),
              consequence: "entry skipped",
            });
        });
      splits[split] = list;
    }
  }
  return { splits, classNames, attributes: [], problems };
}

/** Options of {@link readCocoDataset}. */
export interface CocoSourceOptions {
  /** Folder of the images when `source` is one JSON file. @default the JSON's folder */
  images?: string;
  /** Split the single JSON file becomes. @default "train" */
  split?: Split;
}

/**
 * Reads COCO data: either a folder in the seed README's layout (`Annotations/<split>.json`, `Images/<split>/`) or
 * one JSON file (images relative to `options.images`).
 */
export function readCocoDataset(source: string, options: CocoSourceOptions = {}): LoadedDataset {
  const jobs: Array<{ split: Split; json: string; images: string }> = [];
  if (!existsSync(source)) {
    throw new DataFormatError({
      severity: "error",
      kind: "split-missing",
      file: source,
      expected: "a COCO folder (Annotations/, Images/) or a COCO JSON file",
      found: "no such path",
    });
  }
  if (statSync(source).isDirectory()) {
    for (const split of SPLITS) {
      const json = join(source, "Annotations", `${split}.json`);
      if (existsSync(json)) jobs.push({ split, json, images: join(source, "Images", split) });
    }
    if (jobs.length === 0) {
      throw new DataFormatError({
        severity: "error",
        kind: "split-missing",
        file: source,
        expected: "Annotations/{train,val,test}.json",
        found: "none",
      });
    }
  } else {
    jobs.push({ split: options.split ?? "train", json: source, images: options.images ?? resolve(source, "..") });
  }
  const result: LoadedDataset = { splits: {}, classNames: [], attributes: [], problems: [] };
  for (const job of jobs) {
    const first = job === jobs[0];
    const read = readCocoJson(job.json, first ? {} : { classNames: result.classNames, attributes: result.attributes });
    if (first) {
      result.classNames = read.classNames;
      result.attributes = read.attributes ?? [];
    }
    pushAll(result.problems, read.problems);
    result.splits[job.split] = read.annotations.flatMap((a) => {
      const image = isAbsolute(a.image) ? a.image : join(job.images, a.image);
      if (existsSync(image)) return [{ ...a, image }];
      result.problems.push({
        severity: "warning",
        kind: "image-missing",
        file: job.json,
        expected: `the image ${a.image} in ${job.images}`,
        found: "none",
        consequence: "image skipped",
      });
      return [];
    });
  }
  return result;
}

/**
 * Reads an LLD dataset through `sladet check` (cached): invalid lines, duplicates and unreadable images are dropped
 * and reported (errors included: conversion keeps what is valid).
 */
export async function readLldDataset(yaml: string, options: { silent?: boolean } = {}): Promise<LoadedDataset> {
  const report = await checkDataset(yaml, { silent: options.silent ?? false });
  const splits: SplitAnnotations = {};
  for (const split of SPLITS) {
    const s = report.splits[split];
    if (!s || (split === "val" && report.config.valFromTest)) continue;
    splits[split] = s.images
      .filter((img) => img.readable)
      .map((img) => ({
        image: img.image,
        width: img.width,
        height: img.height,
        region: img.region,
        labels: img.labels,
      }));
  }
  return {
    splits,
    classNames: report.config.names,
    attributes: report.config.attributes,
    problems: report.problems.filter((p) => p.severity !== "note"),
  };
}

/** Options of {@link convertDataset}. */
export interface ConvertOptions {
  from: ConvertSource;
  to: ConvertTarget;
  /** VOC folder, COCO folder or JSON file, LLD dataset YAML, or the folder of WBCAtt's CSVs. */
  source: string;
  /** Output folder. */
  out: string;
  /** Class names for VOC input (id order). @default order of first appearance */
  classNames?: readonly string[];
  /** Image folder for a single COCO JSON file. @default the JSON's folder */
  cocoImages?: string;
  /** WBCAtt: the folder that holds PBC_dataset_normal_DIB/ (required with `from: "wbcatt"`). */
  wbcattImages?: string;
  /** Copy images or symlink them. @default "copy" */
  images?: "copy" | "symlink";
  /** Hide progress displays. @default false */
  silent?: boolean;
}

/** Result of {@link convertDataset}. */
export interface ConvertReport {
  /** The written data YAML (LLD) or JSON files (COCO). */
  written: string[];
  classNames: string[];
  /** Images and instances per class written, per split. */
  counts: Partial<Record<Split, { images: number; instances: number[] }>>;
  /** Everything dropped, with the reason. */
  problems: DataProblem[];
  /** WBCAtt: crops whose box is the central fallback, per reason. @default undefined (other sources) */
  boxFallbacks?: WbcattDataset["boxFallbacks"];
}

/** Reads WBCAtt as an LLD dataset (14 classes, 7 attributes). */
async function readWbcatt(
  options: ConvertOptions,
  silent: boolean,
): Promise<LoadedDataset & Pick<ConvertReport, "boxFallbacks">> {
  if (!options.wbcattImages) {
    throw new DataFormatError({
      severity: "error",
      kind: "split-missing",
      file: options.source,
      expected: "the folder holding PBC_dataset_normal_DIB/ (--images)",
      found: "none given",
    });
  }
  const read = await readWbcattDataset(options.source, { images: options.wbcattImages, silent });
  return { ...read, classNames: [...LLD_CLASS_NAMES], attributes: LLD_ATTRIBUTES };
}

/** Converts a dataset between formats. */
export async function convertDataset(options: ConvertOptions): Promise<ConvertReport> {
  const silent = options.silent ?? false;
  let data: LoadedDataset & Pick<ConvertReport, "boxFallbacks">;
  if (options.from === "voc") {
    data = await readVocDataset(options.source, {
      silent,
      ...(options.classNames ? { classNames: options.classNames } : {}),
    });
  } else if (options.from === "coco") {
    data = readCocoDataset(options.source, options.cocoImages ? { images: options.cocoImages } : {});
  } else if (options.from === "wbcatt") {
    data = await readWbcatt(options, silent);
  } else {
    data = await readLldDataset(options.source, { silent });
  }
  const writeOptions = {
    classNames: data.classNames,
    attributes: data.attributes,
    images: options.images ?? "copy",
    silent,
  } as const;
  const written =
    options.to === "lld"
      ? [writeLldDataset(options.out, data.splits, writeOptions)]
      : writeCocoFolder(options.out, data.splits, writeOptions);
  const counts: ConvertReport["counts"] = {};
  for (const [split, list] of Object.entries(data.splits) as Array<[Split, ImageAnnotation[] | undefined]>) {
    if (!list) continue;
    const instances = new Array(data.classNames.length).fill(0);
    for (const a of list) for (const l of a.labels) instances[l.cls]++;
    counts[split] = { images: list.length, instances };
  }
  return {
    written,
    classNames: data.classNames,
    counts,
    problems: data.problems,
    ...(data.boxFallbacks ? { boxFallbacks: data.boxFallbacks } : {}),
  };
}
