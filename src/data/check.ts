/**
 * `sladet check` as a library: reads every image and label file of a dataset, reports every problem with file and
 * line, and summarises each split. Training runs the same check; per-image results are cached and reused while the
 * image, label and region files keep their content (SHA-256 digests, see check-cache.ts).
 */
import { availableParallelism } from "node:os";
import { pushAll } from "../util/arrays.js";
import { mapPool } from "../util/async.js";
import { progress } from "../util/progress.js";
import { type CheckCache, fileDigest, openCheckCache } from "./check-cache.js";
import { checkLayout } from "./check-layout.js";
import { imageToLabelPath, listSplitImages } from "./dataset.js";
import { type DataConfig, loadDataYaml, SPLITS, type Split } from "./dataset-yaml.js";
import { readLldLabelFile, regionSidecarPath } from "./formats/lld.js";
import { verifyImage } from "./images.js";
import { type DataProblem, formatProblem } from "./problems.js";
import { labelledAreaFraction } from "./region.js";
import type { CellLabel, PixelRect } from "./schema.js";

/** Options of {@link checkDataset}. */
export interface CheckOptions {
  /** Splits to check. @default every split the YAML has */
  splits?: readonly Split[];
  /** Reuse and update the per-image cache. @default true */
  cache?: boolean;
  /** Folder for the cache file. @default `<dataset root>/.sladet-cache` (a temporary folder when not writable) */
  cacheDir?: string;
  /** Images decoded at the same time. @default the number of CPU cores */
  concurrency?: number;
  /** Hide the progress display. @default false */
  silent?: boolean;
}

/** The checked state of one image. */
export interface CheckedImage {
  image: string;
  labelFile: string;
  /** Size after EXIF orientation; 0×0 when the image cannot be read. */
  width: number;
  height: number;
  /** True when the image decodes (possibly with a decoder warning). */
  readable: boolean;
  /** The labelled region in pixels; null = dense. */
  region: PixelRect | null;
  /** The valid labels (invalid lines and duplicates dropped). */
  labels: CellLabel[];
  /** True when the image has no label (missing or empty label file): a background image. */
  background: boolean;
  /** True when the label file is missing (as opposed to empty). */
  labelMissing: boolean;
  duplicates: number;
  readmeLines: number;
  problems: DataProblem[];
}

/** Counts of one split. */
export interface SplitSummary {
  split: Split;
  images: number;
  /** Images that cannot be decoded. */
  unreadable: number;
  backgrounds: number;
  /** Images with a labelled region smaller than the image (sparse). */
  sparse: number;
  /** Instances per class id. */
  instances: number[];
  /** Per attribute: counts per value, then the count of unknown values (last entry). */
  attributeCounts: number[][];
  /** Instances that carry attributes (lines with attribute columns). */
  instancesWithAttributes: number;
  /** Mean labelled fraction of the readable images' area (1 = all dense). */
  labelledAreaFraction: number;
  duplicates: number;
  /** Label lines skipped because they are invalid. */
  skippedLines: number;
}

/** Result of {@link checkDataset}. */
export interface CheckReport {
  config: DataConfig;
  splits: Partial<Record<Split, { images: CheckedImage[]; summary: SplitSummary }>>;
  /** Every problem (YAML, listing, images, labels), in split and file order. */
  problems: DataProblem[];
  errors: number;
  warnings: number;
  /** Images whose result came from the cache. */
  cached: number;
}

/**
 * Checks one image of a dataset and its label file and region sidecar (what {@link checkDataset} does per image,
 * uncached): readable image, every label line, the region against the image and every box centre against the region.
 */
