/**
 * Memory across the epochs of a training run (issue 24): after every epoch, the process's resident size (RSS now,
 * the peak within that epoch, and the peak so far), libtorch's live CPU bytes and tensors (the addon's counting
 * allocator), the JS heap and the ArrayBuffers; at the end, how flat memory stayed from epoch `--from` (3, counted
 * from 1) to the last epoch, judged on both the RSS at each epoch's end (the trainer has just returned freed pages to
 * the system: `releaseFreeMemory`) and each epoch's peak RSS (what a run must be given; what a leak raises).
 * One process: the trainer is called in-process and sampled through its epoch hook.
 *
 *   bin/sladet-node --expose-gc dist/bench/memory/run.js --data D.yaml [--cfg yolov5n] [--imgsz 640] [--batch 16]
 *     [--epochs 30] [--cache ram] [--hyp src/train/cfg/hyp.scratch-low.yaml] [--workers 2] [--from 3] [--out DIR]
 *   bin/sladet-node --expose-gc dist/bench/memory/run.js --synth 64 --cfg tiny --imgsz 128 …   (a synthetic dataset and
 *     the tests' tiny model: the small reproduction)
 *
 * BCCD as in BENCHMARKS.md: `bench/bccd/run.sh`'s conversion, then `--data /tmp/sladet-bccd/lld/data.yaml --cfg yolov5n
 * --imgsz 640 --batch 16 --epochs 30 --cache ram --hyp src/train/cfg/hyp.scratch-low.yaml --workers 2`, with
 * `/usr/bin/time -v` around it for the peak RSS next to Ultralytics'. With --expose-gc the JS heap is sampled after
 * a full collection (what is retained, not garbage not yet collected). Exits 1 when an epoch's end RSS or its peak RSS
 * is more than `--tolerance` (5 %) above epoch `--from`'s.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { collapseToOneClass, generateDataset } from "../../src/data/synth/index.js";
import { QUICKSTART_MODEL } from "../../src/demo/quickstart.js";
import { builtinModelYaml } from "../../src/model/config.js";
import {
  type AllocatorStats,
  allocatorStats,
  memoryStats,
  releaseFreeMemory,
  resetPeakBytes,
} from "../../src/torch/index.js";
import { train } from "../../src/train/trainer.js";

/** One epoch's sample (MiB, except the tensor count). */
export interface MemorySample {
  epoch: number;
  rss: number;
  /** The anonymous part of rss (heaps, allocator pages, stacks): what the process allocated. */
  rssAnon: number;
  /** The file-backed part of rss (libraries' code and data pages touched so far). */
  rssFile: number;
  /** jemalloc's statistics (MiB; null under another allocator): resident = active + freed pages not yet returned + metadata. */
  jemalloc: AllocatorStats | null;
  /** VmHWM: the process's peak resident size so far. */
  hwm: number;
  /** The peak resident size within this epoch (VmHWM since the previous sample, which resets it). */
  epochPeak: number;
  native: number;
  /** libtorch's peak live CPU bytes within this epoch: the floor under the epoch's peak RSS for tensors. */
  nativePeak: number;
  tensors: number;
  heap: number;
  external: number;
  arrayBuffers: number;
}

const MiB = 2 ** 20;

/** VmRSS (and its anonymous and file-backed parts) and VmHWM of this process (MiB), from /proc/self/status. */
function residentMiB(): { rss: number; rssAnon: number; rssFile: number; hwm: number } {
  const status = readFileSync("/proc/self/status", "utf8");
  const kB = (key: string) => Number(status.match(new RegExp(`^${key}:\\s+(\\d+) kB`, "m"))?.[1] ?? Number.NaN);
  return {
    rss: kB("VmRSS") / 1024,
    rssAnon: kB("RssAnon") / 1024,
    rssFile: kB("RssFile") / 1024,
    hwm: kB("VmHWM") / 1024,
  };
}

/**
 * Starts a new peak-RSS window: Linux sets VmHWM to the current VmRSS when "5" is written to clear_refs (4.0+).
 * Returns the overall peak it replaced (MiB).
 */
let overallPeak = 0;
function resetPeakWindow(windowPeak: number): number {
  overallPeak = Math.max(overallPeak, windowPeak);
  writeFileSync("/proc/self/clear_refs", "5");
  return overallPeak;
}

/** How long a sample waits after a full collection for V8 to free the dead ArrayBuffers' memory (off the main thread). */
const SWEEP_SETTLE_MS = 100;

/**
 * Samples the process at an epoch's end, then starts the next epoch's peak-RSS window. With --expose-gc the sample
 * is of what is retained: a full collection, a pause for V8's ArrayBuffer sweeper (it frees dead buffers' memory on
 * another thread, after gc() returns), then the allocator's freed pages returned as the trainer returns them
 * (`releaseFreeMemory`), so that buffers the collection found dead are freed and their pages returned before the RSS is
 * read (before, the release came first and those pages stayed resident, as many as the sweeper's timing left).
 */
export async function sampleMemory(epoch: number): Promise<MemorySample> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    await new Promise((settle) => setTimeout(settle, SWEEP_SETTLE_MS));
    releaseFreeMemory();
  }
  const m = process.memoryUsage();
  const n = memoryStats();
  const { rss, rssAnon, rssFile, hwm: epochPeak } = residentMiB();
  const jemalloc = allocatorStats();
  resetPeakBytes();
  return {
    epoch,
    rss,
    rssAnon,
    rssFile,
    jemalloc:
      jemalloc &&
      (Object.fromEntries(Object.entries(jemalloc).map(([k, v]) => [k, v / MiB])) as unknown as AllocatorStats),
    epochPeak,
    hwm: resetPeakWindow(epochPeak),
    native: n.allocatedBytes / MiB,
    nativePeak: n.peakBytes / MiB,
    tensors: n.liveTensors,
    heap: m.heapUsed / MiB,
    external: m.external / MiB,
    arrayBuffers: m.arrayBuffers / MiB,
  };
}

