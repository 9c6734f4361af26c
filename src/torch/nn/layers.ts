/**
 * Layers with torch.nn's names, parameter names, defaults and initialisation (so a seeded model matches PyTorch's
 * draws and a PyTorch state dict loads key for key).
 */

import type { ProcessGroup } from "../distributed.js";
import * as F from "../functional.js";
import { native } from "../native.js";
import { uniform_ } from "../random.js";
import { type Tensor, zeros } from "../tensor.js";
import { Buffer, Module, Parameter } from "./module.js";
import { syncBatchNorm } from "./sync-batch-norm.js";

type Pair = number | [number, number];
const pair = (v: Pair): [number, number] => (Array.isArray(v) ? v : [v, v]);

/**
 * torch.nn.Conv2d/Linear.reset_parameters: weight ~ kaiming_uniform_(a=√5), bias ~ U(−1/√fanIn, 1/√fanIn).
 * The bounds are computed in the same order as PyTorch, so a seeded init gives PyTorch's values exactly.
 */
function resetKaiming(weight: Tensor, bias: Tensor | null, fanIn: number): void {
  const a = Math.sqrt(5);
  const gain = Math.sqrt(2 / (1 + a ** 2));
  const std = gain / Math.sqrt(fanIn);
  uniform_(weight, -Math.sqrt(3) * std, Math.sqrt(3) * std);
  if (bias) {
    const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
    uniform_(bias, -bound, bound);
  }
}

export interface Conv2dOptions {
  /** @default 1 */
  stride?: Pair;
  /** @default 0 */
  padding?: Pair;
  /** @default 1 */
  dilation?: Pair;
  /** @default 1 */
  groups?: number;
  /** @default true */
  bias?: boolean;
}

export class Conv2d extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly dilation: [number, number];
  readonly groups: number;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: Pair,
    options: Conv2dOptions = {},
  ) {
    super();
    const [kh, kw] = pair(kernelSize);
    this.stride = pair(options.stride ?? 1);
    this.padding = pair(options.padding ?? 0);
    this.dilation = pair(options.dilation ?? 1);
    this.groups = options.groups ?? 1;
    if (inChannels % this.groups || outChannels % this.groups) {
      throw new Error(`Conv2d: channels ${inChannels}→${outChannels} not divisible by groups ${this.groups}`);
    }
    this.weight = this.registerParameter(
      "weight",
      new Parameter(zeros([outChannels, inChannels / this.groups, kh, kw])),
    );
    this.bias = this.registerParameter("bias", options.bias === false ? null : new Parameter(zeros([outChannels])));
    resetKaiming(this.weight.data, this.bias?.data ?? null, (inChannels / this.groups) * kh * kw);
  }

  forward(x: Tensor): Tensor {
    return F.conv2d(x, this.weight.data, this.bias?.data ?? null, {
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
      groups: this.groups,
    });
  }
}

export interface BatchNorm2dOptions {
  /** @default 1e-5 */
  eps?: number;
  /** @default 0.1 */
  momentum?: number;
}

export class BatchNorm2d extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter;
  readonly runningMean: Buffer;
  readonly runningVar: Buffer;
  readonly numBatchesTracked: Buffer;
  eps: number;
  momentum: number;
  /** When set, training-mode statistics cover every rank of this group (SyncBatchNorm, `--sync-bn`). @default null */
  syncGroup: ProcessGroup | null = null;

  constructor(
    readonly numFeatures: number,
    options: BatchNorm2dOptions = {},
  ) {
    super();
    this.eps = options.eps ?? 1e-5;
    this.momentum = options.momentum ?? 0.1;
    this.weight = this.registerParameter("weight", new Parameter(zeros([numFeatures]).add(1)));
    this.bias = this.registerParameter("bias", new Parameter(zeros([numFeatures])));
    this.runningMean = this.registerBuffer("running_mean", new Buffer(zeros([numFeatures])));
    this.runningVar = this.registerBuffer("running_var", new Buffer(zeros([numFeatures]).add(1)));
    this.numBatchesTracked = this.registerBuffer("num_batches_tracked", new Buffer(zeros([], { dtype: "int64" })));
  }

  forward(x: Tensor): Tensor {
    if (this.training) native.addInPlace_(this.numBatchesTracked.data.handle, 1);
    if (this.training && this.syncGroup) {
      const state = { weight: this.weight.data, bias: this.bias.data, momentum: this.momentum, eps: this.eps };
      return syncBatchNorm(
        x,
        { ...state, runningMean: this.runningMean.data, runningVar: this.runningVar.data },
        this.syncGroup,
      );
    }
    return F.batchNorm(x, {
      weight: this.weight.data,
      bias: this.bias.data,
      runningMean: this.runningMean.data,
      runningVar: this.runningVar.data,
      training: this.training,
      momentum: this.momentum,
      eps: this.eps,
    });
  }
}

