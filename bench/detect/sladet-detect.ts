/**
 * sladet side of bench/detect: `sladet detect` as the library runs it (runDetect), on the libtorch or the onnx
 * backend, with the weights opened before timing starts (an open predictor is passed in) and prefetch off, so that
 * decoding is measured rather than overlapped (on with run.ts --prefetch: `sladet detect`'s default). One warm-up run on the first images, then one timed run over the
 * folder. Prints one JSON line: `times` = [wall ms per image] (runDetect's wall time, which excludes opening the
 * weights and report.html), images/s, ms per image of each stage (NMS split out of forward+NMS), the cells found.
 * Run by bench/detect/run.ts, never alone.
 *
 *   bin/sladet-node dist/bench/detect/sladet-detect.js SETTINGS SCALE OUT BACKEND
 */
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { createPredictor } from "../../src/infer/create-predictor.js";
import type { Backend, InputBatch, PredictOptions, Predictor } from "../../src/infer/predictor.js";
import { DETECT_STAGES, hasStageTimings, type PredictTimings } from "../../src/infer/timings.js";
import { type DetectOptions, runDetect } from "../../src/runs/detect-run.js";
import { peakRssMiB } from "../common/compare.js";
import { PREFETCH_ENV } from "./prefetch-env.js";
import type { DetectBenchSettings } from "./setup.js";

/** A predictor that adds up the NMS time its backend reports, and passes its stage timings on to runDetect. */
class NmsCounter implements Predictor {
  nmsMs = 0;
  lastTimings: PredictTimings | null = null;
  constructor(private readonly inner: Predictor) {}
  get info() {
    return this.inner.info;
  }
  async predict(batch: InputBatch, options?: PredictOptions) {
    const out = await this.inner.predict(batch, options);
    this.lastTimings = hasStageTimings(this.inner) ? this.inner.lastTimings : null;
    this.nmsMs += this.lastTimings?.nmsMs ?? 0;
    return out;
  }
  dispose() {
    return this.inner.dispose();
  }
}

async function main(): Promise<void> {
  const [settingsPath, scale, out, backend] = process.argv.slice(2) as [string, string, string, Backend];
  const s = JSON.parse(readFileSync(settingsPath, "utf8")) as DetectBenchSettings;
  const w = s.weights[scale]!;
  const threads = Number(process.env.SLADET_THREADS ?? 1);
  const predictor = new NmsCounter(
    await createPredictor(backend, backend === "onnx" ? w.onnx : w.checkpoint, backend === "onnx" ? { threads } : {}),
  );
  const project = join(out, `sladet-${backend}`);
  rmSync(project, { recursive: true, force: true });
  const options = (source: string, name: string): DetectOptions => ({
    weights: backend === "onnx" ? w.onnx : w.checkpoint,
    source,
    backend,
    predictor,
    imgsz: s.imgsz,
    confThres: s.confThres,
    iouThres: s.iouThres,
    maxDet: s.maxDet,
    prefetch: process.env[PREFETCH_ENV] === "1",
    verbose: false,
    project,
    name,
  });
  await runDetect(options(s.warmup, "warmup"));
  predictor.nmsMs = 0;
  const r = await runDetect(options(s.source, "timed"));
  await predictor.dispose();
  const n = r.images;
  const wallMs = r.wallSeconds * 1000;
  const stages: Record<string, number> = {};
  for (const k of DETECT_STAGES) stages[k] = r.timings[k] / n;
  stages.nms = predictor.nmsMs / n;
  stages.forward = stages.forward! - stages.nms;
  stages.other = wallMs / n - DETECT_STAGES.reduce((a, k) => a + r.timings[k] / n, 0);
  const cells = r.perClass.reduce((a, b) => a + b, 0);
  console.log(
    JSON.stringify({
      engine: `sladet-${backend}`,
      times: [wallMs / n],
      imagesPerSecond: n / r.wallSeconds,
      stages,
      images: n,
      cells,
      peakRssMiB: peakRssMiB(),
      // libtorch is loaded by the libtorch backend only
      threads: backend === "onnx" ? threads : (await import("../../src/torch/index.js")).getNumThreads(),
    }),
  );
}

await main();
