/**
 * The data loader: batches per design.md §7.1 from a list of dataset items. Decoding, augmentation and collation run
 * in worker threads that never load the native addon; they transfer each batch's buffers to the main thread, which
 * wraps them in tensors ({@link DataLoader.epoch}) or hands them over as typed arrays ({@link DataLoader.rawEpoch}).
 * Up to `prefetch` batches are built ahead of the consumer. Every sample is a function of (seed, epoch, index), so
 * the batches are the same with any number of workers and a resumed run sees the same data.
 *
 * Training (`augment: true`): square `imgSize` samples with mosaic/mixup/warp/HSV/flips per `hyp`, shuffled per epoch.
 * Validation (`augment: false`): letterboxed, never enlarged; with `rect: true` images are sorted by aspect ratio and
 * each batch gets YOLOv5's rectangle (pad 0.5 → 640² images become 672²).
 */
import { availableParallelism, freemem } from "node:os";
import { dirname, join, resolve, sep } from "node:path";
import { ConfigError } from "../util/errors.js";
import {
  type AugmentHyp,
  checkFineScale,
  type FineViewOptions,
  HYP_NO_AUGMENTATION,
  HYP_SCRATCH_HIGH,
  orderRng,
  permutation,
  resolveHyp,
} from "./augment/index.js";
import type { Batch } from "./batch.js";
import type { MakerInit, MakerTask } from "./batch-maker.js";
import { type CheckOptions, checkDatasetForTraining } from "./check.js";
import { DEFAULT_IMG_SIZE } from "./constants.js";
import { imageToLabelPath } from "./dataset.js";
import type { DataConfig, Split } from "./dataset-yaml.js";
import { checkShard, type Shard, shardLength, shardOrder } from "./distributed-sampler.js";
import { readLldLabelFile } from "./formats/lld.js";
import { availableMemoryBytes, type CacheMode, createRamCache, diskCacheFolder } from "./image-cache.js";
import type { RawBatch } from "./raw-batch.js";
import { rectBatches } from "./rect.js";
import { type LoaderItem, loadedSize } from "./sample-source.js";
import { type AttributeSpec, type CellLabel, NUM_ATTRIBUTES } from "./schema.js";
import { InlineRunner, type TaskRunner, WorkerPool } from "./worker-pool.js";

export { DEFAULT_IMG_SIZE } from "./constants.js";
export type { LoaderItem } from "./sample-source.js";
/** YOLOv5's default batch size. */
export const DEFAULT_BATCH_SIZE = 16;
/** Model stride that rect shapes are multiples of. */
export const DEFAULT_STRIDE = 32;
/** Extra strides of a rect batch (YOLOv5 validation's pad). */
export const DEFAULT_RECT_PAD = 0.5;
/** Most loader workers by default (YOLOv5's cap). */
export const MAX_DEFAULT_WORKERS = 8;
/** Share of the available memory a RAM cache may take before the loader falls back to no cache. */
export const RAM_CACHE_SAFETY = 0.9;

/** Options of {@link DataLoader}. */
export interface LoaderOptions {
  /** The images with their labels and regions (e.g. from {@link loadSplitItems}). */
  items: readonly LoaderItem[];
  /** Network input size (long side). @default 640 */
  imgSize?: number;
  /** Images per batch (the last batch may be smaller). @default 16 */
  batchSize?: number;
  /** Training augmentation (mosaic, mixup, warp, HSV, flips per `hyp`); false = validation letterboxing. @default false */
  augment?: boolean;
  /** Augmentation hyperparameters (YOLOv5 names). @default HYP_SCRATCH_HIGH when `augment`, else unused */
  hyp?: Partial<AugmentHyp>;
  /** Rectangular batches sorted by aspect ratio (validation only). @default false */
  rect?: boolean;
  /** Extra strides of rect shapes. @default 0.5 */
  pad?: number;
  /** Model stride. @default 32 */
  stride?: number;
  /** Shuffle the images every epoch. @default augment && !rect */
  shuffle?: boolean;
  /** Seed of the augmentation and shuffling. @default 0 */
  seed?: number;
  /**
   * This process's share of a data-parallel run: each epoch it reads only its shard of the (shuffled, padded) order,
   * as PyTorch's DistributedSampler (src/data/distributed-sampler.ts). Samples stay functions of (seed, epoch, image
   * index), so a rank's sample is the one a one-process run makes of that image. Not with `rect`.
   * @default the whole dataset
   */
  shard?: Shard;
  /** Worker threads; 0 builds batches on the calling thread. @default min(8, cores − 1, batchSize), at least 1 */
  workers?: number;
  /** Batches built ahead of the consumer. @default 2 × max(1, workers) */
  prefetch?: number;
  /** Decoded-image cache: "ram" (shared with the workers), "disk" (raw files) or none. @default false */
  cache?: CacheMode;
  /** Folder of the disk cache. @default `.sladet-cache` in the deepest folder holding every image */
  cacheDir?: string;
  /** Attribute columns of the targets (missing values −1). @default 7 */
  numAttributes?: number;
  /** Mark letterbox/mosaic padding as labelled (it holds no objects) instead of unlabelled. @default false */
  paddingLabelled?: boolean;
  /**
   * Training batches also carry `weakImages`: a weak view, with this fraction of the HSV jitter (0 = the colours as
   * loaded; see TrainSampleOptions.weakHsv). @default none (the attribute head and phase 2's teacher read `images`)
   */
  weakHsv?: number;
  /**
   * Batches (training and evaluation) also carry `fineImages`: the images at `scale`× their pixels, the same geometry
   * (src/data/augment/fine-view.ts), with `hsv` of the training jitter. @default none
   */
  fine?: FineViewOptions;
  /** Receives warnings (e.g. a RAM cache that does not fit). @default print to stderr */
  onWarning?: (message: string) => void;
}

