/** Process-level engine facts and settings: memory counters, threads, devices, seeding. */
import { type AllocatorStats, native } from "./native.js";

export type { AllocatorStats };

/** Native memory as libtorch's CPU allocator sees it, plus this environment's live tensor handles. */
export interface MemoryStats {
  /** Bytes of CPU tensor storage alive now (all environments of the process; includes autograd-saved tensors). */
  allocatedBytes: number;
  /** High-water mark of allocatedBytes since the last resetPeakBytes(). */
  peakBytes: number;
  /** Number of CPU storage blocks alive now. */
  allocations: number;
  /** Tensor handles of this environment not yet disposed or collected. */
  liveTensors: number;
}

export function memoryStats(): MemoryStats {
  return native.memoryStats();
}

export function resetPeakBytes(): void {
  native.resetPeakBytes();
}

/**
 * Returns the pages the C allocator holds but no longer uses to the system now (jemalloc: every arena purged; glibc:
 * `malloc_trim`), so the resident size afterwards is what is in use. Costs page faults when the memory is needed again:
 * call it between phases of work (the trainer does at each epoch's end), not inside a loop. Says which allocator it
 * asked ("none" when jemalloc refused).
 */
export function releaseFreeMemory(): "jemalloc" | "glibc" | "none" {
  return native.releaseFreeMemory();
}

/** jemalloc's statistics now (what the C allocator holds, by kind); null under another allocator. */
export function allocatorStats(): AllocatorStats | null {
  return native.allocatorStats();
}

/**
 * The freed pages {@link keepFreedPages} may keep before it returns them: unbounded, a training epoch on WBCAtt (386
 * batches of 16 at 192 px with the attribute head) kept 5.4 GB beside 1.1 GB in use partway through and reached a
 * resident size of 14–16 GB by its end, while libtorch's bytes and the JS heap stayed flat (jemalloc does not always
 * reuse them); one release took 0.5 s and left 1.5 GB.
 */
export const KEPT_PAGES_LIMIT_BYTES = 1024 ** 3;
/** How often {@link keepFreedPages} compares the kept pages with its limit (one allocator statistics read each). */
export const KEPT_PAGES_CHECK_MS = 2000;

/** Which of jemalloc's arenas {@link keepFreedPages} stops returning pages, and how many it may keep. */
export interface KeepFreedPagesOptions {
  /**
   * Also the oversize arena (blocks of 8 MiB and more), when it exists now with a decay of its own (jemalloc makes it
   * on the first such block and gives it a decay of 0, i.e. returns its blocks at once, only while the default decay is
   * positive: made later, it keeps them like the rest). Inference wants it kept (an 11 MiB activation freed and faulted
   * back costs ~4 ms per use). @default false
   */
  oversize?: boolean;
  /** Kept pages above this are returned at the next check. @default KEPT_PAGES_LIMIT_BYTES */
  limitBytes?: number;
  /**
   * Milliseconds between two checks, on a timer that does not hold the process open (it runs when the event loop
   * does: a loop that awaits between its steps is checked between them). @default KEPT_PAGES_CHECK_MS
   */
  checkEveryMs?: number;
}

/**
 * Keeps the pages of freed blocks for reuse instead of returning them to the system on jemalloc's decay timer (the
 * launcher's 30 s is a smooth curve, so work that frees and reallocates the same sizes in a loop faults part of them
 * back in on every pass), up to `limitBytes` of them ({@link releaseKeptPagesAbove} on a timer), until the returned
 * function is called: it stops the timer, restores every arena's previous decay and returns the kept pages
 * ({@link releaseFreeMemory}). Arenas with a decay of their own (the oversize arena) are kept only with `oversize`.
 * Without jemalloc nothing changes (the function still releases free memory).
 */
export function keepFreedPages(options: KeepFreedPagesOptions = {}): () => void {
  const before = native.getDirtyDecays();
  let bound: ReturnType<typeof setInterval> | undefined;
  if (before) {
    const defaultMs = before[0];
    const keep = before.map((ms, i) => (ms !== null && (i === 0 || options.oversize || ms === defaultMs) ? -1 : null));
    native.setDirtyDecays(keep);
    const limit = options.limitBytes ?? KEPT_PAGES_LIMIT_BYTES;
    bound = setInterval(() => releaseKeptPagesAbove(limit), options.checkEveryMs ?? KEPT_PAGES_CHECK_MS).unref();
  }
  let restored = false;
  return () => {
    if (restored) return;
    restored = true;
    clearInterval(bound);
    if (before) native.setDirtyDecays(before);
    releaseFreeMemory();
  };
}

/** Resident bytes jemalloc holds with no live block in them: freed pages not yet returned to the system. */
export function keptPageBytes(stats: AllocatorStats): number {
  return stats.resident - stats.active - stats.metadata;
}

/**
 * Returns the pages jemalloc keeps without a live block in them (resident − active − metadata: freed, not yet returned)
 * when there are more than `limitBytes` of them; true when it did. Costs one statistics read (a jemalloc epoch
 * refresh) when under the limit. {@link keepFreedPages} calls it on a timer.
 */
export function releaseKeptPagesAbove(limitBytes: number): boolean {
  const s = native.allocatorStats();
  if (!s || keptPageBytes(s) <= limitBytes) return false;
  native.releaseFreeMemory();
  return true;
}

/** jemalloc's decay times (ms; -1: never): the default for new arenas and each arena's; null without jemalloc. */
export function dirtyDecays(): { default: number; arenas: Array<number | null> } | null {
  const all = native.getDirtyDecays();
  return all ? { default: all[0]!, arenas: all.slice(1) } : null;
}

/** libtorch's intra-op thread count (set from SLADET_THREADS or the core count at load). */
export function getNumThreads(): number {
  return native.getNumThreads();
}

export function setNumThreads(n: number): void {
  native.setNumThreads(n);
}

/** Version of the libtorch the addon was built against. */
export const torchVersion: string = native.torchVersion;

export function cudaDeviceCount(): number {
  return native.cudaDeviceCount();
}

export function cudaIsAvailable(): boolean {
  return native.cudaDeviceCount() > 0;
}

/**
 * Validates a device name ("cpu", "cuda", "cuda:N") against this machine; throws a message a user can act on.
 * Returns the canonical name.
 */
export function resolveDevice(device: string): string {
  const d = device.trim().toLowerCase();
  if (d === "cpu") return "cpu";
  const m = /^(?:cuda)(?::(\d+))?$/.exec(d) ?? /^(\d+)$/.exec(d);
  if (!m) throw new Error(`unknown device "${device}": expected cpu, cuda, cuda:N or N`);
  const index = Number(m[1] ?? 0);
  const count = cudaDeviceCount();
  if (count === 0) {
    throw new Error(
      `device "${device}" requested but this libtorch (${torchVersion}) has no CUDA device; ` +
        "use --device cpu, or build against a CUDA libtorch with LIBTORCH=/path/to/libtorch sh tools/setup.sh",
    );
  }
  if (index >= count) throw new Error(`device "${device}" requested but only ${count} CUDA device(s) exist`);
  return `cuda:${index}`;
}
