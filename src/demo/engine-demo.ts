/**
 * The engine demo: trains a small conv net (conv-BN-SiLU ×2 and a 1×1 head) to find bright blobs in noisy images,
 * using only the core engine (tensors, autograd, tidy, no-grad in-place updates). It shows the loss falling and the
 * native memory staying flat; the memory test uses the same net.
 */
import { F, inplace, memoryStats, noGrad, type Tensor, tensor, tidy, zeros } from "../torch/index.js";
import { Rng } from "../util/random.js";

/** Parameters and buffers of the demo net. */
export interface DemoNet {
  params: Tensor[];
  buffers: Tensor[];
  forward(x: Tensor, training: boolean): Tensor;
  dispose(): void;
}

function heInit(rng: Rng, shape: number[]): Tensor {
  const fanIn = shape.slice(1).reduce((a, b) => a * b, 1);
  const std = Math.sqrt(2 / fanIn);
  const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal() * std);
  return tensor(data, shape, { requiresGrad: true }).keep();
}

/** Builds the demo net with weights drawn from `seed`. Its tensors are kept: call dispose() when done. */
export function createDemoNet(seed: number, width = 8): DemoNet {
  const rng = new Rng(seed);
  const leaf = (shape: number[], value: number) => zeros(shape).add(value).requiresGrad_(true).keep();
  const buffer = (shape: number[], value: number) => zeros(shape).add(value).keep();
  const w1 = heInit(rng, [width, 3, 3, 3]);
  const g1 = leaf([width], 1);
  const b1 = leaf([width], 0);
  const w2 = heInit(rng, [2 * width, width, 3, 3]);
  const g2 = leaf([2 * width], 1);
  const b2 = leaf([2 * width], 0);
  const wh = heInit(rng, [1, 2 * width, 1, 1]);
  const bh = leaf([1], -2);
  const rm1 = buffer([width], 0);
  const rv1 = buffer([width], 1);
  const rm2 = buffer([2 * width], 0);
  const rv2 = buffer([2 * width], 1);
  const params = [w1, g1, b1, w2, g2, b2, wh, bh];
  const buffers = [rm1, rv1, rm2, rv2];
  return {
    params,
    buffers,
    forward(x, training) {
      return tidy(() => {
        const bn = (y: Tensor, weight: Tensor, bias: Tensor, runningMean: Tensor, runningVar: Tensor) =>
          F.batchNorm(y, { weight, bias, runningMean, runningVar, training, momentum: 0.03, eps: 1e-3 });
        const y1 = bn(F.conv2d(x, w1, null, { padding: 1 }), g1, b1, rm1, rv1).silu();
        const y2 = bn(F.conv2d(y1, w2, null, { stride: 2, padding: 1 }), g2, b2, rm2, rv2).silu();
        return F.conv2d(y2, wh, bh);
      });
    },
    dispose() {
      for (const t of [...params, ...buffers]) t.dispose();
    },
  };
}

/** A batch of noisy images with 1–3 bright blobs each, and the blob-centre heatmap at half resolution. */
export function makeBlobBatch(rng: Rng, batch: number, size: number): { images: Tensor; targets: Tensor } {
  const img = new Float32Array(batch * 3 * size * size);
  const half = size / 2;
  const tgt = new Float32Array(batch * half * half);
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < 3 * size * size; i++) img[b * 3 * size * size + i] = 0.3 + 0.1 * rng.normal();
    const blobs = rng.int(1, 4);
    for (let k = 0; k < blobs; k++) {
      const cx = rng.uniform(4, size - 4);
      const cy = rng.uniform(4, size - 4);
      const r = rng.uniform(2, 4);
      for (let y = 0; y < size; y++) {
        for (let x = 0; x < size; x++) {
          const d2 = (x - cx) ** 2 + (y - cy) ** 2;
          if (d2 < r * r) for (let c = 0; c < 3; c++) img[((b * 3 + c) * size + y) * size + x] = 0.9;
        }
      }
      tgt[b * half * half + Math.floor(cy / 2) * half + Math.floor(cx / 2)] = 1;
    }
  }
  return { images: tensor(img, [batch, 3, size, size]), targets: tensor(tgt, [batch, 1, half, half]) };
}

/** One SGD step: forward, BCE loss, backward, update under no-grad, grads cleared. Returns the loss value. */
export function demoTrainStep(net: DemoNet, images: Tensor, targets: Tensor, lr: number): number {
  const loss = tidy(() => {
    const logits = net.forward(images, true);
    const l = F.bceWithLogits(logits, targets, { posWeight: tensor([20]) });
    l.backward();
    return l.item();
  });
  noGrad(() => {
    for (const p of net.params) {
      const g = p.grad;
      if (g === null) continue;
      inplace.add_(p, g, -lr);
      g.dispose();
      p.setGrad(null);
    }
  });
  return loss;
}

export interface EngineDemoOptions {
  /** @default 40 */
  steps?: number;
  /** @default 8 */
  batch?: number;
  /** Image side in pixels. @default 64 */
  imgsz?: number;
  /** @default 0.05 */
  lr?: number;
  /** @default 0 */
  seed?: number;
  /** Called after every step. */
  onStep?: (step: number, loss: number) => void;
}

export interface EngineDemoResult {
  losses: number[];
  /** Native bytes and live tensors after the first and the last step. */
  memoryFirst: { allocatedBytes: number; liveTensors: number };
  memoryLast: { allocatedBytes: number; liveTensors: number };
}

/** Trains the demo net for a few steps on fresh blob batches. */
export function runEngineDemo(options: EngineDemoOptions = {}): EngineDemoResult {
  const { steps = 40, batch = 8, imgsz = 64, lr = 0.05, seed = 0 } = options;
  const rng = new Rng(seed + 1);
  const net = createDemoNet(seed);
  const losses: number[] = [];
  let memoryFirst = { allocatedBytes: 0, liveTensors: 0 };
  try {
    for (let step = 0; step < steps; step++) {
      const { images, targets } = makeBlobBatch(rng, batch, imgsz);
      const loss = demoTrainStep(net, images, targets, lr);
      images.dispose();
      targets.dispose();
      losses.push(loss);
      if (step === 0) memoryFirst = pick(memoryStats());
      options.onStep?.(step, loss);
    }
    return { losses, memoryFirst, memoryLast: pick(memoryStats()) };
  } finally {
    net.dispose();
  }
}

function pick(m: { allocatedBytes: number; liveTensors: number }) {
  return { allocatedBytes: m.allocatedBytes, liveTensors: m.liveTensors };
}
