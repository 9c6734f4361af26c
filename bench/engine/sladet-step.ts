/**
 * sladet side of bench/engine: times forward + backward + SGD step of the conv stack in bench/engine/stack.json.
 * Prints one JSON line: step times (ms) after warmup and peak RSS. Run by bench/engine/run.ts, never alone.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  BatchNorm2d,
  Conv2d,
  getNumThreads,
  type Layer,
  manualSeed,
  rand,
  Sequential,
  SGD,
  SiLU,
  tidy,
} from "../../src/torch/index.js";
import { PACKAGE_ROOT } from "../../src/util/package-root.js";
import { peakRssMiB } from "../common/compare.js";

interface StackSpec {
  layers: Array<[number, number, number, number]>;
  head: [number, number];
}

function main(): void {
  const [batch, imgsz, warmup, steps] = process.argv.slice(2, 6).map(Number) as [number, number, number, number];
  const spec = JSON.parse(readFileSync(join(PACKAGE_ROOT, "bench", "engine", "stack.json"), "utf8")) as StackSpec;
  manualSeed(0);
  const layers: Layer[] = [];
  for (const [c1, c2, k, s] of spec.layers) {
    layers.push(
      new Sequential(
        new Conv2d(c1, c2, k, { stride: s, padding: k === 6 ? 2 : Math.floor(k / 2), bias: false }),
        new BatchNorm2d(c2, { eps: 1e-3, momentum: 0.03 }),
        new SiLU(),
      ),
    );
  }
  layers.push(new Conv2d(spec.head[0], spec.head[1], 1));
  const net = new Sequential(...layers).train();
  const opt = new SGD(net.parameters(), { lr: 0.01, momentum: 0.937, nesterov: true, weightDecay: 5e-4 });
  const x = rand([batch, 3, imgsz, imgsz]).keep();
  const times: number[] = [];
  for (let i = 0; i < warmup + steps; i++) {
    const t0 = performance.now();
    tidy(() => {
      const loss = net.forward(x).pow(2).mean();
      loss.backward();
    });
    opt.step();
    opt.zeroGrad(true);
    if (i >= warmup) times.push(performance.now() - t0);
  }
  process.stdout.write(
    `${JSON.stringify({ engine: "sladet", times, peakRssMiB: peakRssMiB(), threads: getNumThreads() })}\n`,
  );
}

main();
