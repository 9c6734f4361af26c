/**
 * ONNX export (issue 12): the exported detector and attribute graphs, run by onnxruntime-node, against libtorch on
 * the trained test fixture: decoded rows (boxes within 1e-3 px, scores within 1e-4), fixed and dynamic shapes, the
 * same detections after NMS (JavaScript NMS vs libtorch's), the attribute probabilities of the seed's p2/p3 head and
 * of sladet's image head; ONNX's own checker (Debian python3-onnx) on every file; errors that name the file.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { readImageRgb } from "../../src/data/images.js";
import { nonMaxSuppression } from "../../src/eval/nms.js";
import { buildOnnx } from "../../src/export/onnx-export.js";
import { OnnxModelError } from "../../src/export/onnx-metadata.js";
import { nmsRows } from "../../src/infer/js-nms.js";
import { createOnnxPredictor } from "../../src/infer/onnx-predictor.js";
import type { PredictionsJson } from "../../src/infer/prediction-json.js";
import type { ImagePrediction, Predictor } from "../../src/infer/predictor.js";
import { loadInferenceModel } from "../../src/io/inference-model.js";
import type { AttributeHead, ImageNorm } from "../../src/model/attribute-head.js";
import { attributeLogits, headMaps, modelTaps } from "../../src/model/attribute-inference.js";
import type { YoloModel } from "../../src/model/yolo.js";
import { runOnnxExport } from "../../src/runs/export-run.js";
import { cat, inferenceMode, manualSeed, memoryStats, rand, tensor, tidy } from "../../src/torch/index.js";
import { trainedFixture } from "../helpers/trained-fixture.js";
import { saveWithAttributeHead } from "../helpers/with-head.js";
import { fixturePath, REPO_ROOT } from "../helpers.js";

const BOX_TOL_PX = 1e-3;
const SCORE_TOL = 1e-4;

let dir: string;
let model: YoloModel;
let images: string[];

before(async () => {
  const fixture = await trainedFixture();
  dir = mkdtempSync(join(tmpdir(), "sladet-onnx-"));
  model = loadInferenceModel(fixture.best).model;
  const imageDir = join(fixture.dataYaml, "..", "images", "val");
  images = readdirSync(imageDir)
    .sort()
    .slice(0, 4)
    .map((f) => join(imageDir, f));
});
after(() => {
  model?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Largest |a − b| over columns [from, to) of rows of `no` values. */
function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>, no: number, from: number, to: number): number {
  assert.equal(a.length, b.length, "same number of values");
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const c = i % no;
    if (c >= from && c < to) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  }
  return m;
}

/** Images of the fixture's val split as a [B, 3, size, size] batch in 0..1 (they are size² already). */
async function imageBatch(files: string[]): Promise<{ data: Float32Array; shape: [number, number, number, number] }> {
  const rgb = await Promise.all(files.map((f) => readImageRgb(f)));
  const { width: w, height: h } = rgb[0]!;
  const data = new Float32Array(files.length * 3 * h * w);
  rgb.forEach((img, b) => {
    for (let p = 0; p < h * w; p++)
      for (let c = 0; c < 3; c++) data[(b * 3 + c) * h * w + p] = img.data[p * 3 + c]! / 255;
  });
  return { data, shape: [files.length, 3, h, w] };
}

async function ortDecoded(path: string, data: Float32Array, shape: readonly number[]): Promise<Float32Array> {
  const ort = await import("onnxruntime-node");
  const session = await ort.InferenceSession.create(path);
  try {
    const out = await session.run({ images: new ort.Tensor("float32", data, [...shape]) });
    return out.output0!.data as Float32Array;
  } finally {
    await session.release();
  }
}

function torchDecoded(data: Float32Array, shape: readonly number[]): Float32Array {
  return inferenceMode(() =>
    tidy(() => Float32Array.from(model.forward(tensor(data, [...shape])).decoded!.toTypedArray<"float32">())),
  );
}

/** ONNX's checker with full shape inference, by Debian's python3-onnx (installed by `npm test`'s setup). */
function onnxCheck(files: string[]): void {
  const code = `import onnx, sys\nfor f in sys.argv[1:]:\n    onnx.checker.check_model(onnx.load(f), full_check=True)\n`;
  const r = spawnSync("/usr/bin/python3", ["-c", code, ...files], { encoding: "utf8" });
  assert.equal(r.status, 0, `onnx.checker failed (is python3-onnx installed?): ${r.stderr}`);
}

