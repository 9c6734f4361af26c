/**
 * Writes a synthetic dataset: `images/{train,val,test}`, LLD label files (`labels/{split}/*.txt`, plus region
 * sidecars for sparse images), a COCO JSON per split (`annotations/{split}.json`) and `data.yaml` with the class names
 * and the attribute schema. With `sparseArea`, train and val images carry a random labelled region and only the cells
 * whose centre it holds are labelled; the test split stays fully labelled. Deterministic: the same options give the
 * same bytes, whatever the order in which images are produced.
 */
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../../util/fs.js";
import { HELDOUT_LABELS, writeLabelFiles } from "../dataset-writer.js";
import { type Split, writeDataYaml } from "../dataset-yaml.js";
import { toCocoDataset, writeCocoJson } from "../formats/coco.js";
import { type ImageAnnotation, LLD_ATTRIBUTES, LLD_CLASS_NAMES } from "../schema.js";
import { annotateScene, drawRegion } from "./annotate.js";
import { encodeImage, IMAGE_EXTENSIONS, type ImageFormat } from "./encode.js";
import { checkMagnification, generateScene } from "./generate-scene.js";
import { renderScene } from "./render.js";

/** The three splits, in the order images are assigned to them. */
export const SYNTH_SPLITS = ["train", "val", "test"] as const satisfies readonly Split[];
export type SynthSplit = (typeof SYNTH_SPLITS)[number];

/** Default split fractions (train, val, test). */
export const DEFAULT_SPLIT: readonly [number, number, number] = [0.7, 0.15, 0.15];

/** Options of {@link generateDataset}. */
export interface GenerateDatasetOptions {
  /** Output folder (created if missing). */
  out: string;
  /** Number of images over all splits. */
  images: number;
  /** Dataset seed. @default 0 */
  seed?: number;
  /** Width and height of every image in pixels. @default 640 */
  imageSize?: number;
  /** Objects drawn this many times larger than an LLD field of view's at this size (generateScene). @default 1 */
  magnification?: number;
  /** Area fraction (0, 1] of the labelled region of train/val images; null = every split dense. @default null */
  sparseArea?: number | null;
  /** Fractions of images for train, val and test (non-negative, summing to 1). @default [0.7, 0.15, 0.15] */
  split?: readonly [number, number, number];
  /** Image file format. @default "jpeg" */
  format?: ImageFormat;
  /** JPEG quality. @default 92 */
  quality?: number;
  /** Remove earlier outputs (images/, labels/, annotations/, data.yaml) first; else their presence is an error. @default false */
  clean?: boolean;
  /** Images encoded concurrently while the next ones render (encoding runs on libuv threads). @default 2 */
  inFlight?: number;
  /** Called after each image is written. @default undefined */
  onImage?: (done: number, total: number) => void;
}

/** What {@link generateDataset} produced. */
export interface DatasetSummary {
  out: string;
  /** Images per split. */
  images: Record<SynthSplit, number>;
  /** Labelled cells per class id (all splits). */
  cellsPerClass: number[];
  /** Cells drawn in the images (labelled or not, all splits). */
  cellsDrawn: number;
  /** Labelled cells (all splits). */
  cellsLabelled: number;
  /** Wall time in seconds and throughput. */
  seconds: number;
  imagesPerSecond: number;
  /** Path of data.yaml. */
  dataYaml: string;
}

/** Outputs a dataset folder holds (removed by `clean`). */
const OUTPUTS = ["images", "labels", HELDOUT_LABELS, "annotations", "data.yaml"] as const;

/**
 * Image counts per split: val and test get their rounded share, train the rest; every split with a positive
 * fraction gets at least one image. Throws a RangeError when that is impossible or the fractions are invalid.
 */
export function splitCounts(total: number, split: readonly [number, number, number]): [number, number, number] {
  if (!Number.isInteger(total) || total < 1)
    throw new RangeError(`image count must be a positive integer, got ${total}`);
  if (split.some((f) => !Number.isFinite(f) || f < 0))
    throw new RangeError(`split fractions must be ≥ 0: ${split.join(",")}`);
  const sum = split[0] + split[1] + split[2];
  if (Math.abs(sum - 1) > 1e-6)
    throw new RangeError(`split fractions must sum to 1, got ${split.join(",")} (sum ${sum})`);
  if (split[0] <= 0) throw new RangeError("the train fraction must be positive");
  const needed = split.filter((f) => f > 0).length;
  if (total < needed) throw new RangeError(`${total} image(s) cannot fill ${needed} non-empty splits`);
  const val = split[1] > 0 ? Math.max(1, Math.round(total * split[1])) : 0;
  const test = split[2] > 0 ? Math.max(1, Math.round(total * split[2])) : 0;
  let train = total - val - test;
  if (train < 1) {
    // Rounding up tiny splits took everything: give train one back from the larger of val/test.
    train = 1;
    return val >= test ? [train, val - 1, test] : [train, val, test - 1];
  }
  return [train, val, test];
}

