/**
 * A head that pools a fine view (hyp attr_image_scale 2, issue 25) end to end: trained on the loader's fine view,
 * saved with its factor, evaluated by `sladet val` on a fine view of the validation images (matched cells described),
 * run by the libtorch predictor on a letterboxed batch's fine view (and refused a batch without one), exported to ONNX
 * with the factor in its metadata and run by onnxruntime to libtorch's probabilities. The shared fixture's detector
 * finds the cells, so validation and prediction have cells to describe.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { createOnnxPredictor } from "../../src/infer/onnx-predictor.js";
import type { ImagePrediction, Predictor } from "../../src/infer/predictor.js";
import { decodeImage, letterboxBatch } from "../../src/infer/sources.js";
import { createTorchPredictor } from "../../src/infer/torch-predictor.js";
import { loadCheckpoint } from "../../src/model/checkpoint.js";
import { runOnnxExport } from "../../src/runs/export-run.js";
import { assertValidationDescribesCells, trainAttributeRun } from "../helpers/trained-fixture.js";

const IMGSZ = 128;
const work = mkdtempSync(join(tmpdir(), "sladet-attr-fine-"));
after(() => rmSync(work, { recursive: true, force: true }));

test("attr_image_scale 2: trained and validated on a fine view at twice the input's side, saved with it", async () => {
  const { data, run } = await trainAttributeRun(work, { attr_image_scale: 2, attr_grid: 0 }, IMGSZ);
  const saved = loadCheckpoint(run.last);
  try {
    assert.equal(saved.attributeHead?.imageScale, 2);
    assert.equal(saved.meta.attributeHead?.imageScale, 2, "the factor is in the checkpoint's metadata");
  } finally {
    saved.model.dispose();
    saved.attributeHead?.dispose();
    for (const t of saved.training.values()) t.dispose();
  }
  await assertValidationDescribesCells(data, run.last, work, IMGSZ);

  const images = join(work, "data", "images", "val");
  const decoded = await Promise.all(
    readdirSync(images)
      .slice(0, 2)
      .map((f) => decodeImage(join(images, f))),
  );
  const predictWith = async (predictor: Predictor): Promise<ImagePrediction[]> => {
    assert.equal(predictor.info.attributeImageScale, 2);
    const stride = predictor.info.maxStride;
    const plain = await letterboxBatch(decoded, { imgsz: IMGSZ, stride, fixedInput: predictor.info.fixedInput });
    await assert.rejects(predictor.predict(plain.batch, { confThres: 0.1 }), /fine view .* fineScale 2/);
    const { batch } = await letterboxBatch(decoded, {
      imgsz: IMGSZ,
      stride,
      fixedInput: predictor.info.fixedInput,
      fineScale: 2,
    });
    assert.deepEqual(batch.fine?.shape, [2, 3, 2 * batch.shape[2], 2 * batch.shape[3]]);
    return predictor.predict(batch, { confThres: 0.1 });
  };
  const torch = await createTorchPredictor(run.last);
  let fromTorch: ImagePrediction[];
  try {
    fromTorch = await predictWith(torch);
  } finally {
    await torch.dispose();
  }
  assert.ok(fromTorch.some((p) => p.count > 0));
  for (const p of fromTorch) assert.equal(p.attributes?.cellSize.length, p.count * 3);

  const exported = await runOnnxExport({
    weights: run.last,
    attrWeights: null,
    out: join(work, "fine.onnx"),
    imgsz: [IMGSZ],
    dynamic: true,
    batch: 1,
    include: "auto",
    verbose: false,
  });
  assert.ok(exported.attributes);
  const onnx = await createOnnxPredictor(exported.model);
  try {
    const fromOnnx = await predictWith(onnx);
    fromOnnx.forEach((p, i) => {
      assert.equal(p.count, fromTorch[i]!.count);
      const [a, b] = [p.attributes!.binary, fromTorch[i]!.attributes!.binary];
      const worst = a.reduce((m, v, j) => Math.max(m, Math.abs(v - b[j]!)), 0);
      assert.ok(worst < 1e-4, `image ${i}: attribute probabilities within 1e-4 of libtorch's (${worst})`);
    });
  } finally {
    await onnx.dispose();
  }
});
