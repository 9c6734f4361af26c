/** On-demand full collections (src/util/gc.ts): what loader workers run when they wait (issue 24). */
import assert from "node:assert/strict";
import { mock, test } from "node:test";
import { setImmediate as nextTurn } from "node:timers/promises";
import { Worker } from "node:worker_threads";
import { fullGarbageCollection, IdleCollector } from "../../src/util/gc.js";

test("fullGarbageCollection collects an unreachable buffer", async () => {
  const gc = fullGarbageCollection();
  let buffer: ArrayBuffer | null = new ArrayBuffer(1 << 20);
  const ref = new WeakRef(buffer);
  buffer = null;
  await nextTurn(); // a WeakRef keeps its target alive until the end of the job that made it
  gc();
  assert.equal(ref.deref(), undefined);
});

test("fullGarbageCollection works in many threads started at once (V8's flag is the process's)", async () => {
  const source = `
    const { parentPort } = require("node:worker_threads");
    import(${JSON.stringify(new URL("../../src/util/gc.js", import.meta.url).href)})
      .then(({ fullGarbageCollection }) => { fullGarbageCollection()(); parentPort.postMessage("ok"); })
      .catch((e) => parentPort.postMessage(String(e)));`;
  const replies = await Promise.all(
    Array.from({ length: 8 }, async () => {
      const worker = new Worker(source, { eval: true });
      try {
        return await new Promise((resolve) => worker.once("message", resolve));
      } finally {
        await worker.terminate();
      }
    }),
  );
  assert.deepEqual(replies, Array(8).fill("ok"));
});

test("IdleCollector collects once after the delay, and not while work keeps arriving", () => {
  mock.timers.enable({ apis: ["setTimeout"] });
  try {
    let collections = 0;
    const collector = new IdleCollector(200, () => collections++);
    collector.idle();
    mock.timers.tick(150);
    collector.busy(); // work arrived before the delay ran out
    mock.timers.tick(1000);
    assert.equal(collections, 0);
    collector.idle();
    collector.idle(); // a second idle restarts the wait, it does not add a collection
    mock.timers.tick(199);
    assert.equal(collections, 0);
    mock.timers.tick(1);
    assert.equal(collections, 1);
    mock.timers.tick(10_000);
    assert.equal(collections, 1);
  } finally {
    mock.timers.reset();
  }
});
