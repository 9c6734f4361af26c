/**
 * YOLOv5's detection loss (ComputeLoss) and sladet's region-masked variant for sparse labels (design.md §7.2).
 *
 * Stock: CIoU box loss and class BCE at the positives of build_targets; objectness BCE over every cell with the
 * (detached, clamped) CIoU as target at the positives (gr = 1); level balance; gains from the hyp.
 * Masked: ground truth counts only when its centre is labelled; objectness is supervised only in labelled cells and
 * normalised by their number (so an all-ones mask gives the stock loss). Any number of regions per image; images with
 * no targets or no labelled cells are fine.
 */
import { arange, cat, noGrad, type Tensor, tensor, tidy, zeros } from "../../torch/index.js";
import { bboxCiou } from "./box-iou.js";
import { buildTargets, type LevelTargets } from "./build-targets.js";
import { bceLoss } from "./focal.js";
import type { DetectionLossHyp } from "./hyp.js";
import { labelledCells, labelledTargets } from "./region-mask.js";

/** Objectness weight per level (P3, P4, P5), YOLOv5's balance for 3 levels; 5 levels use the longer list. */
export const LEVEL_BALANCE: Readonly<Record<number, readonly number[]>> = {
  3: [4.0, 1.0, 0.4],
  5: [4.0, 1.0, 0.25, 0.06, 0.02],
};

export interface ComputeLossOptions {
  /** Number of classes. */
  nc: number;
  /** Anchors [nl, na, 2] in grid units of each level (Detect's anchors buffer). Copied. */
  anchors: Tensor;
  /** Stride of each level in pixels (for the region mask). */
  strides: readonly number[];
  /** Loss hyperparameters, already scaled to the model (scaleLossGains). */
  hyp: DetectionLossHyp;
}

/** Loss terms after gains, detached: box, obj, cls. */
export interface LossItems {
  box: number;
  obj: number;
  cls: number;
}

export interface LossResult {
  /** (box + obj + cls) × batch size, 0-d, differentiable: call backward() on it. */
  loss: Tensor;
  /** [3]: box, obj, cls (detached). */
  items: Tensor;
}

export class ComputeLoss {
  readonly nc: number;
  readonly strides: readonly number[];
  readonly hyp: DetectionLossHyp;
  readonly #anchors: Tensor;
  readonly #clsPosWeight: Tensor;
  readonly #objPosWeight: Tensor;

  constructor(options: ComputeLossOptions) {
    this.nc = options.nc;
    this.strides = [...options.strides];
    this.hyp = { ...options.hyp };
    this.#anchors = options.anchors.detach().clone().keep();
    this.#clsPosWeight = tensor([this.hyp.cls_pw]).keep();
    this.#objPosWeight = tensor([this.hyp.obj_pw]).keep();
  }

