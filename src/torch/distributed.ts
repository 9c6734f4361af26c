/**
 * Collectives between processes over libtorch's c10d (native/dist.cc): a TCPStore rendezvous, whose server runs in
 * rank 0, and a Gloo process group over it. Every call blocks until all ranks took part, or fails after the group's
 * timeout (a dead peer usually fails it at once: its connection closes). Tensors are CPU tensors.
 */
import { type GroupHandle, native } from "./native.js";
import { Tensor } from "./tensor.js";

/** torch.distributed's default collective timeout (kProcessGroupDefaultTimeout, 30 minutes). */
export const DEFAULT_DIST_TIMEOUT_MS = 30 * 60 * 1000;
/** Largest flat bucket of one all-reduce or broadcast (DDP's bucket_cap_mb, 25 MiB). */
export const DEFAULT_BUCKET_BYTES = 25 * 2 ** 20;

/** Where and as whom a process joins a group. */
export interface ProcessGroupOptions {
  /** Address of rank 0's rendezvous server (torchrun's MASTER_ADDR). */
  masterAddr: string;
  /** Its port (MASTER_PORT). */
  masterPort: number;
  /** This process's rank, 0 ≤ rank < worldSize (RANK). */
  rank: number;
  /** Number of processes (WORLD_SIZE). */
  worldSize: number;
  /** Rendezvous and collective timeout. @default 30 minutes (torch.distributed's) */
  timeoutMs?: number;
}

/** A joined process group; {@link ProcessGroup.destroy} it when done (rank 0's store server stops with it). */
export class ProcessGroup {
  readonly rank: number;
  readonly worldSize: number;
  readonly timeoutMs: number;
  #handle: GroupHandle | null;

  private constructor(handle: GroupHandle, options: Required<ProcessGroupOptions>) {
    this.#handle = handle;
    this.rank = options.rank;
    this.worldSize = options.worldSize;
    this.timeoutMs = options.timeoutMs;
  }

  /** Joins the group: returns when all `worldSize` ranks met (or throws after the timeout). */
  static init(options: ProcessGroupOptions): ProcessGroup {
    const resolved = { timeoutMs: DEFAULT_DIST_TIMEOUT_MS, ...options };
    const handle = native.distInit({
      host: resolved.masterAddr,
      port: resolved.masterPort,
      rank: resolved.rank,
      worldSize: resolved.worldSize,
      timeoutMs: resolved.timeoutMs,
    });
    return new ProcessGroup(handle, resolved);
  }

  get #h(): GroupHandle {
    if (this.#handle === null) throw new Error("the process group was destroyed");
    return this.#handle;
  }

  /** Each tensor becomes the mean of its values over the ranks (in place), packed into flat buckets. */
  allReduceMean(tensors: readonly Tensor[], bucketBytes = DEFAULT_BUCKET_BYTES): void {
    if (tensors.length > 0)
      native.distAllReduceMean(
        this.#h,
        tensors.map((t) => t.handle),
        bucketBytes,
      );
  }

  /** The tensor (contiguous) becomes its sum over the ranks, in place. */
  allReduceSum(tensor: Tensor): void {
    native.distAllReduceSum(this.#h, tensor.handle);
  }

  /** Σ over the ranks of `x`, differentiable: its backward sums the ranks' gradients (SyncBatchNorm's statistics). */
  allReduceSumAutograd(x: Tensor): Tensor {
    return new Tensor(native.distAllReduceSumAutograd(this.#h, x.handle));
  }

  /** Every rank's tensors become `root`'s (in place). */
  broadcast(tensors: readonly Tensor[], root = 0, bucketBytes = DEFAULT_BUCKET_BYTES): void {
    if (tensors.length > 0)
      native.distBroadcast(
        this.#h,
        tensors.map((t) => t.handle),
        root,
        bucketBytes,
      );
  }

  /** Every rank's `tensor`, stacked in rank order: [worldSize, ...tensor.shape]. */
  allGather(tensor: Tensor): Tensor {
    return new Tensor(native.distAllGather(this.#h, tensor.handle));
  }

  /** Returns when every rank reached it. */
  barrier(): void {
    native.distBarrier(this.#h);
  }

  /** Sets a key of the rendezvous store (visible to every rank). */
  storeSet(key: string, value: string): void {
    native.distStoreSet(this.#h, key, value);
  }

  /** A key's value, waiting up to `timeoutMs` for some rank to set it. */
  storeGet(key: string, timeoutMs = this.timeoutMs): string {
    return native.distStoreGet(this.#h, key, timeoutMs);
  }

  /** Whether a key is set (does not wait). */
  storeHas(key: string): boolean {
    return native.distStoreCheck(this.#h, key);
  }

  /** Leaves the group; later calls throw. Idempotent. */
  destroy(): void {
    if (this.#handle === null) return;
    native.distDestroy(this.#handle);
    this.#handle = null;
  }
}
