/** Augmentation on plain typed arrays (no torch): every geometric step moves the image, region mask and boxes together. */
export { isBoxCandidate } from "./box-candidates.js";
export { checkFineScale, fineLetterbox, fineMosaic, fineWarp, MAX_FINE_SCALE, scaleMat } from "./fine-view.js";
export { flipLeftRight, flipUpDown } from "./flip.js";
export { applyHsvGains, applyHsvUnits, augmentHsv, drawHsvUnits, type HsvGains } from "./hsv.js";
export {
  type AugmentHyp,
  BOX_CANDIDATES,
  type BoxCandidateOptions,
  HYP_NO_AUGMENTATION,
  HYP_SCRATCH_HIGH,
  MIXUP_BETA,
  PAD_VALUE,
  resolveHyp,
} from "./hyp.js";
export {
  type LetterboxGeometry,
  type LetterboxOptions,
  type LetterboxResult,
  letterbox,
  letterboxGeometry,
} from "./letterbox.js";
export { mixup, randomMixupRatio } from "./mixup.js";
export { type MosaicCentre, type MosaicOptions, mosaic4, randomMosaicCentre } from "./mosaic.js";
export {
  applyMat,
  applyPerspective,
  IDENTITY,
  type Mat3,
  matInvert,
  matMul,
  type PerspectiveDraw,
  type PerspectiveParams,
  randomPerspective,
  randomPerspectiveMatrix,
  transformBoxes,
  type WarpOptions,
  warpPixels,
} from "./perspective.js";
export {
  type EvalSampleOptions,
  evalSample,
  type FineViewOptions,
  type SampleSource,
  type TrainSampleOptions,
  trainSample,
} from "./pipeline.js";
export { resizeNearest } from "./resize.js";
export { beta, hashInts, orderRng, permutation, sampleRng } from "./seed.js";
export {
  cloneSample,
  concatLabels,
  emptyLabels,
  filledMask,
  heldoutClassCode,
  isHeldoutClass,
  LABEL_BOX_FIELDS,
  type Labels,
  labelStride,
  labelsFromRows,
  type Mask,
  mapBoxes,
  PADDING_MASK,
  type RgbImage,
  rasterizeRect,
  rowScale,
  type Sample,
  scaledBy,
  selectLabels,
} from "./types.js";