/** Growth of each quantity from the sample of epoch `from` (1-based) to the last: absolute, relative, per epoch. */
export function flatness(samples: readonly MemorySample[], from: number) {
  const first = samples.find((s) => s.epoch + 1 === from) ?? samples[0]!;
  const last = samples[samples.length - 1]!;
  const epochs = Math.max(1, last.epoch - first.epoch);
  const growth = (k: "rss" | "epochPeak" | "native" | "heap" | "arrayBuffers") => ({
    from: first[k],
    to: last[k],
    max: Math.max(...samples.filter((s) => s.epoch >= first.epoch).map((s) => s[k])),
    perEpoch: (last[k] - first[k]) / epochs,
  });
  const rss = growth("rss");
  const epochPeak = growth("epochPeak");
  return {
    rss,
    epochPeak,
    native: growth("native"),
    heap: growth("heap"),
    arrayBuffers: growth("arrayBuffers"),
    rssRise: rss.max / rss.from - 1,
    epochPeakRise: epochPeak.max / epochPeak.from - 1,
  };
}

function formatSample(s: MemorySample): string {
  const f = (x: number) => x.toFixed(1).padStart(8);
  return `epoch ${String(s.epoch + 1).padStart(3)}  rss ${f(s.rss)} (anon ${f(s.rssAnon)}, file ${f(s.rssFile)}${s.jemalloc ? `; jemalloc allocated ${f(s.jemalloc.allocated)} active ${f(s.jemalloc.active)} metadata ${f(s.jemalloc.metadata)} resident ${f(s.jemalloc.resident)}` : ""})  epoch peak ${f(s.epochPeak)}  hwm ${f(s.hwm)}  native ${f(s.native)}  native peak ${f(s.nativePeak)}  tensors ${String(s.tensors).padStart(5)}  heap ${f(s.heap)}  external ${f(s.external)}  arrayBuffers ${f(s.arrayBuffers)}`;
}

async function syntheticData(out: string, images: number, imgsz: number): Promise<string> {
  await generateDataset({ out, images, seed: 1, imageSize: imgsz, split: [0.75, 0.25, 0], onImage: () => {} });
  return collapseToOneClass(out);
}

async function main(): Promise<void> {
  const { values: a } = parseArgs({
    options: {
      data: { type: "string" },
      synth: { type: "string" },
      cfg: { type: "string", default: "yolov5n" },
      imgsz: { type: "string", default: "640" },
      batch: { type: "string", default: "16" },
      epochs: { type: "string", default: "30" },
      cache: { type: "string", default: "ram" },
      hyp: { type: "string", default: "src/train/cfg/hyp.scratch-low.yaml" },
      workers: { type: "string", default: "2" },
      from: { type: "string", default: "3" },
      tolerance: { type: "string", default: "0.05" },
      out: { type: "string", default: "/tmp/sladet-memory" },
      seed: { type: "string", default: "0" },
    },
  });
  const out = resolve(a.out!);
  const imgsz = Number(a.imgsz);
  const data = a.data ?? (a.synth ? await syntheticData(join(out, "data"), Number(a.synth), imgsz) : null);
  if (!data) throw new Error("give --data D.yaml or --synth N (images of a synthetic dataset)");
  const samples: MemorySample[] = [];
  const print = (s: MemorySample) => process.stdout.write(`${formatSample(s)}\n`);
  await train(
    {
      data,
      cfg: a.cfg === "tiny" ? { ...builtinModelYaml("n"), ...QUICKSTART_MODEL } : a.cfg!,
      hyp: a.hyp!,
      imgsz,
      batch: Number(a.batch),
      epochs: Number(a.epochs),
      cache: a.cache === "none" ? false : (a.cache as "ram" | "disk"),
      workers: Number(a.workers),
      seed: Number(a.seed),
      project: join(out, "runs"),
      name: "memory",
      existOk: true,
      noautoanchor: true,
      verbose: false,
    },
    {
      onEpochEnd: async (epoch) => {
        const s = await sampleMemory(epoch);
        samples.push(s);
        print(s);
      },
    },
  );
  const from = Number(a.from);
  const f = flatness(samples, from);
  const mb = (g: { from: number; to: number; perEpoch: number }) =>
    `${g.from.toFixed(1)} → ${g.to.toFixed(1)} MiB (${g.perEpoch >= 0 ? "+" : ""}${g.perEpoch.toFixed(2)} MiB/epoch)`;
  process.stdout.write(
    `from epoch ${from} to ${samples.length}: each epoch's peak rss ${mb(f.epochPeak)}, max ${f.epochPeak.max.toFixed(1)} MiB = ${(100 * f.epochPeakRise).toFixed(1)} % above epoch ${from}; ` +
      `epoch-end rss ${mb(f.rss)}, max ${(100 * f.rssRise).toFixed(1)} % above epoch ${from}; ` +
      `native ${mb(f.native)}; heap ${mb(f.heap)}; arrayBuffers ${mb(f.arrayBuffers)}; peak rss ${samples.at(-1)!.hwm.toFixed(1)} MiB\n`,
  );
  const tolerance = Number(a.tolerance);
  for (const [what, rise] of [
    ["epoch-end rss", f.rssRise],
    ["epochs' peak rss", f.epochPeakRise],
  ] as const) {
    if (rise <= tolerance) continue;
    process.stdout.write(`NOT FLAT: the ${what} rose ${(100 * rise).toFixed(1)} % > ${100 * tolerance} %\n`);
    process.exitCode = 1;
  }
}

await main();
