/**
 * Phase 2's additions to the region-masked loss (method.md §4.6, design.md §4 decisions 6–7), one batch at a time:
 * pseudo-labels from a proposer (the student's own training forward, as the seed, or the EMA detector in eval mode)
 * with their loss, and the similarity loss on neck-P3 features, switched by epoch fractions (similarity during the
 * first sim_epochs of the run; the last region_only_epochs without either). Adds
 * bs · (w_e · (box + obj + cls)_PL + sim_weight · L_sim) to the loss, as the seed's combination does, where w_e is
 * pl_weight ramped up over pl_ramp of the epochs and the PL terms carry the detection gains when pl_loss_gains is 1
 * (each pseudo-label weighted by its confidence when pl_soft is 1), plus pl_dense · ramp · (obj + cls)_dense with the
 * dense pseudo-labels on. Outside the labelled regions nothing but the pseudo-labels is supervised: an unlabelled cell
 * the detector finds, admitted or not, is never taught as background, unless the dense pseudo-labels teach every
 * unlabelled cell the teacher's own score (docs/phase2.md).
 */
import type { Batch } from "../../data/batch.js";
import type { YoloModel } from "../../model/yolo.js";
import { noGrad, type Tensor, tensor, tidy } from "../../torch/index.js";
import type { ComputeLoss } from "../loss/compute-loss.js";
import { labelledCells, labelledTargets } from "../loss/region-mask.js";
import { type CalibrationSample, type CalibratorState, ThresholdCalibrator } from "./calibration.js";
import type { SlaHyp } from "./hyp.js";
import type { SlaOptions } from "./options.js";
import { type PseudoBox, pseudoTargets, selectPseudoLabels } from "./pseudo-labels.js";
import { PseudoLabelStats } from "./pseudo-stats.js";
import { classBoxes, similarityLoss } from "./similarity.js";

/** The feature tap of the similarity loss (design.md §7.3: neck P3, layer 17). */
export const SIMILARITY_TAP = "neckP3";

export interface SlaTerms {
  /** To add to the detection loss (0-d, ×batch size, weighted). */
  loss: Tensor;
  /** Unweighted pseudo-label loss (box + obj + cls, the dense pseudo-labels' included) and similarity loss, for the log. */
  pl: number;
  sim: number;
}

/**
 * In a data-parallel run: every rank's `values` (of any length), in rank order; each rank calls it at the same point.
 * A one-process run has none.
 */
export type GatherAcrossRanks = (values: number[]) => number[][];

export class SlaBranch {
  stats: PseudoLabelStats;
  readonly calibrator: ThresholdCalibrator;

  /**
   * @param gather in a data-parallel run, how the ranks share each batch's in-region predictions: the calibrator of
   *   every rank then sees the whole global batch, as one process would, and all keep the same threshold
   */
  constructor(
    readonly hyp: SlaHyp,
    readonly epochs: number,
    readonly options: SlaOptions,
    readonly heldoutKnown: boolean,
    readonly gather: GatherAcrossRanks | null = null,
  ) {
    this.stats = new PseudoLabelStats(heldoutKnown);
    this.calibrator = new ThresholdCalibrator({
      precision: hyp.pl_precision,
      ceiling: hyp.pl_conf,
      floor: hyp.pl_conf_min,
      z: hyp.pl_precision_z,
      support: hyp.pl_support,
      unsupported: hyp.pl_unsupported === 1 ? "ceiling" : "none",
    });
  }

  /** How many epochs (from the first) have the similarity loss: round(sim_epochs · epochs). */
  get similarityEpochs(): number {
    return Math.round(this.hyp.sim_epochs * this.epochs);
  }

  /** Whether `epoch` (from 0) has the similarity loss. */
  similarityOn(epoch: number): boolean {
    return epoch < this.similarityEpochs && !this.regionOnly(epoch);
  }

  /** The last region_only_epochs train on the labelled regions alone. */
  regionOnly(epoch: number): boolean {
    return epoch >= this.epochs - this.hyp.region_only_epochs;
  }

