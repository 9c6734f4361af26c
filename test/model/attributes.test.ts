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
import {
  ATTRIBUTE_FC_WIDTHS,
  extraInputChannels,
  IMAGE_TAP_MEAN,
  IMAGE_TAP_STD,
} from "../../src/model/attribute-head.js";
import {
  AttributeHead,
  attributeHeadValueCount,
  attributeValues,
  boxSizes,
  parseCheckpoint,
  poolCells,
  serializeCheckpoint,
  YoloModel,
} from "../../src/model/index.js";
import {
  cat,
  manualSeed,
  noGrad,
  parseSafetensors,
  randn,
  serializeSafetensors,
  type Tensor,
  tensor,
  tidy,
} from "../../src/torch/index.js";
import { cellSizeStatistics } from "../../src/train/attribute-priors.js";
import { tinyModelYaml } from "../helpers/trained-fixture.js";
import { assertClose, fixturePath, loadGolden } from "../helpers.js";

const golden = loadGolden("models/models.safetensors", "models.py");

/** Values a head holds (its parameters' elements). */
const valueCount = (h: AttributeHead) => [...h.namedParameters()].reduce((n, [, p]) => n + p.data.numel, 0);
/** The normalised (w, h) of three cells, as the tests' heads get them. */
const threeCellSizes = () =>
  tensor([
    [0.1, 0.2],
    [0.3, 0.4],
    [0.5, 0.6],
  ]);
const ref = golden.ref;
const SEED_HEAD = fixturePath("models/seed_attr.pth");

/**
 * A checkpoint's metadata to edit (`meta`, parsed) and `reparse` to load the file again with the edited metadata, as
 * "x.safetensors"; the caller disposes `tensors`.
 */
function metaEditor(bytes: Uint8Array) {
  const { tensors, metadata } = parseSafetensors(bytes);
  const meta = JSON.parse(metadata["sladet"]!);
  const reparse = () =>
    parseCheckpoint(serializeSafetensors([...tensors], { sladet: JSON.stringify(meta) }), "x.safetensors");
  return { meta, reparse, tensors };
}

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
        const out = head.forward(randn([3, 8, 8, 8]), threeCellSizes());
        out.cellSize.sum().add(out.binary.sum()).backward();
        const g = head.fcBox.weight.grad!;
        assert.ok(g.abs().sum().item() > 0, "fcBox receives gradient");
      });
    } finally {
      head.dispose();
    }
  });
});