/** The deepest folder that contains every path. */
export function commonFolder(paths: readonly string[]): string {
  const split = paths.map((p) => dirname(resolve(p)).split(sep));
  const first = split[0] ?? [];
  let n = first.length;
  for (const parts of split) {
    let k = 0;
    while (k < n && parts[k] === first[k]) k++;
    n = k;
  }
  return first.slice(0, n).join(sep) || sep;
}

/** How one epoch's batches are built. */
export interface EpochOptions {
  /** Training samples without mosaic and mixup (the `close_mosaic` epochs); the rest of `hyp` as it is. @default false */
  closeMosaic?: boolean;
}

/** One batch of an epoch's plan. */
interface PlannedBatch {
  indices: number[];
  shape: [number, number];
}

/** Batches of a dataset; create once, iterate once per epoch, then {@link DataLoader.dispose}. */
export class DataLoader {
  readonly #items: readonly LoaderItem[];
  readonly #imgSize: number;
  readonly #batchSize: number;
  readonly #augment: boolean;
  readonly #shuffle: boolean;
  readonly #seed: number;
  readonly #shard: Shard | undefined;
  readonly #prefetch: number;
  readonly #rectShapes: Array<[number, number]> | undefined;
  readonly #rectOrder: number[] | undefined;
  readonly #runner: TaskRunner;
  readonly #cacheMode: CacheMode;
  #nextEpoch = 0;
  #disposed = false;

