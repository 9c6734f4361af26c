/**
 * The attribute branch of a training run (design.md §7.6): the head continued from --weights or made new, with its RoI
 * grid (attr_grid, or fitted to the training cells), its loss options and the detector's optimizer settings.
 */
import type { LoaderItem } from "../data/loader.js";
import { NUM_ATTRIBUTES } from "../data/schema.js";
import type { AttributeHead } from "../model/attribute-head.js";
import { ATTRIBUTE_TAPS, IMAGE_TAP } from "../model/attribute-inference.js";
import type { YoloModel } from "../model/yolo.js";
import { OptionError } from "../util/errors.js";
import { labelSizes } from "./anchor-check.js";
import { AttributeBranch } from "./attribute-branch.js";
import { ATTRIBUTE_IMAGE_NORMS, attributeGrid, autoAttributeGrid } from "./attribute-hyp.js";
import { binaryAttributePriors, cellSizeStatistics } from "./attribute-priors.js";
import { SEED_ATTRIBUTE_LOSS } from "./loss/attribute-loss.js";
import { scaledWeightDecay } from "./schedule.js";
import type { ResolvedTrainOptions, TrainLog } from "./train-options.js";

/**
 * The attribute branch with the detector's lr0, momentum and scaled decay (design.md §7.6), continuing `initial`
 * (the head of a sladet checkpoint given as --weights: phase 2 after phase 1) when there is one.
 */
export function createAttributeBranch(
  model: YoloModel,
  opts: ResolvedTrainOptions,
  columns: number,
  initial: AttributeHead | null,
  log: TrainLog,
  trainItems: readonly LoaderItem[],
): AttributeBranch {
  if (columns !== NUM_ATTRIBUTES) {
    initial?.dispose();
    throw new OptionError(
      "attributes",
      `needs the ${NUM_ATTRIBUTES} LLD attribute columns; ${opts.data} has ${columns}`,
    );
  }
  if (initial) log(`attribute head: continued from ${opts.weights} (taps ${initial.taps.join(", ")})`);
  return new AttributeBranch(
    model,
    {
      lr0: opts.hyp.lr0,
      momentum: opts.hyp.momentum,
      weightDecay: scaledWeightDecay(opts.hyp.weight_decay, opts.batch, opts.nominalBatch),
      lambda: opts.attributeLambda,
      taps: opts.attributeTaps,
      minScale: opts.hyp.attr_min_scale,
      clipNorm: opts.hyp.attr_clip,
      ...(initial ? {} : { roiSize: headGrid(opts, trainItems, log) }), // a continued head keeps its grid
      sizeFromBox: opts.hyp.attr_size_box === 1,
      sizeNorm: opts.hyp.attr_size_box === 1 ? cellSizeStatistics(trainItems) : null,
      imageNorm: ATTRIBUTE_IMAGE_NORMS[opts.hyp.attr_image_norm]!,
      dropout: opts.hyp.attr_dropout,
      classes: opts.hyp.attr_class === 1 ? model.detect.nc : 0,
      imageScale: headImageScale(opts, null),
      readsWeakView: headImageHsv(opts, initial) !== undefined,
      lossHyp: {
        ...SEED_ATTRIBUTE_LOSS,
        ...(opts.hyp.attr_balance === 1 ? { positive_priors: binaryAttributePriors(trainItems) } : {}),
        ...(opts.hyp.attr_softmax === 1 ? { binary_softmax: true } : {}),
      },
    },
    initial?.train() ?? undefined,
  );
}

/**
 * The fraction of HSV jitter of the attribute head's own pixels (hyp attr_hsv), or undefined when the head reads the
 * detector's image: at attr_hsv 1 (the same pixels) or when it pools no image (detector taps are computed from the
 * detector's input).
 */
export function headImageHsv(opts: ResolvedTrainOptions, head: AttributeHead | null): number | undefined {
  const taps = head?.taps ?? opts.attributeTaps ?? ATTRIBUTE_TAPS;
  return taps.includes(IMAGE_TAP) && opts.hyp.attr_hsv !== 1 ? opts.hyp.attr_hsv : undefined;
}

/**
 * The factor of the fine view the head's image tap pools (AttributeHeadOptions.imageScale): a continued head's own,
 * else hyp attr_image_scale; 1 (the network input) for a head without the image tap.
 */
export function headImageScale(opts: ResolvedTrainOptions, head: AttributeHead | null): number {
  if (head) return head.imageScale;
  const taps = opts.attributeTaps ?? ATTRIBUTE_TAPS;
  const k = opts.hyp.attr_image_scale;
  if (k !== 1 && !taps.includes(IMAGE_TAP))
    throw new OptionError("hyp", `attr_image_scale ${k} needs the image tap (--attr-taps ${taps.join(",")} has none)`);
  return taps.includes(IMAGE_TAP) ? k : 1;
}

/**
 * A new head's RoI grid: attr_grid's, or with attr_grid 0 the one fitted to the training cells' mean height at the
 * training size (`opts.imgsz`, already a multiple of the model's stride; the sizes AutoAnchor reads) times the fine
 * view's factor.
 */
function headGrid(opts: ResolvedTrainOptions, trainItems: readonly LoaderItem[], log: TrainLog): [number, number] {
  if (opts.hyp.attr_grid !== 0) return attributeGrid(opts.hyp.attr_grid);
  const k = headImageScale(opts, null); // the cells as the head sees them: in the fine view
  const heights = labelSizes(trainItems, opts.imgsz * k).filter((_, i) => i % 2 === 1);
  const meanHeight = heights.length > 0 ? heights.reduce((a, b) => a + b, 0) / heights.length : null;
  const grid = attributeGrid(autoAttributeGrid(meanHeight));
  const measured = meanHeight === null ? "no cells to measure" : `mean cell height ${meanHeight.toFixed(0)} px`;
  log(`attribute head: RoI grid ${grid.join("×")} (attr_grid 0: ${measured})`);
  return grid;
}
