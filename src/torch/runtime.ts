/** Process-level engine facts and settings: memory counters, threads, devices, seeding. */
import { native } from "./native.js";

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

/**
 * How long jemalloc keeps the pages of freed blocks for reuse before it returns them to the system (ms; -1: until
 * {@link releaseFreeMemory}), for its arenas that follow the default (the launcher sets 30 s; blocks of 8 MiB and
 * more have their own arena, which returns them at once, unchanged). Returns the previous default, to restore it
 * with; null when jemalloc is not the allocator (nothing changed).
 */
export function setDirtyDecay(ms: number): number | null {
  return native.setDirtyDecay(ms);
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