  constructor(options: LoaderOptions) {
    const {
      items,
      imgSize = DEFAULT_IMG_SIZE,
      batchSize = DEFAULT_BATCH_SIZE,
      augment = false,
      rect = false,
      seed = 0,
      numAttributes = NUM_ATTRIBUTES,
      paddingLabelled = false,
    } = options;
    if (items.length === 0) throw new Error("the loader has no images");
    if (!Number.isInteger(imgSize) || imgSize <= 0)
      throw new Error(`imgSize must be a positive integer, got ${imgSize}`);
    if (!Number.isInteger(batchSize) || batchSize <= 0)
      throw new Error(`batchSize must be a positive integer, got ${batchSize}`);
    if (rect && augment) {
      throw new Error(
        "rect batches are for validation: use rect with augment false (YOLOv5 turns mosaic off for rect batches)",
      );
    }
    const warn = options.onWarning ?? ((m: string) => process.stderr.write(`loader: ${m}\n`));
    this.#items = items;
    this.#imgSize = imgSize;
    this.#batchSize = batchSize;
    this.#augment = augment;
    this.#shuffle = options.shuffle ?? (augment && !rect);
    this.#seed = seed;
    if (options.shard) {
      checkShard(options.shard);
      if (rect) throw new Error("rect batches are for validation, which one process runs: use rect without shard");
    }
    this.#shard = options.shard;
    if (rect) {
      const plan = rectBatches(items, {
        imgSize,
        batchSize,
        stride: options.stride ?? DEFAULT_STRIDE,
        pad: options.pad ?? DEFAULT_RECT_PAD,
      });
      this.#rectOrder = plan.order;
      this.#rectShapes = plan.shapes;
    }
    const workers =
      options.workers ?? Math.max(1, Math.min(MAX_DEFAULT_WORKERS, availableParallelism() - 1, batchSize));
    this.#prefetch = Math.max(1, options.prefetch ?? 2 * Math.max(1, workers));

    if (options.fine) checkFineScale(options.fine.scale);
    let cache: MakerInit["cache"] = { mode: "none" };
    let cacheMode: CacheMode = options.cache ?? false;
    const loaded = items.map((it) => loadedSize(it.width, it.height, imgSize));
    if (cacheMode === "ram") {
      const bytes = loaded.map((s) => s.width * s.height * 3);
      // the fine view's images too (k² the bytes), so an epoch decodes nothing
      const k = options.fine?.scale ?? 1;
      const fineBytes = k === 1 ? null : bytes.map((b) => b * k * k);
      const total = [...bytes, ...(fineBytes ?? [])].reduce((a, b) => a + b, 0);
      const available = availableMemoryBytes(freemem);
      if (total > RAM_CACHE_SAFETY * available) {
        warn(
          `a RAM cache needs ${(total / 2 ** 30).toFixed(1)} GiB, ${(available / 2 ** 30).toFixed(1)} GiB are available: not caching`,
        );
        cacheMode = false;
      } else {
        cache = {
          mode: "ram",
          handles: createRamCache(bytes),
          ...(fineBytes ? { fineHandles: createRamCache(fineBytes) } : {}),
        };
      }
    } else if (cacheMode === "disk") {
      const dir = options.cacheDir ?? join(commonFolder(items.map((it) => it.image)), ".sladet-cache");
      cache = { mode: "disk", dir: diskCacheFolder(dir, imgSize, augment) };
    }
    this.#cacheMode = cacheMode;
    const hyp = augment ? resolveHyp(options.hyp ?? {}, HYP_SCRATCH_HIGH) : HYP_NO_AUGMENTATION;
    const weakHsv = augment && options.weakHsv !== undefined ? { weakHsv: options.weakHsv } : {};
    if (options.weakHsv !== undefined && !(options.weakHsv >= 0 && options.weakHsv <= 1))
      throw new Error(`weakHsv must be a fraction in [0, 1], got ${options.weakHsv}`);
    const fine = options.fine && options.fine.scale !== 1 ? { fine: options.fine } : {};
    const init: MakerInit = {
      items: [...items],
      imgSize,
      numAttributes,
      hyp,
      augment,
      seed,
      paddingLabelled,
      cache,
      ...weakHsv,
      ...fine,
    };
    this.#runner = workers === 0 ? new InlineRunner(init) : new WorkerPool(workers, init);
  }

  /** Number of images. */
  get length(): number {
    return this.#items.length;
  }

  /** Network input size (long side) the images are loaded at. */
  get imgSize(): number {
    return this.#imgSize;
  }

  /** Images this process reads per epoch: all of them, or its shard's (padded) share. */
  get samplesPerEpoch(): number {
    return this.#shard ? shardLength(this.#items.length, this.#shard.worldSize) : this.#items.length;
  }

