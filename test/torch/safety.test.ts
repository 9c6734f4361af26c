/** The binding's safety contract (design.md §2 lessons 2, 8, 9): each item has a test here. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import {
  inferenceMode,
  isGradEnabled,
  isInferenceMode,
  memoryStats,
  noGrad,
  ones,
  scopeDepth,
  type Tensor,
  tensor,
  tidy,
  zeros,
} from "../../src/torch/index.js";
import { type Handle, native } from "../../src/torch/native.js";
import { fullGarbageCollection } from "../../src/util/gc.js";
import { REPO_ROOT } from "../helpers.js";

const gc = fullGarbageCollection();

const torchIndex = pathToFileURL(join(REPO_ROOT, "dist", "src", "torch", "index.js")).href;

function runWorker(code: string, terminateEarly: boolean): Promise<unknown> {
  const source = `
    const { parentPort } = require("node:worker_threads");
    (async () => {
      const torch = await import(${JSON.stringify(torchIndex)});
      ${code}
    })().catch((err) => parentPort.postMessage({ error: String(err) }));`;
  return new Promise((resolve, reject) => {
    const worker = new Worker(source, { eval: true });
    worker.once("error", reject);
    worker.once("message", async (msg) => {
      if (terminateEarly) await worker.terminate();
      resolve(msg);
    });
  });
}

describe("per-environment addon state", () => {
  test("a worker that loaded the addon is terminated and the main thread keeps computing", async () => {
    const msg = (await runWorker(
      `const t = torch.ones([64, 64]).mul(3); const s = t.sum().item();
       globalThis.keepAlive = torch.zeros([128]);  // still alive when the worker is killed
       parentPort.postMessage({ sum: s }); await new Promise(() => {});`,
      true,
    )) as { sum: number };
    assert.equal(msg.sum, 64 * 64 * 3);
    gc();
    for (let i = 0; i < 20; i++) {
      const x = ones([32, 32]);
      const y = x.matmul(x).sum();
      assert.equal(y.item(), 32 * 32 * 32);
      x.dispose();
      y.dispose();
    }
  });

  test("a worker that exits normally leaves the main thread working", async () => {
    const msg = (await runWorker(`parentPort.postMessage({ v: torch.tensor([1, 2, 3]).sum().item() });`, false)) as {
      v: number;
    };
    assert.equal(msg.v, 6);
    await new Promise((r) => setTimeout(r, 50));
    gc();
    const t = tensor([4, 5]);
    assert.deepEqual(t.add(1).toArray(), [5, 6]);
  });
});

describe("libtorch errors become JS errors", () => {
  test("shape mismatch: libtorch's message, no C++ backtrace", () => {
    tidy(() => {
      const err = captureError(() => zeros([2, 3]).add(zeros([4])));
      assert.match(err.message, /^add: The size of tensor a \(3\) must match the size of tensor b \(4\)/);
      assert.doesNotMatch(err.message, /frame #|Exception raised from|\.cpp:/);
      assert.equal((err as Error & { code?: string }).code, "ERR_SLADET_TORCH");
    });
  });

  test("dtype mismatch", () => {
    tidy(() => {
      const err = captureError(() => zeros([2, 2]).matmul(zeros([2, 2], { dtype: "int64" })));
      assert.match(err.message, /^matmul: .*(dtype|scalar type)/i);
    });
  });

  test("wrong argument types give a TypeError naming the argument", () => {
    const err = captureError(() =>
      native.conv2d(null as unknown as Handle, null as unknown as Handle, null, [1], [0], [1], 1),
    );
    assert.ok(err instanceof TypeError);
    assert.match(err.message, /^conv2d: x: expected a tensor, found null$/);
    const err2 = captureError(() => native.zeros(["a"] as unknown as number[], "float32"));
    assert.match(err2.message, /shape\[0\]: expected an integer, found a string/);
    const err3 = captureError(() => native.zeros([2], "float33"));
    assert.match(err3.message, /dtype: expected a dtype .* found "float33"/);
  });

  test("fuzz: every binding called with wrongly typed arguments throws and the process survives", () => {
    const live = zeros([2, 3]);
    const disposed = zeros([2]);
    disposed.dispose();
    const foreign = Object.create(Object.getPrototypeOf(live.handle) as object) as object;
    const pool: unknown[] = [
      undefined,
      null,
      true,
      0,
      -1,
      1.5,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      2 ** 60,
      -(2 ** 40),
      "x",
      "float32",
      "cuda:7",
      [],
      [2, 3],
      [-1],
      [1.5],
      [null],
      {},
      () => 0,
      10n,
      Symbol("s"),
      new Float32Array(3),
      new ArrayBuffer(5),
      live.handle,
      disposed.handle,
      foreign,
      [live.handle, {}],
    ];
    const skip = new Set(["enterInferenceMode", "exitInferenceMode", "setGradEnabled", "setNumThreads", "manualSeed"]);
    let seed = 12345;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const threads = native.getNumThreads();
    let calls = 0;
    let errors = 0;
    for (const [name, fn] of Object.entries(native)) {
      if (typeof fn !== "function" || skip.has(name)) continue;
      for (let k = 0; k < 60; k++) {
        const args = Array.from({ length: rand(6) }, () => pool[rand(pool.length)]);
        calls++;
        try {
          const out = (fn as (...a: unknown[]) => unknown)(...args);
          if (out && typeof out === "object" && native.isDisposed !== fn) disposeAll(out);
        } catch (err) {
          errors++;
          assert.ok(err instanceof Error, `${name} threw a non-Error`);
          assert.doesNotMatch(err.message, /frame #/, `${name} leaked a backtrace`);
        }
      }
    }
    assert.equal(native.getNumThreads(), threads);
    assert.equal(isGradEnabled(), true);
    assert.equal(isInferenceMode(), false);
    assert.ok(calls > 3000 && errors > calls / 2, `${calls} calls, ${errors} errors`);
    live.dispose();
    assert.deepEqual(ones([2]).toArray(), [1, 1]);
  });
});

describe("handles", () => {
  test("handles are type-tagged: a foreign object is refused", () => {
    const t = zeros([2]);
    const impostor = Object.create(Object.getPrototypeOf(t.handle) as object) as Handle;
    assert.throws(() => native.neg(impostor), /x: expected a tensor handle, found a foreign object/);
    assert.throws(() => native.neg({} as Handle), /foreign object/);
    const Ctor = (t.handle as unknown as { constructor: new (...a: unknown[]) => unknown }).constructor;
    assert.throws(() => new Ctor(), /cannot be constructed from JavaScript/);
    t.dispose();
  });

  test("use after dispose throws", () => {
    const t = tensor([1, 2, 3]);
    t.dispose();
    t.dispose(); // idempotent
    assert.equal(t.isDisposed, true);
    assert.throws(() => t.add(1), /a: tensor was disposed/);
    assert.throws(() => t.toArray(), /tensor was disposed/);
  });

  test("the byte counter and the live count follow allocations and disposals", () => {
    const before = memoryStats();
    const t = zeros([1000]);
    const mid = memoryStats();
    assert.equal(mid.allocatedBytes - before.allocatedBytes, 4000);
    assert.equal(mid.liveTensors - before.liveTensors, 1);
    t.dispose();
    const end = memoryStats();
    assert.equal(end.allocatedBytes, before.allocatedBytes);
    assert.equal(end.liveTensors, before.liveTensors);
  });
});

describe("scopes", () => {
  test("tidy frees intermediates, keeps results (nested results move to the parent)", () => {
    const before = memoryStats().liveTensors;
    const out = tidy(() => {
      const a = ones([3]);
      const inner = tidy(() => {
        const b = a.mul(2);
        return { b, list: [b.add(1)] };
      });
      a.add(5); // intermediate
      return inner.list[0]!;
    });
    assert.deepEqual(out.toArray(), [3, 3, 3]);
    assert.equal(memoryStats().liveTensors, before + 1);
    out.dispose();
    assert.equal(memoryStats().liveTensors, before);
    assert.equal(scopeDepth(), 0);
  });

  test("keep() exempts a tensor from every scope", () => {
    let kept: Tensor | undefined;
    tidy(() => {
      kept = ones([2]).keep();
    });
    assert.equal(kept!.isDisposed, false);
    kept!.dispose();
  });

  test("a throw inside tidy disposes the scope's tensors", () => {
    const before = memoryStats().liveTensors;
    assert.throws(() =>
      tidy(() => {
        ones([4]).add(1);
        throw new Error("boom");
      }),
    );
    assert.equal(memoryStats().liveTensors, before);
    assert.equal(scopeDepth(), 0);
  });

  test("tidy, noGrad and inferenceMode refuse async functions and promises", async () => {
    assert.throws(() => tidy(async () => ones([1])), /cannot run an async function/);
    assert.throws(() => noGrad(async () => 1), /cannot run an async function/);
    assert.throws(() => inferenceMode(async () => 1), /cannot run an async function/);
    const before = memoryStats().liveTensors;
    assert.throws(() => tidy(() => Promise.resolve(ones([1]))), /received a promise/);
    assert.equal(memoryStats().liveTensors, before);
    assert.equal(isGradEnabled(), true);
    assert.throws(() => noGrad(() => Promise.resolve(1)), /received a promise/);
    assert.equal(isGradEnabled(), true);
  });

  test("noGrad and inferenceMode stop autograd recording and restore the mode", () => {
    tidy(() => {
      const w = ones([2]).requiresGrad_(true);
      const y = noGrad(() => w.mul(2));
      assert.equal(y.requiresGrad, false);
      assert.equal(isGradEnabled(), true);
      const z = inferenceMode(() => {
        assert.equal(isInferenceMode(), true);
        return w.mul(3);
      });
      assert.equal(z.requiresGrad, false);
      assert.equal(isInferenceMode(), false);
      assert.equal(w.mul(2).requiresGrad, true);
    });
  });
});

function captureError(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof Error);
    return err;
  }
  assert.fail("expected an error");
}

function disposeAll(value: unknown): void {
  if (Array.isArray(value)) {
    for (const v of value) disposeAll(v);
  } else if (value && typeof value === "object") {
    try {
      native.dispose(value as Handle);
    } catch {
      // not a handle (an ArrayBuffer, an object of stats)
    }
  }
}