describe("ONNX export of the detector", () => {
  test("static 128²: decoded rows equal libtorch's; the file passes onnx.checker", async () => {
    const path = join(dir, "static.onnx");
    await runOnnxExport({
      weights: (await trainedFixture()).best,
      attrWeights: null,
      out: path,
      imgsz: [128],
      dynamic: false,
      batch: 1,
      include: "auto",
    });
    onnxCheck([path]);
    manualSeed(1);
    const { data } = await imageBatch(images.slice(0, 1));
    const noise = Float32Array.from(rand([1, 3, 128, 128]).toTypedArray<"float32">());
    for (const x of [data, noise]) {
      const ort = await ortDecoded(path, x, [1, 3, 128, 128]);
      const ref = torchDecoded(x, [1, 3, 128, 128]);
      const no = model.nc + 5;
      assert.ok(maxDiff(ort, ref, no, 0, 4) <= BOX_TOL_PX, `boxes differ by ${maxDiff(ort, ref, no, 0, 4)} px`);
      assert.ok(maxDiff(ort, ref, no, 4, no) <= SCORE_TOL, `scores differ by ${maxDiff(ort, ref, no, 4, no)}`);
    }
    const predictor = await createOnnxPredictor(path);
    await assert.rejects(
      predictor.predict({ data: new Float32Array(3 * 160 * 128), shape: [1, 3, 160, 128], imgsz: 160 }),
      /takes 128×128 inputs only \(re-export with --dynamic\)/,
    );
    await predictor.dispose();
  });

  test("dynamic: other batch sizes and non-square inputs equal libtorch's", async () => {
    const path = join(dir, "dynamic.onnx");
    writeFileSync(path, buildOnnx(model, null, { imgsz: [128, 128], dynamic: true }, null).model);
    onnxCheck([path]);
    manualSeed(2);
    for (const shape of [
      [2, 3, 160, 96],
      [3, 3, 64, 128],
    ] as const) {
      const x = Float32Array.from(rand([...shape]).toTypedArray<"float32">());
      const ort = await ortDecoded(path, x, shape);
      const ref = torchDecoded(x, shape);
      const no = model.nc + 5;
      assert.ok(maxDiff(ort, ref, no, 0, 4) <= BOX_TOL_PX, `[${shape}] boxes differ by ${maxDiff(ort, ref, no, 0, 4)}`);
      assert.ok(maxDiff(ort, ref, no, 4, no) <= SCORE_TOL, `[${shape}] scores differ`);
    }
  });

  test("detections after NMS are the same as libtorch's NMS on the libtorch model", async () => {
    const path = join(dir, "nms.onnx");
    writeFileSync(path, buildOnnx(model, null, { imgsz: [128, 128], dynamic: true }, null).model);
    const predictor = await createOnnxPredictor(path);
    const batch = await imageBatch(images);
    for (const options of [
      { confThres: 0.25, iouThres: 0.45, agnostic: false },
      { confThres: 0.01, iouThres: 0.6, agnostic: true },
    ]) {
      const preds = await predictor.predict({ ...batch, imgsz: 128 }, options);
      const ref = inferenceMode(() =>
        tidy(() =>
          nonMaxSuppression(model.forward(tensor(batch.data, [...batch.shape])).decoded!, {
            ...options,
            maxDet: 1000,
          }).map((t) => Float32Array.from(t.toTypedArray<"float32">())),
        ),
      );
      assert.ok(
        preds.some((p) => p.count > 0),
        "the fixture detects cells in its own val images",
      );
      preds.forEach((p, i) => {
        assert.equal(p.count, ref[i]!.length / 6, `image ${i}: number of detections (conf ${options.confThres})`);
        assert.ok(maxDiff(p.boxes, ref[i]!, 6, 0, 4) <= BOX_TOL_PX, `image ${i}: boxes`);
        assert.ok(maxDiff(p.boxes, ref[i]!, 6, 4, 5) <= SCORE_TOL, `image ${i}: confidences`);
        assert.equal(maxDiff(p.boxes, ref[i]!, 6, 5, 6), 0, `image ${i}: classes`);
      });
    }
    await predictor.dispose();
  });

  test("building the graphs leaves libtorch's tensor count and native bytes flat", () => {
    buildOnnx(model, null, { imgsz: [128, 128] }, null);
    const before = memoryStats();
    for (let i = 0; i < 3; i++) buildOnnx(model, null, { imgsz: [128, 128] }, null);
    const afterStats = memoryStats();
    assert.equal(afterStats.liveTensors, before.liveTensors);
    assert.equal(afterStats.allocatedBytes, before.allocatedBytes);
  });
});

