/**
 * Synthetic LLD-style blood films (issue 4): fields of view with white cells of the 14 classes whose 7 attributes are
 * visible, written as a dataset (images, LLD labels, COCO, data.yaml) or produced in memory.
 */
export { annotateScene, cellBox, cellLabel, drawRegion, regionHoldsCentre } from "./annotate.js";
export { CLASS_PROFILES, DIAMETER_RANGES_640, UNKNOWN_ATTRIBUTE_RATE } from "./classes.js";
export { attributeCodes, type ContactSheetOptions, makeContactSheet } from "./contact-sheet.js";
export {
  type DatasetSummary,
  DEFAULT_SPLIT,
  type GenerateDatasetOptions,
  generateDataset,
  imageStem,
  SYNTH_SPLITS,
  type SynthSplit,
  splitCounts,
  splitOf,
} from "./dataset.js";
export { type EncodeOptions, encodeImage, IMAGE_FORMATS, type ImageFormat } from "./encode.js";
export { generateScene, MAX_MAGNIFICATION, REFERENCE_SIZE } from "./generate-scene.js";
export { type SynthImage, type SynthImageOptions, synthesizeImage } from "./image.js";
export { collapseToOneClass } from "./one-class.js";
export { type RenderOptions, renderScene } from "./render.js";
export { Rng } from "./rng.js";
export type { RedCell, Scene, Speck, WhiteCell } from "./scene.js";