describe("AttributeHead's Cell Size from the box (sizeFromBox; off for the seed's weights)", () => {
  test("fcSizeBox adds a linear term of the scaled (w, h) to Cell Size only, starts at zero, learns, is counted", () => {
    const head = new AttributeHead({ inChannels: 8, roiSize: [8, 8], sizeFromBox: true, dropout: 0 });
    const plain = new AttributeHead({ inChannels: 8, roiSize: [8, 8], dropout: 0 });
    try {
      assert.equal(valueCount(head), attributeHeadValueCount(8, [8, 8], true));
      assert.equal(valueCount(head) - valueCount(plain), 6);
      assert.ok(head.fcSizeBox!.weight.data.toArray().every((v) => v === 0));
      assert.equal(plain.fcSizeBox, null);
      tidy(() => {
        manualSeed(3);
        const pooled = randn([3, 8, 8, 8]);
        const wh = threeCellSizes();
        head.train();
        head.forward(pooled, wh).cellSize.sum().backward();
        assert.ok(head.fcSizeBox!.weight.grad!.abs().sum().item() > 0, "fcSizeBox receives gradient");
        noGrad(() => {
          head.eval();
          plain.eval();
          plain.loadStateDict(new Map([...head.stateDict()].filter(([k]) => !k.startsWith("fcSizeBox"))));
          const w = tensor([1, -2, 0.5, 3, -1, 2], [3, 2]);
          head.fcSizeBox!.weight.data = w;
          const a = head.forward(pooled, wh);
          const b = plain.forward(pooled, wh);
          assertClose(a.binary, b.binary, "binary logits unchanged", { rtol: 1e-6 });
          assertClose(
            a.cellSize,
            b.cellSize.add(wh.mul(head.boxScale).matmul(w.transpose(0, 1))),
            "Cell Size + W·(s·wh)",
            {
              rtol: 1e-5,
            },
          );
        });
      });
    } finally {
      head.dispose();
      plain.dispose();
    }
  });

  test("sizeNorm: fcSizeBox reads (wh − mean) / sd; the training cells' statistics give it", () => {
    const norm = [0.2, 0.25, 0.05, 0.1] as const;
    const head = new AttributeHead({ inChannels: 8, roiSize: [8, 8], sizeFromBox: true, sizeNorm: norm, dropout: 0 });
    const plain = new AttributeHead({ inChannels: 8, roiSize: [8, 8], dropout: 0 });
    try {
      tidy(() =>
        noGrad(() => {
          manualSeed(5);
          head.eval();
          plain.eval();
          plain.loadStateDict(new Map([...head.stateDict()].filter(([k]) => !k.startsWith("fcSizeBox"))));
          const w = tensor([1, -2, 0.5, 3, -1, 2], [3, 2]);
          head.fcSizeBox!.weight.data = w;
          const pooled = randn([2, 8, 8, 8]);
          const wh = tensor([
            [0.1, 0.2],
            [0.3, 0.45],
          ]);
          const z = tensor([
            [(0.1 - 0.2) / 0.05, (0.2 - 0.25) / 0.1],
            [(0.3 - 0.2) / 0.05, (0.45 - 0.25) / 0.1],
          ]);
          const expected = plain.forward(pooled, wh).cellSize.add(z.matmul(w.transpose(0, 1)));
          assertClose(head.forward(pooled, wh).cellSize, expected, "Cell Size + W·z", { rtol: 1e-5 });
        }),
      );
    } finally {
      head.dispose();
      plain.dispose();
    }
    assert.throws(() => new AttributeHead({ inChannels: 8, sizeFromBox: true, sizeNorm: [0, 0, 0, 1] }), /positive/);
    const cell = (w: number, h: number) => ({ cls: 0, xc: 0.5, yc: 0.5, w, h, attributes: [] });
    // a 200×100 image: sizes relative to its long side (200), as the head gets them
    const stats = cellSizeStatistics([{ width: 200, height: 100, labels: [cell(0.1, 0.2), cell(0.3, 0.4)] }]);
    assert.deepEqual(
      stats?.map((v) => +v.toFixed(6)),
      [0.2, 0.15, +Math.sqrt(0.02).toFixed(6), +Math.sqrt(0.005).toFixed(6)],
    );
    assert.equal(cellSizeStatistics([{ width: 10, height: 10, labels: [cell(0.1, 0.1)] }]), null);
  });

  test("imageNorm: the image tap per channel (fixed mean and deviation), per cell, or both side by side", () => {
    const image = { taps: ["image", "p2"], tapChannels: [3, 4], inChannels: 7, roiSize: [8, 8] as const, dropout: 0 };
    const both = new AttributeHead({ ...image, imageNorm: "both" });
    const channel = new AttributeHead({ ...image, imageNorm: "channel" });
    const cell = new AttributeHead({ ...image, imageNorm: "cell" });
    try {
      // conv1 takes the image twice with "both"; the value count (what checkpoints are checked against) follows
      assert.deepEqual(both.conv1.weight.data.shape, [128, 10, 3, 3]);
      assert.deepEqual(channel.conv1.weight.data.shape, [128, 7, 3, 3]);
      const values = [...both.parameters()].reduce((n, p) => n + p.data.numel, 0);
      assert.equal(values, attributeHeadValueCount(7, [8, 8], false, extraInputChannels(both)));
      assert.equal(extraInputChannels(channel), 0);
      assert.equal(extraInputChannels({ ...both.config, inputNorm: false }), 0, "no standardisation, no copy");
      tidy(() =>
        noGrad(() => {
          manualSeed(2);
          const pooled = randn([2, 7, 8, 8]).mul(0.2).add(0.5);
          const [rgb, p2] = pooled.split([3, 4], 1) as [Tensor, Tensor];
          const fixed = rgb
            .sub(tensor([...IMAGE_TAP_MEAN], [1, 3, 1, 1]))
            .div(tensor([...IMAGE_TAP_STD], [1, 3, 1, 1]));
          const perCell = (x: Tensor) => {
            const c = x.sub(x.mean([1, 2, 3], true));
            return c.div(c.pow(2).mean([1, 2, 3], true).add(1e-5).sqrt());
          };
          const expected = {
            both: cat([perCell(rgb), fixed, perCell(p2)], 1),
            channel: cat([fixed, perCell(p2)], 1),
            cell: cat([perCell(rgb), perCell(p2)], 1),
          };
          for (const [name, head] of [
            ["both", both],
            ["channel", channel],
            ["cell", cell],
          ] as const) {
            assertClose(head.standardisedInput(pooled), expected[name], `imageNorm ${name}`, { rtol: 1e-5 });
          }
        }),
      );
      assert.throws(() => new AttributeHead({ ...image, imageNorm: "none" as "cell" }), /imageNorm/);
    } finally {
      for (const h of [both, channel, cell]) h.dispose();
    }
  });

  test("travels in checkpoints; a checkpoint's tensor count must match it", () => {
    const model = new YoloModel(tinyModelYaml());
    const head = new AttributeHead({
      inChannels: model.tapChannels("p2") + model.tapChannels("p3"),
      sizeFromBox: true,
      sizeNorm: [0.1, 0.1, 0.02, 0.03],
    });
    try {
      const bytes = serializeCheckpoint(model, { attributeHead: head });
      const loaded = parseCheckpoint(bytes);
      assert.equal(loaded.attributeHead?.sizeFromBox, true);
      assert.deepEqual(loaded.attributeHead?.sizeNorm, [0.1, 0.1, 0.02, 0.03]);
      assert.deepEqual(loaded.attributeHead?.config, head.config);
      loaded.model.dispose();
      loaded.attributeHead?.dispose();
      const { tensors, metadata } = parseSafetensors(bytes);
      const meta = JSON.parse(metadata["sladet"]!);
      meta.attributeHead.sizeFromBox = false;
      assert.throws(
        () => parseCheckpoint(serializeSafetensors([...tensors], { sladet: JSON.stringify(meta) }), "x.safetensors"),
        /x\.safetensors: the metadata describes an attribute head of \d+ values .* but the file holds \d+/,
      );
      meta.attributeHead.sizeFromBox = "yes";
      assert.throws(
        () => parseCheckpoint(serializeSafetensors([...tensors], { sladet: JSON.stringify(meta) }), "x.safetensors"),
        /sizeFromBox must be true or false/,
      );
      meta.attributeHead.sizeFromBox = true;
      meta.attributeHead.sizeNorm = [0.1, 0.1, 0, 0.03];
      assert.throws(
        () => parseCheckpoint(serializeSafetensors([...tensors], { sladet: JSON.stringify(meta) }), "x.safetensors"),
        /sizeNorm must be \[mean w, mean h, sd w, sd h\] with positive deviations/,
      );
      meta.attributeHead.sizeNorm = [0.1, 0.1, 0.02, 0.03];
      meta.attributeHead.imageNorm = "none";
      assert.throws(
        () => parseCheckpoint(serializeSafetensors([...tensors], { sladet: JSON.stringify(meta) }), "x.safetensors"),
        /x\.safetensors: metadata "attributeHead" imageNorm must be one of cell, channel, both, found "none"/,
      );
      for (const t of tensors.values()) t.dispose();
    } finally {
      model.dispose();
      head.dispose();
    }
  });
});

