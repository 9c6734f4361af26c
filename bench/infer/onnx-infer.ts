/**
 * onnxruntime side of bench/infer: the same built-in YOLOv5 as sladet-infer.ts (seed 0, eval), exported by
 * src/export (BatchNorm folded, decode in the graph), run by onnxruntime-node at batch 1 with SLADET_THREADS intra-op
 * threads and the session options of `sladet detect` (src/infer/onnx-predictor.ts; SLADET_ORT_SPINNING=1 turns
 * spin-waiting on, as this benchmark ran before issue 27). Prints one JSON line: forward times (ms) after warmup and peak RSS. Run by bench/infer/run.ts, never alone.
 */
import * as ort from "onnxruntime-node";
import { buildOnnx } from "../../src/export/onnx-export.js";
import { onnxSessionOptions } from "../../src/infer/onnx-predictor.js";
import { builtinModelYaml, YoloModel, type Yolov5Scale } from "../../src/model/index.js";
import { manualSeed, rand } from "../../src/torch/index.js";
import { peakRssMiB } from "../common/compare.js";

async function main(): Promise<void> {
  const [scale, imgsz, warmup, iters] = process.argv.slice(2, 6) as [Yolov5Scale, string, string, string];
  const size = Number(imgsz);
  manualSeed(0);
  const model = new YoloModel(builtinModelYaml(scale, 80)).eval();
  const bytes = buildOnnx(model, null, { imgsz: [size, size] }, null).model;
  const input = Float32Array.from(rand([1, 3, size, size]).toTypedArray<"float32">());
  model.dispose();
  const threads = Number(process.env.SLADET_THREADS ?? 1);
  // the session options `sladet detect` runs (no spin-waiting), or spinning with SLADET_ORT_SPINNING=1
  const session = await ort.InferenceSession.create(
    bytes,
    onnxSessionOptions(threads, process.env.SLADET_ORT_SPINNING === "1"),
  );
  const feeds = { images: new ort.Tensor("float32", input, [1, 3, size, size]) };
  const times: number[] = [];
  for (let i = 0; i < Number(warmup) + Number(iters); i++) {
    const t0 = performance.now();
    const out = await session.run(feeds);
    // the rows are already in JS memory (onnxruntime copies outputs out); reading one keeps the call honest without a
    // JS-side reduction over 2 M floats, which would cost more than PyTorch's native sum()
    void (out.output0!.data as Float32Array)[0];
    if (i >= Number(warmup)) times.push(performance.now() - t0);
    out.output0!.dispose();
  }
  await session.release();
  console.log(JSON.stringify({ engine: "onnxruntime", times, peakRssMiB: peakRssMiB(), threads }));
}

await main();