/**
 * The fixture's detector with a random head on `taps`, saved as one checkpoint; returns it and the head. sladet's
 * heads (inputNorm) get the Cell Size box term too (sizeFromBox, standardised by sizeNorm).
 */
async function checkpointWithHead(
  name: string,
  taps: string[],
  inputNorm: boolean,
  imageNorm: ImageNorm = "cell",
  classInput = false,
): Promise<{ path: string; head: AttributeHead }> {
  const path = join(dir, `${name}.safetensors`);
  const sizeNorm = inputNorm ? ([0.1, 0.12, 0.03, 0.04] as const) : null;
  const options = {
    ...{ taps, inputNorm, imageNorm, sizeFromBox: inputNorm, sizeNorm, classInput },
    ...{ seed: taps.length, randomise: true },
  };
  saveWithAttributeHead((await trainedFixture()).best, path, options);
  const loaded = loadInferenceModel(path);
  loaded.model.dispose();
  return { path, head: loaded.attributeHead! };
}

/** libtorch's attribute probabilities for the detections `preds` made on `batch`. */
function torchAttributes(
  head: AttributeHead,
  batch: { data: Float32Array; shape: [number, number, number, number] },
  preds: ImagePrediction[],
): { cellSize: Float32Array; binary: Float32Array } {
  const [, , h, w] = batch.shape;
  const rois: number[] = [];
  const sizes: number[] = [];
  const classes: number[] = [];
  preds.forEach((p, b) => {
    for (let d = 0; d < p.count; d++) {
      const [x1, y1, x2, y2, , cls] = p.boxes.subarray(d * 6, d * 6 + 6);
      rois.push(b, x1! / w, y1! / h, x2! / w, y2! / h);
      sizes.push((x2! - x1!) / Math.max(h, w), (y2! - y1!) / Math.max(h, w));
      classes.push(cls!);
    }
  });
  return inferenceMode(() =>
    tidy(() => {
      const x = tensor(batch.data, [...batch.shape]);
      const { features } = model.forward(x, { taps: modelTaps(head) });
      const k = rois.length / 5;
      const cls = head.classes > 0 ? tensor(classes, [k], { dtype: "int64" }) : undefined;
      const out = attributeLogits(head, headMaps(head, features, x), tensor(rois, [k, 5]), tensor(sizes, [k, 2]), cls);
      return {
        cellSize: Float32Array.from(out.cellSize.softmax(1).toTypedArray<"float32">()),
        binary: Float32Array.from(out.binary.softmax(2).toTypedArray<"float32">()),
      };
    }),
  );
}

describe("ONNX export of the attribute head", () => {
  for (const [label, taps, inputNorm, imageNorm, classInput] of [
    ["the seed's head on p2 and p3", ["p2", "p3"], false, "cell", false],
    ["sladet's head on the image", ["image"], true, "cell", false],
    ["a head on the image (standardised per cell and per channel) and p2", ["image", "p2"], true, "both", false],
    ["a head on the image standardised per channel", ["image"], true, "channel", false],
    ["a head that also reads each detection's class", ["image"], true, "channel", true],
  ] as const) {
    test(`${label}: probabilities equal libtorch's on the same detections`, async () => {
      const name = `${taps.join("-")}-${imageNorm}${classInput ? "-class" : ""}`;
      const { path: weights, head } = await checkpointWithHead(name, [...taps], inputNorm, imageNorm, classInput);
      const out = join(dir, `${name}.onnx`);
      const paths = await runOnnxExport({
        weights,
        attrWeights: null,
        out,
        imgsz: [128],
        dynamic: true,
        batch: 1,
        include: "auto",
      });
      assert.ok(paths.attributes, "the head is exported beside the detector");
      onnxCheck([paths.model, paths.attributes]);
      let predictor: Predictor | null = null;
      try {
        predictor = await createOnnxPredictor(out);
        assert.equal(predictor.info.hasAttributes, true);
        const batch = await imageBatch(images);
        const preds = await predictor.predict({ ...batch, imgsz: 128 }, { confThres: 0.05 });
        const k = preds.reduce((n, p) => n + p.count, 0);
        assert.ok(k > 0, "detections to describe");
        const ref = torchAttributes(head, batch, preds);
        const ortCell = Float32Array.from(preds.flatMap((p) => [...p.attributes!.cellSize]));
        const ortBinary = Float32Array.from(preds.flatMap((p) => [...p.attributes!.binary]));
        assert.equal(ortCell.length, k * 3);
        assert.equal(ortBinary.length, k * 12);
        assert.ok(
          maxDiff(ortCell, ref.cellSize, 1, 0, 1) <= SCORE_TOL,
          `Cell Size: ${maxDiff(ortCell, ref.cellSize, 1, 0, 1)}`,
        );
        assert.ok(
          maxDiff(ortBinary, ref.binary, 1, 0, 1) <= SCORE_TOL,
          `binary: ${maxDiff(ortBinary, ref.binary, 1, 0, 1)}`,
        );
        for (let i = 0; i < k; i++)
          assert.ok(Math.abs(ortCell[i * 3]! + ortCell[i * 3 + 1]! + ortCell[i * 3 + 2]! - 1) < 1e-5);
      } finally {
        await predictor?.dispose();
        head.dispose();
      }
    });
  }
});

