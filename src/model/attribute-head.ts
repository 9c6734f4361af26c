/**
 * The attribute head (design.md §7.4, method.md §3.3): the seed's MyCNN shape (three 3×3 conv + LeakyReLU + 2×2 max
 * pool stages, then fully connected layers with dropout) on RoI-aligned features of the p2 and p3 taps, with the
 * box's normalised width and height joined in the fully connected part (RoIAlign resamples every cell to the same
 * grid, which erases absolute size), and two outputs: Cell Size (3 logits) and the six binary attributes (2 logits
 * each). Layer names equal the seed's (conv1…3, fc1…3), so its state dict loads onto this head.
 */
import { LLD_ATTRIBUTES } from "../data/schema.js";
import {
  Conv2d,
  cat,
  Dropout,
  LeakyReLU,
  Linear,
  MaxPool2d,
  Module,
  noGrad,
  type Tensor,
  tensor,
  tidy,
  zeros,
} from "../torch/index.js";
import { IMAGE_TAP } from "./attribute-io.js";

/** RoIAlign output grid (height, width) of the seed. */
export const ATTRIBUTE_ROI_SIZE: readonly [number, number] = [24, 30];
/** Channels of the three conv stages of the seed's head. */
export const ATTRIBUTE_CONV_CHANNELS: readonly [number, number, number] = [128, 64, 64];
/** Widths of the two hidden fully connected layers of the seed's head. */
export const ATTRIBUTE_FC_WIDTHS: readonly [number, number] = [1024, 256];
/** LeakyReLU slope of the seed's head (PyTorch's default). */
export const ATTRIBUTE_LEAKY_SLOPE = 0.01;
/** Dropout probability of the seed's head. */
export const ATTRIBUTE_DROPOUT = 0.5;
/** Each conv stage halves the map with a 2×2 max pool. */
export const ATTRIBUTE_STAGE_POOL = 2;
/** Box features joined in the fully connected part: normalised width and height. */
export const BOX_FEATURES = 2;
/**
 * Factor on the box's normalised (w, h) before fcBox: a white cell spans ~1/10 of a field of view, so its size
 * input is ~1 (unscaled, ~0.1, the size weights learned ~10× slower than the rest: Cell Size stayed at its prior).
 */
export const BOX_SIZE_SCALE = 10;
/** Values of Cell Size (a0): Small, Medium, Large. */
export const CELL_SIZE_CLASSES = LLD_ATTRIBUTES[0]!.values.length;
/** The binary attributes a1..a6 (the seed's 6 × 2 logits). */
export const BINARY_ATTRIBUTES = LLD_ATTRIBUTES.length - 1;

export interface AttributeHeadOptions {
  /** Channels of the pooled features (p2 + p3 channels of the detector; 480 for YOLOv5x). */
  inChannels: number;
  /**
   * Names of the maps the head pools, in channel order (src/model/attribute-inference.ts). @default ["p2", "p3"],
   * the seed's
   */
  taps?: readonly string[];
  /** Channels of each tap (summing to inChannels); each tap's features are standardised on their own. @default [inChannels] */
  tapChannels?: readonly number[];
  /** RoIAlign grid [height, width]. @default [24, 30] */
  roiSize?: readonly [number, number];
  /** Dropout probability in the fully connected part. @default 0.5 */
  dropout?: number;
  /**
   * Standardise each cell's pooled features (mean 0, variance 1 over channels and grid, no learned affine) before
   * conv1. Detector features are small and differ in scale between models; unstandardised, the seed's head learned
   * little but the attributes' priors. Off for the seed's weights, which were trained without it. @default true
   */
  inputNorm?: boolean;
  /**
   * The image tap's standardisation when inputNorm is on (see {@link ImageNorm}). @default "cell" (heads saved before
   * it existed)
   */
  imageNorm?: ImageNorm;
  /** See {@link BOX_SIZE_SCALE}. @default BOX_SIZE_SCALE */
  boxScale?: number;
  /**
   * Cell Size's logits also get a linear term of the box's scaled (w, h) (`fcSizeBox`, zero at construction): Cell
   * Size is first of all the cell's size, and through fc1, fc2 and their dropout alone that signal reached the output
   * weakly, and lost out to the six binary attributes' terms once they were trained by cross-entropy (issue 25).
   * Off in heads saved before it existed and in the seed's. @default false
   */
  sizeFromBox?: boolean;
  /**
   * [mean w, mean h, sd w, sd h] of the training cells' (w, h) (the `boxWh` of forward): fcSizeBox reads the
   * standardised size, (wh − mean) / sd. Unstandardised, a class boundary 0.01 of the image wide needs weights of
   * ~100 at the scale of boxScale, which SGD at the detector's lr did not reach in the demo's ~900 steps (Cell Size
   * balanced accuracy 0.63–0.69 with the box term, learned slopes ~1.2). null: (w, h) · boxScale. @default null
   */
  sizeNorm?: readonly [number, number, number, number] | null;
  /**
   * The detector's number of classes when the cell's class joins fc1's pre-activation (`fcClass`: one learned vector
   * per class, zero at construction): the class of the label in training, of the detection in inference. Attributes
   * follow the cell type closely (on WBCAtt the type alone gives 0.916 mean accuracy over the six mapped attributes;
   * BENCHMARKS.md), which a small head from scratch learns slowly from pixels; given the class it learns what the pixels
   * add. 0 = off (the seed's head, and heads saved before it existed). @default 0
   */
  classes?: number;
  /**
   * The image tap pools a fine view of the input at this many times the network input's side (a whole number; the
   * loader makes it with the same geometry: src/data/augment/fine-view.ts), so a network run below the images' own
   * resolution does not halve what the head sees. 1: the network input itself (heads saved before it existed, the
   * seed's). @default 1
   */
  imageScale?: number;
}

