/**
 * YOLOv5 from descriptions: YOLOv5's depth/width rules, parameter counts equal to Ultralytics', description errors,
 * and parity with PyTorch (tools/oracle/models.py) on identical weights: eval maps, decoded boxes, feature taps,
 * fused inference, training-mode maps and BatchNorm statistics.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { BN_EPS, BN_MOMENTUM, STRIDE_PROBE_BN_MOMENTUM } from "../../src/model/constants.js";
import {
  builtinModelYaml,
  type ModelYaml,
  makeDivisible,
  parseModelYaml,
  pythonRound,
  resolveLayers,
  scaledDepth,
  YoloModel,
} from "../../src/model/index.js";
import { BatchNorm2d, manualSeed, memoryStats, noGrad, rand, tidy, uniform_, zeros } from "../../src/torch/index.js";
import { tinyModelYaml } from "../helpers/trained-fixture.js";
import { assertClose, loadGolden } from "../helpers.js";

const golden = loadGolden("models/models.safetensors", "models.py");
const ref = golden.ref;

describe("YOLOv5 rules", () => {
  test("channels round up to multiples of 8, depth rounds half to even", () => {
    assert.equal(makeDivisible(64 * 0.25), 16);
    assert.equal(makeDivisible(1024 * 1.25), 1280);
    assert.equal(makeDivisible(4), 8);
    assert.equal(pythonRound(2.5), 2);
    assert.equal(pythonRound(3.5), 4);
    assert.equal(pythonRound(-0.5), -0);
    assert.deepEqual(
      [3, 6, 9].map((n) => scaledDepth(n, 1.33)),
      [4, 8, 12],
    );
    assert.deepEqual(
      [3, 6, 9].map((n) => scaledDepth(n, 0.33)),
      [1, 2, 3],
    );
    assert.equal(scaledDepth(1, 0.33), 1);
  });

  test("v5x layer channels and repeats follow method.md §3.1", () => {
    const layers = resolveLayers(builtinModelYaml("x", 14));
    assert.deepEqual(
      layers.slice(0, 10).map((l) => l.outChannels),
      [80, 160, 160, 320, 320, 640, 640, 1280, 1280, 1280],
    );
    const repeats = layers.map((l) => (l.args.kind === "C3" ? l.args.n : 0)).filter((n) => n > 0);
    assert.deepEqual(repeats, [4, 8, 12, 4, 4, 4, 4, 4]);
    assert.deepEqual(
      [13, 17, 20, 23].map((i) => layers[i]!.outChannels),
      [640, 320, 640, 1280],
    );
  });

  // Ultralytics' model summaries (unfused): yolov5n 1,872,157 and yolov5s 7,235,389 parameters at nc = 80
  for (const [scale, nc, count] of [
    ["n", 14, 1_782_859],
    ["s", 14, 7_057_387],
    ["n", 80, 1_872_157],
    ["s", 80, 7_235_389],
  ] as const) {
    test(`yolov5${scale} with nc = ${nc} has ${count.toLocaleString("en-US")} parameters`, () => {
      const model = new YoloModel(builtinModelYaml(scale, nc));
      try {
        assert.equal(model.numParameters(), count);
        assert.deepEqual(model.stride, [8, 16, 32]);
      } finally {
        model.dispose();
      }
    });
  }

  test("state-dict keys are Ultralytics'", () => {
    const model = new YoloModel(builtinModelYaml("n", 14));
    try {
      const keys = [...model.stateDict().keys()];
      for (const k of [
        "model.0.conv.weight",
        "model.0.bn.num_batches_tracked",
        "model.2.m.0.cv1.conv.weight",
        "model.9.cv2.bn.running_var",
        "model.24.anchors",
        "model.24.m.2.bias",
      ]) {
        assert.ok(keys.includes(k), k);
      }
      assert.deepEqual(model.stateDict().get("model.24.m.0.weight")!.shape, [57, 64, 1, 1]);
    } finally {
      model.dispose();
    }
  });

  test("a user's own YAML: custom anchors (2 per level), two levels, other nc", () => {
    const yaml = parseModelYaml(
      `nc: 3
depth_multiple: 1.0
width_multiple: 1.0
anchors: [[10, 10, 20, 20], [40, 40, 80, 80]]
backbone:
  - [-1, 1, Conv, [8, 3, 2]]
  - [-1, 2, Bottleneck, [8]]
  - [-1, 1, Conv, [16, 3, 2]]
  - [-1, 1, SPPF, [16, 3]]
head:
  - [-1, 1, nn.Upsample, [None, 2, 'nearest']]
  - [[-1, 1], 1, Concat, [1]]
  - [-1, 1, C3, [16, False]]
  - [[6, 3], 1, Detect, [nc, anchors]]
`,
      "custom.yaml",
    );
    const model = new YoloModel(yaml, { taps: { early: 1 } });
    try {
      assert.deepEqual(model.stride, [2, 4]);
      assert.equal(model.detect.na, 2);
      assert.deepEqual(model.detect.anchors.data.toArray(), [5, 5, 10, 10, 10, 10, 20, 20]);
      assert.ok(model.stateDict().has("model.1.1.cv2.conv.weight"), "repeated layers are a Sequential");
      model.eval();
      noGrad(() =>
        tidy(() => {
          const out = model.forward(zeros([2, 3, 16, 24]), { taps: ["early"] });
          assert.deepEqual(
            out.maps.map((m) => m.shape),
            [
              [2, 2, 8, 12, 8],
              [2, 2, 4, 6, 8],
            ],
          );
          assert.deepEqual(out.decoded!.shape, [2, 2 * (96 + 24), 8]);
          assert.deepEqual(out.features["early"]!.shape, [2, 8, 8, 12]);
        }),
      );
    } finally {
      model.dispose();
    }
  });

  test("description errors name the file and the layer", () => {
    const base = builtinModelYaml("n");
    const bad = (edit: (y: ModelYaml) => void): ModelYaml => {
      const y = structuredClone(base);
      edit(y);
      return y;
    };
    assert.throws(
      () =>
        resolveLayers(
          bad((y) => (y.backbone[2]![2] = "Focus")),
          "my.yaml",
        ),
      /my\.yaml: layer 2 \(Focus\): unknown module "Focus"/,
    );
    assert.throws(
      () =>
        resolveLayers(
          bad((y) => (y.head[2]![0] = [-1, 30])),
          "my.yaml",
        ),
      /my\.yaml: layer 12 \(Concat\): "from" 30 does not name an earlier layer/,
    );
    assert.throws(
      () => parseModelYaml("nc: 0\n", "z.yaml"),
      /z\.yaml: "nc" must be an integer from 1 to 10000, found 0/,
    );
    assert.throws(() => parseModelYaml("nc: [\n", "z.yaml"), /z\.yaml: not valid YAML/);
    assert.throws(
      () =>
        parseModelYaml("nc: 2\ndepth_multiple: 1\nwidth_multiple: 1\nbackbone: [[-1, 1, Conv]]\nhead: []\n", "r.yaml"),
      /r\.yaml: backbone row 0: expected \[from, number, module, args\]/,
    );
    assert.throws(() => new YoloModel(base, { taps: { p9: 99 } }), /tap "p9" names layer 99/);
  });
});

/** v5n, nc = 14, weights as the oracle made them: seeded init, then BatchNorm drawn in state-dict order. */
function seededV5n(): YoloModel {
  manualSeed(0);
  const model = new YoloModel(builtinModelYaml("n", 14));
  manualSeed(1);
  noGrad(() => {
    for (const [, m] of model.namedModules()) {
      if (!(m instanceof BatchNorm2d)) continue;
      uniform_(m.weight.data, 0.5, 1.5);
      uniform_(m.bias.data, -0.3, 0.3);
      uniform_(m.runningMean.data, -0.5, 0.5);
      uniform_(m.runningVar.data, 0.5, 2.0);
    }
  });
  return model;
}

