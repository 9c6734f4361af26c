/**
 * Loader benchmark (issue 6): training images per second with mosaic at 640 from the RAM cache, with 1 and 2 worker
 * threads, batches converted to tensors on the main thread as training does; optionally (--step) one epoch of a small
 * dataset with a real training step (bench/engine's YOLOv5n-like conv stack, forward + backward + SGD) fed by the
 * loader vs fed by pre-made tensors, which shows what the loader costs a training run on the same cores.
 *
 *   bin/sladet-node dist/bench/loader/run.js [--images 32] [--batch 8] [--imgsz 640] [--epochs 3] [--workers 1,2]
 *     [--no-cache-too] [--step] [--data data.yaml]
 *
 * Without --data the dataset is synthetic: 640×640 PNG smears with a labelled region each (like LLD's fields of view).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DataLoader, type LoaderItem, type LoaderOptions, loadSplitItems } from "../../src/data/loader.js";
import { getNumThreads } from "../../src/torch/index.js";
import { writeSmearDataset } from "../../test/data/smear-fixture.js";
import { ConvStackStep } from "./step.js";

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const fmt = (xs: readonly number[], digits = 1) =>
  `median ${median(xs).toFixed(digits)} (min ${Math.min(...xs).toFixed(digits)}, max ${Math.max(...xs).toFixed(digits)})`;

/** Images per second of each timed epoch (the first epoch, which fills the cache, is not timed when caching). */
async function loaderRate(
  items: readonly LoaderItem[],
  options: Omit<LoaderOptions, "items">,
  epochs: number,
): Promise<number[]> {
  const loader = new DataLoader({ items, ...options });
  try {
    if (options.cache) await loader.fillCache();
    else for await (const b of loader.epoch(100)) b.dispose(); // warm the workers (module load, JIT)
    const rates: number[] = [];
    for (let e = 0; e < epochs; e++) {
      const t0 = performance.now();
      let n = 0;
      for await (const batch of loader.epoch(e)) {
        n += batch.indices.length;
        batch.dispose();
      }
      rates.push(n / ((performance.now() - t0) / 1000));
    }
    return rates;
  } finally {
    await loader.dispose();
  }
}

/** Seconds of one epoch of training steps, fed by the loader or by tensors made beforehand. */
async function trainEpoch(
  items: readonly LoaderItem[],
  options: Omit<LoaderOptions, "items">,
  premade: boolean,
  epoch: number,
): Promise<number> {
  const step = new ConvStackStep();
  const loader = new DataLoader({ items, ...options });
  try {
    await loader.fillCache();
    // warm-up: one step, and the workers' first batch
    for await (const b of loader.epoch(1000)) {
      step.run(b.images);
      b.dispose();
      break;
    }
    if (premade) {
      const batches = [];
      for await (const b of loader.epoch(epoch)) batches.push(b);
      const t0 = performance.now();
      for (const b of batches) step.run(b.images);
      const secs = (performance.now() - t0) / 1000;
      for (const b of batches) b.dispose();
      return secs;
    }
    const t0 = performance.now();
    for await (const b of loader.epoch(epoch)) {
      step.run(b.images);
      b.dispose();
    }
    return (performance.now() - t0) / 1000;
  } finally {
    await loader.dispose();
    step.dispose();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      images: { type: "string", default: "32" },
      batch: { type: "string", default: "8" },
      imgsz: { type: "string", default: "640" },
      epochs: { type: "string", default: "3" },
      workers: { type: "string", default: "1,2" },
      "no-cache-too": { type: "boolean", default: false },
      step: { type: "boolean", default: false },
      data: { type: "string" },
    },
  });
  const batchSize = Number(values.batch);
  const imgSize = Number(values.imgsz);
  const epochs = Number(values.epochs);
  const dir = mkdtempSync(join(tmpdir(), "sladet-bench-loader-"));
  try {
    let items: LoaderItem[];
    if (values.data) {
      items = await loadSplitItems(values.data, "train");
    } else {
      const n = Number(values.images);
      const specs = Array.from({ length: n }, (_, i) => {
        const x1 = (i * 37) % 320;
        const y1 = (i * 53) % 320;
        return { width: 640, height: 640, region: { x1, y1, x2: x1 + 320, y2: y1 + 320 }, cells: 20 };
      });
      items = await loadSplitItems(await writeSmearDataset(dir, specs), "train", { cache: false });
    }
    console.log(
      `CPU: ${cpus()[0]?.model} × ${cpus().length}; torch threads ${getNumThreads()}; ${new Date().toISOString()}`,
    );
    console.log(
      `dataset: ${items.length} images${values.data ? ` from ${values.data}` : " (synthetic 640×640 PNG)"}; batch ${batchSize}; imgsz ${imgSize}; hyp.scratch-high (mosaic 1, mixup 0.1)`,
    );
    const base = { imgSize, batchSize, augment: true, seed: 0 } as const;
    for (const workers of values.workers.split(",").map(Number)) {
      const rates = await loaderRate(items, { ...base, workers, cache: "ram" }, epochs);
      console.log(`loader, RAM cache, ${workers} worker(s): img/s ${fmt(rates)} over ${epochs} epochs`);
      if (values["no-cache-too"]) {
        const plain = await loaderRate(items, { ...base, workers, cache: false }, epochs);
        console.log(`loader, no cache,  ${workers} worker(s): img/s ${fmt(plain)} over ${epochs} epochs`);
      }
    }
    if (values.step) {
      const opts = { ...base, workers: 1, cache: "ram" as const };
      const fed: number[] = [];
      const pre: number[] = [];
      for (let rep = 0; rep < epochs; rep++) {
        // alternate the order so drift in machine load favours neither
        if (rep % 2 === 0) {
          fed.push(await trainEpoch(items, opts, false, rep));
          pre.push(await trainEpoch(items, opts, true, rep));
        } else {
          pre.push(await trainEpoch(items, opts, true, rep));
          fed.push(await trainEpoch(items, opts, false, rep));
        }
      }
      const n = items.length;
      console.log(
        `train epoch (conv stack step, batch ${batchSize}), pre-made tensors: s ${fmt(pre, 2)}; ${(n / median(pre)).toFixed(2)} img/s`,
      );
      console.log(
        `train epoch (conv stack step, batch ${batchSize}), real loader (1 worker, RAM): s ${fmt(fed, 2)}; ${(n / median(fed)).toFixed(2)} img/s`,
      );
      console.log(`loader overhead on the epoch: ${((median(fed) / median(pre) - 1) * 100).toFixed(1)}%`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
