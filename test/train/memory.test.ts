/**
 * Training memory is flat across epochs (issue 24): after every epoch of a tiny run (mosaic augmentation, RAM cache,
 * a loader worker, validation and checkpoints each epoch), libtorch's live bytes and the JS tensor count are the same,
 * and neither the JS heap (after a full collection) nor the allocator's resident memory grows; bench/memory measures
 * the process's RSS over a long BCCD run (BENCHMARKS.md, "Memory across epochs") with the sampling used here
 * (bench/memory/sample.ts).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { flatness, formatSample, type MemorySample, sampleMemory } from "../../bench/memory/sample.js";
import { train } from "../../src/train/trainer.js";
import { makeCellDataset, tinyModelYaml } from "../helpers/trained-fixture.js";

const work = mkdtempSync(join(tmpdir(), "sladet-train-memory-"));
after(() => rmSync(work, { recursive: true, force: true }));

const EPOCHS = 6;
/** The first epoch compared: the ones before it create what a run keeps (optimizer state, caches, the best weights). */
const FROM_EPOCH = 2;
/** JS heap growth allowed over the compared epochs: what a leak of one validation's results per epoch would exceed. */
const MAX_HEAP_GROWTH_MB = 1;
/**
 * Rise allowed in jemalloc's resident memory at an epoch's end over the compared epochs (issue 24's 5 %): libtorch's
 * tensors, every thread's buffers (the loader worker's dead samples too, until it collects) and the allocator's
 * kept pages. The whole RSS is bench/memory's measure: at this size V8's own pages move it by up to 8 % (303 ↔ 326 MiB
 * between epochs of one run) while the allocator's stay within 1 %.
 */
const MAX_RESIDENT_RISE = 0.05;

test(`a tiny training run keeps native bytes, tensor count, JS heap and allocator-resident memory flat over ${EPOCHS} epochs`, async () => {
  const data = await makeCellDataset(join(work, "data"), { images: 24, imgsz: 64 });
  const samples: MemorySample[] = [];
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
    { onEpochEnd: async (epoch) => void samples.push(await sampleMemory(epoch)) },
  );
  assert.equal(samples.length, EPOCHS);
  const compared = samples.slice(FROM_EPOCH - 1);
  const first = compared[0]!;
  for (const [k, s] of compared.entries()) {
    const epoch = FROM_EPOCH + k;
    assert.equal(s.tensors, first.tensors, `live tensors after epoch ${epoch} vs epoch ${FROM_EPOCH}`);
    assert.equal(s.native, first.native, `native MiB after epoch ${epoch} vs epoch ${FROM_EPOCH}`);
  }
  const f = flatness(samples, FROM_EPOCH);
  const rows = samples.map(formatSample).join("\n");
  assert.ok(
    f.heap.to - f.heap.from < MAX_HEAP_GROWTH_MB,
    `JS heap grew ${(f.heap.to - f.heap.from).toFixed(2)} MB\n${rows}`,
  );
  if (compared.some((s) => s.jemalloc === null)) return; // another allocator (SLADET_NO_JEMALLOC): no statistics
  const resident = compared.map((s) => s.jemalloc!.resident);
  const rise = Math.max(...resident) / resident[0]! - 1;
  assert.ok(rise <= MAX_RESIDENT_RISE, `the allocator's resident memory rose ${(100 * rise).toFixed(1)} %\n${rows}`);
});