export async function checkImage(image: string, config: DataConfig): Promise<CheckedImage> {
  const labelFile = imageToLabelPath(image);
  const problems: DataProblem[] = [];
  const verdict = await verifyImage(image);
  if (!verdict.ok) {
    problems.push({
      severity: "error",
      kind: verdict.reason === "no such file" ? "image-missing" : "image-corrupt",
      file: image,
      expected: "a readable image (jpg, png, tif, bmp, webp)",
      found: verdict.reason,
      consequence: "image skipped",
    });
  } else if (verdict.warning) {
    problems.push({
      severity: "warning",
      kind: "image-corrupt",
      file: image,
      expected: "an image that decodes cleanly",
      found: `decoder warning: ${verdict.warning}`,
      consequence: "image used as decoded",
    });
  }
  const size = verdict.ok ? { width: verdict.width, height: verdict.height } : undefined;
  const parsed = readLldLabelFile(labelFile, {
    attributes: config.attributes,
    regionOrder: config.regionOrder,
    regionUnits: config.regionUnits,
    numClasses: config.nc,
    ...(size ? { imageSize: size } : {}),
  });
  pushAll(problems, parsed.problems);
  const background = parsed.labels.length === 0 && !parsed.problems.some((p) => p.severity === "error");
  if (!parsed.exists && verdict.ok) {
    problems.push({
      severity: "note",
      kind: "background-image",
      file: image,
      expected: `a label file ${labelFile}`,
      found: "none",
      consequence: "used as a background image (no objects)",
    });
  }
  return {
    image,
    labelFile,
    width: size?.width ?? 0,
    height: size?.height ?? 0,
    readable: verdict.ok,
    region: parsed.region,
    labels: parsed.labels,
    background,
    labelMissing: !parsed.exists,
    duplicates: parsed.duplicates,
    readmeLines: parsed.readmeLines,
    problems,
  };
}

/** The cache key of an image's check: the content digests of the image, its label file and its region sidecar. */
function stampsOf(image: string): string {
  const label = imageToLabelPath(image);
  return [fileDigest(image), fileDigest(label), fileDigest(regionSidecarPath(label))].join("|");
}

/** Summarises checked images of one split. */
export function summarizeSplit(split: Split, images: readonly CheckedImage[], config: DataConfig): SplitSummary {
  const summary: SplitSummary = {
    split,
    images: images.length,
    unreadable: 0,
    backgrounds: 0,
    sparse: 0,
    instances: new Array(config.nc).fill(0),
    attributeCounts: config.attributes.map((a) => new Array(a.values.length + 1).fill(0)),
    instancesWithAttributes: 0,
    labelledAreaFraction: 0,
    duplicates: 0,
    skippedLines: 0,
  };
  let area = 0;
  let readable = 0;
  for (const img of images) {
    if (!img.readable) summary.unreadable++;
    if (img.background) summary.backgrounds++;
    summary.duplicates += img.duplicates;
    summary.skippedLines += img.problems.filter((p) => p.consequence === "line skipped").length;
    if (img.readable) {
      const fraction = labelledAreaFraction(img.region, img);
      area += fraction;
      readable++;
      if (fraction < 1 - 1e-9) summary.sparse++;
    }
    for (const label of img.labels) {
      summary.instances[label.cls] = (summary.instances[label.cls] ?? 0) + 1;
      if (label.attributes.length === 0) continue;
      summary.instancesWithAttributes++;
      summary.attributeCounts.forEach((counts, i) => {
        const v = label.attributes[i] ?? -1;
        const slot = v >= 0 && v < counts.length - 1 ? v : counts.length - 1;
        counts[slot] = (counts[slot] ?? 0) + 1;
      });
    }
  }
  summary.labelledAreaFraction = readable > 0 ? area / readable : 0;
  return summary;
}

