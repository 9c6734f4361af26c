/**
 * Writes a whole dataset in one of sladet's layouts from annotations per split:
 * - LLD (YOLOv5 layout): `images/<split>/…`, `labels/<split>/….txt` (+ `.region` sidecars), `data.yaml`;
 * - COCO (the seed README's layout): `Images/<split>/…`, `Annotations/<split>.json`.
 * Images are copied (atomically) or symlinked; file names in a split are made unique.
 */
import { copyFileSync, mkdirSync, renameSync, rmSync, symlinkSync } from "node:fs";
import { basename, extname, join, resolve } from "node:path";
import { progress } from "../util/progress.js";
import { type Split, writeDataYaml } from "./dataset-yaml.js";
import { toCocoDataset, writeCocoJson } from "./formats/coco.js";
import { type LldFileWriteOptions, writeLldLabelFile } from "./formats/lld.js";
import type { AttributeSpec, ImageAnnotation } from "./schema.js";

/** Folder (beside `labels`) of the labels a sparse dataset set aside: the data YAML's `heldout_labels`. */
export const HELDOUT_LABELS = "labels_heldout";

/** The held-out labels of `annotation` as an annotation of their own (dense: they lie outside the region). */
function heldoutAnnotation(annotation: ImageAnnotation): ImageAnnotation {
  return {
    image: annotation.image,
    width: annotation.width,
    height: annotation.height,
    region: null,
    labels: annotation.heldout ?? [],
  };
}

/**
 * Writes an image's label file `<out>/labels/<split>/<stem>.txt` and, when the annotation holds held-out labels, theirs
 * as `<out>/labels_heldout/<split>/<stem>.txt` (the folders must exist).
 */
export function writeLabelFiles(
  out: string,
  split: Split,
  stem: string,
  annotation: ImageAnnotation,
  options: LldFileWriteOptions = {},
): void {
  writeLldLabelFile(join(out, "labels", split, `${stem}.txt`), annotation, options);
  if (annotation.heldout) {
    writeLldLabelFile(join(out, HELDOUT_LABELS, split, `${stem}.txt`), heldoutAnnotation(annotation), options);
  }
}

/** Annotations of each split (`image` = path of the source image). */
export type SplitAnnotations = Partial<Record<Split, ImageAnnotation[]>>;

/** Options shared by the dataset writers. */
export interface DatasetWriteOptions {
  /** Class names, index = class id. */
  classNames: readonly string[];
  /** Attribute schema of the labels; [] = none. */
  attributes: readonly AttributeSpec[];
  /** How images get into the output: copied, or symlinked to the source. @default "copy" */
  images?: "copy" | "symlink";
  /** Hide the progress display. @default false */
  silent?: boolean;
}

function placeImage(source: string, target: string, mode: "copy" | "symlink"): void {
  if (resolve(source) === resolve(target)) return; // writing a dataset over itself: the image is already there
  rmSync(target, { force: true });
  if (mode === "symlink") {
    symlinkSync(resolve(source), target);
    return;
  }
  const tmp = `${target}.partial`;
  try {
    copyFileSync(source, tmp);
    renameSync(tmp, target);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

function uniqueNames(annotations: readonly ImageAnnotation[]): string[] {
  const used = new Set<string>();
  return annotations.map((a) => {
    const ext = extname(a.image);
    const stem = basename(a.image, ext);
    let name = `${stem}${ext}`;
    for (let n = 1; used.has(name.toLowerCase()); n++) name = `${stem}_${n}${ext}`;
    used.add(name.toLowerCase());
    return name;
  });
}

/** Writes an LLD dataset (YOLOv5 layout plus `data.yaml`) under `out`; returns the YAML's path. */
export function writeLldDataset(out: string, splits: SplitAnnotations, options: DatasetWriteOptions): string {
  const { images: mode = "copy", attributes } = options;
  const total = Object.values(splits).reduce((n, list) => n + (list?.length ?? 0), 0);
  const bar = progress({ total, label: "write lld", unit: "img", silent: options.silent ?? false });
  for (const [split, list] of Object.entries(splits) as Array<[Split, ImageAnnotation[] | undefined]>) {
    if (!list) continue;
    const imageDir = join(out, "images", split);
    mkdirSync(imageDir, { recursive: true });
    mkdirSync(join(out, "labels", split), { recursive: true });
    if (list.some((a) => a.heldout)) mkdirSync(join(out, HELDOUT_LABELS, split), { recursive: true });
    const names = uniqueNames(list);
    list.forEach((annotation, i) => {
      const name = names[i] ?? basename(annotation.image);
      placeImage(annotation.image, join(imageDir, name), mode);
      writeLabelFiles(out, split, basename(name, extname(name)), annotation, {
        attributes,
        denseRegion: attributes.length === 0 ? "omit" : "full-image",
      });
      bar.tick();
    });
  }
  bar.stop();
  const yamlPath = join(out, "data.yaml");
  const has = (s: Split) => splits[s] !== undefined;
  const valSplit: Split = has("val") ? "val" : has("test") ? "test" : "train";
  writeDataYaml(yamlPath, {
    path: ".",
    train: "images/train",
    val: `images/${valSplit}`,
    ...(has("test") ? { test: "images/test" } : {}),
    names: options.classNames,
    attributes,
    regionOrder: "x1y1x2y2",
    regionUnits: "px",
    ...(Object.values(splits).some((list) => list?.some((a) => a.heldout)) ? { heldoutLabels: HELDOUT_LABELS } : {}),
  });
  if (!has("train")) mkdirSync(join(out, "images", "train"), { recursive: true });
  return yamlPath;
}

/** Writes a COCO dataset (`Annotations/<split>.json`, `Images/<split>/…`) under `out`; returns the JSON paths. */
export function writeCocoFolder(out: string, splits: SplitAnnotations, options: DatasetWriteOptions): string[] {
  const { images: mode = "copy" } = options;
  const written: string[] = [];
  const total = Object.values(splits).reduce((n, list) => n + (list?.length ?? 0), 0);
  const bar = progress({ total, label: "write coco", unit: "img", silent: options.silent ?? false });
  for (const [split, list] of Object.entries(splits) as Array<[Split, ImageAnnotation[] | undefined]>) {
    if (!list) continue;
    const imageDir = join(out, "Images", split);
    mkdirSync(imageDir, { recursive: true });
    const names = uniqueNames(list);
    const placed = list.map((annotation, i) => {
      const name = names[i] ?? basename(annotation.image);
      placeImage(annotation.image, join(imageDir, name), mode);
      bar.tick();
      return { ...annotation, image: name };
    });
    const json = join(out, "Annotations", `${split}.json`);
    writeCocoJson(
      json,
      toCocoDataset(placed, {
        classNames: options.classNames,
        ...(options.attributes.length > 0 ? { attributes: options.attributes } : {}),
      }),
    );
    written.push(json);
  }
  bar.stop();
  return written;
}