/** Floor of the variance in the input standardisation. */
export const ATTRIBUTE_INPUT_NORM_EPS = 1e-5;

/**
 * How the image tap's RGB (0..1) is standardised: `cell` = each cell on its own over channels and grid (as the
 * detector taps, {@link AttributeHeadOptions.inputNorm}), which makes the head blind to how dark or how coloured a cell
 * is (coarse chromatin is darker; issue 25); `channel` = a fixed per-channel mean and deviation ({@link IMAGE_TAP_MEAN},
 * {@link IMAGE_TAP_STD}), which keeps that but also every slide's stain; `both` = the two side by side (6 channels
 * into conv1), so the head can read a cell against itself and against every other cell.
 */
export const IMAGE_NORMS = ["cell", "channel", "both"] as const;
export type ImageNorm = (typeof IMAGE_NORMS)[number];
/** Per-channel RGB mean of the `channel` image standardisation (ImageNet's, the usual constants for RGB CNN inputs). */
export const IMAGE_TAP_MEAN: readonly [number, number, number] = [0.485, 0.456, 0.406];
/** Per-channel RGB deviation of the `channel` image standardisation (ImageNet's). */
export const IMAGE_TAP_STD: readonly [number, number, number] = [0.229, 0.224, 0.225];

/** What a copy of a head needs besides its weights (checkpoint metadata, the EMA twin). */
export interface AttributeHeadConfig {
  inChannels: number;
  taps: string[];
  tapChannels: number[];
  roiSize: [number, number];
  inputNorm: boolean;
  imageNorm: ImageNorm;
  boxScale: number;
  sizeFromBox: boolean;
  sizeNorm: [number, number, number, number] | null;
  classes: number;
  imageScale: number;
}

export interface AttributeOutput {
  /** [K, 3] Cell Size logits. */
  cellSize: Tensor;
  /** [K, 6, 2] logits of the binary attributes a1..a6. */
  binary: Tensor;
}

/**
 * The parameter values of a head of this shape (`inChannels`, `roiSize`), counted without building it: what a
 * checkpoint must hold for its attribute head.
 */
export function attributeHeadValueCount(
  inChannels: number,
  roiSize: readonly [number, number],
  sizeFromBox = false,
  extraInputChannels = 0,
  classes = 0,
): number {
  const [c1, c2, c3] = ATTRIBUTE_CONV_CHANNELS;
  const [f1, f2] = ATTRIBUTE_FC_WIDTHS;
  const shrink = (n: number) => [1, 2, 3].reduce((m) => Math.floor(m / ATTRIBUTE_STAGE_POOL), n);
  const flat = c3 * shrink(roiSize[0]) * shrink(roiSize[1]);
  const conv = (cin: number, cout: number) => cin * cout * 9 + cout;
  const linear = (fin: number, fout: number) => fin * fout + fout;
  return (
    conv(inChannels + extraInputChannels, c1) +
    conv(c1, c2) +
    conv(c2, c3) +
    linear(flat, f1) +
    BOX_FEATURES * f1 +
    linear(f1, f2) +
    linear(f2, BINARY_ATTRIBUTES * 2) +
    linear(f2, CELL_SIZE_CLASSES) +
    (sizeFromBox ? BOX_FEATURES * CELL_SIZE_CLASSES : 0) +
    classes * f1
  );
}

