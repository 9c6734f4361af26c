/** Memory stays flat across training steps; a kept non-leaf (which pins its autograd graph) is visible in bytes. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { createDemoNet, demoTrainStep, makeBlobBatch } from "../../src/demo/engine-demo.js";
import {
  allocatorStats,
  dirtyDecays,
  keepFreedPages,
  keptPageBytes,
  memoryStats,
  releaseFreeMemory,
  releaseKeptPagesAbove,
  type Tensor,
  tidy,
  zeros,
} from "../../src/torch/index.js";
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

/** VmRSS of this process, MiB. */
function residentMiB(): number {
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync("/proc/self/status", "utf8"))![1]) / 1024;
}

test("releaseFreeMemory gives freed tensor pages back to the system at once", () => {
  // 8 KiB tensors: jemalloc keeps freed blocks of this size (its small size classes) resident until its decay timer
  // (measured: 256 MiB of them freed stay resident without the call). Under glibc (SLADET_NO_JEMALLOC=1) malloc_trim
  // frees only whole unused pages of its heaps: measured 491 → 353 MiB from 202, so only the call is checked there.
  const BLOCKS = 32768;
  const MIB = (BLOCKS * 2048 * 4) / 2 ** 20;
  const before = residentMiB();
  const blocks = Array.from({ length: BLOCKS }, () => zeros([2048]));
  const held = residentMiB();
  assert.ok(held - before > 0.8 * MIB, `the blocks are resident: ${before.toFixed(0)} → ${held.toFixed(0)} MiB`);
  for (const b of blocks) b.dispose();
  const allocator = releaseFreeMemory();
  const after = residentMiB();
  const preloaded = (process.env.LD_PRELOAD ?? "").includes("jemalloc");
  assert.equal(allocator, preloaded ? "jemalloc" : "glibc");
  if (!preloaded) return;
  assert.ok(
    after - before < 0.25 * MIB,
    `${allocator}: ${MIB} MiB freed and released, RSS ${before.toFixed(0)} → ${held.toFixed(0)} → ${after.toFixed(0)} MiB`,
  );
});

test("allocatorStats counts a 64 MiB tensor as allocated and resident, and its pages as returned after release", () => {
  const preloaded = (process.env.LD_PRELOAD ?? "").includes("jemalloc");
  if (!preloaded) {
    assert.equal(allocatorStats(), null);
    return;
  }
  const MIB = 2 ** 20;
  const before = allocatorStats()!;
  for (const k of ["allocated", "active", "metadata", "resident", "mapped", "retained"] as const) {
    assert.ok(Number.isFinite(before[k]) && before[k] >= 0, `${k}: ${before[k]}`);
  }
  assert.ok(before.allocated <= before.active && before.active <= before.resident + before.metadata);
  const block = zeros([16 * MIB]); // 64 MiB, written: resident
  const held = allocatorStats()!;
  assert.ok(held.allocated - before.allocated >= 64 * MIB, `allocated ${before.allocated} → ${held.allocated}`);
  assert.ok(held.resident - before.resident >= 60 * MIB, `resident ${before.resident} → ${held.resident}`);
  block.dispose();
  releaseFreeMemory();
  const after = allocatorStats()!;
  assert.ok(held.allocated - after.allocated >= 64 * MIB, `allocated ${held.allocated} → ${after.allocated}`);
  assert.ok(held.resident - after.resident >= 60 * MIB, `resident ${held.resident} → ${after.resident}`);
});

test("keepFreedPages turns jemalloc's decay off (the oversize arena only when asked) and restores it", () => {
  const before = dirtyDecays();
  if (!(process.env.LD_PRELOAD ?? "").includes("jemalloc")) {
    assert.equal(before, null, "no jemalloc: nothing to change");
    keepFreedPages()(); // still callable: releases free memory
    return;
  }
  const launcherDefault = /dirty_decay_ms:(-?\d+)/.exec(process.env.MALLOC_CONF ?? "")?.[1];
  assert.equal(
    before!.default,
    Number(launcherDefault ?? 10000),
    "the launcher's MALLOC_CONF value (jemalloc's 10 s without)",
  );
  zeros([3, 1024, 1024]).dispose(); // a 12 MiB block: the oversize arena exists from here on
  const withOversize = dirtyDecays()!;
  const own = withOversize.arenas.filter((ms) => ms !== null && ms !== withOversize.default);
  assert.ok(own.length >= 1, `the oversize arena has a decay of its own: ${JSON.stringify(withOversize)}`);

  const restore = keepFreedPages();
  const kept = dirtyDecays()!;
  assert.equal(kept.default, -1);
  kept.arenas.forEach((ms, i) => {
    const was = withOversize.arenas[i];
    assert.equal(ms, was === withOversize.default ? -1 : was, `arena ${i}: ${was} → ${ms}`);
  });
  restore();
  assert.deepEqual(dirtyDecays(), withOversize, "every arena restored");

  const restoreAll = keepFreedPages({ oversize: true });
  assert.ok(
    dirtyDecays()!.arenas.every((ms) => ms === null || ms === -1),
    "every arena keeps its pages",
  );
  restoreAll();
  restoreAll(); // a second call changes nothing
  assert.deepEqual(dirtyDecays(), withOversize, "every arena restored");
});

