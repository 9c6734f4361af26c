/** Memory stays flat across training steps; a kept non-leaf (which pins its autograd graph) is visible in bytes. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { createDemoNet, demoTrainStep, makeBlobBatch } from "../../src/demo/engine-demo.js";
import { memoryStats, type Tensor, tidy } from "../../src/torch/index.js";
import { Rng } from "../../src/util/random.js";

test("50 forward+backward+update steps keep native bytes and tensor count flat", () => {
  const net = createDemoNet(0);
  const rng = new Rng(7);
  const { images, targets } = makeBlobBatch(rng, 4, 32);
  const snapshots: Array<{ allocatedBytes: number; liveTensors: number }> = [];
  const losses: number[] = [];
  for (let step = 0; step < 50; step++) {
    losses.push(demoTrainStep(net, images, targets, 0.05));
    const { allocatedBytes, liveTensors } = memoryStats();
    snapshots.push({ allocatedBytes, liveTensors });
  }
  assert.deepEqual(snapshots[49], snapshots[4], "memory after step 50 equals memory after step 5");
  assert.ok(losses[49]! < losses[0]!, `loss falls: ${losses[0]} → ${losses[49]}`);
  images.dispose();
  targets.dispose();
  net.dispose();
});

test("a kept non-leaf tensor pins its graph: the byte counter sees it, the tensor count barely moves", () => {
  const net = createDemoNet(1);
  const rng = new Rng(8);
  const { images, targets } = makeBlobBatch(rng, 4, 32);
  const kept: Tensor[] = [];
  const start = memoryStats();
  for (let step = 0; step < 5; step++) {
    kept.push(tidy(() => net.forward(images, true).mean()).keep()); // a scalar that holds the whole forward graph
  }
  const end = memoryStats();
  const bytesPerStep = (end.allocatedBytes - start.allocatedBytes) / 5;
  assert.equal(end.liveTensors - start.liveTensors, 5, "one JS tensor per step");
  assert.ok(bytesPerStep > 100_000, `each kept scalar pins its graph: ${bytesPerStep} bytes per step`);
  for (const t of kept) t.dispose();
  assert.equal(memoryStats().allocatedBytes, start.allocatedBytes, "disposing the scalars frees their graphs");
  images.dispose();
  targets.dispose();
  net.dispose();
});
