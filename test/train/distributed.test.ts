/**
 * Data-parallel training (issue 21) on loopback: the distributed sampler's shards cover each epoch's images exactly
 * once; the c10d collectives (Gloo) give the right numbers; 2 ranks × batch 4 train the same weights as 1 process ×
 * batch 8; a rank killed mid-run ends the others with an error naming it, and `--nproc` stops the remaining workers.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { stringify as stringifyYaml } from "yaml";
import { orderRng, permutation } from "../../src/data/augment/seed.js";
import { padOrder, shardLength, shardOrder } from "../../src/data/distributed-sampler.js";
import { loadCheckpoint, saveCheckpoint, YoloModel } from "../../src/model/index.js";
import { getNumThreads, manualSeed, setNumThreads } from "../../src/torch/index.js";
import { train } from "../../src/train/trainer.js";
import { makeCellDataset, tinyModelYaml } from "../helpers/trained-fixture.js";
import { assertClose, REPO_ROOT } from "../helpers.js";

const work = mkdtempSync(join(tmpdir(), "sladet-dist-"));
after(() => rmSync(work, { recursive: true, force: true }));
const WORKER = join(REPO_ROOT, "dist", "test", "helpers", "dist-worker.js");
const SLADET = join(REPO_ROOT, "bin", "sladet");

/** A port free on loopback now. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts a process (one thread of libtorch, to share the 2 cores) and collects its output. */
function start(command: string, args: string[], env: Record<string, string> = {}) {
  const child = spawn(command, args, {
    env: { ...process.env, SLADET_THREADS: "1", OMP_NUM_THREADS: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => {
    stdout += d;
  });
  child.stderr!.on("data", (d) => {
    stderr += d;
  });
  const done = new Promise<Finished>((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, done, output: () => ({ stdout, stderr }) };
}

function worker(mode: string, input: Record<string, unknown>) {
  return start(process.execPath, [WORKER, mode, JSON.stringify(input)]);
}

/** Waits until `check` is true, polling; fails after `ms`. */
async function waitFor(check: () => boolean, ms: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function killIfRunning(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
}

describe("the distributed sampler", () => {
  test("the shards are disjoint and cover the epoch's images exactly once; reshuffled per epoch, same on every rank", () => {
    const n = 16;
    for (const worldSize of [1, 2, 4]) {
      for (const epoch of [0, 1]) {
        const order = permutation(n, orderRng(7, epoch));
        const shards = Array.from({ length: worldSize }, (_, rank) => shardOrder(order, { rank, worldSize }));
        for (const s of shards) assert.equal(s.length, n / worldSize);
        assert.deepEqual(
          shards.flat().sort((a, b) => a - b),
          Array.from({ length: n }, (_, i) => i),
          `${worldSize} ranks, epoch ${epoch}: every image once`,
        );
        // local batch b of every rank together = global batch b of one process (batch 4 per rank)
        const local = 4 / Math.min(worldSize, 4);
        for (let b = 0; b * local < n / worldSize && worldSize <= 4; b++) {
          const union = shards.flatMap((s) => s.slice(b * local, (b + 1) * local)).sort((x, y) => x - y);
          const global = order.slice(b * local * worldSize, (b + 1) * local * worldSize).sort((x, y) => x - y);
          assert.deepEqual(union, global, `${worldSize} ranks, batch ${b}`);
        }
      }
    }
    assert.notDeepEqual(permutation(n, orderRng(7, 0)), permutation(n, orderRng(7, 1)), "another epoch, another order");
  });

  test("an order that does not divide is padded from its start, as DistributedSampler pads", () => {
    const order = [4, 0, 3, 1, 2]; // 5 images, 2 ranks: total 6, image 4 (the order's first) read twice
    assert.equal(shardLength(5, 2), 3);
    assert.deepEqual(padOrder(order, 2), [4, 0, 3, 1, 2, 4]);
    assert.deepEqual(shardOrder(order, { rank: 0, worldSize: 2 }), [4, 3, 2]);
    assert.deepEqual(shardOrder(order, { rank: 1, worldSize: 2 }), [0, 1, 4]);
    // padding longer than the order: repeated as often as needed (2 images over 5 ranks)
    assert.deepEqual(padOrder([1, 0], 5), [1, 0, 1, 0, 1]);
    assert.throws(() => shardOrder(order, { rank: 2, worldSize: 2 }), /rank must be an integer in \[0, 2\)/);
  });
});

describe("collectives over Gloo on loopback", () => {
  test("all-reduce (bucketed mean, sum), broadcast, all-gather, barrier and the store on 2 ranks", async () => {
    const port = await freePort();
    const base = { masterAddr: "127.0.0.1", masterPort: port, worldSize: 2, timeoutMs: 60_000 };
    const ranks = [0, 1].map((rank) => worker("collectives", { ...base, rank }));
    const results = await Promise.all(ranks.map((r) => r.done));
    for (const [rank, r] of results.entries()) {
      assert.equal(r.code, 0, `rank ${rank}: ${r.stderr}`);
      const out = JSON.parse(r.stdout.trim()) as Record<string, unknown>;
      assert.deepEqual(out["mean"], [
        [1.5, 2.5, 3.5],
        [5, 1, 2, 3],
      ]);
      assert.deepEqual(out["sum"], [3]);
      assert.deepEqual(out["broadcast"], [1, 1, 1], "rank 1's values");
      assert.deepEqual(out["gathered"], { shape: [2, 2], values: [0, 1, 2, 3] });
      assert.equal(out["answer"], "42");
    }
  });
});

describe("data-parallel training", () => {
  const threads = getNumThreads();
  after(() => setNumThreads(threads));
  let data = "";
  const dataset = async () => {
    if (!data) data = await makeCellDataset(join(work, "cells"), { images: 22, imgsz: 64, seed: 3 }); // 16 train
    return data;
  };
  const base = (project: string) => ({
    data,
    cfg: tinyModelYaml(1),
    epochs: 2,
    imgsz: 64,
    workers: 0,
    nominalBatch: 8, // an optimizer step every global batch of 8
    minWarmupIters: 2,
    verbose: false,
    noautoanchor: true,
    attributes: false,
    project,
    // The box loss is a mean over each rank's own positives, so (as in YOLOv5's DDP) 2 ranks match one process
    // only when both hold as many; its gain is 0 here. The objectness loss (a mean over every grid cell, the same
    // number per image) and everything else train as usual, with mosaic and the other augmentations on.
    hyp: { box: 0 },
  });

  test("2 ranks × batch 4 (--sync-bn) train the same weights as 1 process × batch 8", async () => {
    await dataset();
    setNumThreads(1);
    // both start from these weights (saved, as a user's --weights)
    manualSeed(5);
    const initPath = join(work, "init.safetensors");
    const initial = new YoloModel(tinyModelYaml(1), { names: ["cell"] });
    saveCheckpoint(initPath, initial);
    initial.dispose();
    const options = (project: string) => ({ ...base(project), weights: initPath, batch: 8 });
    const one = await train(options(join(work, "one")));
    const port = await freePort();
    const distributed = { masterAddr: "127.0.0.1", masterPort: port, worldSize: 2, timeoutMs: 120_000, syncBn: true };
    const ranks = [0, 1].map((rank) =>
      worker("train", { ...options(join(work, "two")), distributed: { ...distributed, rank } }),
    );
    const results = await Promise.all(ranks.map((r) => r.done));
    for (const [rank, r] of results.entries()) assert.equal(r.code, 0, `rank ${rank}: ${r.stderr}`);
    const rank0 = JSON.parse(results[0]!.stdout.trim()) as { last: string; runDir: string };
    const rank1 = JSON.parse(results[1]!.stdout.trim()) as { runDir: string };
    assert.equal(rank1.runDir, rank0.runDir, "one run folder, rank 0's");
    assert.ok(existsSync(join(rank0.runDir, "results.csv")));
    const [a, b] = [loadCheckpoint(one.last), loadCheckpoint(rank0.last)];
    try {
      // the optimizer's momentum: the gradients of the 4 steps, summed (it starts at 0). The two runs sum them in
      // other orders (convolutions over 4 images or 8, batch statistics in float64 or float32), so they agree to
      // ~1e-4 of the largest; without --sync-bn they differ by up to 50× (each rank normalises over its 4 images).
      const momentum = [...a.training.keys()].filter((k) => k.startsWith("optim."));
      assert.ok(momentum.length > 50, `${momentum.length} momentum buffers`);
      for (const k of momentum) {
        const m = a.training.get(k)!;
        assert.ok((m.abs().max().item() as number) > 0, `${k}: a gradient flowed`);
        assertClose(b.training.get(k)!, m, k, { rtol: 1e-3, atolScale: 1e-3 });
      }
      // the weights they led to (EMA, raw and BN statistics), to the same 1e-3 of each tensor's largest value: a
      // weight that starts at 0 (a BN bias) is its updates, as exact as the gradients and no more
      const weights = { rtol: 1e-3, atolScale: 1e-3 };
      const ta = a.model.stateDict();
      const tb = b.model.stateDict();
      assert.deepEqual([...tb.keys()], [...ta.keys()]);
      for (const [k, t] of ta) {
        if (t.dtype !== "float32") continue; // num_batches_tracked: counted per batch, not per image
        assertClose(tb.get(k)!, t, `EMA ${k}`, weights);
        assertClose(b.training.get(`model.${k}`)!, a.training.get(`model.${k}`)!, `raw ${k}`, weights);
      }
    } finally {
      for (const c of [a, b]) {
        c.model.dispose();
        for (const t of c.training.values()) t.dispose();
      }
    }
  });

  test("a rank killed mid-run ends the other with an error naming it", async () => {
    await dataset();
    const port = await freePort();
    const project = join(work, "killed");
    const distributed = { masterAddr: "127.0.0.1", masterPort: port, worldSize: 2, timeoutMs: 120_000 };
    const options = { ...base(project), epochs: 50, batch: 8 };
    const [r0, r1] = [0, 1].map((rank) => worker("train", { ...options, distributed: { ...distributed, rank } }));
    try {
      // rank 0 wrote the first epoch's results: both ranks are training
      await waitFor(() => existsSync(join(project, "exp", "results.csv")), 120_000, "the first epoch");
      r1!.child.kill("SIGKILL");
      const t0 = Date.now();
      const end = await r0!.done;
      assert.notEqual(end.code, 0, "rank 0 fails");
      assert.ok(Date.now() - t0 < 30_000, "within seconds, not the 120 s timeout");
      assert.match(
        end.stderr,
        /DistributedError: distributed training failed on rank 0 of 2 during .*: rank 1 stopped responding/,
      );
    } finally {
      killIfRunning(r0!.child);
      killIfRunning(r1!.child);
    }
  });

  test("sladet pretrain --nproc 2: a killed worker stops the others, the launcher names it and fails", async () => {
    await dataset();
    const cfg = join(work, "tiny.yaml");
    writeFileSync(cfg, stringifyYaml(tinyModelYaml(1)));
    const hyp = join(work, "hyp.yaml");
    writeFileSync(hyp, stringifyYaml({ box: 0 }));
    const project = join(work, "launched");
    mkdirSync(project, { recursive: true });
    const port = await freePort();
    const launcher = start(SLADET, [
      "pretrain",
      ...["--data", data, "--cfg", cfg, "--hyp", hyp, "--epochs", "50", "--batch", "8", "--imgsz", "64"],
      ...["--workers", "0", "--noautoanchor", "--project", project, "--nproc", "2", "--master-port", String(port)],
    ]);
    try {
      await waitFor(() => existsSync(join(project, "exp", "results.csv")), 120_000, "the first epoch");
      const pid = Number(/started rank 1 \(pid (\d+)\)/.exec(launcher.output().stderr)?.[1]);
      const pid0 = Number(/started rank 0 \(pid (\d+)\)/.exec(launcher.output().stderr)?.[1]);
      assert.ok(pid > 0 && pid0 > 0, launcher.output().stderr);
      process.kill(pid, "SIGKILL");
      const end = await launcher.done;
      assert.notEqual(end.code, 0);
      assert.match(end.stderr, new RegExp(`rank 1 \\(pid ${pid}\\) was killed by SIGKILL; stopping the other workers`));
      assert.throws(() => process.kill(pid0, 0), /ESRCH/, "rank 0 is gone too");
    } finally {
      killIfRunning(launcher.child);
    }
  });
});
