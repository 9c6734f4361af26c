/**
 * Training memory is flat across epochs (issue 24): after every epoch of a tiny run (mosaic augmentation, RAM cache,
 * a loader worker, validation and checkpoints each epoch), libtorch's live bytes and the JS tensor count are the same,
 * and the JS heap (after a full collection) does not grow. The process's resident size over a long run is measured
 * by bench/memory (BENCHMARKS.md, "Memory across epochs"): here it would only show the allocator's noise.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { memoryStats } from "../../src/torch/index.js";
import { train } from "../../src/train/trainer.js";
import { fullGarbageCollection } from "../../src/util/gc.js";
import { makeCellDataset, tinyModelYaml } from "../helpers/trained-fixture.js";

const work = mkdtempSync(join(tmpdir(), "sladet-train-memory-"));
after(() => rmSync(work, { recursive: true, force: true }));

const EPOCHS = 6;
/** The first epoch compared: the ones before it create what a run keeps (optimizer state, caches, the best weights). */
const FROM_EPOCH = 2;
/** JS heap growth allowed over the compared epochs: what a leak of one validation's results per epoch would exceed. */
const MAX_HEAP_GROWTH_MB = 1;

test(`a tiny training run keeps native bytes, tensor count and JS heap flat over ${EPOCHS} epochs`, async () => {
  const data = await makeCellDataset(join(work, "data"), { images: 24, imgsz: 64 });
  const gc = fullGarbageCollection();
  const samples: Array<{ bytes: number; tensors: number; heapMB: number }> = [];
  await train(
    {
      data,
      cfg: tinyModelYaml(),
      epochs: EPOCHS,
      batch: 4,
      nominalBatch: 4, // an optimizer step every batch: no gradients are pending at the end of an epoch
      imgsz: 64,
      workers: 1,
      cache: "ram",
      noautoanchor: true,
      project: join(work, "runs"),
      verbose: false,
    },
    {
      onEpochEnd: () => {
        gc();
        const { allocatedBytes, liveTensors } = memoryStats();
        samples.push({ bytes: allocatedBytes, tensors: liveTensors, heapMB: process.memoryUsage().heapUsed / 2 ** 20 });
      },
    },
  );
  assert.equal(samples.length, EPOCHS);
  const compared = samples.slice(FROM_EPOCH - 1);
  const first = compared[0]!;
  for (const [k, s] of compared.entries()) {
    const epoch = FROM_EPOCH + k;
    assert.equal(s.tensors, first.tensors, `live tensors after epoch ${epoch} vs epoch ${FROM_EPOCH}`);
    assert.equal(s.bytes, first.bytes, `native bytes after epoch ${epoch} vs epoch ${FROM_EPOCH}`);
  }
  const growth = compared.at(-1)!.heapMB - first.heapMB;
  assert.ok(
    growth < MAX_HEAP_GROWTH_MB,
    `JS heap grew ${growth.toFixed(2)} MB (${samples.map((s) => s.heapMB.toFixed(2)).join(", ")})`,
  );
});
