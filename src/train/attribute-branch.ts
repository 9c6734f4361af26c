/**
 * Training the attribute head during detector training (design.md §7.6, the seed's cadence by default): RoI features
 * of the ground-truth boxes from the p2/p3 taps, the head, the attribute loss; the head has its own SGD (the
 * detector's lr0, momentum and scaled weight decay, no Nesterov, no warmup, no accumulation or clipping) stepped every
 * batch; one backward of the summed loss, with the features' gradient into the backbone scaled by λ (default 0:
 * detached, which is what the seed effectively did under AMP).
 */

import type { Batch } from "../data/batch.js";
import { AttributeHead, type ImageNorm } from "../model/attribute-head.js";
import {
  ATTRIBUTE_TAPS,
  headMaps,
  IMAGE_TAP,
  imageTapInput,
  newAttributeHead,
  tapChannels,
} from "../model/attribute-inference.js";
import { boxSizes, poolCells } from "../model/roi-pool.js";
import type { YoloModel } from "../model/yolo.js";
import { clipGradNorm, SGD, stack, type Tensor, tensor, tidy } from "../torch/index.js";
import { ModelEMA } from "./ema.js";
import { type AttributeLossHyp, attributeLoss, SEED_ATTRIBUTE_LOSS } from "./loss/attribute-loss.js";

/** x with its backward gradient scaled by λ (forward value unchanged); λ = 0 detaches. */
export function scaleGradient(x: Tensor, lambda: number): Tensor {
  if (lambda === 0) return x.detach();
  if (lambda === 1) return x;
  return tidy(() => {
    const d = x.detach();
    return d.add(x.sub(d).mul(lambda));
  });
}

/** [N, 5] (image, x1, y1, x2, y2) normalised boxes from targets [N, ≥6] (image, class, xc, yc, w, h, …). */
export function targetBoxes(targets: Tensor): Tensor {
  return tidy(() => {
    const [b, xc, yc, w, h] = [0, 2, 3, 4, 5].map((i) => targets.select(1, i)) as [
      Tensor,
      Tensor,
      Tensor,
      Tensor,
      Tensor,
    ];
    return stack([b, xc.sub(w.div(2)), yc.sub(h.div(2)), xc.add(w.div(2)), yc.add(h.div(2))], 1);
  });
}

export interface AttributeBranchOptions {
  lr0: number;
  momentum: number;
  weightDecay: number;
  /** Gradient weight into the backbone. @default 0 */
  lambda?: number;
  /** Maps the head pools (`image` and/or detector taps such as p2, p3). @default ATTRIBUTE_TAPS */
  taps?: readonly string[];
  /** @default SEED_ATTRIBUTE_LOSS */
  lossHyp?: AttributeLossHyp;
  /**
   * Cells that scale augmentation shrank below this factor (Batch.targetScales) are left out of the attribute loss:
   * the detector learns from them, but their chromatin, nucleoli and vacuoles are gone (hyp attr_min_scale).
   * @default 0 (every cell, the seed)
   */
  minScale?: number;
  /** RoIAlign grid of a new head (a given head keeps its own). @default ATTRIBUTE_ROI_SIZE, the seed's 24×30 */
  roiSize?: readonly [number, number];
  /** A new head's AttributeHeadOptions.sizeFromBox (a given head keeps its own). @default false */
  sizeFromBox?: boolean;
  /** A new head's AttributeHeadOptions.sizeNorm (the training cells' size statistics). @default null */
  sizeNorm?: readonly [number, number, number, number] | null;
  /** The head's gradient is clipped to this L2 norm at each step (hyp attr_clip; 0: not clipped). @default 0 */
  clipNorm?: number;
  /** A new head's image standardisation (AttributeHeadOptions.imageNorm; a given head keeps its own). @default "cell" */
  imageNorm?: ImageNorm;
  /** Dropout of the head's fully connected part while it trains, new or given (hyp attr_dropout). @default the head's */
  dropout?: number;
  /**
   * A new head's AttributeHeadOptions.classes: the detector's class count when the head reads each cell's class (hyp
   * attr_class 1; in training the label's class). @default 0 (off)
   */
  classes?: number;
  /**
   * The image tap reads the batch's weak view when it has one (hyp attr_hsv < 1); false when the weak view is made for
   * phase 2's teacher alone (attr_hsv 1: the head reads the detector's image). @default true
   */
  readsWeakView?: boolean;
  /** A new head's AttributeHeadOptions.imageScale (hyp attr_image_scale; a given head keeps its own). @default 1 */
  imageScale?: number;
}

/** Dimensions of the pooled [K, C, H, W] grids mirrored by the extra steps, in turn. */
export const EXTRA_STEP_FLIPS: readonly (readonly number[])[] = [[3], [2], [2, 3]];

/** Indices of the target rows whose augmentation scale is at least `minScale` (all rows when it is 0). */
export function rowsAtScale(targetScales: ArrayLike<number>, minScale: number): number[] {
  const rows: number[] = [];
  for (let i = 0; i < targetScales.length; i++) if (targetScales[i]! >= minScale) rows.push(i);
  return rows;
}

export class AttributeBranch {
  readonly head: AttributeHead;
  readonly optimizer: SGD;
  /** EMA of the head, evaluated on the EMA detector's features (both averaged the same way). */
  readonly ema: ModelEMA<AttributeHead>;
  readonly lambda: number;
  readonly lossHyp: AttributeLossHyp;
  readonly minScale: number;
  readonly clipNorm: number;
  readonly readsWeakView: boolean;

