/**
 * A dataset YAML as the studio serves it: the images of every split (those inside the dataset root; links out of it
 * are left out), each with its `sladet check` result (src/data's check, cached as `sladet check` caches it), and
 * saving through the label store.
 */
import { existsSync, realpathSync } from "node:fs";
import { basename } from "node:path";
import { type CheckedImage, checkDataset, checkImage } from "../data/check.js";
import { fileStamp } from "../data/check-cache.js";
import type { DataConfig } from "../data/dataset-yaml.js";
import { regionSidecarPath } from "../data/formats/lld.js";
import { formatProblem } from "../data/problems.js";
import { classColour } from "../data/schema.js";
import { pushAll } from "../util/arrays.js";
import { mapPool } from "../util/async.js";
import { ConfigError } from "../util/errors.js";
import type { ImageDetail, ImageSummary, SaveBody, SaveResult, StudioInfo } from "./api-types.js";
import { labelVersion, saveLabels } from "./label-store.js";
import { isInside, realPathOrAncestor, resolveInside, toApiPath } from "./paths.js";
import { NotFoundError, problemView, type StudioSource } from "./source.js";

interface Entry {
  split: string;
  checked: CheckedImage;
  /** Size and time of the image, label file and sidecar when `checked` was made. */
  stamps: string;
}

/** The stamps of an image's files (`sladet check`'s cache key). */
function stampsOf(image: string, labelFile: string): string {
  return [image, labelFile, regionSidecarPath(labelFile)].map(fileStamp).join("|");
}

/** Images checked at once when the list finds changed files. */
export const LIST_RECHECK_CONCURRENCY = 4;

/** The check problems that count in the browse list's "has problems" filter (errors and warnings). */
function countedProblems(checked: CheckedImage): number {
  return checked.problems.filter((p) => p.severity !== "note").length;
}

/** A dataset opened for the studio. */
export class DatasetSource implements StudioSource {
  readonly root: string;
  readonly #entries = new Map<string, Entry>();
  readonly #notes: string[] = [];

  private constructor(readonly config: DataConfig) {
    if (!existsSync(config.root))
      throw new ConfigError(`${config.file}: the dataset root ${config.root} does not exist (see its "path")`);
    this.root = realpathSync(config.root);
    pushAll(this.#notes, config.problems.map(formatProblem));
  }

  /** Loads the dataset and checks every image (a cached check after the first scan). */
  static async open(config: DataConfig): Promise<DatasetSource> {
    const source = new DatasetSource(config);
    const report = await checkDataset(config, { silent: true });
    let outside = 0;
    for (const [split, result] of Object.entries(report.splits)) {
      for (const checked of result?.images ?? []) {
        if (!isInside(source.root, realPathOrAncestor(checked.image))) {
          outside++;
          continue;
        }
        const path = toApiPath(source.root, realPathOrAncestor(checked.image));
        const stamps = stampsOf(checked.image, checked.labelFile);
        if (!source.#entries.has(path)) source.#entries.set(path, { split, checked, stamps });
      }
    }
    if (outside > 0)
      source.#notes.push(
        `${outside} image(s) lie outside the dataset root ${source.root} (or link out of it): left out; ` +
          "the studio reads and writes only inside the root",
      );
    return source;
  }

  info(canPredict: boolean, acceptConf: number): StudioInfo {
    const { config } = this;
    return {
      mode: "data",
      title: config.file,
      readOnly: false,
      names: config.names,
      colours: config.names.map((_, i) => classColour(i, config.names)),
      attributes: config.attributes.map((a) => ({ name: a.name, code: a.code, values: [...a.values] })),
      splits: [...new Set([...this.#entries.values()].map((e) => e.split))],
      canPredict,
      acceptConf,
      notes: this.#notes,
    };
  }

  /** Checks the image again when one of its files changed on disk since it was last checked. */
  async #fresh(entry: Entry): Promise<Entry> {
    const stamps = stampsOf(entry.checked.image, entry.checked.labelFile);
    if (stamps !== entry.stamps) {
      entry.checked = await checkImage(entry.checked.image, this.config);
      entry.stamps = stamps;
    }
    return entry;
  }

  async list(): Promise<ImageSummary[]> {
    const entries = [...this.#entries];
    await mapPool(entries, LIST_RECHECK_CONCURRENCY, ([, entry]) => this.#fresh(entry));
    return entries.map(([path, entry]) => this.#summary(path, entry));
  }

  #summary(path: string, { split, checked }: Entry): ImageSummary {
    const classCounts = new Array<number>(this.config.nc).fill(0);
    const values = new Set<string>();
    for (const label of checked.labels) {
      classCounts[label.cls] = (classCounts[label.cls] ?? 0) + 1;
      for (const [a, v] of label.attributes.entries()) values.add(`${a}:${v}`);
    }
    return {
      path,
      split,
      name: basename(path),
      width: checked.width,
      height: checked.height,
      classCounts,
      attributeValues: [...values].sort(),
      hasRegion: checked.region !== null,
      problems: countedProblems(checked),
    };
  }

  #entry(path: string): Entry {
    const entry = this.#entries.get(path);
    resolveInside(this.root, path); // a path that is not listed may still be an attempt to leave the root: 403 first
    if (!entry) throw new NotFoundError(`${path}: not an image of this dataset`);
    return entry;
  }

  imageFile(path: string): string {
    return this.#entry(path).checked.image;
  }

  async detail(path: string): Promise<ImageDetail> {
    const entry = this.#entry(path);
    const version = labelVersion(entry.checked.labelFile); // before reading: a change in between makes a save conflict
    const { split, checked } = await this.#fresh(entry);
    return {
      path,
      split,
      width: checked.width,
      height: checked.height,
      region: checked.region,
      labels: checked.labels,
      version,
      labelFile: toApiPath(this.root, realPathOrAncestor(checked.labelFile)),
      problems: checked.problems.map(problemView),
    };
  }

  async save(path: string, body: SaveBody): Promise<SaveResult> {
    const entry = this.#entry(path);
    const { checked } = entry;
    if (!checked.readable) throw new NotFoundError(`${path}: the image cannot be read, so its labels cannot be saved`);
    const size = { width: checked.width, height: checked.height };
    const labelFile = realPathOrAncestor(checked.labelFile);
    const outcome = saveLabels({ root: this.root, labelFile, size, config: this.config }, body.version, body);
    entry.checked = await checkImage(checked.image, this.config);
    entry.stamps = stampsOf(checked.image, checked.labelFile);
    return {
      status: outcome.status,
      version: outcome.version,
      backup: outcome.backup === null ? null : toApiPath(this.root, outcome.backup),
      problems: entry.checked.problems.map(problemView),
      summary: this.#summary(path, entry),
    };
  }
}