/** The split of image `index` given the split counts. */
export function splitOf(index: number, counts: readonly [number, number, number]): SynthSplit {
  if (index < counts[0]) return "train";
  if (index < counts[0] + counts[1]) return "val";
  return "test";
}

/** The file stem of image `index` (zero-padded so that names sort in index order). */
export function imageStem(index: number): string {
  return `synth_${String(index).padStart(6, "0")}`;
}

/** Generates and writes a whole dataset; see the module comment for the layout. */
export async function generateDataset(options: GenerateDatasetOptions): Promise<DatasetSummary> {
  const {
    out,
    images,
    seed = 0,
    imageSize = 640,
    magnification = 1,
    sparseArea = null,
    split = DEFAULT_SPLIT,
    format = "jpeg",
    quality = 92,
    clean = false,
    inFlight = 2,
    onImage,
  } = options;
  if (!Number.isInteger(imageSize) || imageSize < 32)
    throw new RangeError(`image size must be an integer ≥ 32, got ${imageSize}`);
  checkMagnification(magnification);
  if (sparseArea !== null && !(sparseArea > 0 && sparseArea <= 1)) {
    throw new RangeError(`sparse area must be in (0, 1], got ${sparseArea}`);
  }
  const counts = splitCounts(images, split);
  const start = performance.now();
  for (const name of OUTPUTS) {
    const path = join(out, name);
    if (!existsSync(path)) continue;
    if (!clean) throw new Error(`${path} already exists (remove it or generate with clean: true)`);
    rmSync(path, { recursive: true, force: true });
  }
  for (const s of SYNTH_SPLITS) {
    mkdirSync(join(out, "images", s), { recursive: true });
    mkdirSync(join(out, "labels", s), { recursive: true });
    if (sparseArea !== null && s !== "test") mkdirSync(join(out, HELDOUT_LABELS, s), { recursive: true });
  }

  const annotations: ImageAnnotation[] = new Array(images);
  const cellsPerClass = new Array<number>(LLD_CLASS_NAMES.length).fill(0);
  let cellsDrawn = 0;
  let done = 0;
  const ext = IMAGE_EXTENSIONS[format];

  // Render on this thread while up to `inFlight` earlier images are encoded by sharp's worker threads.
  const pending = new Set<Promise<void>>();
  for (let index = 0; index < images; index++) {
    const s = splitOf(index, counts);
    const scene = generateScene(seed, index, imageSize, magnification);
    const region =
      sparseArea !== null && s !== "test" ? drawRegion(seed, index, sparseArea, imageSize, imageSize) : null;
    const relImage = `images/${s}/${imageStem(index)}${ext}`;
    const annotation = annotateScene(scene, relImage, region);
    annotations[index] = annotation;
    cellsDrawn += scene.whiteCells.length;
    for (const l of annotation.labels) cellsPerClass[l.cls]!++;
    const rgb = renderScene(scene);
    const job = encodeImage(rgb, imageSize, imageSize, { format, quality }).then((bytes) => {
      writeFileAtomic(join(out, relImage), bytes);
      writeLabelFiles(out, s, imageStem(index), annotation);
      done++;
      onImage?.(done, images);
    });
    const tracked: Promise<void> = job.finally(() => pending.delete(tracked));
    pending.add(tracked);
    if (pending.size >= Math.max(1, inFlight)) await Promise.race(pending);
  }
  await Promise.all(pending);

  let first = 0;
  for (let k = 0; k < SYNTH_SPLITS.length; k++) {
    const s = SYNTH_SPLITS[k]!;
    const part = annotations.slice(first, first + counts[k]!);
    first += counts[k]!;
    const coco = toCocoDataset(part, { classNames: LLD_CLASS_NAMES, attributes: LLD_ATTRIBUTES });
    // A fixed info block (no creation date) keeps the dataset byte-for-byte reproducible.
    coco.info = { description: `sladet synth, seed ${seed}, ${imageSize} px, split ${s}`, version: "1" };
    writeCocoJson(join(out, "annotations", `${s}.json`), coco);
  }
  const dataYaml = join(out, "data.yaml");
  writeDataYaml(dataYaml, {
    train: "images/train",
    val: "images/val",
    test: "images/test",
    names: LLD_CLASS_NAMES,
    attributes: LLD_ATTRIBUTES,
    regionOrder: "x1y1x2y2",
    regionUnits: "px",
    ...(sparseArea !== null ? { heldoutLabels: HELDOUT_LABELS } : {}),
  });
  const seconds = (performance.now() - start) / 1000;
  return {
    out,
    images: { train: counts[0], val: counts[1], test: counts[2] },
    cellsPerClass,
    cellsDrawn,
    cellsLabelled: cellsPerClass.reduce((a, b) => a + b, 0),
    seconds,
    imagesPerSecond: images / Math.max(seconds, 1e-9),
    dataYaml,
  };
}
