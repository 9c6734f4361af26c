/**
 * Saving one image's LLD label file from the studio, so that nothing a user wrote is lost: the file's version (a hash
 * of the label file and its region sidecar) is taken when the image is opened and checked again before writing, so a
 * save over a file changed on disk since (another editor, a `git pull`) is refused; the previous version is copied to
 * a backup folder first; the write is atomic (src/data's `writeLldLabelFile`: temp file + rename); and a save that
 * changes nothing writes nothing, so the file stays byte-identical.
 */
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { DataConfig } from "../data/dataset-yaml.js";
import {
  formatLldLabelText,
  type LldFileWriteOptions,
  readLldLabelFile,
  regionSidecarPath,
  writeLldLabelFile,
} from "../data/formats/lld.js";
import { centreInRegion, type ImageSize, regionsEqual } from "../data/region.js";
import { type CellLabel, type ImageAnnotation, type PixelRect, UNKNOWN_ATTRIBUTE } from "../data/schema.js";
import { assertInside, toApiPath } from "./paths.js";

/** Folder under the dataset root that holds the backups of label files the studio replaced. */
export const BACKUP_FOLDER = ".sladet-studio/backups";

/** The labels of one image as the studio's API sends and receives them. */
export interface EditedLabels {
  /** The labelled region in pixels of the stored image; null = the whole image is labelled (dense). */
  region: PixelRect | null;
  labels: CellLabel[];
}

/** A save refused because the file changed on disk since it was loaded (HTTP 409). */
export class SaveConflictError extends Error {
  override name = "SaveConflictError";
}

/** A save refused because the labels are not valid (HTTP 422); nothing was written. */
export class InvalidLabelsError extends Error {
  override name = "InvalidLabelsError";
}

