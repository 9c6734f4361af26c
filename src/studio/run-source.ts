/**
 * A detect run folder as the studio serves it, read-only: the images its `predictions.json` names, with their
 * predictions. Only files that `predictions.json` names are read: the original image (relative paths against the
 * run's recorded working folder), or, when that is gone, the annotated copy inside the run folder.
 */
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { basename, isAbsolute, join, resolve } from "node:path";
import { classColour, LLD_ATTRIBUTES } from "../data/schema.js";
import type { PredictedImage, PredictionsJson } from "../infer/prediction-json.js";
import { ConfigError } from "../util/errors.js";
import type { ImageDetail, ImageSummary, StudioInfo } from "./api-types.js";
import { PathRefusedError, resolveInside } from "./paths.js";
import { NotFoundError, ReadOnlyError, type StudioSource } from "./source.js";

/** The split name a run's images are listed under. */
export const RUN_SPLIT = "images";

/** A detect run opened for review. */
export class RunSource implements StudioSource {
  readonly root: string;
  readonly #images = new Map<string, { image: PredictedImage; file: string | null }>();
  readonly #notes: string[] = [];

  constructor(
    runDir: string,
    readonly predictions: PredictionsJson,
  ) {
    this.root = realpathSync(runDir);
    const base = predictions.workingDir ?? process.cwd();
    predictions.images.forEach((image, i) => {
      const original = isAbsolute(image.file) ? image.file : resolve(base, image.file);
      const file = existsSync(original) ? original : this.#annotatedCopy(image.annotated);
      this.#images.set(`${i}/${basename(image.file)}`, { image, file });
    });
    const missing = [...this.#images.values()].filter((e) => e.file === null).length;
    if (missing > 0)
      this.#notes.push(`${missing} image(s) of the run exist neither where detect read them nor annotated`);
    this.#notes.push("a detect run is shown read-only: its predictions are the boxes");
  }

  /** The annotated copy inside the run folder, when it exists and the path stays inside the folder. */
  #annotatedCopy(annotated: string | undefined): string | null {
    if (!annotated) return null;
    try {
      const file = resolveInside(this.root, annotated);
      return existsSync(file) ? file : null;
    } catch (e) {
      if (!(e instanceof PathRefusedError)) throw e;
      this.#notes.push(`annotated image ${JSON.stringify(annotated)} refused: ${e.message}`);
      return null;
    }
  }

  /** Reads `runDir/predictions.json`; a missing or malformed file is a UserError naming it. */
  static open(runDir: string): RunSource {
    const file = join(runDir, "predictions.json");
    let parsed: PredictionsJson;
    try {
      parsed = JSON.parse(readFileSync(file, "utf8")) as PredictionsJson;
    } catch (e) {
      throw new ConfigError(`${file}: expected a detect run's predictions.json, found ${(e as Error).message}`);
    }
    if (!Array.isArray(parsed.images) || !Array.isArray(parsed.model?.names))
      throw new ConfigError(`${file}: expected "images" and "model.names" (predictions.json version 1)`);
    return new RunSource(runDir, parsed);
  }

  info(): StudioInfo {
    const { names, attributes } = this.predictions.model;
    const schema = attributes ?? [];
    return {
      mode: "run",
      title: this.root,
      readOnly: true,
      names,
      colours: names.map((_, i) => classColour(i, names)),
      attributes: schema.map((a, i) => ({ name: a.name, code: LLD_ATTRIBUTES[i]?.code ?? a.name, values: a.values })),
      splits: [RUN_SPLIT],
      canPredict: false,
      acceptConf: 0,
      notes: this.#notes,
    };
  }

  list(): ImageSummary[] {
    return [...this.#images].map(([path, { image }]) => {
      const classCounts = new Array<number>(this.predictions.model.names.length).fill(0);
      const values = new Set<string>();
      const attrs = this.predictions.model.attributes ?? [];
      for (const cell of image.detections) {
        classCounts[cell.class] = (classCounts[cell.class] ?? 0) + 1;
        attrs.forEach((a, i) => {
          const v = cell.attributes?.[a.name];
          if (v) values.add(`${i}:${v.index}`);
        });
      }
      return {
        path,
        split: RUN_SPLIT,
        name: basename(image.file),
        width: image.width,
        height: image.height,
        classCounts,
        attributeValues: [...values].sort(),
        hasRegion: false,
        problems: 0,
      };
    });
  }

  #entry(path: string) {
    resolveInside(this.root, path); // `..`, absolute paths: refused (403) before the lookup
    const entry = this.#images.get(path);
    if (!entry) throw new NotFoundError(`${path}: not an image of this run`);
    return entry;
  }

  imageFile(path: string): string {
    const { file } = this.#entry(path);
    if (!file) throw new NotFoundError(`${path}: the image is gone`);
    return file;
  }

  detail(path: string): ImageDetail {
    const { image } = this.#entry(path);
    return {
      path,
      split: RUN_SPLIT,
      width: image.width,
      height: image.height,
      region: null,
      labels: [],
      version: "",
      labelFile: "",
      problems: [],
      predictions: image.detections,
    };
  }

  save(): never {
    throw new ReadOnlyError("a detect run is read-only in the studio");
  }
}
