/**
 * A YOLOv5 detector built from a model description: layers in a ModuleList named `model` (so state-dict keys are
 * Ultralytics' `model.<i>.…`), strides from a dry run, named feature taps, raw maps for training and decoded boxes for
 * inference, and Conv+BatchNorm folding for inference.
 */
import {
  BatchNorm2d,
  type LoadReport,
  type LoadStateDictOptions,
  Module,
  ModuleList,
  noGrad,
  Sequential,
  type Tensor,
  tidy,
  Upsample,
  zeros,
} from "../torch/index.js";
import { Bottleneck, C3, Concat, Conv, SPPF } from "./blocks.js";
import { absoluteFrom, type LayerSpec, type ModelYaml, resolveLayers } from "./config.js";
import { DEFAULT_TAPS, STRIDE_PROBE_BN_MOMENTUM, STRIDE_PROBE_SIZE } from "./constants.js";
import { Detect } from "./detect.js";

export interface YoloModelOptions {
  /** Where the description came from, for error messages. @default "<model yaml>" */
  source?: string;
  /** Class names. @default ["0", "1", …] */
  names?: readonly string[];
  /**
   * Named feature taps → layer index. @default {@link DEFAULT_TAPS} (p2: 1, p3: 4, neckP3: 17), keeping only the
   * layers the description has
   */
  taps?: Readonly<Record<string, number>>;
  /** Apply YOLOv5's Detect bias initialisation (off when weights will be loaded anyway). @default true */
  initBiases?: boolean;
}

export interface YoloForwardOptions {
  /** Names of the feature taps to return (see {@link YoloModel.taps}). @default [] */
  taps?: readonly string[];
  /** Also decode the maps to boxes. @default true in eval mode, false in training mode */
  decode?: boolean;
  /** Stop after the last requested tap: only `features` is filled (maps empty, nothing decoded). @default false */
  tapsOnly?: boolean;
}

export interface YoloOutput {
  /** Per level, raw [B, na, H, W, nc+5] maps (the training output). */
  maps: Tensor[];
  /** [B, N, nc+5] rows of (x, y, w, h) in input pixels, objectness, class probabilities; null unless decoded. */
  decoded: Tensor | null;
  /** The requested taps' feature maps, by name. */
  features: Record<string, Tensor>;
}

type LayerModule = Module & { forward(x: Tensor): Tensor };

function buildLayer(spec: LayerSpec): Module {
  const a = spec.args;
  const one = (): Module => {
    switch (a.kind) {
      case "Conv":
        return new Conv(a.c1, a.c2, a.k, a.s, a.p, a.g, a.act);
      case "C3":
        return new C3(a.c1, a.c2, a.n, a.shortcut, a.g, a.e);
      case "Bottleneck":
        return new Bottleneck(a.c1, a.c2, a.shortcut, a.g, a.e);
      case "SPPF":
        return new SPPF(a.c1, a.c2, a.k);
      case "Upsample":
        return new Upsample({
          ...(a.size === null ? {} : { size: a.size }),
          ...(a.scaleFactor === null ? {} : { scaleFactor: a.scaleFactor }),
        });
      case "Concat":
        return new Concat(a.dim);
      case "Detect":
        return new Detect(a.nc, a.anchors, a.ch);
    }
  };
  if (spec.repeats === 1) return one();
  if (a.kind === "Concat" || a.kind === "Detect") {
    throw new Error(`layer ${spec.index}: ${a.kind} cannot be repeated (number must be 1)`);
  }
  return new Sequential(...Array.from({ length: spec.repeats }, () => one() as LayerModule));
}

export class YoloModel extends Module {
  readonly layers: readonly LayerSpec[];
  readonly model: ModuleList;
  readonly detect: Detect;
  readonly names: readonly string[];
  /** Named feature taps → layer index. */
  readonly taps: Readonly<Record<string, number>>;
  /** For each layer, the last layer that reads its output (−1 when only the next layer does). */
  readonly #lastUse: number[];