  /**
   * The pseudo-label losses' ramp in `epoch` (from 0): min(1, epoch / (pl_ramp · epochs)), 0 in the first epoch (a
   * burn-in); 1 throughout when pl_ramp is 0.
   */
  ramp(epoch: number): number {
    const rampEpochs = this.hyp.pl_ramp * this.epochs;
    return rampEpochs > 0 ? Math.min(1, epoch / rampEpochs) : 1;
  }

  /** The pseudo-label loss's weight in `epoch` (from 0): pl_weight ramped up linearly over pl_ramp of the epochs. */
  plWeight(epoch: number): number {
    return this.hyp.pl_weight * this.ramp(epoch);
  }

  /** Multipliers of the pseudo-label loss's (box, obj, cls) terms: the detection gains (pl_loss_gains 1) or 1s. */
  #termGains(computeLoss: ComputeLoss): [number, number, number] {
    const g = computeLoss.hyp;
    return this.hyp.pl_loss_gains === 1 ? [g.box, g.obj, g.cls] : [1, 1, 1];
  }

  /** Per-pseudo-label loss weights: their confidences (pl_soft 1, soft pseudo-labels) or none (hard, the seed). */
  #softWeights(pseudo: readonly PseudoBox[]): Tensor | undefined {
    return this.hyp.pl_soft === 1 ? tensor(pseudo.map((b) => b.conf)) : undefined;
  }

  /** Feature taps the training forward must return this epoch. */
  taps(epoch: number): string[] {
    return this.similarityOn(epoch) ? [SIMILARITY_TAP] : [];
  }

  /**
   * What a checkpoint stores for an exact resume: the calibration (it spans epochs) and this epoch's pseudo-label
   * counts (non-zero only when Ctrl-C interrupted the epoch).
   */
  get state(): { calibration: CalibratorState; stats: number[] } {
    return { calibration: this.calibrator.state, stats: this.stats.toJSON() };
  }

  /** Puts a checkpoint's {@link state} back. */
  restore(state: { calibration: CalibratorState; stats: unknown }): void {
    this.calibrator.restore(state.calibration);
    this.stats.restore(state.stats);
  }

  /** Starts an epoch's statistics; returns the previous epoch's. */
  nextEpoch(): PseudoLabelStats {
    const done = this.stats;
    this.stats = new PseudoLabelStats(this.heldoutKnown);
    return done;
  }

  /**
   * Decoded proposals of the chosen detector, without gradient; with pl_flip also the EMA detector's on the left-right
   * mirror of the batch; with pl_dense the EMA teacher's probabilities per level (with pl_flip: the mean of the image's
   * and the mirror's, mapped back). The EMA teacher looks at {@link SlaBranch.#teacherImages}.
   */
  #propose(student: YoloModel, ema: YoloModel, batch: Batch, maps: readonly Tensor[]) {
    return noGrad(() => {
      const proposes = this.options.proposer === "ema";
      const needsTeacher = proposes || this.hyp.pl_dense > 0;
      const images = this.#teacherImages(batch);
      const teacher = needsTeacher ? ema.forward(images, { decode: proposes }) : null;
      const mirror = this.hyp.pl_flip === 1 ? ema.forward(images.flip(3)) : null;
      const dense =
        this.hyp.pl_dense > 0
          ? teacher!.maps.map((m, i) => {
              const p = m.sigmoid();
              return mirror ? p.add(mirror.maps[i]!.sigmoid().flip(3)).div(2) : p;
            })
          : null;
      return {
        decoded: proposes ? teacher!.decoded! : student.detect.decode(maps.map((m) => m.detach())),
        mirrored: mirror?.decoded ?? undefined,
        dense,
      };
    });
  }

  /** What the EMA teacher looks at: the batch's weak view when pl_teacher_hsv < 1 (the loader must make it), else the batch. */
  #teacherImages(batch: Pick<Batch, "images" | "weakImages">): Tensor {
    if (this.hyp.pl_teacher_hsv === 1) return batch.images;
    if (!batch.weakImages)
      throw new Error(`pl_teacher_hsv ${this.hyp.pl_teacher_hsv}: the batch has no weak view (LoaderOptions.weakHsv)`);
    return batch.weakImages;
  }

  /** Per level, float [B, 1, H, W]: 1 at the cells the dense pseudo-labels teach (outside the regions, on image). */
  #denseCells(batch: Batch, strides: readonly number[]): Tensor[] {
    return strides.map((s) =>
      labelledCells(batch.regionMask, s).logicalNot().logicalAnd(labelledCells(batch.imageMask, s)).float(),
    );
  }

  /** The global batch's calibration samples: this rank's alone in a one-process run (or with calibration off). */
  #everyRanks(samples: readonly CalibrationSample[]): readonly CalibrationSample[] {
    if (!this.gather || this.calibrator.precision <= 0) return samples;
    const flat = samples.flatMap((s) => [s.conf, s.correct ? 1 : 0]);
    return this.gather(flat).flatMap((row) =>
      Array.from({ length: row.length / 2 }, (_, i) => ({ conf: row[2 * i]!, correct: row[2 * i + 1] === 1 })),
    );
  }

  /** The batch's phase-2 terms, or null in a region-only epoch. */
  terms(
    ctx: { student: YoloModel; ema: YoloModel; computeLoss: ComputeLoss },
    batch: Batch,
    out: { maps: Tensor[]; features: Record<string, Tensor> },
    epoch: number,
  ): SlaTerms | null {
    if (this.regionOnly(epoch)) return null;
    return tidy(() => {
      const { decoded, mirrored, dense } = this.#propose(ctx.student, ctx.ema, batch, out.maps);
      const sets = selectPseudoLabels(decoded, batch.targets, batch.regionMask, this.hyp, {
        ...(mirrored ? { mirrored } : {}),
        excludeRegion: !this.options.plInRegion,
        // the seed's behaviour (plInRegion) admits boxes anywhere, padding included
        ...(this.options.plInRegion ? {} : { imageMask: batch.imageMask }),
        threshold: this.calibrator.threshold,
        nmsConf:
          this.hyp.pl_precision > 0 ? Math.min(this.hyp.pl_nms_conf, this.hyp.pl_conf_min) : this.hyp.pl_nms_conf,
      });
      this.calibrator.add(this.#everyRanks(sets.calibration));
      const bs = batch.images.size(0);
      this.stats.add(sets.pseudo, sets.anchors.length, bs, batch.heldout);
      const ramp = this.ramp(epoch);
      const plWeight = this.plWeight(epoch);
      const gains = tensor(this.#termGains(ctx.computeLoss));
      const boxes =
        sets.pseudo.length > 0 && plWeight > 0
          ? ctx.computeLoss
              .computePseudo(out.maps, pseudoTargets(sets.pseudo), this.#softWeights(sets.pseudo))
              .mul(gains)
              .sum()
          : null;
      const denseTerms =
        dense && ramp > 0
          ? ctx.computeLoss
              .computeDense(out.maps, dense, this.#denseCells(batch, ctx.computeLoss.strides))
              .mul(gains)
              .sum()
          : null;
      const features = out.features[SIMILARITY_TAP];
      let sim: Tensor | null = null;
      if (this.similarityOn(epoch) && features && sets.anchors.length > 0) {
        const gt = batch.targets.index(labelledTargets(batch.targets, batch.regionMask));
        sim = similarityLoss(features, sets.anchors, classBoxes(gt), this.hyp, this.options.tripletSign);
      }
      const weighted = [
        boxes?.mul(plWeight),
        denseTerms?.mul(this.hyp.pl_dense * ramp),
        sim?.mul(this.hyp.sim_weight),
      ].filter((t): t is Tensor => t !== undefined);
      if (weighted.length === 0) return null;
      const loss = weighted.reduce((a, b) => a.add(b));
      const pl = (boxes?.item() ?? 0) + (denseTerms?.item() ?? 0);
      return { loss: loss.mul(bs).reshape(), pl, sim: sim?.item() ?? 0 };
    });
  }
}
