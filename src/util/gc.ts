/**
 * Full garbage collections on demand, for threads that hold dead buffers while they wait. A loader worker's samples
 * are ~10 MB of short-lived ArrayBuffers each; V8 frees their memory only when the worker's isolate collects, and an
 * idle isolate never does: the dead buffers of its last batches stayed allocated while it waited for the next epoch
 * (150 MiB of a BCCD run's epoch-end resident size with 4 loader workers; BENCHMARKS.md, "Idle loader workers").
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/**
 * V8's full collection of the calling thread's isolate: `globalThis.gc` when node runs with --expose-gc, else the
 * same function taken from a new context with the flag switched on. The flag stays on: V8's flags are the process's,
 * and switching it off again raced with loader workers starting at the same moment (one worker's switch-off fell
 * between another's switch-on and its context: "gc is not defined"). Later contexts get a `gc` global too.
 */
export function fullGarbageCollection(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) return exposed;
  setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
}

/**
 * Runs `collect` once its owner has been idle for `delayMs`: call {@link busy} when work arrives and {@link idle} when
 * it is done. A thread that is handed work without pause never collects; one that waits gives its garbage back.
 * The timer does not keep the process alive.
 */
export class IdleCollector {
  #timer: NodeJS.Timeout | undefined;

  constructor(
    readonly delayMs: number,
    readonly collect: () => void = fullGarbageCollection(),
  ) {}

  /** Work arrived: no collection until the next {@link idle}. */
  busy(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** The work is done: collect after `delayMs` unless more work arrives first. */
  idle(): void {
    this.busy();
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.collect();
    }, this.delayMs);
    this.#timer.unref();
  }
}
