/**
 * Runs {@link BatchMaker} tasks in worker threads (or inline on the calling thread with 0 workers). Each worker takes
 * one task at a time; a worker is referenced (keeps the process alive) only while it has a task, so a loader that is
 * never disposed does not hang the process at exit. A worker that dies rejects its task and every later one.
 */
import { Worker } from "node:worker_threads";
import { BatchMaker, type MakerInit, type MakerTask } from "./batch-maker.js";
import type { WorkerReply, WorkerRequest } from "./loader-worker.js";
import type { RawBatch } from "./raw-batch.js";

/** Result of a task: a batch, or the number of images cached. */
export type TaskResult = { batch: RawBatch } | { count: number };

/** Something that runs maker tasks. */
export interface TaskRunner {
  run(task: MakerTask): Promise<TaskResult>;
  close(): Promise<void>;
}

/** Runs tasks on the calling thread, one after another (`workers: 0`: debugging, tests, tiny datasets). */
export class InlineRunner implements TaskRunner {
  readonly #maker: BatchMaker;
  #tail: Promise<unknown> = Promise.resolve();

  constructor(init: MakerInit) {
    this.#maker = new BatchMaker(init);
  }

  run(task: MakerTask): Promise<TaskResult> {
    const next = this.#tail.then(async (): Promise<TaskResult> => {
      if (task.kind === "cache") return { count: await this.#maker.fillCache(task.indices) };
      return { batch: await this.#maker.makeBatch(task) };
    });
    this.#tail = next.catch(() => undefined);
    return next;
  }

  async close(): Promise<void> {
    await this.#tail;
  }
}

interface Pending {
  id: number;
  task: MakerTask;
  resolve: (r: TaskResult) => void;
  reject: (e: Error) => void;
}

/** The worker file next to this module (dist/src/data/loader-worker.js once compiled). */
const WORKER_URL = new URL("./loader-worker.js", import.meta.url);

/** A fixed pool of loader workers. */
export class WorkerPool implements TaskRunner {
  readonly #workers: Worker[] = [];
  readonly #idle: Worker[] = [];
  readonly #busy = new Map<Worker, Pending>();
  readonly #queue: Pending[] = [];
  #nextId = 0;
  #failure: Error | undefined;
  #closed = false;

  constructor(size: number, init: MakerInit) {
    for (let i = 0; i < size; i++) {
      const worker = new Worker(WORKER_URL, { workerData: init, name: `sladet-loader-${i}` });
      worker.unref();
      worker.on("message", (reply: WorkerReply) => this.#onReply(worker, reply));
      worker.on("error", (e) => this.#fail(new Error(`loader worker ${i} failed: ${e.message}`)));
      worker.on("exit", (code) => {
        if (!this.#closed) this.#fail(new Error(`loader worker ${i} exited (code ${code})`));
      });
      this.#workers.push(worker);
      this.#idle.push(worker);
    }
  }

  /** Number of workers. */
  get size(): number {
    return this.#workers.length;
  }

  run(task: MakerTask): Promise<TaskResult> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#closed) return Promise.reject(new Error("the loader was disposed"));
    return new Promise((resolve, reject) => {
      this.#queue.push({ id: this.#nextId++, task, resolve, reject });
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#idle.length > 0 && this.#queue.length > 0) {
      const worker = this.#idle.pop()!;
      const job = this.#queue.shift()!;
      this.#busy.set(worker, job);
      worker.ref();
      const request: WorkerRequest = { id: job.id, task: job.task };
      worker.postMessage(request);
    }
  }

  #onReply(worker: Worker, reply: WorkerReply): void {
    const job = this.#busy.get(worker);
    if (!job || job.id !== reply.id) return;
    this.#busy.delete(worker);
    worker.unref();
    this.#idle.push(worker);
    if (reply.ok) job.resolve(reply.batch ? { batch: reply.batch } : { count: reply.count ?? 0 });
    else job.reject(new Error(reply.error));
    this.#pump();
  }

  #fail(error: Error): void {
    if (this.#failure) return;
    this.#failure = error;
    for (const job of [...this.#busy.values(), ...this.#queue.splice(0)]) job.reject(error);
    this.#busy.clear();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const job of [...this.#busy.values(), ...this.#queue.splice(0)])
      job.reject(new Error("the loader was disposed"));
    this.#busy.clear();
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }
}