export class AttributeHead extends Module {
  readonly conv1: Conv2d;
  readonly conv2: Conv2d;
  readonly conv3: Conv2d;
  readonly fc1: Linear;
  /** The box's (w, h) into fc1's pre-activation: fc1 over [features, w, h], split so the seed's fc1 loads as is. */
  readonly fcBox: Linear;
  readonly fc2: Linear;
  /** Binary attributes a1..a6, 2 logits each (the seed's 12 outputs). */
  readonly fc3: Linear;
  /** Cell Size (a0), 3 logits. */
  readonly fcSize: Linear;
  /** The box's (w, h) straight into Cell Size's logits ({@link AttributeHeadOptions.sizeFromBox}); null when off. */
  readonly fcSizeBox: Linear | null;
  /** One vector per detector class into fc1's pre-activation ({@link AttributeHeadOptions.classes}); null when off. */
  readonly fcClass: Linear | null;
  readonly #act: LeakyReLU;
  readonly #pool: MaxPool2d;
  readonly #dropout: Dropout;
  readonly inChannels: number;
  readonly roiSize: readonly [number, number];
  readonly inputNorm: boolean;
  readonly imageNorm: ImageNorm;
  readonly boxScale: number;
  readonly sizeFromBox: boolean;
  readonly sizeNorm: readonly [number, number, number, number] | null;
  readonly classes: number;
  /** See {@link AttributeHeadOptions.imageScale}. */
  readonly imageScale: number;
  readonly taps: readonly string[];
  readonly tapChannels: readonly number[];
  /** Flattened size after the conv stages (576 for a 24×30 grid). */
  readonly flatFeatures: number;