/** Checks a dataset (a YAML path or a loaded config). Never throws for problems in the data: they are reported. */
export async function checkDataset(data: string | DataConfig, options: CheckOptions = {}): Promise<CheckReport> {
  const config = typeof data === "string" ? loadDataYaml(data) : data;
  const { cache: useCache = true, concurrency = availableParallelism(), silent = false } = options;
  const cache: CheckCache | undefined = useCache ? openCheckCache(config, options.cacheDir) : undefined;
  const report: CheckReport = { config, splits: {}, problems: [...config.problems], errors: 0, warnings: 0, cached: 0 };
  const splits = options.splits ?? SPLITS.filter((s) => config.splits[s] !== undefined);
  const done = new Map<string, CheckedImage>();
  const reported = new Set<string>();
  for (const split of splits) {
    const listing = listSplitImages(config, split);
    pushAll(report.problems, listing.problems);
    const bar = progress({ total: listing.images.length, label: `check ${split}`, unit: "img", silent });
    const images = await mapPool(listing.images, concurrency, async (image) => {
      let result = done.get(image);
      if (!result) {
        const stamps = stampsOf(image);
        result = cache?.get(image, stamps);
        if (result) report.cached++;
        else {
          result = await checkImage(image, config);
          cache?.set(image, stamps, result);
        }
        done.set(image, result);
      }
      bar.tick();
      return result;
    });
    bar.stop();
    for (const img of images) {
      if (reported.has(img.image)) continue;
      reported.add(img.image);
      pushAll(report.problems, img.problems);
    }
    report.splits[split] = { images, summary: summarizeSplit(split, images, config) };
  }
  cache?.save();
  checkLayout(report, splits.length === SPLITS.filter((s) => config.splits[s] !== undefined).length);
  reportSplitOverlap(report);
  collapseReadmeNotes(report);
  report.errors = report.problems.filter((p) => p.severity === "error").length;
  report.warnings = report.problems.filter((p) => p.severity === "warning").length;
  return report;
}

/** An image in two splits (train and test, say) inflates test scores: one warning per pair of splits. */
function reportSplitOverlap(report: CheckReport): void {
  const seen = new Map<string, Split>();
  const overlaps = new Map<string, { count: number; first: string }>();
  for (const split of SPLITS) {
    if (split === "val" && report.config.valFromTest) continue;
    for (const img of report.splits[split]?.images ?? []) {
      const earlier = seen.get(img.image);
      if (earlier === undefined) {
        seen.set(img.image, split);
        continue;
      }
      const key = `${earlier} and ${split}`;
      const entry = overlaps.get(key) ?? { count: 0, first: img.image };
      entry.count++;
      overlaps.set(key, entry);
    }
  }
  for (const [pair, { count, first }] of overlaps) {
    report.problems.push({
      severity: "warning",
      kind: "split-overlap",
      file: report.config.file,
      expected: `no image in both ${pair}`,
      found: `${count} such image(s), e.g. ${first}`,
      consequence: "scores on the later split are optimistic",
    });
  }
}

/** Lines in the README's 15-column form are reported once, not per file. */
function collapseReadmeNotes(report: CheckReport): void {
  let lines = 0;
  let first: CheckedImage | undefined;
  for (const s of Object.values(report.splits)) {
    for (const img of s?.images ?? []) {
      if (img.readmeLines > 0) {
        lines += img.readmeLines;
        first ??= img;
      }
    }
  }
  if (first) {
    report.problems.push({
      severity: "note",
      kind: "readme-15-columns",
      file: first.labelFile,
      expected: "16 numbers (cls xc yc w h rx1 ry1 rx2 ry2 a0..a6)",
      found: `${lines} line(s) in the seed README's 15-column form (six attributes a1..a6)`,
      consequence: "read with Cell Size (a0) unknown",
    });
  }
}

/** Error thrown by {@link checkDatasetForTraining}: the report and its formatted problems. */
export class DatasetCheckError extends Error {
  override name = "DatasetCheckError";
  constructor(readonly report: CheckReport) {
    const errors = report.problems.filter((p) => p.severity === "error");
    const shown = errors.slice(0, 20).map(formatProblem);
    const more = errors.length > shown.length ? `\n… and ${errors.length - shown.length} more (run sladet check)` : "";
    super(`${errors.length} error(s) in the dataset ${report.config.file}:\n${shown.join("\n")}${more}`);
  }
}

/**
 * The check training runs before it starts: the same checks as `sladet check`, cached (a second start is fast), no
 * progress display unless asked; throws a {@link DatasetCheckError} when the dataset has errors.
 */
export async function checkDatasetForTraining(
  data: string | DataConfig,
  options: CheckOptions = {},
): Promise<CheckReport> {
  const report = await checkDataset(data, { silent: true, ...options });
  if (report.errors > 0) throw new DatasetCheckError(report);
  return report;
}
