/**
 * `sladet sparsify` as a library: turns a fully labelled dataset into a sparsely labelled one, the way the paper's
 * training data was made: each train/val image gets one random rectangle covering `area` of the image (same aspect
 * as the image, integer pixels), only the boxes whose centre lies inside are kept, and the region is written into the
 * labels (and the sidecar). The removed boxes are kept aside in `labels_heldout/` (the YAML's `heldout_labels`) to
 * measure pseudo-labels. The test split is copied unchanged (fully labelled, as in the paper).
 */
import { type CheckReport, checkDataset } from "./check.js";
import { type SplitAnnotations, writeLldDataset } from "./dataset-writer.js";
import { SPLITS, type Split } from "./dataset-yaml.js";
import { DataFormatError } from "./problems.js";
import { centreInRegion } from "./region.js";
import type { ImageAnnotation, PixelRect } from "./schema.js";

/** Options of {@link sparsifyDataset}. */
export interface SparsifyOptions {
  /** Fraction of each train/val image to keep labelled, in (0, 1]. @default 0.2 (the paper's ~1/5) */
  area?: number;
  /** Seed of the random regions: the same seed gives the same dataset. @default 0 */
  seed?: number;
  /** Output folder (LLD layout with data.yaml). */
  out: string;
  /** Copy images or symlink them. @default "copy" */
  images?: "copy" | "symlink";
  /** Convert even when `sladet check` finds errors (invalid lines are dropped). @default false */
  force?: boolean;
  /** Hide progress displays. @default false */
  silent?: boolean;
}

/** What {@link sparsifyDataset} did per split. */
export interface SparsifyReport {
  yaml: string;
  splits: Partial<Record<Split, { images: number; instancesBefore: number; instancesKept: number; meanArea: number }>>;
  check: CheckReport;
}

/** A small deterministic PRNG (mulberry32): uniform numbers in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A random rectangle of about `area` of `bounds`' image (same aspect as the image, integer pixels) placed inside
 * `bounds` (the whole image, or an existing region, which then caps its size).
 */
export function randomRegion(
  size: { width: number; height: number },
  area: number,
  random: () => number,
  bounds: PixelRect = { x1: 0, y1: 0, x2: size.width, y2: size.height },
): PixelRect {
  const scale = Math.sqrt(area);
  const bx1 = Math.ceil(bounds.x1);
  const by1 = Math.ceil(bounds.y1);
  const bw = Math.floor(bounds.x2) - bx1;
  const bh = Math.floor(bounds.y2) - by1;
  const w = Math.max(1, Math.min(bw, Math.round(size.width * scale)));
  const h = Math.max(1, Math.min(bh, Math.round(size.height * scale)));
  const x1 = bx1 + Math.floor(random() * (bw - w + 1));
  const y1 = by1 + Math.floor(random() * (bh - h + 1));
  return { x1, y1, x2: x1 + w, y2: y1 + h };
}

/** Sparsifies the dataset of `yaml` into `options.out`. Throws a DataFormatError when the check finds errors. */
export async function sparsifyDataset(yaml: string, options: SparsifyOptions): Promise<SparsifyReport> {
  const { area = 0.2, seed = 0, silent = false } = options;
  if (!(area > 0 && area <= 1)) throw new RangeError(`area must be in (0, 1], got ${area}`);
  if (!(Number.isInteger(seed) && seed >= 0)) throw new RangeError(`seed must be an integer >= 0, got ${seed}`);
  const check = await checkDataset(yaml, { silent });
  const firstError = check.problems.find((p) => p.severity === "error");
  if (firstError && !options.force) {
    throw new DataFormatError({
      ...firstError,
      consequence: `${check.errors} error(s) in the dataset; fix them (sladet check) or pass force to drop invalid lines`,
    });
  }
  const random = mulberry32(seed);
  const splits: SplitAnnotations = {};
  const report: SparsifyReport = { yaml: "", splits: {}, check };
  for (const split of SPLITS) {
    const s = check.splits[split];
    if (!s || (split === "val" && check.config.valFromTest)) continue;
    let before = 0;
    let kept = 0;
    let areaSum = 0;
    const list: ImageAnnotation[] = [];
    for (const img of s.images) {
      if (!img.readable) continue;
      before += img.labels.length;
      const annotation: ImageAnnotation = {
        image: img.image,
        width: img.width,
        height: img.height,
        region: img.region,
        labels: img.labels,
      };
      if (split !== "test") {
        const r = randomRegion(img, area, random, img.region ?? undefined);
        const inside = img.labels.map((l) => centreInRegion(l, r, img, 0));
        annotation.region = r;
        annotation.labels = img.labels.filter((_, i) => inside[i]);
        annotation.heldout = img.labels.filter((_, i) => !inside[i]); // kept aside to measure pseudo-labels
      }
      const { region } = annotation;
      kept += annotation.labels.length;
      areaSum += region ? ((region.x2 - region.x1) * (region.y2 - region.y1)) / (img.width * img.height) : 1;
      list.push(annotation);
    }
    splits[split] = list;
    report.splits[split] = {
      images: list.length,
      instancesBefore: before,
      instancesKept: kept,
      meanArea: list.length ? areaSum / list.length : 0,
    };
  }
  report.yaml = writeLldDataset(options.out, splits, {
    classNames: check.config.names,
    attributes: check.config.attributes,
    images: options.images ?? "copy",
    silent,
  });
  return report;
}