test("with keepFreedPages({ oversize: true }) an 11 MiB block freed and allocated again is not faulted back in", () => {
  if (!(process.env.LD_PRELOAD ?? "").includes("jemalloc")) return;
  const faults = () => Number(readFileSync("/proc/self/stat", "utf8").split(") ")[1]!.split(" ")[7]);
  const cycle = () => {
    for (let i = 0; i < 20; i++) zeros([11, 256, 1024]).dispose();
  };
  cycle();
  const f0 = faults();
  cycle();
  const decaying = faults() - f0;
  const restore = keepFreedPages({ oversize: true });
  try {
    cycle();
    const f1 = faults();
    cycle();
    const kept = faults() - f1;
    // 20 × 11 MiB = 56k pages when each block is faulted in anew
    assert.ok(kept < 2000, `kept: ${kept} minor faults for 20 blocks (decaying: ${decaying})`);
  } finally {
    restore();
  }
});

test("releaseKeptPagesAbove returns the pages keepFreedPages keeps only once they pass the limit", () => {
  if (!(process.env.LD_PRELOAD ?? "").includes("jemalloc")) {
    assert.equal(releaseKeptPagesAbove(0), false, "no jemalloc: nothing to measure or release");
    return;
  }
  const MIB = 2 ** 20;
  const restore = keepFreedPages();
  try {
    releaseFreeMemory();
    const kept = () => keptPageBytes(allocatorStats()!);
    // 48 blocks of 4 MiB (below the oversize arena's 8 MiB), all alive at once, then freed: 192 MiB kept
    const blocks = Array.from({ length: 48 }, () => zeros([MIB]));
    for (const b of blocks) b.dispose();
    const before = kept();
    assert.ok(before >= 150 * MIB, `freed blocks kept: ${before}`);
    assert.equal(releaseKeptPagesAbove(1024 * MIB), false, "under the limit: kept");
    assert.ok(kept() >= 150 * MIB, "nothing returned under the limit");
    assert.equal(releaseKeptPagesAbove(64 * MIB), true, "over the limit: returned");
    assert.ok(kept() < before - 150 * MIB, `returned: ${before} → ${kept()}`);
  } finally {
    restore();
  }
});

test("keepFreedPages returns what it keeps above its limit on its own timer, and stops the timer at restore", async () => {
  if (!(process.env.LD_PRELOAD ?? "").includes("jemalloc")) return;
  const MIB = 2 ** 20;
  const kept = () => keptPageBytes(allocatorStats()!);
  // under keepFreedPages with a 10 ms timer: 192 MiB alive at once, then freed; the kept pages then and 100 ms later
  const keptUnder = async (limitBytes: number) => {
    const restore = keepFreedPages({ limitBytes, checkEveryMs: 10 });
    try {
      releaseFreeMemory();
      for (const b of Array.from({ length: 48 }, () => zeros([MIB]))) b.dispose();
      const before = kept();
      await new Promise((resolve) => setTimeout(resolve, 100));
      return { before, after: kept() };
    } finally {
      restore();
    }
  };
  const generous = await keptUnder(1024 * MIB);
  assert.ok(generous.after >= 150 * MIB, `under the limit: kept (${generous.after})`);
  const tight = await keptUnder(64 * MIB);
  assert.ok(tight.before >= 150 * MIB, `freed blocks kept until the timer runs: ${tight.before}`);
  assert.ok(tight.after < tight.before - 150 * MIB, `over the limit: returned by the timer (${tight.after})`);
  const again = await keptUnder(1024 * MIB);
  assert.ok(again.after >= 150 * MIB, `the tight one's timer stopped at its restore (${again.after})`);
});
