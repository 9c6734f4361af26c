/**
 * YOLOv5's building blocks (Conv, Bottleneck, C3, SPPF, Concat) with its parameter names, so that state-dict keys
 * (`cv1.conv.weight`, `m.0.cv2.bn.running_mean`, …) match Ultralytics checkpoints. Detect lives in detect.ts.
 */
import {
  BatchNorm2d,
  Conv2d,
  cat,
  F,
  MaxPool2d,
  Module,
  Sequential,
  type Tensor,
  tensor,
  tidy,
} from "../torch/index.js";
import { foldBatchNorm } from "./batchnorm-fold.js";
import { BN_EPS, BN_MOMENTUM, C3_BOTTLENECK_EXPANSION } from "./constants.js";

/** "Same" padding for odd kernels (YOLOv5's autopad): k // 2 unless given. */
export function autopad(k: number, p: number | null = null): number {
  return p ?? Math.floor(k / 2);
}

/** Conv2d (no bias) + BatchNorm2d + SiLU; `fuse()` folds the BatchNorm into the convolution for inference. */
export class Conv extends Module {
  readonly conv: Conv2d;
  readonly bn: BatchNorm2d;
  #fused: { weight: Tensor; bias: Tensor } | null = null;

  /**
   * @param k kernel size. @default 1
   * @param s stride. @default 1
   * @param p padding. @default k // 2
   * @param g groups. @default 1
   * @param act SiLU after the BatchNorm. @default true
   */
  constructor(
    c1: number,
    c2: number,
    k = 1,
    s = 1,
    p: number | null = null,
    g = 1,
    readonly act = true,
  ) {
    super();
    this.conv = this.registerModule(
      "conv",
      new Conv2d(c1, c2, k, { stride: s, padding: autopad(k, p), groups: g, bias: false }),
    );
    this.bn = this.registerModule("bn", new BatchNorm2d(c2, { eps: BN_EPS, momentum: BN_MOMENTUM }));
  }

  /** Whether a folded convolution is in use (eval mode only; training always runs conv + BatchNorm). */
  get isFused(): boolean {
    return this.#fused !== null;
  }

  /**
   * Folds the BatchNorm's current statistics into a convolution with bias (src/model/batchnorm-fold.ts, the same
   * fold as the ONNX export's): W' = W·γ/√(σ²+ε), b' = β − γ·μ/√(σ²+ε). A snapshot used in eval mode only; the
   * parameters and buffers are not touched (training and checkpoints see conv + BatchNorm). Call again after the
   * weights change.
   */
  fuse(): void {
    this.unfuse();
    const { conv } = this;
    const device = conv.weight.data.device;
    const folded = this.foldedWeights();
    const weight = tensor(folded.weight, conv.weight.data.shape, { device }).keep();
    try {
      this.#fused = { weight, bias: tensor(folded.bias, [folded.bias.length], { device }).keep() };
    } catch (err) {
      weight.dispose();
      throw err;
    }
  }

  /** The convolution's weight and bias with the BatchNorm folded in (what {@link fuse} and the ONNX export run). */
  foldedWeights(): { weight: Float32Array; bias: Float32Array } {
    const { conv, bn } = this;
    return foldBatchNorm({
      weight: conv.weight.data,
      gamma: bn.weight.data,
      beta: bn.bias.data,
      runningMean: bn.runningMean.data,
      runningVar: bn.runningVar.data,
      eps: bn.eps,
    });
  }

