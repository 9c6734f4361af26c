/**
 * `sladet detect`'s default backend (src/runs/detect-backend.ts) and the ONNX export cache beside the weights
 * (src/runs/onnx-cache.ts): made once, reused while the weights are unchanged (a touch included), made again when the
 * weights or the attribute head change, never half-written; libtorch where onnx cannot run. A fake exporter stands in
 * for runOnnxExport (the real export is covered by test/export and by test/infer/cli.test.ts's end-to-end run).
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { defaultDetectBackend } from "../../src/runs/detect-backend.js";
import {
  cachedOnnxExport,
  ONNX_CACHE_MODEL,
  ONNX_CACHE_SOURCE,
  type OnnxCacheSource,
  type OnnxExporter,
  onnxCacheDir,
} from "../../src/runs/onnx-cache.js";

let work: string;
before(() => {
  work = mkdtempSync(join(tmpdir(), "sladet-onnx-cache-"));
});
after(() => rmSync(work, { recursive: true, force: true }));

/** An exporter that writes the weights' bytes as the "model" and records each call. */
function fakeExporter(): { exporter: OnnxExporter; calls: Array<{ weights: string; attr: string | null }> } {
  const calls: Array<{ weights: string; attr: string | null }> = [];
  const exporter: OnnxExporter = async (weights, attr, out) => {
    calls.push({ weights, attr });
    writeFileSync(out, readFileSync(weights));
  };
  return { exporter, calls };
}

function weightsFile(name: string, bytes: string): string {
  const path = join(work, name);
  writeFileSync(path, bytes);
  return path;
}

test("the cache is made once, next to the weights, and reused while they are unchanged", async () => {
  const weights = weightsFile("a.safetensors", "weights-v1");
  const { exporter, calls } = fakeExporter();
  const first = await cachedOnnxExport(weights, { exporter });
  assert.deepEqual(first.status, { kind: "written" });
  assert.equal(first.model, join(work, "a.safetensors.onnx-cache", ONNX_CACHE_MODEL));
  assert.equal(readFileSync(first.model, "utf8"), "weights-v1");
  const source = JSON.parse(readFileSync(join(onnxCacheDir(weights), ONNX_CACHE_SOURCE), "utf8")) as OnnxCacheSource;
  assert.equal(source.weights.size, 10);
  assert.match(source.weights.sha256, /^[0-9a-f]{64}$/);
  assert.equal(source.attrWeights, null);

  const second = await cachedOnnxExport(weights, { exporter });
  assert.deepEqual(second.status, { kind: "reused" });
  assert.equal(second.model, first.model);
  assert.equal(calls.length, 1, "exported once");
});

test("a touch (new time, same bytes) keeps the cache; new bytes of the same size or another size replace it", async () => {
  const weights = weightsFile("b.safetensors", "weights-v1");
  const { exporter, calls } = fakeExporter();
  await cachedOnnxExport(weights, { exporter });
  const later = new Date(Date.now() + 60_000);
  utimesSync(weights, later, later);
  assert.deepEqual((await cachedOnnxExport(weights, { exporter })).status, { kind: "reused" });
  assert.equal(calls.length, 1);

  writeFileSync(weights, "weights-v2"); // same size
  const sameSize = await cachedOnnxExport(weights, { exporter });
  assert.deepEqual(sameSize.status, { kind: "replaced", reason: "the weights changed (contents)" });
  assert.equal(readFileSync(sameSize.model, "utf8"), "weights-v2");

  writeFileSync(weights, "weights-v3, longer");
  const resized = await cachedOnnxExport(weights, { exporter });
  assert.deepEqual(resized.status, { kind: "replaced", reason: "the weights changed (size 10 → 18 bytes)" });
  assert.equal(calls.length, 3);
  assert.deepEqual((await cachedOnnxExport(weights, { exporter })).status, { kind: "reused" });
});

test("the seed's attribute head is part of the cache's identity", async () => {
  const weights = weightsFile("c.pt", "yolov5-pt");
  const head = weightsFile("head.pth", "head-v1");
  const { exporter, calls } = fakeExporter();
  await cachedOnnxExport(weights, { exporter });
  const withHead = await cachedOnnxExport(weights, { exporter, attrWeights: head });
  assert.deepEqual(withHead.status, { kind: "replaced", reason: "no record of the attribute head" });
  assert.deepEqual(calls.at(-1), { weights, attr: head });
  assert.deepEqual((await cachedOnnxExport(weights, { exporter, attrWeights: head })).status, { kind: "reused" });
  writeFileSync(head, "head-v2");
  const changed = await cachedOnnxExport(weights, { exporter, attrWeights: head });
  assert.deepEqual(changed.status, { kind: "replaced", reason: "the attribute head changed (contents)" });
  const without = await cachedOnnxExport(weights, { exporter });
  assert.deepEqual(without.status, { kind: "replaced", reason: "exported with another attribute head" });
  assert.equal(calls.length, 4);
});

test("a failed export leaves no record: the next call exports again", async () => {
  const weights = weightsFile("d.safetensors", "weights");
  const failing: OnnxExporter = async (_w, _a, out) => {
    writeFileSync(out, "half");
    throw new Error("the exporter does not know layer 9");
  };
  await assert.rejects(cachedOnnxExport(weights, { exporter: failing }), /does not know layer 9/);
  assert.ok(!existsSync(join(onnxCacheDir(weights), ONNX_CACHE_SOURCE)));
  const { exporter, calls } = fakeExporter();
  assert.deepEqual((await cachedOnnxExport(weights, { exporter })).status, { kind: "written" });
  assert.equal(calls.length, 1);
});

test("default backend: onnx on the CPU from the cache, libtorch on a GPU, without onnxruntime or without an export", async () => {
  const weights = weightsFile("e.safetensors", "weights");
  const { exporter, calls } = fakeExporter();
  const yes = async () => true;

  const cpu = await defaultDetectBackend({ weights, device: "cpu", exporter, onnxAvailable: yes });
  assert.equal(cpu.backend, "onnx");
  assert.equal(cpu.file, join(onnxCacheDir(weights), ONNX_CACHE_MODEL));
  assert.match(cpu.why, /the faster one on the CPU; ONNX export made now, once; --backend libtorch forces libtorch/);
  const again = await defaultDetectBackend({ weights, device: "cpu", exporter, onnxAvailable: yes });
  assert.match(again.why, /ONNX export reused/);
  assert.equal(calls.length, 1);

  const gpu = await defaultDetectBackend({ weights, device: "cuda:0", exporter, onnxAvailable: yes });
  assert.deepEqual(gpu, { backend: "libtorch", file: weights, why: "on cuda:0 (onnxruntime runs on the CPU only)" });

  const noOrt = await defaultDetectBackend({ weights, device: "cpu", exporter, onnxAvailable: async () => false });
  assert.equal(noOrt.backend, "libtorch");
  assert.match(noOrt.why, /onnxruntime-node cannot be loaded/);

  const other = weightsFile("f.safetensors", "weights");
  const failing: OnnxExporter = async () => {
    throw new Error("EROFS: read-only file system\n  at somewhere");
  };
  const noExport = await defaultDetectBackend({ weights: other, device: "cpu", exporter: failing, onnxAvailable: yes });
  assert.equal(noExport.backend, "libtorch");
  assert.equal(noExport.file, other);
  assert.match(noExport.why, /^no ONNX export of .*f\.safetensors \(EROFS: read-only file system\)/);
  assert.equal(calls.length, 1, "neither the GPU nor the fallbacks exported");
});
