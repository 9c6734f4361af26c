/**
 * Engine part 2 against PyTorch (fixtures from tools/oracle/engine.py): RNG draws, seeded initialisation, a small
 * Sequential net (forward, parameter gradients, BatchNorm statistics, eval mode), a 20-step SGD trajectory with
 * Nesterov, decay, 3 groups whose hyperparameters change every step, gradient clipping and EMA; plus state-dict
 * round trips and RNG state restore.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import {
  BatchNorm2d,
  Conv2d,
  clipGradNorm,
  Dropout,
  emaUpdate,
  Flatten,
  getRngState,
  LeakyReLU,
  Linear,
  loadSafetensors,
  MaxPool2d,
  Module,
  ModuleList,
  manualSeed,
  memoryStats,
  type Parameter,
  rand,
  randint,
  randn,
  randperm,
  Sequential,
  SGD,
  SiLU,
  saveSafetensors,
  setRngState,
  tidy,
  Upsample,
  zeros,
} from "../../src/torch/index.js";
import { assertClose, loadGolden } from "../helpers.js";

const golden = loadGolden("engine.safetensors", "engine.py");
const ref = golden.ref;
const withPrefix = (prefix: string) => golden.withPrefix(prefix);

function makeNet(): Sequential {
  return new Sequential(
    new Conv2d(3, 8, 3, { stride: 1, padding: 1, bias: false }),
    new BatchNorm2d(8, { eps: 1e-3, momentum: 0.03 }),
    new SiLU(),
    new Conv2d(8, 16, 3, { stride: 2, padding: 1 }),
    new LeakyReLU(0.1),
    new MaxPool2d(2),
    new Upsample({ scaleFactor: 2 }),
    new Conv2d(16, 4, 1),
    new Flatten(),
    new Linear(4 * 8 * 8, 5),
    new Dropout(0.5),
  );
}

describe("random numbers", () => {
  test("a seed gives PyTorch's draws", () => {
    tidy(() => {
      manualSeed(1234);
      assert.deepEqual(rand([5]).toArray(), ref("rng/rand").toArray());
      assert.deepEqual(randn([2, 3]).toArray(), ref("rng/randn").toArray());
      assert.deepEqual(randint(0, 10, [6]).toArray(), ref("rng/randint").toArray());
      assert.deepEqual(randperm(7).toArray(), ref("rng/randperm").toArray());
    });
  });

  test("restoring the generator state repeats the draws", () => {
    tidy(() => {
      manualSeed(99);
      rand([3]);
      const state = getRngState();
      const a = [...randn([4]).toArray(), ...randint(0, 100, [3]).toArray()];
      rand([10]);
      setRngState(state);
      const b = [...randn([4]).toArray(), ...randint(0, 100, [3]).toArray()];
      assert.deepEqual(b, a);
    });
  });

  test("seeded layer initialisation equals PyTorch's", () => {
    manualSeed(7);
    const conv = new Conv2d(3, 4, 3, { padding: 1 });
    const lin = new Linear(6, 2);
    assert.deepEqual(conv.weight.data.toArray(), ref("init/conv.weight").toArray());
    assert.deepEqual(conv.bias!.data.toArray(), ref("init/conv.bias").toArray());
    assert.deepEqual(lin.weight.data.toArray(), ref("init/linear.weight").toArray());
    assert.deepEqual(lin.bias!.data.toArray(), ref("init/linear.bias").toArray());
    conv.dispose();
    lin.dispose();
  });
});

describe("modules", () => {
  test("state-dict keys and order match PyTorch's", () => {
    const net = makeNet();
    assert.deepEqual([...net.stateDict().keys()], [...withPrefix("net/init/").keys()]);
    net.dispose();
  });

  test("forward, parameter gradients and BatchNorm statistics in train mode; eval output", () => {
    const net = makeNet();
    net.loadStateDict(withPrefix("net/init/"));
    tidy(() => {
      net.train();
      const drop = net.layers[10] as Dropout;
      const dropless = new Sequential(...net.layers.slice(0, 10));
      const y = dropless.forward(ref("net/x"));
      assertClose(y, ref("net/train/out"), "train out");
      y.mul(ref("net/gout")).sum().backward();
      for (const [name, p] of net.namedParameters()) {
        assertClose(p.grad!, ref(`net/train/grad/${name}`), `grad ${name}`);
      }
      for (const [name, t] of withPrefix("net/train/state/")) assertClose(net.stateDict().get(name)!, t, name);
      net.eval();
      assert.equal(drop.training, false);
      assertClose(net.forward(ref("net/x")), ref("net/eval/out"), "eval out");
    });
    net.dispose();
  });

  test("loadStateDict: strict errors name every problem; non-strict reports them", () => {
    const net = makeNet();
    const state = new Map(withPrefix("net/init/"));
    state.delete("0.weight");
    const extra = zeros([2]);
    const wrong = zeros([5, 3]);
    state.set("9.bias", wrong);
    state.set("head.weight", extra);
    assert.throws(
      () => net.loadStateDict(state),
      (err: Error) =>
        /missing keys \(1\): 0\.weight/.test(err.message) &&
        /unexpected keys \(1\): head\.weight/.test(err.message) &&
        /shape mismatch for 9\.bias: expected \[5\], found \[5,3\]/.test(err.message),
    );
    const report = net.loadStateDict(state, { strict: false });
    assert.deepEqual(report.missing, ["0.weight"]);
    assert.deepEqual(report.unexpected, ["head.weight"]);
    assert.deepEqual(
      report.shapeMismatch.map((m) => m.key),
      ["9.bias"],
    );
    assert.equal(report.loaded.length, net.stateDict().size - 2);
    extra.dispose();
    wrong.dispose();
    net.dispose();
  });

  test("state dict round trip through safetensors gives the same outputs", () => {
    const dir = mkdtempSync(join(tmpdir(), "sladet-sd-"));
    try {
      const a = makeNet().eval();
      const b = makeNet().eval();
      saveSafetensors(join(dir, "m.safetensors"), a.stateDict());
      const loaded = loadSafetensors(join(dir, "m.safetensors"));
      b.loadStateDict(loaded.tensors);
      for (const t of loaded.tensors.values()) t.dispose();
      tidy(() =>
        assertClose(b.forward(ref("net/x")), a.forward(ref("net/x")), "round trip", { rtol: 0, atolScale: 0 }),
      );
      a.dispose();
      b.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("train()/eval() reach every descendant; ModuleList names; to(device) keeps the Parameter objects", () => {
    class Block extends Module {
      readonly convs = this.registerModule("convs", new ModuleList([new Conv2d(2, 2, 1), new Conv2d(2, 2, 1)]));
      readonly bn = this.registerModule("bn", new BatchNorm2d(2));
    }
    const m = new Block();
    assert.deepEqual(
      m.namedParameters().map(([k]) => k),
      ["convs.0.weight", "convs.0.bias", "convs.1.weight", "convs.1.bias", "bn.weight", "bn.bias"],
    );
    m.eval();
    assert.ok(m.namedModules().every(([, x]) => !x.training));
    const before = m.parameters();
    m.to("cpu");
    assert.deepEqual(m.parameters(), before);
    assert.equal(m.numParameters(), 2 * (4 + 2) + 4);
    m.dispose();
  });
});

describe("SGD, clipping and EMA over 20 steps vs torch.optim.SGD", () => {
  test("parameters, momentum buffers, losses, grad norms and EMA state match", () => {
    const net = makeNet();
    net.loadStateDict(withPrefix("net/init/"));
    // the oracle's trajectory runs with dropout p = 0: skip the Dropout layer
    const model = new Sequential(...net.layers.slice(0, 10));
    const ema = makeNet();
    ema.loadStateDict(net.stateDict());
    const gBn: Parameter[] = [];
    const gW: Parameter[] = [];
    const gB: Parameter[] = [];
    for (const [name, p] of net.namedParameters()) {
      if (name.endsWith("bias")) gB.push(p);
      else if (name.startsWith("1.")) gBn.push(p);
      else gW.push(p);
    }
    const opt = new SGD([{ params: gBn }, { params: gW, weightDecay: 5e-4 }, { params: gB }], {
      lr: 0.01,
      momentum: 0.8,
      nesterov: true,
    });
    const steps = 20;
    const xs = ref("sgd/xs");
    const losses: number[] = [];
    const norms: number[] = [];
    const memory: number[] = [];
    for (let k = 0; k < steps; k++) {
      const f = k / (steps - 1);
      const [lrBias, lrOther, momentum] = [0.1 - (0.1 - 0.01) * f, 0.01 * f + 0.001, 0.8 + (0.937 - 0.8) * f];
      opt.paramGroups.forEach((g, i) => {
        g.lr = i === 2 ? lrBias : lrOther;
        g.momentum = momentum;
      });
      losses.push(
        tidy(() => {
          const loss = model.forward(xs.select(0, k)).pow(2).mean();
          loss.backward();
          return loss.item();
        }),
      );
      norms.push(clipGradNorm(net.parameters(), 1.0));
      opt.step();
      opt.zeroGrad();
      emaUpdate(ema, net, 0.9);
      memory.push(memoryStats().allocatedBytes);
    }
    const close = (a: number, b: number) => Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(b));
    for (const [k, v] of ref("sgd/losses").toArray().entries()) {
      assert.ok(close(losses[k]!, v), `loss ${k}: ${losses[k]} vs ${v}`);
    }
    for (const [k, v] of ref("sgd/norms").toArray().entries()) {
      assert.ok(close(norms[k]!, v), `norm ${k}: ${norms[k]} vs ${v}`);
    }
    for (const [name, t] of withPrefix("sgd/final/")) assertClose(net.stateDict().get(name)!, t, `final ${name}`);
    for (const [name, t] of withPrefix("sgd/ema/")) assertClose(ema.stateDict().get(name)!, t, `ema ${name}`);
    const state = opt.stateDict();
    const groups = [gBn, gW, gB];
    let index = 0;
    groups.forEach((g, gi) => {
      g.forEach((_, j) => {
        assertClose(
          state.tensors.get(`state.${index + j}.momentum_buffer`)!,
          ref(`sgd/momentum/${gi}/${j}`),
          `buf ${gi}/${j}`,
        );
      });
      index += g.length;
    });
    assert.equal(memory[steps - 1], memory[2], "optimizer steps allocate nothing that stays");
    // optimizer state round trip: a fresh optimizer continues identically
    const opt2 = new SGD([{ params: gBn }, { params: gW, weightDecay: 5e-4 }, { params: gB }], { lr: 0.5 });
    opt2.loadStateDict(state);
    assert.equal(opt2.paramGroups[2]!.lr, opt.paramGroups[2]!.lr);
    assert.equal(opt2.paramGroups[1]!.nesterov, true);
    const s2 = opt2.stateDict();
    for (const [k, t] of state.tensors) assertClose(s2.tensors.get(k)!, t, k, { rtol: 0, atolScale: 0 });
    for (const t of [...state.tensors.values(), ...s2.tensors.values()]) t.dispose();
    opt.dispose();
    opt2.dispose();
    ema.dispose();
    net.dispose();
  });

  test("Nesterov without momentum and empty parameter lists are refused", () => {
    const lin = new Linear(2, 2);
    assert.throws(() => new SGD(lin.parameters(), { lr: 0.1, nesterov: true }), /Nesterov/);
    assert.throws(() => new SGD([], { lr: 0.1 }), /empty parameter list/);
    lin.dispose();
  });
});
