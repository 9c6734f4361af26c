/**
 * sladet side of bench/infer: batch-1 eager inference (eval mode, unfused, decode included) of a built-in YOLOv5.
 * Prints one JSON line: forward times (ms) after warmup and peak RSS. Run by bench/infer/run.ts, never alone.
 */
import { builtinModelYaml, YoloModel, type Yolov5Scale } from "../../src/model/index.js";
import { getNumThreads, inferenceMode, manualSeed, rand, tidy } from "../../src/torch/index.js";
import { peakRssMiB } from "../common/compare.js";

function main(): void {
  const [scale, imgsz, warmup, iters] = process.argv.slice(2, 6) as [Yolov5Scale, string, string, string];
  manualSeed(0);
  const model = new YoloModel(builtinModelYaml(scale, 80)).eval();
  const x = rand([1, 3, Number(imgsz), Number(imgsz)]).keep();
  const times: number[] = [];
  for (let i = 0; i < Number(warmup) + Number(iters); i++) {
    const t0 = performance.now();
    inferenceMode(() => tidy(() => model.forward(x).decoded!.sum().item()));
    if (i >= Number(warmup)) times.push(performance.now() - t0);
  }
  console.log(JSON.stringify({ engine: "sladet", times, peakRssMiB: peakRssMiB(), threads: getNumThreads() }));
}

main();
