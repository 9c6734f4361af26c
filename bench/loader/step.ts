/**
 * A training step to feed batches into: bench/engine's YOLOv5n-like conv stack (bench/engine/stack.json), forward +
 * backward of a dummy loss + SGD step, as bench/engine/sladet-step.ts runs it.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  BatchNorm2d,
  Conv2d,
  type Layer,
  manualSeed,
  Sequential,
  SGD,
  SiLU,
  type Tensor,
  tidy,
} from "../../src/torch/index.js";
import { PACKAGE_ROOT } from "../../src/util/package-root.js";

interface StackSpec {
  layers: Array<[number, number, number, number]>;
  head: [number, number];
}

/** The conv stack and its optimizer. */
export class ConvStackStep {
  readonly #net: Sequential;
  readonly #opt: SGD;

  constructor() {
    const spec = JSON.parse(readFileSync(join(PACKAGE_ROOT, "bench", "engine", "stack.json"), "utf8")) as StackSpec;
    manualSeed(0);
    const layers: Layer[] = spec.layers.map(
      ([c1, c2, k, s]) =>
        new Sequential(
          new Conv2d(c1, c2, k, { stride: s, padding: k === 6 ? 2 : Math.floor(k / 2), bias: false }),
          new BatchNorm2d(c2, { eps: 1e-3, momentum: 0.03 }),
          new SiLU(),
        ),
    );
    layers.push(new Conv2d(spec.head[0], spec.head[1], 1));
    this.#net = new Sequential(...layers).train();
    this.#opt = new SGD(this.#net.parameters(), { lr: 0.01, momentum: 0.937, nesterov: true, weightDecay: 5e-4 });
  }

  /** One step on `images` [B,3,H,W]. */
  run(images: Tensor): void {
    tidy(() => {
      this.#net.forward(images).pow(2).mean().backward();
    });
    this.#opt.step();
    this.#opt.zeroGrad(true);
  }

  /** Frees the parameters, buffers and optimizer state. */
  dispose(): void {
    this.#opt.dispose();
    this.#net.dispose();
  }
}
