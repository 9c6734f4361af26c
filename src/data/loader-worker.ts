/**
 * Entry point of a loader worker thread: receives {@link MakerInit} as workerData, answers each task message with a
 * batch whose buffers are transferred (zero copy). Never imports the native addon (design.md §2 lesson 8).
 */
import { parentPort, workerData } from "node:worker_threads";
import sharp from "sharp";
import { IdleCollector } from "../util/gc.js";
import { BatchMaker, type MakerInit, type MakerTask } from "./batch-maker.js";
import { rawBatchTransferList } from "./raw-batch.js";

/** A task with the pool's id for the reply. */
export interface WorkerRequest {
  id: number;
  task: MakerTask;
}

/** The reply to a {@link WorkerRequest}. */
export type WorkerReply =
  | { id: number; ok: true; batch?: import("./raw-batch.js").RawBatch; count?: number }
  | { id: number; ok: false; error: string };

const port = parentPort;
if (!port) throw new Error("loader-worker.js runs only as a worker thread");
// Several workers decode at once: one libvips thread each keeps them from oversubscribing the cores.
sharp.concurrency(1);
sharp.cache(false);
const maker = new BatchMaker(workerData as MakerInit);

/**
 * How long a worker waits without a task before a full collection of its isolate frees its dead sample buffers.
 * Within an epoch it collects whenever the prefetch queue is full (a few ms per batch); between epochs, and while the
 * other loader (training or validation) runs, it holds no garbage.
 */
const LOADER_IDLE_GC_MS = 200;
const collector = new IdleCollector(LOADER_IDLE_GC_MS);

port.on("message", async ({ id, task }: WorkerRequest) => {
  collector.busy();
  try {
    if (task.kind === "cache") {
      const reply: WorkerReply = { id, ok: true, count: await maker.fillCache(task.indices) };
      port.postMessage(reply);
    } else {
      const batch = await maker.makeBatch(task);
      const reply: WorkerReply = { id, ok: true, batch };
      port.postMessage(reply, rawBatchTransferList(batch));
    }
  } catch (e) {
    const reply: WorkerReply = { id, ok: false, error: e instanceof Error ? (e.stack ?? e.message) : String(e) };
    port.postMessage(reply);
  }
  collector.idle();
});