  /**
   * @param p raw maps per level, [B, na, H, W, 5 + nc]
   * @param targets [N, ≥6]: image, class, xc, yc, w, h normalised to the input (the batch's targets)
   * @param regionMask uint8 [B, 1, H_in, W_in], 1 where labelled; omit for the stock (dense) loss
   */
  compute(p: readonly Tensor[], targets: Tensor, regionMask?: Tensor): LossResult {
    return tidy(() => {
      const balance = this.#balance(p.length);
      const gt = regionMask ? targets.index(labelledTargets(targets, regionMask)) : targets;
      const levels = this.#buildTargets(p, gt);
      let lbox: Tensor = zeros([1]);
      let lobj: Tensor = zeros([1]);
      let lcls: Tensor = zeros([1]);
      p.forEach((pi, i) => {
        const { box, cls, tobj } = this.#positives(pi, levels[i]!);
        if (box) lbox = lbox.add(box);
        if (cls) lcls = lcls.add(cls);
        const objLogits = pi.select(-1, 4);
        let obji: Tensor;
        if (regionMask) {
          const cells = labelledCells(regionMask, this.strides[i]!)
            .expand(...pi.shape.slice(0, 4))
            .float();
          obji = this.#objPerCell(objLogits, tobj).mul(cells).sum().div(cells.sum().clamp(1));
        } else {
          obji = bceLoss(objLogits, tobj, { posWeight: this.#objPosWeight, gamma: this.hyp.fl_gamma });
        }
        lobj = lobj.add(obji.mul(balance[i]!));
      });
      lbox = lbox.mul(this.hyp.box);
      lobj = lobj.mul(this.hyp.obj);
      lcls = lcls.mul(this.hyp.cls);
      const bs = p[0]!.size(0);
      return { loss: lbox.add(lobj).add(lcls).mul(bs).reshape(), items: cat([lbox, lobj, lcls]).detach() };
    });
  }

  /**
   * The seed's pseudo-label loss (method.md §4.4) on the unmasked maps: box (1 − CIoU) and class BCE at the positives
   * of build_targets(pseudo), objectness only at those cells but averaged over every cell of the level, level balance,
   * no hyp gains. Returns [3] (box, obj, cls), differentiable, unweighted (the caller applies pl_weight). Cells without
   * a pseudo-label get no objectness term: nothing there is taught as background.
   * @param pseudo [n, 6] pseudo targets (image, class, xc, yc, w, h normalised)
   * @param weights [n] per-pseudo-label weights (soft pseudo-labels: their confidences); each positive's box, class and
   *   objectness terms are multiplied by its pseudo-label's weight before the same means. Omitted: all 1 (the seed).
   */
  computePseudo(p: readonly Tensor[], pseudo: Tensor, weights?: Tensor): Tensor {
    return tidy(() => {
      const balance = this.#balance(p.length);
      const levels = this.#buildTargets(p, pseudo);
      let lbox: Tensor = zeros([1]);
      let lobj: Tensor = zeros([1]);
      let lcls: Tensor = zeros([1]);
      p.forEach((pi, i) => {
        const t = levels[i]!;
        const w = weights?.indexSelect(0, t.target);
        const { box, cls, tobj } = this.#positives(pi, t, w);
        if (box) lbox = lbox.add(box);
        if (cls) lcls = lcls.add(cls);
        const matched = zeros(pi.shape.slice(0, 4)).indexPut([t.b, t.a, t.gj, t.gi], w ?? 1);
        const obji = this.#objPerCell(pi.select(-1, 4), tobj).mul(matched).mean();
        lobj = lobj.add(obji.mul(balance[i]!));
      });
      return cat([lbox, lobj, lcls]);
    });
  }

  /**
   * Dense pseudo-labels (pl_dense; Dense Teacher, Zhou et al. 2022) on the cells no label covers: objectness BCE
   * towards the teacher's objectness probability, averaged over those cells, with the level balance; class BCE towards
   * the teacher's class probabilities, averaged over classes and weighted per cell by the teacher's objectness. Returns
   * [3] (box 0, obj, cls), differentiable, without hyp gains, as {@link computePseudo}.
   * @param teacher probabilities per level, [B, na, H, W, 5 + nc] (sigmoid of the teacher's raw maps; detached)
   * @param cells float [B, 1, H, W] per level: 1 where the dense targets apply (unlabelled cells on image)
   */
  computeDense(p: readonly Tensor[], teacher: readonly Tensor[], cells: readonly Tensor[]): Tensor {
    return tidy(() => {
      const balance = this.#balance(p.length);
      const classes = (t: Tensor) => t.slice(-1, 5, 5 + this.nc);
      const bce = { posWeight: this.#clsPosWeight, gamma: this.hyp.fl_gamma, reduction: "none" } as const;
      let lobj: Tensor = zeros([1]);
      let lcls: Tensor = zeros([1]);
      p.forEach((pi, i) => {
        const where = cells[i]!.expand(...pi.shape.slice(0, 4));
        const tObj = teacher[i]!.select(-1, 4);
        const obji = this.#objPerCell(pi.select(-1, 4), tObj).mul(where).sum().div(where.sum().clamp(1));
        lobj = lobj.add(obji.mul(balance[i]!));
        if (this.nc === 1) return;
        const weight = tObj.mul(where);
        const clsi = bceLoss(classes(pi), classes(teacher[i]!), bce).mean(-1).mul(weight).sum();
        lcls = lcls.add(clsi.div(weight.sum().clamp(1)));
      });
      return cat([zeros([1]), lobj, lcls]);
    });
  }

  #balance(levels: number): readonly number[] {
    const balance = LEVEL_BALANCE[levels];
    if (!balance) throw new Error(`ComputeLoss: no level balance for ${levels} levels (expected 3 or 5)`);
    return balance;
  }

  #buildTargets(p: readonly Tensor[], targets: Tensor): LevelTargets[] {
    return buildTargets(
      p.map((pi) => pi.shape),
      targets.slice(1, 0, 6),
      this.#anchors,
      this.hyp.anchor_t,
    );
  }

  #objPerCell(objLogits: Tensor, tobj: Tensor): Tensor {
    return bceLoss(objLogits, tobj, { posWeight: this.#objPosWeight, gamma: this.hyp.fl_gamma, reduction: "none" });
  }

  /**
   * Box and class terms at a level's positives, and the objectness target (the detached, clamped CIoU at the
   * positives, 0 elsewhere). Terms are null when the level has no positives (class: also with one class). `weights`
   * [n] multiply each positive's box and class terms before their means (soft pseudo-labels).
   */
  #positives(pi: Tensor, t: LevelTargets, weights?: Tensor): { box: Tensor | null; cls: Tensor | null; tobj: Tensor } {
    const { b, a, gj, gi, tcls, tbox, anchors } = t;
    let tobj = zeros(pi.shape.slice(0, 4));
    const n = b.size(0);
    if (n === 0) return { box: null, cls: null, tobj };
    const [pxy, pwh, , pcls] = pi.index(b, a, gj, gi).split([2, 2, 1, this.nc], 1) as [Tensor, Tensor, Tensor, Tensor];
    const xy = pxy.sigmoid().mul(2).sub(0.5);
    const wh = pwh.sigmoid().mul(2).pow(2).mul(anchors);
    const iou = bboxCiou(cat([xy, wh], 1), tbox);
    tobj = tobj.indexPut(
      [b, a, gj, gi],
      noGrad(() => iou.detach().clamp(0)),
    );
    const box = (weights ? iou.rsub(1).mul(weights) : iou.rsub(1)).mean();
    if (this.nc === 1) return { box, cls: null, tobj };
    const eps = this.hyp.label_smoothing;
    const target = zeros(pcls.shape)
      .add(0.5 * eps)
      .indexPut([arange(n), tcls], 1 - 0.5 * eps);
    const bce = { posWeight: this.#clsPosWeight, gamma: this.hyp.fl_gamma };
    const cls = weights
      ? bceLoss(pcls, target, { ...bce, reduction: "none" })
          .mul(weights.unsqueeze(1))
          .mean()
      : bceLoss(pcls, target, bce);
    return { box, cls, tobj };
  }

  /** Reads items into numbers. */
  static itemsOf(result: LossResult): LossItems {
    const [box, obj, cls] = result.items.toArray() as [number, number, number];
    return { box, obj, cls };
  }

  dispose(): void {
    this.#anchors.dispose();
    this.#clsPosWeight.dispose();
    this.#objPosWeight.dispose();
  }
}
