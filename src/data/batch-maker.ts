/**
 * What a loader worker does: builds whole batches (load, augment, collate) from a task. The same code runs inside
 * worker threads and, with `workers: 0`, on the calling thread; a batch depends only on the task (the samples' seeds
 * are (seed, epoch, index)), never on the thread that made it. Imports no torch (design.md §2 lesson 8).
 */
import { type AugmentHyp, evalSample, type FineViewOptions, type Sample, trainSample } from "./augment/index.js";
import { DiskImageCache, type ImageCache, type RamCacheHandles, RamImageCache } from "./image-cache.js";
import { assembleRawBatch, type RawBatch } from "./raw-batch.js";
import { FileSampleSource, type LoaderItem, loadedSize } from "./sample-source.js";

/** Everything a worker needs once: the items and the settings of the loader. */
export interface MakerInit {
  items: LoaderItem[];
  imgSize: number;
  numAttributes: number;
  hyp: AugmentHyp;
  /** A training loader: images load with INTER_LINEAR always (else INTER_AREA when shrinking), as `load_image`. */
  augment: boolean;
  seed: number;
  paddingLabelled: boolean;
  /** Training samples also carry a weak view with this fraction of the HSV jitter (absent: none). */
  weakHsv?: number;
  /** Samples also carry the fine view (training and evaluation; `hsv` only in training). @default none */
  fine?: FineViewOptions;
  /** Decoded images; a RAM cache also holds the fine view's (`fineHandles`) when there is one. */
  cache:
    | { mode: "ram"; handles: RamCacheHandles; fineHandles?: RamCacheHandles }
    | { mode: "disk"; dir: string }
    | { mode: "none" };
}

/** One unit of work. */
export type MakerTask =
  | {
      kind: "batch";
      batchIndex: number;
      epoch: number;
      indices: number[];
      /** Augmented training samples (s × s), or validation letterboxes to `shape`. */
      mode: "train" | "eval";
      /** [height, width] of an eval batch. */
      shape: [number, number];
      /** Training samples without mosaic (so without mixup): the closing epochs of `close_mosaic`. */
      closeMosaic?: boolean;
    }
  | { kind: "cache"; indices: number[] };

/** Builds batches for one loader. */
export class BatchMaker {
  readonly #init: MakerInit;
  readonly #source: FileSampleSource;

  constructor(init: MakerInit) {
    this.#init = init;
    let cache: ImageCache | undefined;
    if (init.cache.mode === "ram") cache = new RamImageCache(init.cache.handles);
    else if (init.cache.mode === "disk") {
      cache = new DiskImageCache(
        init.cache.dir,
        init.items.map((it) => ({ image: it.image, ...loadedSize(it.width, it.height, init.imgSize) })),
      );
    }
    const fineHandles = init.cache.mode === "ram" ? init.cache.fineHandles : undefined;
    const fineCache =
      fineHandles && init.fine ? { cache: new RamImageCache(fineHandles), scale: init.fine.scale } : null;
    this.#source = new FileSampleSource(init.items, {
      imgSize: init.imgSize,
      numAttributes: init.numAttributes,
      augment: init.augment,
      ...(cache ? { cache } : {}),
      ...(fineCache ? { fineCache } : {}),
    });
  }

  /** Decodes the images of `indices` into the cache (no augmentation); returns how many were processed. */
  async fillCache(indices: readonly number[]): Promise<number> {
    for (const i of indices) await this.#source.pixels(i);
    return indices.length;
  }

  /** Builds one batch. */
  async makeBatch(task: Extract<MakerTask, { kind: "batch" }>): Promise<RawBatch> {
    const { imgSize, seed, paddingLabelled, numAttributes, weakHsv, fine } = this.#init;
    const hyp = task.closeMosaic ? { ...this.#init.hyp, mosaic: 0, mixup: 0 } : this.#init.hyp;
    const weak = weakHsv === undefined ? {} : { weakHsv };
    const views = fine ? { fine } : {};
    const samples: Sample[] = [];
    for (const index of task.indices) {
      samples.push(
        task.mode === "train"
          ? await trainSample(this.#source, index, task.epoch, {
              imgSize,
              hyp,
              seed,
              paddingLabelled,
              ...weak,
              ...views,
            })
          : await evalSample(this.#source, index, task.shape, { paddingLabelled, ...views }),
      );
    }
    return assembleRawBatch(samples, task.indices, task.batchIndex, numAttributes);
  }
}
