/**
 * The attribute head: the seed's shape and parameter count, the seed's state dict mapped on (with the report of what
 * is fresh) giving the seed's logits, RoI pooling equal to torchvision's on the seed's procedure with the square-map
 * bug fixed (non-square maps), and the box-size input reaching the gradients.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import {
  CheckpointError,
  disposeCheckpoint,
  loadSeedAttributeState,
  modelFromCheckpoint,
  parseStateDict,
  readSeedAttributeHead,
  readYoloCheckpoint,
} from "../../src/io/index.js";
import { AttributeHead, attributeValues, boxSizes, poolCells } from "../../src/model/index.js";
import { manualSeed, noGrad, randn, tensor, tidy } from "../../src/torch/index.js";
import { assertClose, fixturePath, loadGolden } from "../helpers.js";

const golden = loadGolden("models/models.safetensors", "models.py");
const ref = golden.ref;
const SEED_HEAD = fixturePath("models/seed_attr.pth");

describe("AttributeHead", () => {
  test("the seed's layers for YOLOv5x (480 channels): 1,520,140 parameters, plus box size and Cell Size outputs", () => {
    const head = new AttributeHead({ inChannels: 480 });
    try {
      const seedPart = head
        .namedParameters()
        .filter(([k]) => !k.startsWith("fcBox") && !k.startsWith("fcSize"))
        .reduce((n, [, p]) => n + p.data.numel, 0);
      assert.equal(seedPart, 1_520_140);
      assert.equal(head.numParameters() - seedPart, 2 * 1024 + 256 * 3 + 3);
      assert.equal(head.flatFeatures, 576);
      head.eval();
      tidy(() => {
        const out = noGrad(() =>
          head.forward(
            randn([4, 480, 24, 30]),
            tensor([
              [0.1, 0.2],
              [0.3, 0.1],
              [0.05, 0.05],
              [0.5, 0.4],
            ]),
          ),
        );
        assert.deepEqual(out.cellSize.shape, [4, 3]);
        assert.deepEqual(out.binary.shape, [4, 6, 2]);
        const values = attributeValues(out);
        assert.deepEqual(values.shape, [4, 7]);
        assert.ok(values.toArray().every((v, i) => v >= 0 && v < (i % 7 === 0 ? 3 : 2)));
      });
    } finally {
      head.dispose();
    }
  });

  test("the seed's state dict maps on: fresh keys reported, a1..a6 logits equal the seed's", () => {
    const { head, report } = readSeedAttributeHead(SEED_HEAD);
    try {
      assert.deepEqual(report.fresh, ["fcBox.weight", "fcSize.weight", "fcSize.bias"]);
      assert.equal(report.loaded.length, 12);
      assert.deepEqual(report.ignored, []);
      head.eval();
      tidy(() => {
        const pooled = ref("attr/pooled");
        const k = pooled.shape[0]!;
        const out = noGrad(() => head.forward(pooled, boxSizes(ref("attr/boxes"))));
        assertClose(out.binary, ref("attr/logits").view(k, 6, 2), "binary logits");
      });
    } finally {
      head.dispose();
    }
  });

  test("a seed head of another width is refused naming the shapes", () => {
    const state = parseStateDict(readFileSync(SEED_HEAD), "seed_attr.pth");
    const head = new AttributeHead({ inChannels: 480 });
    try {
      assert.throws(
        () => loadSeedAttributeState(head, state, "seed_attr.pth"),
        (err: Error) =>
          err instanceof CheckpointError &&
          /seed_attr\.pth: .*conv1\.weight: head \[128,480,3,3\], file \[128,24,3,3\]/.test(err.message),
      );
    } finally {
      head.dispose();
      for (const t of state.values()) t.dispose();
    }
  });

  test("the box-size weights start at zero and still learn", () => {
    const head = new AttributeHead({ inChannels: 8, roiSize: [8, 8] });
    try {
      assert.ok(head.fcBox.weight.data.toArray().every((v) => v === 0));
      head.train();
      tidy(() => {
        manualSeed(3);
        const out = head.forward(
          randn([3, 8, 8, 8]),
          tensor([
            [0.1, 0.2],
            [0.3, 0.4],
            [0.5, 0.6],
          ]),
        );
        out.cellSize.sum().add(out.binary.sum()).backward();
        const g = head.fcBox.weight.grad!;
        assert.ok(g.abs().sum().item() > 0, "fcBox receives gradient");
      });
    } finally {
      head.dispose();
    }
  });
});

describe("RoI pooling for the attribute head (vs torchvision on the seed's procedure, [fW, fH] fixed)", () => {
  test("non-square maps (v5n taps of a 64×96 input, two images)", () => {
    tidy(() => {
      const pooled = poolCells([ref("v5n/eval/p2"), ref("v5n/eval/p3")], ref("v5n/attr/boxes"));
      assertClose(pooled, ref("v5n/attr/pooled"), "pooled");
    });
  });

  test("taps of a model imported from a .pt, pooled and classified end to end", () => {
    const ckpt = readYoloCheckpoint(fixturePath("models/tiny14.pt"));
    const model = modelFromCheckpoint(ckpt);
    disposeCheckpoint(ckpt);
    const { head } = readSeedAttributeHead(SEED_HEAD);
    try {
      model.eval();
      head.eval();
      assert.equal(head.inChannels, model.tapChannels("p2") + model.tapChannels("p3"));
      tidy(() =>
        noGrad(() => {
          const { features } = model.forward(ref("tiny14/input"), { taps: ["p2", "p3"], decode: false });
          const boxes = ref("attr/boxes");
          const pooled = poolCells([features["p2"]!, features["p3"]!], boxes);
          assertClose(pooled, ref("attr/pooled"), "pooled");
          assertClose(head.forward(pooled, boxSizes(boxes)).binary.view(-1, 12), ref("attr/logits"), "logits");
        }),
      );
    } finally {
      model.dispose();
      head.dispose();
    }
  });
});
