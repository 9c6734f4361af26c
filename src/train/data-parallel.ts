/**
 * Data-parallel training as YOLOv5 runs it under DDP, over a c10d process group (src/torch/distributed.ts): identical
 * initial weights (broadcast from rank 0), gradients averaged over the ranks before each optimizer step (bucketed
 * all-reduce), the ranks agreeing on when to stop, and rank 0 alone validating and writing. A collective that fails
 * (a peer died, or hung past the timeout) ends this rank with a {@link DistributedError} naming the ranks that stopped
 * responding.
 */
import {
  type Module,
  type Parameter,
  ProcessGroup,
  type ProcessGroupOptions,
  type Tensor,
  tensor,
  zerosLike,
} from "../torch/index.js";

/** How long a failing rank waits for the other ranks to report the same failure before naming those that did not. */
export const FAULT_REPORT_GRACE_MS = 3000;
/** Poll interval while waiting for those reports. */
const FAULT_POLL_MS = 100;

/** Where and as whom this process trains in a data-parallel run. */
export interface DistributedOptions extends ProcessGroupOptions {
  /** Batch statistics over every rank's images (SyncBatchNorm). @default false */
  syncBn?: boolean;
  /** Largest flat bucket of the gradient all-reduce, in bytes. @default DDP's 25 MiB */
  bucketBytes?: number;
}

/** A collective failed: names this rank and the ranks that stopped responding. */
export class DistributedError extends Error {
  override name = "DistributedError";
}

/** Sleeps synchronously (the event loop has nothing to do while a collective is pending anyway). */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** This process's part in a data-parallel run. */
export class DataParallel {
  readonly group: ProcessGroup;
  readonly syncBn: boolean;
  readonly #bucketBytes: number | undefined;

  private constructor(group: ProcessGroup, options: DistributedOptions) {
    this.group = group;
    this.syncBn = options.syncBn ?? false;
    this.#bucketBytes = options.bucketBytes;
  }

  /** Joins the run's process group (returns when every rank joined). */
  static join(options: DistributedOptions): DataParallel {
    try {
      return new DataParallel(ProcessGroup.init(options), options);
    } catch (e) {
      throw new DistributedError(
        `rank ${options.rank} of ${options.worldSize} could not join the process group at ${options.masterAddr}:${options.masterPort}: ${(e as Error).message}`,
      );
    }
  }

  get rank(): number {
    return this.group.rank;
  }
  get worldSize(): number {
    return this.group.worldSize;
  }
  /** Rank 0: the one that validates and writes the run folder. */
  get isMain(): boolean {
    return this.group.rank === 0;
  }

  /** Every rank gets rank 0's parameters and buffers (DDP's initial broadcast). */
  broadcastModel(model: Module): void {
    const tensors = model.namedSlots().map(([, slot]) => slot.data);
    this.#collective("the initial weight broadcast", () => this.group.broadcast(tensors, 0, this.#bucketBytes));
  }

  /**
   * Averages the gradients of `params` over the ranks (in place). A parameter without a gradient gets a zero one
   * first, so every rank packs the same buckets.
   */
  averageGradients(params: readonly Parameter[]): void {
    const grads: Tensor[] = [];
    try {
      for (const p of params) {
        if (!p.data.requiresGrad) continue;
        let g = p.grad;
        if (g === null) {
          g = zerosLike(p.data);
          p.data.setGrad(g); // the parameter's gradient is this tensor (shared storage)
        }
        grads.push(g);
      }
      this.#collective("the gradient all-reduce", () => this.group.allReduceMean(grads, this.#bucketBytes));
    } finally {
      for (const g of grads) g.dispose();
    }
  }

  /**
   * Every rank gets rank 0's buffers (batch-norm running statistics), as DDP's broadcast_buffers does before each
   * forward: without it each rank's statistics follow its own images, and so would its EMA (phase 2's teacher, the
   * attribute head's features), while only rank 0's is saved. Not needed with --sync-bn (the statistics agree).
   */
  broadcastBuffers(model: Module): void {
    const tensors = model.namedBuffers().map(([, buffer]) => buffer.data);
    this.#collective("the buffer broadcast", () => this.group.broadcast(tensors, 0, this.#bucketBytes));
  }

