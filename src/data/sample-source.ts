/**
 * Samples read from disk as the augmentations expect them (YOLOv5's `load_image`): decoded to RGB, resized so that the
 * long side is the network size (aspect ratio kept), the labelled region rasterised into a mask at that size (all
 * ones for a dense image) and the boxes converted to pixels. Decoded images can come from a RAM or disk cache
 * ({@link ./image-cache.ts}). Used inside loader workers: imports no torch.
 */
import {
  cloneSample,
  filledMask,
  heldoutClassCode,
  labelsFromRows,
  type RgbImage,
  rasterizeRect,
  type Sample,
} from "./augment/index.js";
import type { SampleSource } from "./augment/pipeline.js";
import type { ImageCache } from "./image-cache.js";
import { readImageRgb } from "./images.js";
import { type Interpolation, resizeRgb } from "./pixels/image-kernels.js";
import type { CellLabel, PixelRect } from "./schema.js";

/** One image of a loader: what the dataset check found (design.md §4: one region per image, null = dense). */
export interface LoaderItem {
  /** Image path. */
  image: string;
  /** Size of the stored image after EXIF orientation. */
  width: number;
  height: number;
  /** Labelled region in pixels of the stored image; null = the whole image is labelled. */
  region: PixelRect | null;
  /** Labels, boxes normalised to the stored image. */
  labels: CellLabel[];
  /** Known objects outside the region (the dataset's held-out labels): carried to {@link Batch.heldout}, never trained on. */
  heldout?: CellLabel[];
}

/**
 * Size of an image after `load_image`: long side `imgSize`, each side · r truncated as YOLOv5 v7.0 does
 * (`int(w0 * r)` with r = imgSize / max(w0, h0), in doubles as here; later YOLOv5 versions round up), at least 1.
 */
export function loadedSize(width: number, height: number, imgSize: number): { width: number; height: number } {
  const r = imgSize / Math.max(width, height);
  if (r === 1) return { width, height };
  const scaled = (v: number) => Math.max(1, Math.trunc(v * r));
  return { width: scaled(width), height: scaled(height) };
}

/**
 * The interpolation of `load_image` (YOLOv5 v7.0): OpenCV's INTER_LINEAR for training (augment) or when enlarging,
 * INTER_AREA when shrinking for evaluation.
 */
export function loadInterpolation(augment: boolean, enlarging: boolean): Interpolation {
  return augment || enlarging ? "linear" : "area";
}

/** The sample of `item` at the loaded size, from its decoded (already resized) pixels. */
export function sampleFromPixels(
  item: LoaderItem,
  pixels: Uint8Array,
  size: { width: number; height: number },
  numAttributes: number,
): Sample {
  const { width, height } = size;
  const sx = width / item.width;
  const sy = height / item.height;
  const mask = item.region
    ? rasterizeRect(width, height, {
        x1: item.region.x1 * sx,
        y1: item.region.y1 * sy,
        x2: item.region.x2 * sx,
        y2: item.region.y2 * sy,
      })
    : filledMask(width, height, 1);
  const known = [...item.labels, ...(item.heldout ?? [])];
  const rows = known.map((l, i) => {
    const attributes = Array.from({ length: numAttributes }, (_, k) => l.attributes[k] ?? -1);
    return [
      i < item.labels.length ? l.cls : heldoutClassCode(l.cls),
      (l.xc - l.w / 2) * width,
      (l.yc - l.h / 2) * height,
      (l.xc + l.w / 2) * width,
      (l.yc + l.h / 2) * height,
      ...attributes,
    ];
  });
  return { image: { data: pixels, width, height }, mask, labels: labelsFromRows(rows, numAttributes) };
}

/**
 * Decodes `item`'s image and resizes it to `size` as `load_image` does (OpenCV-identical pixels, {@link
 * loadInterpolation}; `augment`: a training loader). Throws when the stored size is not the item's.
 */
export async function decodeResized(
  item: LoaderItem,
  size: { width: number; height: number },
  augment: boolean,
): Promise<Uint8Array> {
  const decoded = await readImageRgb(item.image);
  if (decoded.width !== item.width || decoded.height !== item.height) {
    throw new Error(
      `${item.image}: decoded ${decoded.width}×${decoded.height}, the dataset check saw ${item.width}×${item.height} (image changed? rerun sladet check)`,
    );
  }
  if (decoded.width === size.width && decoded.height === size.height) return decoded.data;
  const enlarging = Math.max(size.width, size.height) > Math.max(decoded.width, decoded.height);
  return resizeRgb(decoded, size.width, size.height, loadInterpolation(augment, enlarging)).data;
}

/** Options of {@link FileSampleSource}. */
export interface FileSampleSourceOptions {
  imgSize: number;
  /** Attribute columns of the labels (missing ones are −1). */
  numAttributes: number;
  /** Decoded-image cache. @default none */
  cache?: ImageCache;
  /** Cache of the fine view's images at `scale`× the loaded size (other sizes are decoded each time). @default none */
  fineCache?: { cache: ImageCache; scale: number };
  /** Load as a training loader does (INTER_LINEAR always; else INTER_AREA when shrinking). @default false */
  augment?: boolean;
}

/** A {@link SampleSource} over dataset items on disk. */
export class FileSampleSource implements SampleSource {
  readonly #items: readonly LoaderItem[];
  readonly #options: FileSampleSourceOptions;

  constructor(items: readonly LoaderItem[], options: FileSampleSourceOptions) {
    this.#items = items;
    this.#options = options;
  }

  get length(): number {
    return this.#items.length;
  }

  /** The decoded, resized pixels of item `index` (from the cache when there; filling it otherwise). */
  async pixels(index: number): Promise<Uint8Array> {
    const item = this.#items[index];
    if (!item) throw new RangeError(`sample ${index} of ${this.#items.length}`);
    const size = loadedSize(item.width, item.height, this.#options.imgSize);
    const cache = this.#options.cache;
    const cached = cache?.get(index);
    if (cached) return cached;
    const pixels = await decodeResized(item, size, this.#options.augment ?? false);
    cache?.put(index, pixels);
    return pixels;
  }

  /**
   * Item `index` decoded and resized to `width × height` (the fine view), from the fine cache when it holds it; a copy
   * (the augmentations work in place).
   */
  async loadFine(index: number, width: number, height: number): Promise<RgbImage> {
    const item = this.#items[index];
    if (!item) throw new RangeError(`sample ${index} of ${this.#items.length}`);
    const loaded = loadedSize(item.width, item.height, this.#options.imgSize);
    const fine = this.#options.fineCache;
    const cache =
      fine && width === fine.scale * loaded.width && height === fine.scale * loaded.height ? fine.cache : null;
    const cached = cache?.get(index);
    if (cached) return { data: cached.slice(), width, height };
    const data = await decodeResized(item, { width, height }, this.#options.augment ?? false);
    cache?.put(index, data);
    return { data, width, height };
  }

  async load(index: number): Promise<Sample> {
    const item = this.#items[index]!;
    const size = loadedSize(item.width, item.height, this.#options.imgSize);
    const pixels = await this.pixels(index);
    // Cached pixels are shared: the augmentations get a copy.
    return cloneSample(sampleFromPixels(item, pixels, size, this.#options.numAttributes));
  }
}