  constructor(model: YoloModel, options: AttributeBranchOptions, head?: AttributeHead) {
    const taps = head?.taps ?? options.taps ?? ATTRIBUTE_TAPS;
    if (taps.length === 0) throw new Error("the attribute head needs at least one tap");
    if ((options.lambda ?? 0) > 0 && !taps.some((t) => t !== IMAGE_TAP))
      throw new Error(
        `an attribute λ of ${options.lambda} has no effect: the head's taps (${taps.join(", ")}) include no detector map (add p2,p3 to the taps)`,
      );
    const channels = tapChannels(model, taps);
    const inChannels = channels.reduce((a, b) => a + b, 0);
    this.head =
      head ??
      newAttributeHead(model, taps, {
        ...(options.roiSize ? { roiSize: options.roiSize } : {}),
        sizeFromBox: options.sizeFromBox ?? false,
        sizeNorm: options.sizeNorm ?? null,
        imageNorm: options.imageNorm ?? "cell",
        classes: options.classes ?? 0,
        imageScale: options.imageScale ?? 1,
      });
    if (options.dropout !== undefined) this.head.setDropout(options.dropout);
    if (this.head.inChannels !== inChannels) {
      throw new Error(
        `the attribute head takes ${this.head.inChannels} channels but the detector's taps give ${inChannels}`,
      );
    }
    this.optimizer = new SGD(this.head.parameters(), {
      lr: options.lr0,
      momentum: options.momentum,
      weightDecay: options.weightDecay,
    });
    this.ema = new ModelEMA(new AttributeHead(this.head.config), this.head);
    this.lambda = options.lambda ?? 0;
    this.lossHyp = options.lossHyp ?? SEED_ATTRIBUTE_LOSS;
    this.minScale = options.minScale ?? 0;
    this.clipNorm = options.clipNorm ?? 0;
    this.readsWeakView = options.readsWeakView ?? true;
  }

  /**
   * The attribute loss of the batch's ground-truth cells (0-d, differentiable), or null without targets (at least
   * `minScale`). Sizes are divided by the batch's targetScales: the head sees each cell's size as loaded, not as
   * scale augmentation made it.
   */
  loss(
    features: Record<string, Tensor>,
    batch: Pick<Batch, "images" | "targets" | "targetScales" | "weakImages" | "fineImages">,
  ): { loss: Tensor; binary: number; cellSize: number } | null {
    return this.#loss(features, batch, this.lambda, null);
  }

  /**
   * `count` extra steps of the head alone on the batch's cells (hyp attr_steps − 1), each on the pooled grids
   * mirrored a different way (left–right, top–bottom, both, in turn: a cell has no orientation), features detached.
   * The head gets several updates per detector batch at the cost of its own small forward and backward, which the
   * few labelled cells of a sparse dataset need. `averageGradients` (data-parallel runs) averages the head's
   * gradients over the ranks before each step.
   */
  extraSteps(
    features: Record<string, Tensor>,
    batch: Pick<Batch, "images" | "targets" | "targetScales" | "weakImages" | "fineImages">,
    lr: number,
    count: number,
    averageGradients?: () => void,
  ): void {
    for (let i = 0; i < count; i++) {
      const flip = EXTRA_STEP_FLIPS[i % EXTRA_STEP_FLIPS.length]!;
      const done = tidy(() => {
        const r = this.#loss(features, batch, 0, flip);
        r?.loss.backward();
        return r !== null;
      });
      if (!done) return;
      averageGradients?.();
      this.step(lr);
    }
  }

  #loss(
    features: Record<string, Tensor>,
    batch: Pick<Batch, "images" | "targets" | "targetScales" | "weakImages" | "fineImages">,
    lambda: number,
    flip: readonly number[] | null,
  ): { loss: Tensor; binary: number; cellSize: number } | null {
    const rows = rowsAtScale(batch.targetScales, this.minScale);
    if (rows.length === 0) return null;
    this.head.train();
    return tidy(() => {
      const all = rows.length === batch.targetScales.length;
      const targets = all
        ? batch.targets
        : batch.targets.indexSelect(0, tensor(rows, [rows.length], { dtype: "int64" }));
      const targetScales = all ? batch.targetScales : Float32Array.from(rows, (i) => batch.targetScales[i]!);
      const boxes = targetBoxes(targets);
      // the head's weak view when the loader made it for the head (hyp attr_hsv); a fine view instead when it pools one
      const weak = this.readsWeakView && batch.weakImages ? batch.weakImages : batch.images;
      const images = imageTapInput(this.head, weak, batch.fineImages);
      const maps = headMaps(this.head, features, images).map((m) => scaleGradient(m, lambda));
      const sizes = boxSizes(boxes).div(tensor(targetScales, [targetScales.length, 1]));
      const pooled = poolCells(maps, boxes, { outputSize: this.head.roiSize });
      const classes = this.head.classes > 0 ? targets.select(1, 1) : undefined;
      const out = this.head.forward(flip ? pooled.flip(...flip) : pooled, sizes, classes);
      return attributeLoss(out.cellSize, out.binary, targets.slice(1, 6, 13), this.lossHyp);
    });
  }

  /** After the backward of the batch: the head's own step, every batch (the seed's cadence). */
  step(lr: number): void {
    for (const g of this.optimizer.paramGroups) g.lr = lr;
    if (this.clipNorm > 0) clipGradNorm(this.head.parameters(), this.clipNorm);
    this.optimizer.step();
    this.optimizer.zeroGrad();
    this.ema.update(this.head);
  }

  dispose(): void {
    this.optimizer.dispose();
    this.ema.ema.dispose();
    this.head.dispose();
  }
}