  /** Element-wise sums over the ranks of a few counts (float64, exact for integers below 2^53). */
  sumCounts(counts: readonly number[], what: string): number[] {
    if (counts.length === 0) return [];
    const t = tensor([...counts], undefined, { dtype: "float64" });
    try {
      this.#collective(what, () => this.group.allReduceSum(t));
      return t.toArray() as number[];
    } finally {
      t.dispose();
    }
  }

  /** Every rank's `values` (their lengths may differ), in rank order: an all-gather of the lengths, then of the values. */
  gatherValues(values: readonly number[], what: string): number[][] {
    const lengths = this.#gather([values.length], what).map((row) => row[0]!);
    const width = Math.max(...lengths);
    if (width === 0) return lengths.map(() => []);
    const padded = [...values, ...new Array<number>(width - values.length).fill(0)];
    return this.#gather(padded, what).map((row, r) => row.slice(0, lengths[r]));
  }

  /** All-gather of equally long float64 rows. */
  #gather(row: readonly number[], what: string): number[][] {
    const t = tensor([...row], undefined, { dtype: "float64" });
    try {
      const all = this.#collective(what, () => this.group.allGather(t));
      try {
        const flat = all.toArray() as number[];
        return Array.from({ length: this.worldSize }, (_, r) => flat.slice(r * row.length, (r + 1) * row.length));
      } finally {
        all.dispose();
      }
    } finally {
      t.dispose();
    }
  }

  /** True on every rank when it is true on any rank (a Ctrl-C on one rank, rank 0's early stop). */
  any(flag: boolean, what: string): boolean {
    const t = tensor([flag ? 1 : 0], undefined, { dtype: "float32" });
    try {
      this.#collective(what, () => this.group.allReduceSum(t));
      return (t.item() as number) > 0;
    } finally {
      t.dispose();
    }
  }

  /** A string rank 0 decides, received by every rank (e.g. the run folder). */
  shareFromMain(key: string, value: () => string): string {
    if (this.isMain) {
      const v = value();
      this.#collective(`publishing ${key}`, () => this.group.storeSet(`sladet/${key}`, v));
      return v;
    }
    return this.#collective(`waiting for rank 0's ${key}`, () => this.group.storeGet(`sladet/${key}`));
  }

  /** Returns when every rank reached it. */
  barrier(what: string): void {
    this.#collective(what, () => this.group.barrier());
  }

  /** Leaves the group after a last barrier (so rank 0's store outlives the others' last use of it). */
  close(): void {
    try {
      this.group.barrier();
    } finally {
      this.group.destroy();
    }
  }

  /** Leaves the group at once (after a failure). */
  abort(): void {
    this.group.destroy();
  }

  /** Runs a collective; a failure becomes a DistributedError naming the ranks that did not report it too. */
  #collective<T>(what: string, run: () => T): T {
    try {
      return run();
    } catch (e) {
      if (e instanceof DistributedError) throw e;
      throw new DistributedError(this.#diagnose(what, (e as Error).message));
    }
  }

  /**
   * Why a collective failed: this rank posts its failure in the store, waits up to FAULT_REPORT_GRACE_MS for the
   * others' posts, and names the ranks that posted nothing (dead or hung). Without the store (rank 0, its host, is
   * gone) that is the answer.
   */
  #diagnose(what: string, cause: string): string {
    const { rank, worldSize } = this;
    const head = `distributed training failed on rank ${rank} of ${worldSize} during ${what}`;
    try {
      this.group.storeSet(`sladet/fault/${rank}`, cause);
    } catch {
      return `${head}: rank 0 (the rendezvous host) is unreachable: it died or was stopped (${cause})`;
    }
    const others = Array.from({ length: worldSize }, (_, r) => r).filter((r) => r !== rank);
    let silent = others;
    for (let waited = 0; ; waited += FAULT_POLL_MS) {
      try {
        silent = silent.filter((r) => !this.group.storeHas(`sladet/fault/${r}`));
      } catch {
        return `${head}: rank 0 (the rendezvous host) became unreachable: it died or was stopped (${cause})`;
      }
      if (silent.length === 0 || waited >= FAULT_REPORT_GRACE_MS) break;
      sleepSync(FAULT_POLL_MS);
    }
    if (silent.length === 0) return `${head}: every rank failed the same way (${cause})`;
    const who = silent.length === 1 ? `rank ${silent[0]}` : `ranks ${silent.join(", ")}`;
    return `${head}: ${who} stopped responding (died, or hung past the ${this.group.timeoutMs / 1000} s timeout) (${cause})`;
  }
}