export class Linear extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: { bias?: boolean } = {},
  ) {
    super();
    this.weight = this.registerParameter("weight", new Parameter(zeros([outFeatures, inFeatures])));
    this.bias = this.registerParameter("bias", options.bias === false ? null : new Parameter(zeros([outFeatures])));
    resetKaiming(this.weight.data, this.bias?.data ?? null, inFeatures);
  }

  forward(x: Tensor): Tensor {
    return F.linear(x, this.weight.data, this.bias?.data ?? null);
  }
}

export class Dropout extends Module {
  #p = 0.5;
  constructor(p = 0.5) {
    super();
    this.p = p;
  }
  /** Probability of zeroing an element in training (settable, e.g. when a loaded model is trained on). */
  get p(): number {
    return this.#p;
  }
  set p(p: number) {
    if (!(p >= 0 && p <= 1)) throw new Error(`Dropout: p must be in [0, 1], got ${p}`);
    this.#p = p;
  }
  forward(x: Tensor): Tensor {
    return F.dropout(x, this.p, this.training);
  }
}

export class MaxPool2d extends Module {
  constructor(
    readonly kernelSize: Pair,
    readonly options: F.MaxPool2dOptions = {},
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.maxPool2d(x, this.kernelSize, this.options);
  }
}

/** Nearest-neighbour upsampling (the only mode YOLOv5 uses). */
export class Upsample extends Module {
  constructor(readonly options: { scaleFactor?: number; size?: Pair; mode?: "nearest" }) {
    super();
    if ((options.mode ?? "nearest") !== "nearest") throw new Error(`Upsample: mode ${options.mode} is not supported`);
  }
  forward(x: Tensor): Tensor {
    const { size, scaleFactor } = this.options;
    return F.upsampleNearest2d(x, {
      ...(size === undefined ? {} : { size }),
      ...(scaleFactor === undefined ? {} : { scaleFactor }),
    });
  }
}

export class SiLU extends Module {
  forward(x: Tensor): Tensor {
    return x.silu();
  }
}

export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return x.relu();
  }
}

export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) {
    super();
  }
  forward(x: Tensor): Tensor {
    return x.leakyRelu(this.negativeSlope);
  }
}

export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}

export class Flatten extends Module {
  constructor(
    readonly startDim = 1,
    readonly endDim = -1,
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return x.flatten(this.startDim, this.endDim);
  }
}

/** A module with a single-tensor forward. */
export interface Layer extends Module {
  forward(x: Tensor): Tensor;
}

/** Children named "0", "1", … applied in order. */
export class Sequential extends Module {
  readonly layers: Layer[];
  constructor(...layers: Layer[]) {
    super();
    this.layers = layers;
    for (const [i, m] of layers.entries()) this.registerModule(String(i), m);
  }
  forward(x: Tensor): Tensor {
    let y = x;
    for (const m of this.layers) y = m.forward(y);
    return y;
  }
}

/** A list of modules named "0", "1", … (no forward of its own). */
export class ModuleList<M extends Module = Module> extends Module {
  readonly items: M[] = [];
  constructor(modules: M[] = []) {
    super();
    for (const m of modules) this.push(m);
  }
  push(m: M): void {
    this.registerModule(String(this.items.length), m);
    this.items.push(m);
  }
  get length(): number {
    return this.items.length;
  }
  at(i: number): M {
    const m = this.items[i < 0 ? this.items.length + i : i];
    if (!m) throw new RangeError(`ModuleList index ${i} out of range (${this.items.length})`);
    return m;
  }
  [Symbol.iterator](): Iterator<M> {
    return this.items[Symbol.iterator]();
  }
}
