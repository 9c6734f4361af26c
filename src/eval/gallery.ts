/**
 * `gallery.json` of a validation run: for the first images of the split (dataset order), the image's path, its
 * ground-truth boxes and labelled region, and the confident predictions, all in pixels of the original image, so that
 * the run report can draw predictions against ground truth. Collected from the validation's batches: detections come
 * in letterboxed network-input pixels and are mapped back with the letterbox geometry of the validation loader.
 */
import { resolve } from "node:path";
import { letterboxGeometry } from "../data/augment/index.js";
import type { Batch } from "../data/batch.js";
import { isSparse } from "../data/region.js";
import { type LoaderItem, loadedSize } from "../data/sample-source.js";
import type { Tensor } from "../torch/index.js";

/** Bumped on any incompatible change. */
export const GALLERY_JSON_VERSION = 1;
/** Images kept in the gallery. */
export const GALLERY_IMAGES = 16;
/** Predictions below this confidence are left out (YOLOv5 draws its validation batches at 0.25). */
export const GALLERY_CONF_THRES = 0.25;
/** At most this many predictions per image (the most confident). */
export const GALLERY_MAX_PREDICTIONS = 100;

/** x1, y1, x2, y2 in pixels of the original image. */
export type PixelBox = [number, number, number, number];

export interface GalleryImage {
  /** Absolute path of the image. */
  file: string;
  width: number;
  height: number;
  /** The labelled region; null when the whole image is labelled. */
  region: PixelBox | null;
  labels: { box: PixelBox; class: number }[];
  predictions: { box: PixelBox; class: number; confidence: number }[];
}

export interface GalleryJson {
  version: typeof GALLERY_JSON_VERSION;
  names: string[];
  /** Predictions at or above this confidence are listed. */
  confThres: number;
  images: GalleryImage[];
}

export interface GalleryOptions {
  /** @default GALLERY_IMAGES */
  images?: number;
  /** @default GALLERY_CONF_THRES */
  confThres?: number;
  /** @default GALLERY_MAX_PREDICTIONS */
  maxPredictions?: number;
}

const round1 = (v: number) => Math.round(v * 10) / 10;
const box = (x1: number, y1: number, x2: number, y2: number): PixelBox => [
  round1(x1),
  round1(y1),
  round1(x2),
  round1(y2),
];

/** Collects the gallery from validation batches (pass {@link GalleryCollector.add} the batches' detections). */
export class GalleryCollector {
  readonly #byIndex = new Map<number, GalleryImage>();
  readonly #limit: number;
  readonly #confThres: number;
  readonly #maxPredictions: number;

  /**
   * @param items the validation loader's items (dataset order: the first ones make the gallery)
   * @param imgSize the validation loader's network size
   */
  constructor(
    readonly items: readonly LoaderItem[],
    readonly imgSize: number,
    readonly names: readonly string[],
    options: GalleryOptions = {},
  ) {
    this.#limit = options.images ?? GALLERY_IMAGES;
    this.#confThres = options.confThres ?? GALLERY_CONF_THRES;
    this.#maxPredictions = options.maxPredictions ?? GALLERY_MAX_PREDICTIONS;
  }

  /** Adds the gallery images of a batch; `detections` are its per-image [n, 6] rows (x1 y1 x2 y2 conf cls, input px). */
  add(batch: Batch, detections: readonly Tensor[]): void {
    batch.indices.forEach((index, b) => {
      const item = this.items[index];
      if (index >= this.#limit || !item || !detections[b]) return;
      this.#byIndex.set(index, this.#image(item, detections[b]!.toTypedArray<"float32">(), batch.shape));
    });
  }

  #image(item: LoaderItem, rows: Float32Array, shape: [number, number]): GalleryImage {
    const { width, height } = item;
    const loaded = loadedSize(width, height, this.imgSize);
    // validation letterboxes never enlarge (the loader's evalSample)
    const g = letterboxGeometry(loaded.width, loaded.height, { shape, scaleUp: false });
    const sx = width / g.newW;
    const sy = height / g.newH;
    const toOriginal = (x1: number, y1: number, x2: number, y2: number) =>
      box((x1 - g.pad[0]) * sx, (y1 - g.pad[1]) * sy, (x2 - g.pad[0]) * sx, (y2 - g.pad[1]) * sy);
    const predictions: GalleryImage["predictions"] = [];
    for (let i = 0; i + 5 < rows.length; i += 6) {
      const confidence = rows[i + 4]!;
      if (confidence < this.#confThres) continue;
      predictions.push({
        box: toOriginal(rows[i]!, rows[i + 1]!, rows[i + 2]!, rows[i + 3]!),
        class: rows[i + 5]!,
        confidence: Math.round(confidence * 1000) / 1000,
      });
    }
    predictions.sort((a, b) => b.confidence - a.confidence);
    const r = isSparse(item) ? item.region : null; // a region over the whole image is a dense image
    return {
      file: resolve(item.image),
      width,
      height,
      region: r ? box(r.x1, r.y1, r.x2, r.y2) : null,
      labels: item.labels.map((l) => ({
        box: box(
          (l.xc - l.w / 2) * width,
          (l.yc - l.h / 2) * height,
          (l.xc + l.w / 2) * width,
          (l.yc + l.h / 2) * height,
        ),
        class: l.cls,
      })),
      predictions: predictions.slice(0, this.#maxPredictions),
    };
  }

  toJson(): GalleryJson {
    return {
      version: GALLERY_JSON_VERSION,
      names: [...this.names],
      confThres: this.#confThres,
      images: [...this.#byIndex.entries()].sort((a, b) => a[0] - b[0]).map(([, image]) => image),
    };
  }
}