describe("parity with PyTorch (v5n, nc = 14, batch 2, 64×96)", () => {
  const model = seededV5n();
  after(() => model.dispose());
  const x = ref("v5n/input");

  test("the same seeded weights as the oracle", () => {
    const sums = [...model.stateDict().values()].map((t) => tidy(() => t.float().sum().item()));
    const expected = ref("v5n/param_sums").toArray();
    assert.equal(sums.length, expected.length);
    for (const [i, s] of sums.entries()) {
      assert.ok(
        Math.abs(s - expected[i]!) <= 1e-4 * Math.max(1, Math.abs(expected[i]!)),
        `tensor ${i}: ${s} vs ${expected[i]}`,
      );
    }
  });

  test("eval: raw maps, decoded boxes and the p2/p3/neckP3 taps", () => {
    model.eval();
    noGrad(() =>
      tidy(() => {
        const out = model.forward(x, { taps: ["p2", "p3", "neckP3"] });
        for (const [i, m] of out.maps.entries()) assertClose(m, ref(`v5n/eval/map${i}`), `map${i}`);
        assertClose(out.decoded!, ref("v5n/eval/decoded"), "decoded");
        for (const name of ["p2", "p3", "neckP3"]) assertClose(out.features[name]!, ref(`v5n/eval/${name}`), name);
      }),
    );
  });

  test("fused Conv+BN inference equals PyTorch's fused model and our unfused one", () => {
    model.eval();
    noGrad(() =>
      tidy(() => {
        const unfused = model.forward(x).decoded!;
        model.fuse();
        try {
          const fused = model.forward(x).decoded!;
          assertClose(fused, ref("v5n/fused/decoded"), "fused vs PyTorch fused");
          assertClose(fused, unfused, "fused vs unfused", { rtol: 1e-4, atolScale: 1e-5 });
        } finally {
          model.unfuse();
        }
      }),
    );
  });

  test("training mode: raw maps with batch statistics, running statistics updated", () => {
    model.train();
    noGrad(() =>
      tidy(() => {
        const out = model.forward(x);
        assert.equal(out.decoded, null);
        for (const [i, m] of out.maps.entries()) assertClose(m, ref(`v5n/train/map${i}`), `train map${i}`);
      }),
    );
    const bn = model.stateDict().get("model.0.bn.running_mean")!;
    assertClose(bn, ref("v5n/train/running_mean0"), "running_mean after one training forward");
  });

  test("forward passes leak no tensor and no storage (inference, training with backward, fused)", () => {
    const step = (mode: "eval" | "train" | "fused") => {
      if (mode === "train") model.train();
      else model.eval();
      if (mode === "fused") model.fuse();
      tidy(() => {
        const out = model.forward(x, { taps: ["p2"] });
        if (mode === "train") out.maps.reduce((s, m) => s.add(m.sum()), out.features["p2"]!.mean()).backward();
      });
      model.unfuse();
      for (const p of model.parameters()) p.data.setGrad(null);
    };
    for (const mode of ["eval", "train", "fused"] as const) {
      step(mode); // warm-up: grid caches
      const before = memoryStats();
      step(mode);
      const afterStats = memoryStats();
      assert.equal(afterStats.liveTensors, before.liveTensors, `${mode}: live tensors`);
      assert.equal(afterStats.allocatedBytes, before.allocatedBytes, `${mode}: allocated bytes`);
    }
  });
});