describe("ONNX export errors", () => {
  test("a file that is not a sladet ONNX export is refused by name", async () => {
    const bogus = join(dir, "bogus.onnx");
    writeFileSync(bogus, "not a protobuf at all");
    await assert.rejects(createOnnxPredictor(bogus), (err: Error) => {
      assert.ok(err instanceof OnnxModelError);
      assert.match(err.message, /bogus\.onnx/);
      return true;
    });
  });

  test("an unsupported opset or an input size off the stride is refused", () => {
    assert.throws(
      () => buildOnnx(model, null, { imgsz: [128, 128], opset: 18 }, null),
      /^OptionError: opset 18: sladet writes opset 16 or 17/,
    );
    assert.throws(() => buildOnnx(model, null, { imgsz: [100, 128] }, null), /multiples of the model's stride/);
  });
});

describe("the JavaScript NMS", () => {
  test("equals libtorch's on 14-class rows: class-aware and agnostic, a class filter, max_det, IoUs at the threshold", () => {
    manualSeed(7);
    const nc = 14;
    const no = nc + 5;
    // 400 boxes on a 160 px image: clustered centres so that many overlap, sizes 8–40 px, random scores
    const rows = tidy(() => {
      const xy = rand([400, 2])
        .mul(40)
        .add(rand([1, 2]).mul(80));
      const wh = rand([400, 2]).mul(32).add(8);
      return Float32Array.from(cat([xy, wh, rand([400, 1]), rand([400, nc])], 1).toTypedArray<"float32">());
    });
    for (const options of [
      { confThres: 0.2, iouThres: 0.45, maxDet: 1000, agnostic: false },
      { confThres: 0.1, iouThres: 0.3, maxDet: 5, agnostic: false },
      { confThres: 0.05, iouThres: 0.5, maxDet: 1000, agnostic: true },
      { confThres: 0.1, iouThres: 0.45, maxDet: 1000, agnostic: false, classes: [2, 5, 13] },
    ]) {
      const js = nmsRows(rows, no, options);
      const ref = inferenceMode(() =>
        tidy(() => nonMaxSuppression(tensor(rows, [1, 400, no]), options)[0]!.toTypedArray<"float32">()),
      );
      const label = JSON.stringify(options);
      assert.ok(js.count > 0, `${label}: something survives`);
      assert.equal(js.count, ref.length / 6, `${label}: number of boxes`);
      assert.ok(maxDiff(js.boxes, ref, 6, 0, 5) <= 1e-4, `${label}: boxes and scores`);
      assert.equal(maxDiff(js.boxes, ref, 6, 5, 6), 0, `${label}: classes`);
      if (options.maxDet === 5) assert.equal(js.count, 5);
      if (options.classes) for (let i = 0; i < js.count; i++) assert.ok(options.classes.includes(js.boxes[i * 6 + 5]!));
    }
  });
});

describe("sladet detect --backend onnx", () => {
  test("runs without the native addon and finds the same cells as the libtorch backend", async () => {
    const fixture = await trainedFixture();
    const weights = join(dir, "detect-head.safetensors");
    saveWithAttributeHead(fixture.best, weights);
    const onnx = join(dir, "detect-head.onnx");
    const bin = join(REPO_ROOT, "bin", "sladet");
    const exported = spawnSync(bin, ["export", "--weights", weights, "--format", "onnx", "--dynamic", "--out", onnx], {
      encoding: "utf8",
    });
    assert.equal(exported.status, 0, exported.stderr);
    const source = join(fixture.dataYaml, "..", "images", "val");
    const detect = (name: string, args: string[], env: NodeJS.ProcessEnv = process.env) => {
      const r = spawnSync(
        bin,
        [
          "detect",
          "--source",
          source,
          "--imgsz",
          "128",
          "--conf-thres",
          "0.05",
          "--project",
          dir,
          "--name",
          name,
          ...args,
        ],
        { encoding: "utf8", env },
      );
      assert.equal(r.status, 0, `${name}: ${r.stderr}`);
      return JSON.parse(readFileSync(join(dir, name, "predictions.json"), "utf8")) as PredictionsJson;
    };
    // the backend follows the .onnx extension; the addon path points nowhere
    const viaOnnx = detect("onnx", ["--weights", onnx], { ...process.env, SLADET_ADDON: join(dir, "missing.node") });
    // a checkpoint runs on onnx by default on the CPU (its cached export): libtorch is asked for by name
    const viaTorch = detect("libtorch", ["--weights", weights, "--backend", "libtorch"]);
    assert.equal(viaOnnx.model.backend, "onnx");
    assert.equal(viaTorch.model.backend, "libtorch");
    assert.equal(viaOnnx.images.length, viaTorch.images.length);
    let cells = 0;
    viaOnnx.images.forEach((im, i) => {
      const ref = viaTorch.images[i]!;
      assert.equal(im.detections.length, ref.detections.length, `${im.file}: cells`);
      im.detections.forEach((d, j) => {
        const r = ref.detections[j]!;
        for (let k = 0; k < 4; k++)
          assert.ok(Math.abs(d.box[k]! - r.box[k]!) <= 0.1, `${im.file}: box (written to 0.1 px)`);
        assert.ok(Math.abs(d.confidence - r.confidence) <= 2e-4, `${im.file}: confidence`);
        for (const [name, a] of Object.entries(d.attributes ?? {})) {
          const b = r.attributes![name]!;
          assert.equal(a.value, b.value, `${im.file}: ${name}`);
          a.probabilities.forEach((p, v) => {
            assert.ok(Math.abs(p - b.probabilities[v]!) <= 2e-4, `${im.file}: P(${name})`);
          });
        }
        cells++;
      });
    });
    assert.ok(cells > 0, "cells to compare");
  });
});

describe("the seed's YOLOv5 .pt with its attribute head (Attribute_model/last_weights.pth)", () => {
  test("exports with --attr-weights and gives libtorch's cells and attribute probabilities", async () => {
    const pt = fixturePath("models/tiny14.pt");
    const attrWeights = fixturePath("models/seed_attr.pth");
    const out = join(dir, "seed.onnx");
    // the seed's file has no Cell Size layer: it starts fresh from the random generator, so both loads seed it alike
    manualSeed(11);
    await runOnnxExport({ weights: pt, attrWeights, out, imgsz: [64], dynamic: true, batch: 1, include: "attributes" });
    onnxCheck([out, join(dir, "seed.attributes.onnx")]);
    const { createTorchPredictor } = await import("../../src/infer/torch-predictor.js");
    const onnxPredictor = await createOnnxPredictor(out);
    manualSeed(11);
    const torchPredictor = await createTorchPredictor(pt, { attrWeights });
    try {
      manualSeed(5);
      const batch = {
        data: Float32Array.from(rand([2, 3, 64, 96]).toTypedArray<"float32">()),
        shape: [2, 3, 64, 96] as const,
        imgsz: 96,
      };
      const options = { confThres: 0.001, maxDet: 20 };
      const [a, b] = [await onnxPredictor.predict(batch, options), await torchPredictor.predict(batch, options)];
      a.forEach((p, i) => {
        const q = b[i]!;
        assert.ok(p.count > 0 && p.count === q.count, `image ${i}: ${p.count} vs ${q.count} cells`);
        assert.ok(maxDiff(p.boxes, q.boxes, 6, 0, 4) <= BOX_TOL_PX, `image ${i}: boxes`);
        assert.ok(
          maxDiff(p.attributes!.cellSize, q.attributes!.cellSize, 1, 0, 1) <= SCORE_TOL,
          `image ${i}: Cell Size`,
        );
        assert.ok(maxDiff(p.attributes!.binary, q.attributes!.binary, 1, 0, 1) <= SCORE_TOL, `image ${i}: a1..a6`);
      });
    } finally {
      await onnxPredictor.dispose();
      await torchPredictor.dispose();
    }
  });
});
