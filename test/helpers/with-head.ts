/** A trained detector with a fresh (seeded, untrained) attribute head, for tests of what carries heads around. */
import type { ImageNorm } from "../../src/model/attribute-head.js";
import { ATTRIBUTE_TAPS, newAttributeHead } from "../../src/model/attribute-inference.js";
import { loadCheckpoint, saveCheckpoint } from "../../src/model/checkpoint.js";
import { manualSeed, noGrad, uniform_ } from "../../src/torch/index.js";

export interface WithHeadOptions {
  /** @default ATTRIBUTE_TAPS (the image) */
  taps?: readonly string[];
  /** @default true (sladet's heads); false with boxScale 1 is the seed's */
  inputNorm?: boolean;
  /** AttributeHeadOptions.sizeFromBox. @default false */
  sizeFromBox?: boolean;
  /** AttributeHeadOptions.sizeNorm. @default null */
  sizeNorm?: readonly [number, number, number, number] | null;
  /** AttributeHeadOptions.imageNorm. @default "cell" */
  imageNorm?: ImageNorm;
  /** The head reads each cell's class (AttributeHeadOptions.classes = the detector's class count). @default false */
  classInput?: boolean;
  /** @default 3 */
  seed?: number;
  /**
   * Draw every parameter from U(−0.1, 0.1), the box-size and class weights included (a new head starts them at zero), so that
   * every input of the head changes its outputs. @default false
   */
  randomise?: boolean;
}

/** Saves the detector of checkpoint `weights` with a new attribute head as one checkpoint at `out`. */
export function saveWithAttributeHead(weights: string, out: string, options: WithHeadOptions = {}): void {
  const { taps = ATTRIBUTE_TAPS, inputNorm = true, sizeFromBox = false, sizeNorm = null } = options;
  const { seed = 3, randomise = false, imageNorm = "cell", classInput = false } = options;
  const loaded = loadCheckpoint(weights);
  manualSeed(seed);
  const head = newAttributeHead(loaded.model, taps, {
    inputNorm,
    sizeFromBox,
    sizeNorm,
    imageNorm,
    classes: classInput ? loaded.model.detect.nc : 0,
    ...(inputNorm ? {} : { boxScale: 1 }),
  });
  if (randomise)
    noGrad(() => {
      for (const [, p] of head.namedParameters()) uniform_(p.data, -0.1, 0.1);
    });
  saveCheckpoint(out, loaded.model, { attributeHead: head });
  loaded.model.dispose();
  head.dispose();
  for (const t of loaded.training.values()) t.dispose();
}