test("tapsOnly stops after the last requested tap: the same features, no maps", () => {
  manualSeed(2);
  const model = new YoloModel(tinyModelYaml()).eval();
  try {
    tidy(() =>
      noGrad(() => {
        const x = rand([1, 3, 64, 64]);
        const full = model.forward(x, { taps: ["p2", "p3"] });
        const part = model.forward(x, { taps: ["p2", "p3"], tapsOnly: true });
        assert.deepEqual(part.maps, []);
        assert.equal(part.decoded, null);
        for (const t of ["p2", "p3"]) assertClose(part.features[t]!, full.features[t]!, t, { rtol: 0, atolScale: 0 });
      }),
    );
  } finally {
    model.dispose();
  }
});

describe("a fresh model is initialised as YOLOv5 v7.0's (issue 23)", () => {
  // With the same seed, sladet's fresh yolov5n equals Ultralytics' Model(yolov5n.yaml, nc=3) bit for bit, running
  // statistics and Detect biases included (bench/yolov5-parity, BENCHMARKS.md "Training parity with Ultralytics").
  const yaml = builtinModelYaml("n", 3);

  test("the stride probe leaves YOLOv5's BatchNorm state: running var 0.9, one batch tracked, then eps 1e-3, momentum 0.03", () => {
    const model = new YoloModel(yaml);
    try {
      for (const [name, m] of model.namedModules()) {
        if (!(m instanceof BatchNorm2d)) continue;
        assert.equal(m.momentum, BN_MOMENTUM, name);
        assert.equal(m.eps, BN_EPS, name);
        assert.ok(
          m.runningVar.data.toArray().every((v) => v === Math.fround(1 - STRIDE_PROBE_BN_MOMENTUM)),
          `${name}: running var`,
        );
        assert.ok(
          m.runningMean.data.toArray().every((v) => v === 0),
          `${name}: running mean`,
        );
        assert.equal(Number(m.numBatchesTracked.data.item()), 1, name);
      }
    } finally {
      model.dispose();
    }
  });

  test("Detect biases get log(8/(640/s)²) on objectness and log(0.6/(nc − 0.99999)) on classes, added in float32", () => {
    manualSeed(3);
    const plain = new YoloModel(yaml, { initBiases: false });
    manualSeed(3);
    const primed = new YoloModel(yaml);
    try {
      const { na, no } = plain.detect;
      for (const [i, s] of plain.stride.entries()) {
        const before = plain.detect.m.items[i]!.bias!.data.toArray();
        const after = primed.detect.m.items[i]!.bias!.data.toArray();
        const obj = Math.fround(Math.log(8 / (640 / s) ** 2));
        const cls = Math.fround(Math.log(0.6 / (3 - 0.99999)));
        for (let a = 0; a < na; a++) {
          for (let k = 0; k < no; k++) {
            const j = a * no + k;
            const prior = k === 4 ? obj : k >= 5 ? cls : 0;
            assert.equal(after[j], Math.fround(before[j]! + prior), `level ${i} anchor ${a} output ${k}`);
          }
        }
      }
    } finally {
      plain.dispose();
      primed.dispose();
    }
  });
});
