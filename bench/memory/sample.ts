/**
 * One sample of this process's memory at an epoch's end (issue 24): the resident size and its parts, the peak within
 * the epoch, libtorch's live bytes and tensors, the JS heap and the ArrayBuffers; and how flat a run's samples stayed.
 * Used by bench/memory/run.ts (long runs) and test/train/memory.test.ts (a tiny one).
 */
import { readFileSync, writeFileSync } from "node:fs";
import {
  type AllocatorStats,
  allocatorStats,
  memoryStats,
  releaseFreeMemory,
  resetPeakBytes,
} from "../../src/torch/index.js";
import { fullGarbageCollection } from "../../src/util/gc.js";

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
 * Returns the overall peak it replaced (MiB). Where clear_refs cannot be written (a sandbox), the windows do not
 * restart: each epoch's peak is then the peak so far.
 */
let overallPeak = 0;
function resetPeakWindow(windowPeak: number): number {
  overallPeak = Math.max(overallPeak, windowPeak);
  try {
    writeFileSync("/proc/self/clear_refs", "5");
  } catch {
    // the peak so far stands for the next window's
  }
  return overallPeak;
}

/** How long a sample waits after a full collection for V8 to free the dead ArrayBuffers' memory (off the main thread). */
const SWEEP_SETTLE_MS = 100;
const collectGarbage = fullGarbageCollection();

/**
 * Samples the process at an epoch's end, then starts the next epoch's peak-RSS window. The sample is of what is
 * retained: a full collection, a pause for V8's ArrayBuffer sweeper (it frees dead buffers' memory on
 * another thread, after gc() returns), then the allocator's freed pages returned as the trainer returns them
 * (`releaseFreeMemory`), so that buffers the collection found dead are freed and their pages returned before the RSS is
 * read (before, the release came first and those pages stayed resident, as many as the sweeper's timing left).
 */
export async function sampleMemory(epoch: number): Promise<MemorySample> {
  collectGarbage();
  await new Promise((settle) => setTimeout(settle, SWEEP_SETTLE_MS));
  releaseFreeMemory();
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

export function formatSample(s: MemorySample): string {
  const f = (x: number) => x.toFixed(1).padStart(8);
  return `epoch ${String(s.epoch + 1).padStart(3)}  rss ${f(s.rss)} (anon ${f(s.rssAnon)}, file ${f(s.rssFile)}${s.jemalloc ? `; jemalloc allocated ${f(s.jemalloc.allocated)} active ${f(s.jemalloc.active)} metadata ${f(s.jemalloc.metadata)} resident ${f(s.jemalloc.resident)}` : ""})  epoch peak ${f(s.epochPeak)}  hwm ${f(s.hwm)}  native ${f(s.native)}  native peak ${f(s.nativePeak)}  tensors ${String(s.tensors).padStart(5)}  heap ${f(s.heap)}  external ${f(s.external)}  arrayBuffers ${f(s.arrayBuffers)}`;
}