describe("AttributeHead reading the cell's class (classes; off for the seed's weights)", () => {
  test("fcClass adds row `class` of its weight to fc1's pre-activation, starts at zero, learns, is counted", () => {
    const head = new AttributeHead({ inChannels: 8, roiSize: [8, 8], classes: 3, dropout: 0 });
    const plain = new AttributeHead({ inChannels: 8, roiSize: [8, 8], dropout: 0 });
    try {
      assert.equal(valueCount(head), attributeHeadValueCount(8, [8, 8], false, 0, 3));
      assert.equal(valueCount(head) - valueCount(plain), 3 * ATTRIBUTE_FC_WIDTHS[0]);
      assert.ok(
        head.fcClass!.weight.data.toArray().every((v) => v === 0),
        "zero at construction",
      );
      assert.equal(plain.fcClass, null);
      assert.equal(head.config.classes, 3);
      tidy(() => {
        manualSeed(4);
        const pooled = randn([3, 8, 8, 8]);
        const wh = threeCellSizes();
        const classes = tensor([2, 0, 2], [3], { dtype: "int64" });
        head.train();
        head.forward(pooled, wh, classes).binary.sum().backward();
        const grad = head.fcClass!.weight.grad!;
        assert.ok(grad.select(1, 2).abs().sum().item() > 0, "the classes present receive gradient");
        assert.equal(grad.select(1, 1).abs().sum().item(), 0, "a class absent from the batch gets none");
        assert.throws(() => head.forward(pooled, wh), /needs the 3 cells' classes/);
        noGrad(() => {
          head.eval();
          plain.eval();
          plain.loadStateDict(new Map([...head.stateDict()].filter(([k]) => !k.startsWith("fcClass"))));
          assertClose(head.forward(pooled, wh, classes).binary, plain.forward(pooled, wh).binary, "zero: the same", {
            rtol: 1e-6,
          });
          // a class vector that only moves fc1's pre-activation: with fc1's output made the class vector alone, the
          // head must give what plain gives for that pre-activation
          head.fcClass!.weight.data = randn([ATTRIBUTE_FC_WIDTHS[0], 3]);
          const a = head.forward(pooled, wh, classes).binary;
          const b = head.forward(pooled, wh, tensor([0, 0, 0], [3], { dtype: "int64" })).binary;
          assert.ok(a.sub(b).abs().sum().item() > 0, "the class changes the output");
          assertClose(a.select(0, 1), b.select(0, 1), "a cell whose class is the same gives the same", { rtol: 1e-6 });
        });
      });
    } finally {
      head.dispose();
      plain.dispose();
    }
    assert.throws(() => new AttributeHead({ inChannels: 8, classes: 1.5 }), /classes must be a whole number/);
  });

  test("travels in checkpoints; a head reading another class count than the detector's is refused", () => {
    const model = new YoloModel(tinyModelYaml());
    const inChannels = model.tapChannels("p2") + model.tapChannels("p3");
    const head = new AttributeHead({ inChannels, classes: model.detect.nc });
    try {
      const bytes = serializeCheckpoint(model, { attributeHead: head });
      const loaded = parseCheckpoint(bytes);
      assert.equal(loaded.attributeHead?.classes, model.detect.nc);
      assert.deepEqual(loaded.attributeHead?.config, head.config);
      loaded.model.dispose();
      loaded.attributeHead?.dispose();
      const { meta, reparse, tensors } = metaEditor(bytes);
      meta.attributeHead.classes = model.detect.nc + 1;
      assert.throws(reparse, /x\.safetensors: the attribute head reads \d+ classes but the detector has \d+/);
      meta.attributeHead.classes = 0;
      assert.throws(reparse, /describes an attribute head of \d+ values .* but the file holds \d+/);
      meta.attributeHead.classes = "all";
      assert.throws(reparse, /classes must be a whole number >= 0/);
      for (const t of tensors.values()) t.dispose();
    } finally {
      model.dispose();
      head.dispose();
    }
  });
});

describe("AttributeHead pooling a fine view (imageScale, hyp attr_image_scale)", () => {
  test("travels in checkpoints; needs the image tap; a factor out of range is refused", () => {
    const model = new YoloModel(tinyModelYaml());
    const head = new AttributeHead({ inChannels: 3, taps: ["image"], tapChannels: [3], imageScale: 2 });
    try {
      const bytes = serializeCheckpoint(model, { attributeHead: head });
      const loaded = parseCheckpoint(bytes);
      assert.equal(loaded.attributeHead?.imageScale, 2);
      assert.deepEqual(loaded.attributeHead?.config, head.config);
      loaded.model.dispose();
      loaded.attributeHead?.dispose();
      const { meta, reparse, tensors } = metaEditor(bytes);
      meta.attributeHead.imageScale = 5;
      assert.throws(
        reparse,
        /x\.safetensors: metadata "attributeHead" imageScale must be a whole number from 1 to 4, found 5/,
      );
      delete meta.attributeHead.imageScale;
      const old = reparse(); // written before the key existed: the network input itself
      assert.equal(old.attributeHead?.imageScale, 1);
      old.model.dispose();
      old.attributeHead?.dispose();
      for (const t of tensors.values()) t.dispose();
    } finally {
      model.dispose();
      head.dispose();
    }
    assert.throws(() => new AttributeHead({ inChannels: 8, imageScale: 2 }), /imageScale 2 needs the image tap/);
    assert.throws(
      () => new AttributeHead({ inChannels: 3, taps: ["image"], imageScale: 1.5 }),
      /imageScale must be a whole number >= 1/,
    );
  });
});

describe("AttributeHead input conditioning (ours; off for the seed's weights)", () => {
  test("each cell's pooled features are standardised: the logits ignore a cell-wise affine change of them", () => {
    const head = new AttributeHead({ inChannels: 8, roiSize: [8, 8] }).eval();
    const seedLike = new AttributeHead({ inChannels: 8, roiSize: [8, 8], inputNorm: false }).eval();
    try {
      tidy(() =>
        noGrad(() => {
          manualSeed(4);
          const pooled = randn([3, 8, 8, 8]);
          const wh = threeCellSizes();
          const scaled = pooled.mul(tensor([0.5, 7, 300]).view(3, 1, 1, 1)).add(2);
          assertClose(head.forward(scaled, wh).binary, head.forward(pooled, wh).binary, "standardised", { rtol: 1e-4 });
          seedLike.loadStateDict(head.stateDict());
          const a = seedLike.forward(scaled, wh).binary.sub(seedLike.forward(pooled, wh).binary).abs().max().item();
          assert.ok(a > 1e-3, "without it the logits follow the scale");
        }),
      );
    } finally {
      head.dispose();
      seedLike.dispose();
    }
  });

  test("the configuration travels in checkpoints; heads saved before it existed load as they were trained", () => {
    const model = new YoloModel(tinyModelYaml());
    const head = new AttributeHead({ inChannels: model.tapChannels("p2") + model.tapChannels("p3"), boxScale: 4 });
    try {
      const bytes = serializeCheckpoint(model, { attributeHead: head });
      const loaded = parseCheckpoint(bytes);
      assert.deepEqual(loaded.attributeHead?.config, head.config);
      assert.equal(loaded.attributeHead?.inputNorm, true);
      loaded.model.dispose();
      loaded.attributeHead?.dispose();
      // an older checkpoint: meta.attributeHead without inputNorm / boxScale
      const { tensors, metadata } = parseSafetensors(bytes);
      const meta = JSON.parse(metadata["sladet"]!);
      meta.attributeHead = { inChannels: head.inChannels, roiSize: [24, 30] };
      const old = parseCheckpoint(serializeSafetensors([...tensors], { sladet: JSON.stringify(meta) }));
      for (const t of tensors.values()) t.dispose();
      assert.equal(old.attributeHead?.inputNorm, false);
      assert.equal(old.attributeHead?.boxScale, 1);
      old.model.dispose();
      old.attributeHead?.dispose();
    } finally {
      model.dispose();
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
