/** One synthetic image in memory: its scene, pixels and annotation. */
import type { ImageAnnotation, PixelRect } from "../schema.js";
import { annotateScene, drawRegion } from "./annotate.js";
import { generateScene } from "./generate-scene.js";
import { renderScene } from "./render.js";
import type { Scene } from "./scene.js";

/** Options of {@link synthesizeImage}. */
export interface SynthImageOptions {
  /** Dataset seed. @default 0 */
  seed?: number;
  /** Image index within the dataset (with the seed, fixes every random choice). @default 0 */
  index?: number;
  /** Width and height in pixels. @default 640 */
  imageSize?: number;
  /** Objects drawn this many times larger than an LLD field of view's at this size (generateScene). @default 1 */
  magnification?: number;
  /**
   * Area fraction (0, 1] of a random labelled region; only cells whose box centre it holds are labelled.
   * null labels the whole image (dense).
   * @default null
   */
  sparseArea?: number | null;
  /** Image path recorded in the annotation. @default "" */
  image?: string;
}

/** A synthetic image. */
export interface SynthImage {
  scene: Scene;
  /** Interleaved 8-bit RGB, width × height × 3. */
  rgb: Uint8Array;
  annotation: ImageAnnotation;
}

/** Generates, renders and annotates one image. */
export function synthesizeImage(options: SynthImageOptions = {}): SynthImage {
  const { seed = 0, index = 0, imageSize = 640, magnification = 1, sparseArea = null, image = "" } = options;
  const scene = generateScene(seed, index, imageSize, magnification);
  const region: PixelRect | null =
    sparseArea === null ? null : drawRegion(seed, index, sparseArea, scene.width, scene.height);
  return { scene, rgb: renderScene(scene), annotation: annotateScene(scene, image, region) };
}