  /**
   * @param yaml the model description (see config.ts).
   */
  constructor(
    readonly yaml: ModelYaml,
    options: YoloModelOptions = {},
  ) {
    super();
    const source = options.source ?? "<model yaml>";
    this.layers = resolveLayers(yaml, source);
    const n = this.layers.length;
    this.model = this.registerModule("model", new ModuleList(this.layers.map(buildLayer)));
    this.detect = this.model.at(-1) as Detect;
    this.names = options.names ? [...options.names] : Array.from({ length: this.detect.nc }, (_, i) => String(i));
    if (this.names.length !== this.detect.nc) {
      throw new Error(`${source}: ${this.names.length} class names for nc = ${this.detect.nc}`);
    }
    const taps = options.taps ?? Object.fromEntries(Object.entries(DEFAULT_TAPS).filter(([, i]) => i < n - 1));
    for (const [name, i] of Object.entries(taps)) {
      if (!Number.isInteger(i) || i < 0 || i >= n - 1) {
        throw new Error(`${source}: tap "${name}" names layer ${i}, expected 0…${n - 2}`);
      }
    }
    this.taps = { ...taps };
    this.#lastUse = this.layers.map(() => -1);
    for (const spec of this.layers) {
      for (const f of Array.isArray(spec.from) ? spec.from : [spec.from]) {
        const j = absoluteFrom(f, spec.index);
        if (j >= 0) this.#lastUse[j] = Math.max(this.#lastUse[j]!, spec.index);
      }
    }
    this.detect.setStrides(this.#measureStrides());
    if (options.initBiases ?? true) this.detect.initBiases();
  }

  /** Input channels. */
  get inputChannels(): number {
    return this.yaml.ch ?? 3;
  }
  get nc(): number {
    return this.detect.nc;
  }
  /** Stride of each Detect level in input pixels. */
  get stride(): readonly number[] {
    return this.detect.stride;
  }
  /** Output channels of a named tap. */
  tapChannels(name: string): number {
    const i = this.taps[name];
    if (i === undefined) throw new Error(`no feature tap "${name}" (taps: ${Object.keys(this.taps).join(", ")})`);
    return this.layers[i]!.outChannels;
  }

  /**
   * Stride of each level = probe size / map height, from a forward pass of a zero image without gradient, in training
   * mode as YOLOv5's: the BatchNorm running statistics take one step (at {@link STRIDE_PROBE_BN_MOMENTUM}) toward the
   * zero image's, as in a fresh YOLOv5 model. Loaded weights replace them.
   */
  #measureStrides(): number[] {
    const wasTraining = this.training;
    const norms = this.namedModules()
      .map(([, m]) => m)
      .filter((m): m is BatchNorm2d => m instanceof BatchNorm2d);
    const momenta = norms.map((bn) => bn.momentum);
    this.train(true);
    for (const bn of norms) bn.momentum = STRIDE_PROBE_BN_MOMENTUM;
    try {
      return noGrad(() =>
        tidy(() => {
          const { maps } = this.forward(zeros([1, this.inputChannels, STRIDE_PROBE_SIZE, STRIDE_PROBE_SIZE]), {
            decode: false,
          });
          return maps.map((m) => STRIDE_PROBE_SIZE / m.shape[2]!);
        }),
      );
    } finally {
      norms.forEach((bn, i) => {
        bn.momentum = momenta[i]!;
      });
      this.train(wasTraining);
    }
  }

  /** Runs the network on images [B, C, H, W] (H, W multiples of the largest stride). */
  forward(x: Tensor, options: YoloForwardOptions = {}): YoloOutput {
    const wanted = new Set<number>();
    for (const name of options.taps ?? []) {
      const i = this.taps[name];
      if (i === undefined) throw new Error(`no feature tap "${name}" (taps: ${Object.keys(this.taps).join(", ")})`);
      wanted.add(i);
    }
    const last = options.tapsOnly ? Math.max(-1, ...wanted) : Number.POSITIVE_INFINITY;
    const decode = !options.tapsOnly && (options.decode ?? !this.training);
    return tidy(() => {
      const outputs: Array<Tensor | undefined> = [];
      const input = (f: number, i: number): Tensor => {
        const j = absoluteFrom(f, i);
        const t = j < 0 ? x : outputs[j];
        if (!t) throw new Error(`layer ${i}: input ${f} is not available`);
        return t;
      };
      let maps: Tensor[] = [];
      for (const spec of this.layers) {
        const i = spec.index;
        if (i > last) break;
        const m = this.model.at(i);
        if (m instanceof Detect) {
          maps = m.forward((spec.from as number[]).map((f) => input(f, i)));
        } else if (m instanceof Concat) {
          outputs[i] = m.forward((spec.from as number[]).map((f) => input(f, i)));
        } else {
          outputs[i] = (m as LayerModule).forward(input(spec.from as number, i));
        }
        // free outputs no later layer reads (the peak memory of a forward pass), keeping requested taps
        for (const f of Array.isArray(spec.from) ? spec.from : [spec.from]) {
          const j = absoluteFrom(f, i);
          if (j >= 0 && this.#lastUse[j]! <= i && !wanted.has(j)) {
            outputs[j]?.dispose();
            outputs[j] = undefined;
          }
        }
      }
      const features: Record<string, Tensor> = {};
      for (const name of options.taps ?? []) features[name] = outputs[this.taps[name]!]!;
      return { maps, decoded: decode ? this.detect.decode(maps) : null, features };
    });
  }

  /** Folds every Conv's BatchNorm into its convolution (used in eval mode). Returns this. */
  fuse(): this {
    for (const [, m] of this.namedModules()) if (m instanceof Conv) m.fuse();
    return this;
  }

  /** Undoes {@link fuse}. Returns this. */
  unfuse(): this {
    for (const [, m] of this.namedModules()) if (m instanceof Conv) m.unfuse();
    return this;
  }

  /** Loads weights (see Module.loadStateDict); folded convolutions are dropped first, since they would be stale. */
  override loadStateDict(
    state: Map<string, Tensor> | Record<string, Tensor>,
    options: LoadStateDictOptions = {},
  ): LoadReport {
    this.unfuse();
    return super.loadStateDict(state, options);
  }

  override dispose(): void {
    this.unfuse();
    this.detect.clearCache();
    super.dispose();
  }
}