  /** Number of batches per epoch (of this process's shard, when it has one). */
  get batchCount(): number {
    return Math.ceil(this.samplesPerEpoch / this.#batchSize);
  }

  get batchSize(): number {
    return this.#batchSize;
  }

  /** The cache in use (false also when a RAM cache did not fit). */
  get cacheMode(): CacheMode {
    return this.#cacheMode;
  }

  /** The items, in dataset order. */
  get items(): readonly LoaderItem[] {
    return this.#items;
  }

  /** [height, width] of each batch: the rect shapes, or imgSize² for every batch. */
  batchShapes(): Array<[number, number]> {
    return this.#rectShapes
      ? this.#rectShapes.map((s) => [...s] as [number, number])
      : Array.from({ length: this.batchCount }, () => [this.#imgSize, this.#imgSize] as [number, number]);
  }

  #plan(epoch: number): PlannedBatch[] {
    const n = this.#items.length;
    let order: number[];
    if (this.#rectOrder) order = this.#rectOrder;
    else if (this.#shuffle) order = permutation(n, orderRng(this.#seed, epoch));
    else order = Array.from({ length: n }, (_, i) => i);
    if (this.#shard) order = shardOrder(order, this.#shard);
    const shapes = this.batchShapes();
    const plan: PlannedBatch[] = [];
    for (let b = 0; b * this.#batchSize < order.length; b++) {
      plan.push({ indices: order.slice(b * this.#batchSize, (b + 1) * this.#batchSize), shape: shapes[b]! });
    }
    return plan;
  }

  /**
   * The batches of `epoch` as typed arrays (no torch), in order, built ahead by the workers; from batch `start` on
   * (an interrupted epoch continues there: each batch depends only on the seed, the epoch and its index).
   */
  async *rawEpoch(epoch: number, start = 0, options: EpochOptions = {}): AsyncGenerator<RawBatch> {
    if (this.#disposed) throw new Error("the loader was disposed");
    const plan = this.#plan(epoch);
    const inflight = new Map<number, Promise<RawBatch>>();
    let next = start;
    const launch = () => {
      while (next < plan.length && inflight.size < this.#prefetch) {
        const { indices, shape } = plan[next]!;
        const task: MakerTask = {
          kind: "batch",
          batchIndex: next,
          epoch,
          indices,
          shape,
          mode: this.#augment ? "train" : "eval",
          ...(options.closeMosaic ? { closeMosaic: true } : {}),
        };
        const promise = this.#runner.run(task).then((r) => {
          if (!("batch" in r)) throw new Error("a batch task returned no batch");
          return r.batch;
        });
        promise.catch(() => undefined); // awaited in order below; this only keeps a later failure from going unhandled
        inflight.set(next, promise);
        next++;
      }
    };
    for (let b = start; b < plan.length; b++) {
      launch();
      const batch = await inflight.get(b)!;
      inflight.delete(b);
      launch();
      yield batch;
    }
  }

  /**
   * The batches of `epoch` as tensors (design.md §7.1). Each {@link Batch} owns its tensors: call `batch.dispose()`
   * when done with it. From batch `start` on, as {@link rawEpoch}.
   */
  async *epoch(epoch: number, start = 0, options: EpochOptions = {}): AsyncGenerator<Batch> {
    const { toBatch } = await import("./batch.js");
    for await (const raw of this.rawEpoch(epoch, start, options)) yield toBatch(raw, this.#items);
  }

  /** Iterates epochs 0, 1, 2, … one per `for await` loop. */
  [Symbol.asyncIterator](): AsyncGenerator<Batch> {
    return this.epoch(this.#nextEpoch++);
  }

  /**
   * Decodes every image into the cache up front (YOLOv5 caches before training); `onProgress(done, total)` after
   * each chunk. Without a cache it does nothing.
   */
  async fillCache(onProgress?: (done: number, total: number) => void): Promise<void> {
    if (this.#cacheMode === false) return;
    const n = this.#items.length;
    const chunk = Math.max(1, Math.min(32, Math.ceil(n / 16)));
    let done = 0;
    const tasks: Promise<void>[] = [];
    for (let start = 0; start < n; start += chunk) {
      const indices = Array.from({ length: Math.min(chunk, n - start) }, (_, i) => start + i);
      tasks.push(
        this.#runner.run({ kind: "cache", indices }).then(() => {
          done += indices.length;
          onProgress?.(done, n);
        }),
      );
    }
    await Promise.all(tasks);
  }

  /** Stops the workers; the loader cannot be used afterwards. */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    await this.#runner.close();
  }
}

/**
 * The items of one split of a dataset, checked as training checks them (throws a DatasetCheckError on errors);
 * unreadable images are left out; a split without any readable image is a ConfigError.
 */
export async function loadSplitItems(
  data: string | DataConfig,
  split: Split,
  options: CheckOptions = {},
): Promise<LoaderItem[]> {
  const report = await checkDatasetForTraining(data, { ...options, splits: [split] });
  const images = report.splits[split]?.images ?? [];
  const { heldoutLabels, attributes } = report.config;
  const readable = images.filter((img) => img.readable);
  if (readable.length === 0) {
    const where = report.config.splits[split]?.join(", ") ?? `no ${split} entry`;
    throw new ConfigError(`${report.config.file}: the ${split} split has no readable images (${where})`);
  }
  return readable.map((img) => ({
    image: img.image,
    width: img.width,
    height: img.height,
    region: img.region,
    labels: img.labels,
    ...(heldoutLabels && img.region ? { heldout: readHeldout(img.image, heldoutLabels, attributes) } : {}),
  }));
}

/** The held-out labels of an image (measurement only: a missing or bad file gives none, invalid lines are dropped). */
function readHeldout(image: string, folder: string, attributes: readonly AttributeSpec[]): CellLabel[] {
  return readLldLabelFile(imageToLabelPath(image, folder), { attributes }).labels;
}