function readOrNull(path: string): Buffer | null {
  try {
    return readFileSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
}

/** The version of a label file: a hash of its bytes and its sidecar's ("absent" parts hash differently from empty). */
export function labelVersion(labelFile: string): string {
  const h = createHash("sha256");
  for (const path of [labelFile, regionSidecarPath(labelFile)]) {
    const bytes = readOrNull(path);
    h.update(bytes === null ? "absent" : `present:${bytes.length}:`);
    if (bytes) h.update(bytes);
  }
  return h.digest("hex").slice(0, 32);
}

/** The writer's options for a dataset: its attribute schema, region order and units, the image size. */
export function writeOptions(config: DataConfig, size: ImageSize): LldFileWriteOptions {
  return {
    attributes: config.attributes,
    regionOrder: config.regionOrder,
    regionUnits: config.regionUnits,
    imageSize: size,
  };
}

/** Why `edited` cannot be written (class, box, attribute or region out of range; a centre outside the region). */
export function labelsProblem(edited: EditedLabels, config: DataConfig, size: ImageSize): string | null {
  const { region } = edited;
  if (region && !(region.x1 >= 0 && region.y1 >= 0 && region.x2 <= size.width && region.y2 <= size.height))
    return `the region must lie inside the ${size.width}×${size.height} image`;
  if (region && !(region.x1 < region.x2 && region.y1 < region.y2)) return "the region must have x1 < x2 and y1 < y2";
  for (const [i, label] of edited.labels.entries()) {
    const which = `box ${i + 1}`;
    if (!Number.isInteger(label.cls) || label.cls < 0 || label.cls >= config.nc)
      return `${which}: class ${label.cls} is not one of the dataset's classes 0..${config.nc - 1}`;
    const { xc, yc, w, h } = label;
    if (
      !(
        w > 0 &&
        h > 0 &&
        xc - w / 2 >= -1e-6 &&
        yc - h / 2 >= -1e-6 &&
        xc + w / 2 <= 1 + 1e-6 &&
        yc + h / 2 <= 1 + 1e-6
      )
    )
      return `${which}: the box must have a positive size and lie inside the image`;
    if (label.attributes.length !== config.attributes.length && label.attributes.length !== 0)
      return `${which}: ${label.attributes.length} attribute values, the dataset has ${config.attributes.length} (or none: unknown)`;
    const bad = label.attributes.findIndex(
      (v, a) => v !== UNKNOWN_ATTRIBUTE && !(Number.isInteger(v) && v >= 0 && v < config.attributes[a]!.values.length),
    );
    if (bad >= 0) return `${which}: ${config.attributes[bad]!.name} value ${label.attributes[bad]} is not in its set`;
    if (region && !centreInRegion(label, region, size))
      return `${which}: its centre lies outside the labelled region (move it in, enlarge the region, or delete it)`;
  }
  return null;
}

/** True when `edited` says the same as the labels now on disk (the same text once written, the same region). */
function sameAsOnDisk(labelFile: string, edited: EditedLabels, config: DataConfig, size: ImageSize): boolean {
  const options = writeOptions(config, size);
  const onDisk = readLldLabelFile(labelFile, options);
  if (onDisk.problems.some((p) => p.severity === "error")) return false;
  const sameRegion =
    onDisk.region === null || edited.region === null
      ? onDisk.region === edited.region
      : regionsEqual(onDisk.region, edited.region, 0);
  const asAnnotation = (a: EditedLabels): ImageAnnotation => ({ image: "", ...size, ...a });
  return (
    sameRegion &&
    formatLldLabelText(asAnnotation(onDisk), options) === formatLldLabelText(asAnnotation(edited), options)
  );
}

/** A timestamp usable in a file name: 20261202T164833123Z. */
function stamp(): string {
  return new Date().toISOString().replace(/[-:.]/g, "");
}

/** Copies the label file and its sidecar (those that exist) into the backup folder; returns the label's backup. */
function backUp(root: string, labelFile: string): string | null {
  let saved: string | null = null;
  const when = stamp();
  for (const path of [labelFile, regionSidecarPath(labelFile)]) {
    if (!existsSync(path)) continue;
    const target = assertInside(root, join(root, BACKUP_FOLDER, `${toApiPath(root, path)}.${when}`));
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(path, target);
    if (path === labelFile) saved = target;
  }
  return saved;
}

/** Where a save went. */
export interface SaveOutcome {
  /** "unchanged": the labels equal the file's, nothing was written. */
  status: "saved" | "unchanged";
  /** The file's version now (send it with the next save). */
  version: string;
  /** The backup of the previous label file (absolute), or null when there was none or nothing was written. */
  backup: string | null;
}

/** What {@link saveLabels} needs to know about the image. */
export interface SaveTarget {
  /** The dataset root (a real path): label file, sidecar and backups must lie inside it. */
  root: string;
  labelFile: string;
  size: ImageSize;
  config: DataConfig;
}

/**
 * Saves `edited` as the image's label file (and region sidecar) when the file is still at `version`: refuses with a
 * {@link SaveConflictError} when it changed on disk, with an {@link InvalidLabelsError} when the labels would not pass
 * `sladet check`; writes nothing when the labels are unchanged; else backs up the old files and writes atomically.
 */
export function saveLabels(target: SaveTarget, version: string, edited: EditedLabels): SaveOutcome {
  const { root, labelFile, size, config } = target;
  assertInside(root, labelFile);
  assertInside(root, regionSidecarPath(labelFile));
  const current = labelVersion(labelFile);
  if (current !== version)
    throw new SaveConflictError(
      `${toApiPath(root, labelFile)} changed on disk since you opened it (another editor, a git pull?): ` +
        "nothing was written; copy what you need, then reload the image",
    );
  const problem = labelsProblem(edited, config, size);
  if (problem) throw new InvalidLabelsError(`not saved: ${problem}`);
  if (existsSync(labelFile) && sameAsOnDisk(labelFile, edited, config, size))
    return { status: "unchanged", version: current, backup: null };
  const backup = backUp(root, labelFile);
  const annotation: ImageAnnotation = { image: "", ...size, region: edited.region, labels: edited.labels };
  writeLldLabelFile(labelFile, annotation, writeOptions(config, size));
  return { status: "saved", version: labelVersion(labelFile), backup };
}