  constructor(options: AttributeHeadOptions) {
    super();
    const [c1, c2, c3] = ATTRIBUTE_CONV_CHANNELS;
    const [f1, f2] = ATTRIBUTE_FC_WIDTHS;
    this.inChannels = options.inChannels;
    this.roiSize = options.roiSize ?? ATTRIBUTE_ROI_SIZE;
    this.inputNorm = options.inputNorm ?? true;
    this.taps = [...(options.taps ?? ["p2", "p3"])]; // the seed's: the detector's stride-4 and stride-8 maps
    this.tapChannels = [...(options.tapChannels ?? [options.inChannels])];
    if (this.tapChannels.reduce((a, b) => a + b, 0) !== options.inChannels)
      throw new Error(`AttributeHead: tap channels [${this.tapChannels}] do not sum to ${options.inChannels}`);
    this.boxScale = options.boxScale ?? BOX_SIZE_SCALE;
    const shrink = (n: number) => [1, 2, 3].reduce((m) => Math.floor(m / ATTRIBUTE_STAGE_POOL), n);
    const [h, w] = [shrink(this.roiSize[0]), shrink(this.roiSize[1])];
    if (h < 1 || w < 1) throw new Error(`AttributeHead: RoI grid [${this.roiSize}] is too small for 3 pooling stages`);
    this.flatFeatures = c3 * h * w;
    this.imageNorm = options.imageNorm ?? "cell";
    if (!IMAGE_NORMS.includes(this.imageNorm))
      throw new Error(`AttributeHead: imageNorm must be one of ${IMAGE_NORMS.join(", ")}, found ${this.imageNorm}`);
    const extra = extraInputChannels(this);
    this.conv1 = this.registerModule("conv1", new Conv2d(options.inChannels + extra, c1, 3, { padding: 1 }));
    this.conv2 = this.registerModule("conv2", new Conv2d(c1, c2, 3, { padding: 1 }));
    this.conv3 = this.registerModule("conv3", new Conv2d(c2, c3, 3, { padding: 1 }));
    this.fc1 = this.registerModule("fc1", new Linear(this.flatFeatures, f1));
    this.fcBox = this.registerModule("fcBox", new Linear(BOX_FEATURES, f1, { bias: false }));
    this.fc2 = this.registerModule("fc2", new Linear(f1, f2));
    this.fc3 = this.registerModule("fc3", new Linear(f2, BINARY_ATTRIBUTES * 2));
    this.fcSize = this.registerModule("fcSize", new Linear(f2, CELL_SIZE_CLASSES));
    this.sizeFromBox = options.sizeFromBox ?? false;
    this.sizeNorm = options.sizeNorm ? [...options.sizeNorm] : null;
    if (this.sizeNorm && !(this.sizeNorm.every(Number.isFinite) && this.sizeNorm[2] > 0 && this.sizeNorm[3] > 0))
      throw new Error(`AttributeHead: sizeNorm [${this.sizeNorm}] needs finite means and positive deviations`);
    this.fcSizeBox = this.sizeFromBox
      ? this.registerModule("fcSizeBox", new Linear(BOX_FEATURES, CELL_SIZE_CLASSES, { bias: false }))
      : null;
    this.classes = options.classes ?? 0;
    if (!(Number.isInteger(this.classes) && this.classes >= 0))
      throw new Error(`AttributeHead: classes must be a whole number >= 0, found ${this.classes}`);
    this.fcClass =
      this.classes > 0 ? this.registerModule("fcClass", new Linear(this.classes, f1, { bias: false })) : null;
    this.imageScale = options.imageScale ?? 1;
    if (!(Number.isInteger(this.imageScale) && this.imageScale >= 1))
      throw new Error(`AttributeHead: imageScale must be a whole number >= 1, found ${this.imageScale}`);
    if (this.imageScale > 1 && !this.taps.includes(IMAGE_TAP))
      throw new Error(
        `AttributeHead: imageScale ${this.imageScale} needs the image tap (taps: ${this.taps.join(", ")})`,
      );
    this.#act = new LeakyReLU(ATTRIBUTE_LEAKY_SLOPE);
    this.#pool = new MaxPool2d(ATTRIBUTE_STAGE_POOL);
    this.#dropout = this.registerModule("dropout", new Dropout(options.dropout ?? ATTRIBUTE_DROPOUT));
    this.zeroBoxWeights();
  }

  get config(): AttributeHeadConfig {
    return {
      inChannels: this.inChannels,
      taps: [...this.taps],
      tapChannels: [...this.tapChannels],
      roiSize: [this.roiSize[0], this.roiSize[1]],
      inputNorm: this.inputNorm,
      imageNorm: this.imageNorm,
      boxScale: this.boxScale,
      sizeFromBox: this.sizeFromBox,
      sizeNorm: this.sizeNorm ? [...this.sizeNorm] : null,
      classes: this.classes,
      imageScale: this.imageScale,
    };
  }

  /**
   * Sets the box-size and class weights to zero: the head then predicts a1..a6 exactly as the seed's head with the same
   * weights until training moves them (gradients still reach them). Done at construction and after loading the seed's
   * weights.
   */
  zeroBoxWeights(): void {
    noGrad(() => {
      for (const layer of [this.fcBox, this.fcSizeBox, this.fcClass])
        if (layer) layer.weight.data = zeros(layer.weight.data.shape);
    });
  }

