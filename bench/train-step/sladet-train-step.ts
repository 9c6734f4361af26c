/**
 * sladet side of bench/train-step: times full training steps (forward, the seed's loss, backward, clip, SGD over the
 * three parameter groups) of a built-in YOLOv5 on a fixed random batch. Prints one JSON line: step times (ms) after
 * warmup and peak RSS. Run by bench/train-step/run.ts, never alone.
 */
import { readFileSync } from "node:fs";
import { builtinModelYaml, YoloModel, type Yolov5Scale } from "../../src/model/index.js";
import { clipGradNorm, getNumThreads, manualSeed, rand, SGD, tensor, tidy } from "../../src/torch/index.js";
import { DEFAULT_HYP } from "../../src/train/hyp.js";
import { ComputeLoss } from "../../src/train/loss/compute-loss.js";
import { scaleLossGains } from "../../src/train/loss/hyp.js";
import { splitParameterGroups } from "../../src/train/param-groups.js";
import { GRAD_CLIP_NORM } from "../../src/train/trainer.js";
import { peakRssMiB } from "../common/compare.js";

interface Spec {
  nc: number;
  targets: number[][];
}

function main(): void {
  const [scale, batchArg, imgszArg, warmupArg, itersArg, specPath] = process.argv.slice(2, 8) as [
    Yolov5Scale,
    string,
    string,
    string,
    string,
    string,
  ];
  const [batch, imgsz, warmup, iters] = [batchArg, imgszArg, warmupArg, itersArg].map(Number) as [
    number,
    number,
    number,
    number,
  ];
  const spec = JSON.parse(readFileSync(specPath, "utf8")) as Spec;
  manualSeed(0);
  const model = new YoloModel(builtinModelYaml(scale, spec.nc)).train();
  const computeLoss = new ComputeLoss({
    nc: model.nc,
    anchors: model.detect.anchors.data,
    strides: model.stride,
    hyp: scaleLossGains(DEFAULT_HYP, { levels: model.detect.nl, classes: model.nc, imgsz }),
  });
  const groups = splitParameterGroups(model);
  const optimizer = new SGD(
    [
      { params: groups.biases },
      { params: groups.weights, weightDecay: DEFAULT_HYP.weight_decay },
      { params: groups.normWeights },
    ],
    { lr: DEFAULT_HYP.lr0, momentum: DEFAULT_HYP.momentum, nesterov: true },
  );
  const images = rand([batch, 3, imgsz, imgsz]).keep();
  const targets = tensor(spec.targets.flat(), [spec.targets.length, 13]).keep();
  const params = model.parameters();
  const times: number[] = [];
  for (let i = 0; i < warmup + iters; i++) {
    const t0 = performance.now();
    const ok = tidy(() => {
      const out = model.forward(images, { decode: false });
      const { loss } = computeLoss.compute(out.maps, targets);
      if (!Number.isFinite(loss.item())) return false;
      loss.backward();
      return true;
    });
    if (!ok) throw new Error(`non-finite loss at step ${i + 1}`);
    const norm = clipGradNorm(params, GRAD_CLIP_NORM);
    if (!Number.isFinite(norm)) throw new Error(`non-finite gradient norm at step ${i + 1}`);
    optimizer.step();
    optimizer.zeroGrad();
    if (i >= warmup) times.push(performance.now() - t0);
  }
  process.stdout.write(
    `${JSON.stringify({ engine: "sladet", times, peakRssMiB: peakRssMiB(), threads: getNumThreads() })}\n`,
  );
}

main();
