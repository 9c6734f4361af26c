/**
 * Predictions on demand: the model opens on the first request, through the public API (`load()` and
 * `Detector.detect`, src/api), and each image's cells are cached while the image file keeps its size and time.
 */
import { statSync } from "node:fs";
import type { LoadOptions } from "../api/detector.js";
import type { PredictedCell } from "../infer/prediction-json.js";
import type { PredictOptions } from "../infer/predictor.js";

/** What the studio needs of a model: its class names and the cells of an image file. */
export interface CellFinder {
  readonly names: readonly string[];
  find(file: string): Promise<PredictedCell[]>;
  dispose(): Promise<void>;
}

/** Options of {@link openDetectorFinder}. */
export interface DetectorFinderOptions {
  load?: LoadOptions;
  predict?: PredictOptions & { imgsz?: number };
}

/** A {@link CellFinder} over the public API's detector (libtorch, or onnxruntime for an `.onnx` file). */
export async function openDetectorFinder(weights: string, options: DetectorFinderOptions = {}): Promise<CellFinder> {
  const { load } = await import("../api/detector.js"); // the engine loads only when a prediction is asked for
  const detector = await load(weights, options.load ?? {});
  return {
    names: detector.names,
    async find(file) {
      const [result] = await detector.detect(file, options.predict ?? {});
      return result?.cells ?? [];
    },
    dispose: () => detector.dispose(),
  };
}

/** Most images whose predictions are kept. */
export const PREDICTION_CACHE_SIZE = 4096;

/** Cached predictions per image file, from one model opened lazily (and once, even under concurrent requests). */
export class PredictionCache {
  readonly #open: () => Promise<CellFinder>;
  #finder: Promise<CellFinder> | null = null;
  readonly #cells = new Map<string, { stamp: string; cells: PredictedCell[] }>();
  #queue: Promise<unknown> = Promise.resolve();

  constructor(open: () => Promise<CellFinder>) {
    this.#open = open;
  }

  /** The model (opened on first use; a failed open is retried on the next call). */
  finder(): Promise<CellFinder> {
    this.#finder ??= this.#open().catch((e) => {
      this.#finder = null;
      throw e;
    });
    return this.#finder;
  }

  /** The cells of `file`, from the cache when the file is unchanged; one prediction runs at a time. */
  async cells(file: string): Promise<{ cells: PredictedCell[]; cached: boolean; names: readonly string[] }> {
    const finder = await this.finder();
    const s = statSync(file);
    const stamp = `${s.size}:${s.mtimeMs}`;
    const hit = this.#cells.get(file);
    if (hit && hit.stamp === stamp) return { cells: hit.cells, cached: true, names: finder.names };
    const run = this.#queue.then(() => finder.find(file));
    this.#queue = run.catch(() => undefined);
    const cells = await run;
    if (this.#cells.size >= PREDICTION_CACHE_SIZE) this.#cells.delete(this.#cells.keys().next().value!);
    this.#cells.set(file, { stamp, cells });
    return { cells, cached: false, names: finder.names };
  }

  /** Frees the model, if it was opened. */
  async dispose(): Promise<void> {
    const finder = this.#finder;
    this.#finder = null;
    if (finder) await (await finder.catch(() => null))?.dispose();
  }
}