  /** fc1's class term: row `class` of fcClass's weight for each cell, [K, fc1 width]. */
  #classTerm(fcClass: Linear, classes: Tensor | undefined, k: number): Tensor {
    if (classes?.shape.length !== 1 || classes.shape[0] !== k)
      throw new Error(`AttributeHead: a head with class input needs the ${k} cells' classes as a [${k}] tensor`);
    const index = classes.long();
    const [lo, hi] = k > 0 ? [index.min().item(), index.max().item()] : [0, 0];
    if (lo < 0 || hi >= this.classes)
      throw new Error(
        `AttributeHead: cells of class ${lo}..${hi} for a head that reads classes 0..${this.classes - 1}`,
      );
    return fcClass.weight.data.indexSelect(1, index).transpose(0, 1);
  }

  /** fcSizeBox's input: the standardised (w, h) with sizeNorm, else the scaled one. */
  #sizeInput(boxWh: Tensor, scaledWh: Tensor): Tensor {
    if (!this.sizeNorm) return scaledWh;
    const [mw, mh, sw, sh] = this.sizeNorm;
    return boxWh.sub(tensor([mw, mh], [1, 2])).div(tensor([sw, sh], [1, 2]));
  }

  /** The dropout probability of the fully connected part from now on (a loaded head trained with another). */
  setDropout(p: number): void {
    this.#dropout.p = p;
  }

  /** What conv1 reads: with inputNorm, each tap's grids standardised ({@link ImageNorm}); else the grids as pooled. */
  standardisedInput(pooled: Tensor): Tensor {
    if (!this.inputNorm) return pooled;
    return tidy(() =>
      cat(
        pooled.split([...this.tapChannels], 1).map((p, i) => this.#norm(p, i)),
        1,
      ),
    );
  }

  /** Tap i's pooled grids standardised: the image tap as imageNorm says, detector taps per cell. */
  #norm(pooled: Tensor, i: number): Tensor {
    if (this.taps[i] !== IMAGE_TAP || this.imageNorm === "cell") return standardise(pooled);
    return tidy(() => {
      const fixed = pooled.sub(tensor([...IMAGE_TAP_MEAN], [1, 3, 1, 1])).div(tensor([...IMAGE_TAP_STD], [1, 3, 1, 1]));
      return this.imageNorm === "both" ? cat([standardise(pooled), fixed], 1) : fixed;
    });
  }

  /**
   * @param pooled [K, inChannels, roiH, roiW] RoI-aligned features.
   * @param boxWh [K, 2] box width and height, normalised to the image (0..1).
   * @param classes [K] each cell's class (0..classes − 1); needed when the head has class input, else ignored.
   */
  forward(pooled: Tensor, boxWh: Tensor, classes?: Tensor): AttributeOutput {
    return tidy(() => {
      const stage = (conv: Conv2d, x: Tensor) => this.#pool.forward(this.#act.forward(conv.forward(x)));
      const normed = this.standardisedInput(pooled);
      // out of training, channels last: oneDNN's NHWC convolutions and max pooling (the head ~2× faster on the CPU,
      // where NCHW max pooling of the first stage alone took 7 ms for 30 cells); the same values
      const input = this.training ? normed : normed.channelsLast();
      const x = stage(this.conv3, stage(this.conv2, stage(this.conv1, input))).flatten(1);
      const scaledWh = boxWh.mul(this.boxScale);
      const k = pooled.shape[0]!;
      const box = this.fcBox.forward(scaledWh);
      const boxAndClass = this.fcClass ? box.add(this.#classTerm(this.fcClass, classes, k)) : box;
      const h1 = this.#act.forward(this.fc1.forward(this.#dropout.forward(x)).add(boxAndClass));
      const h2 = this.#dropout.forward(this.#act.forward(this.fc2.forward(this.#dropout.forward(h1))));
      return {
        cellSize: this.fcSizeBox
          ? this.fcSize.forward(h2).add(this.fcSizeBox.forward(this.#sizeInput(boxWh, scaledWh)))
          : this.fcSize.forward(h2),
        binary: this.fc3.forward(h2).view(k, BINARY_ATTRIBUTES, 2),
      };
    });
  }
}

/**
 * Channels conv1 takes beyond the taps' own: the image tap's second, per-channel standardised copy with imageNorm
 * `both` (and inputNorm on).
 */
export function extraInputChannels(head: {
  taps: readonly string[];
  tapChannels: readonly number[];
  inputNorm: boolean;
  imageNorm?: ImageNorm | undefined;
}): number {
  const i = head.taps.indexOf(IMAGE_TAP);
  return head.inputNorm && head.imageNorm === "both" && i >= 0 ? (head.tapChannels[i] ?? 0) : 0;
}

/** Each row of [K, C, H, W] shifted and scaled to mean 0, variance 1 over (C, H, W). */
function standardise(x: Tensor): Tensor {
  return tidy(() => {
    const centred = x.sub(x.mean([1, 2, 3], true));
    return centred.div(centred.pow(2).mean([1, 2, 3], true).add(ATTRIBUTE_INPUT_NORM_EPS).sqrt());
  });
}

/** Predicted attribute values [K, 7] (int64): argmax of each attribute's logits, in label order a0..a6. */
export function attributeValues(out: AttributeOutput): Tensor {
  return tidy(() => cat([out.cellSize.argmax(1, true), out.binary.argmax(2)], 1));
}