  /** Drops the folded convolution (back to conv + BatchNorm). */
  unfuse(): void {
    if (!this.#fused) return;
    this.#fused.weight.dispose();
    this.#fused.bias.dispose();
    this.#fused = null;
  }

  forward(x: Tensor): Tensor {
    let y: Tensor;
    if (this.#fused && !this.training) {
      const { stride, padding, groups } = this.conv;
      y = F.conv2d(x, this.#fused.weight, this.#fused.bias, { stride, padding, groups });
    } else {
      y = this.bn.forward(this.conv.forward(x));
    }
    if (!this.act) return y;
    const a = y.silu();
    y.dispose();
    return a;
  }

  override dispose(): void {
    this.unfuse();
    super.dispose();
  }
}

/** 1×1 Conv then 3×3 Conv, plus the input when `shortcut` and the channels agree. */
export class Bottleneck extends Module {
  readonly cv1: Conv;
  readonly cv2: Conv;
  readonly add: boolean;

  /**
   * @param shortcut residual connection (only when c1 = c2). @default true
   * @param g groups of the 3×3 convolution. @default 1
   * @param e hidden-channel ratio. @default 0.5
   */
  constructor(c1: number, c2: number, shortcut = true, g = 1, e = 0.5) {
    super();
    const c = Math.trunc(c2 * e);
    this.cv1 = this.registerModule("cv1", new Conv(c1, c, 1, 1));
    this.cv2 = this.registerModule("cv2", new Conv(c, c2, 3, 1, null, g));
    this.add = shortcut && c1 === c2;
  }

  forward(x: Tensor): Tensor {
    const h = this.cv1.forward(x);
    const y = this.cv2.forward(h);
    h.dispose();
    if (!this.add) return y;
    const out = y.add(x);
    y.dispose();
    return out;
  }
}

/** CSP bottleneck with 3 convolutions: cv3(cat(m(cv1(x)), cv2(x))). */
export class C3 extends Module {
  readonly cv1: Conv;
  readonly cv2: Conv;
  readonly cv3: Conv;
  readonly m: Sequential;

  /**
   * @param n Bottlenecks in sequence. @default 1
   * @param shortcut residual Bottlenecks. @default true
   * @param g groups. @default 1
   * @param e hidden-channel ratio. @default 0.5
   */
  constructor(c1: number, c2: number, n = 1, shortcut = true, g = 1, e = 0.5) {
    super();
    const c = Math.trunc(c2 * e);
    this.cv1 = this.registerModule("cv1", new Conv(c1, c, 1, 1));
    this.cv2 = this.registerModule("cv2", new Conv(c1, c, 1, 1));
    this.cv3 = this.registerModule("cv3", new Conv(2 * c, c2, 1));
    const blocks = Array.from({ length: n }, () => new Bottleneck(c, c, shortcut, g, C3_BOTTLENECK_EXPANSION));
    this.m = this.registerModule("m", new Sequential(...blocks));
  }

  forward(x: Tensor): Tensor {
    return tidy(() => this.cv3.forward(cat([this.m.forward(this.cv1.forward(x)), this.cv2.forward(x)], 1)));
  }
}

/** Spatial pyramid pooling, fast: three chained k×k max pools, concatenated with their input. */
export class SPPF extends Module {
  readonly cv1: Conv;
  readonly cv2: Conv;
  readonly m: MaxPool2d;

  /** @param k max-pool kernel. @default 5 */
  constructor(c1: number, c2: number, k = 5) {
    super();
    const c = Math.floor(c1 / 2);
    this.cv1 = this.registerModule("cv1", new Conv(c1, c, 1, 1));
    this.cv2 = this.registerModule("cv2", new Conv(c * 4, c2, 1, 1));
    this.m = this.registerModule("m", new MaxPool2d(k, { stride: 1, padding: Math.floor(k / 2) }));
  }

  forward(x: Tensor): Tensor {
    return tidy(() => {
      const a = this.cv1.forward(x);
      const b = this.m.forward(a);
      const c = this.m.forward(b);
      return this.cv2.forward(cat([a, b, c, this.m.forward(c)], 1));
    });
  }
}

/** Concatenation of several layers' outputs along `dim`. */
export class Concat extends Module {
  /** @param dim @default 1 */
  constructor(readonly dim = 1) {
    super();
  }
  forward(xs: readonly Tensor[]): Tensor {
    return cat(xs, this.dim);
  }
}
