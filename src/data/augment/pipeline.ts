/**
 * One training or validation sample, end to end (YOLOv5's `LoadImagesAndLabels.__getitem__`), with the region mask
 * carried through every geometric step:
 * - training: with probability `mosaic` a 4-image mosaic warped by {@link randomPerspective} from the 2s canvas to
 *   s × s, then with probability `mixup` blended with a second mosaic; otherwise a letterbox to s × s followed by the
 *   random warp. Then HSV jitter, vertical flip (`flipud`), horizontal flip (`fliplr`);
 * - validation: a letterbox to the batch's shape (square, or the rectangle of a rect batch), never enlarging.
 * All random numbers of sample `index` in `epoch` come from {@link sampleRng}(seed, epoch, index). With a fine view
 * (fine-view.ts) every step is repeated on it at k× the pixels with the same draws; it draws no numbers of its own.
 */
import type { Rng } from "../../util/random.js";
import { fineLetterbox, fineMosaic, fineWarp } from "./fine-view.js";
import { flipLeftRight, flipUpDown } from "./flip.js";
import { applyHsvUnits, drawHsvUnits } from "./hsv.js";
import { type AugmentHyp, type BoxCandidateOptions, PAD_VALUE } from "./hyp.js";
import { letterbox, letterboxGeometry } from "./letterbox.js";
import { mixup, randomMixupRatio } from "./mixup.js";
import { mosaic4, randomMosaicCentre } from "./mosaic.js";
import { applyPerspective, randomPerspectiveMatrix } from "./perspective.js";
import { permutation, sampleRng } from "./seed.js";
import type { RgbImage, Sample } from "./types.js";

/**
 * Where samples come from: sample i as YOLOv5's `load_image` gives it, resized so that its long side is the image
 * size (aspect ratio kept), with its region mask rasterised and its boxes in pixels. The caller may modify what
 * `load` returns.
 */
export interface SampleSource {
  /** Number of samples. */
  readonly length: number;
  load(index: number): Promise<Sample>;
  /**
   * Sample i's image resized to exactly `width × height` (k× the size `load` gives it), for the fine view; sources
   * without it cannot make one.
   */
  loadFine?(index: number, width: number, height: number): Promise<RgbImage>;
}

/** The attribute head's fine view (fine-view.ts): its factor and, in training, its share of the HSV jitter. */
export interface FineViewOptions {
  /** k: the fine view has k× the network input's side (a whole number ≥ 2). */
  scale: number;
  /** Fraction of the HSV jitter it gets (as TrainSampleOptions.weakHsv). @default 1 */
  hsv?: number;
}

/** Sample `index`'s image at k× `loaded` (its size as `load` gives it). */
function loadFineImage(source: SampleSource, index: number, k: number, loaded: RgbImage): Promise<RgbImage> {
  if (!source.loadFine) throw new Error("this sample source cannot make the fine view (SampleSource.loadFine)");
  return source.loadFine(index, k * loaded.width, k * loaded.height);
}

/** Options of {@link trainSample}. */
export interface TrainSampleOptions {
  /** Network input size s (square training images). */
  imgSize: number;
  hyp: AugmentHyp;
  /** Run seed; with the epoch and the index it fixes every random choice. */
  seed: number;
  /** Mask value of padding and canvas outside any image. @default false (0: not labelled) */
  paddingLabelled?: boolean;
  /** Grey of padding. @default 114 */
  padValue?: number;
  /** Box filter after the warp. @default BOX_CANDIDATES */
  boxCandidates?: BoxCandidateOptions;
  /**
   * Also make the weak view of the sample (`Sample.weakImage`): the same geometry and flips, with this fraction of
   * the HSV jitter (0: the colours as loaded; the same random draws, scaled). The attribute head reads it (attr_hsv),
   * so that the jitter that trains the detector does not erase the colour cues (basophilia) the head must read, and
   * phase 2's EMA teacher (pl_teacher_hsv), so that it proposes from the image as it is while the student learns
   * from the jittered one. Absent: no copy, both read the detector's image.
   */
  weakHsv?: number;
  /** Also make the fine view of the sample (`Sample.fineImage`). @default none */
  fine?: FineViewOptions;
}

async function loadMosaic(source: SampleSource, index: number, rng: Rng, options: TrainSampleOptions): Promise<Sample> {
  const s = options.imgSize;
  const centre = randomMosaicCentre(rng, s);
  const picks = [index, rng.int(0, source.length), rng.int(0, source.length), rng.int(0, source.length)];
  const order = permutation(4, rng);
  const indices = order.map((o) => picks[o]!);
  const tiles = await Promise.all(indices.map((i) => source.load(i)));
  const fill = { padValue: options.padValue ?? PAD_VALUE, paddingLabelled: options.paddingLabelled ?? false };
  const canvas = mosaic4(tiles, s, centre, fill);
  const border = [-s / 2, -s / 2] as const;
  const draw = randomPerspectiveMatrix(rng, canvas.image.width, canvas.image.height, options.hyp, border);
  const sample = applyPerspective(canvas, draw, {
    ...fill,
    ...(options.boxCandidates ? { boxCandidates: options.boxCandidates } : {}),
  });
  if (!options.fine) return sample;
  const k = options.fine.scale;
  const fineTiles = await Promise.all(indices.map((i, q) => loadFineImage(source, i, k, tiles[q]!.image)));
  const fineCanvas = fineMosaic(fineTiles, s, centre, k, fill.padValue);
  return { ...sample, fineImage: fineWarp(fineCanvas, draw, k, fill.padValue) };
}

/** The letterboxed, randomly warped sample `index` (training without mosaic). */
async function loadWarped(source: SampleSource, index: number, rng: Rng, options: TrainSampleOptions): Promise<Sample> {
  const fill = { padValue: options.padValue ?? PAD_VALUE, paddingLabelled: options.paddingLabelled ?? false };
  const loaded = await source.load(index);
  const boxOptions = { shape: [options.imgSize, options.imgSize] as const, scaleUp: true, ...fill };
  const boxed = letterbox(loaded, boxOptions).sample;
  const draw = randomPerspectiveMatrix(rng, boxed.image.width, boxed.image.height, options.hyp);
  const sample = applyPerspective(boxed, draw, {
    ...fill,
    ...(options.boxCandidates ? { boxCandidates: options.boxCandidates } : {}),
  });
  if (!options.fine) return sample;
  const k = options.fine.scale;
  const geometry = letterboxGeometry(loaded.image.width, loaded.image.height, boxOptions);
  const fine = fineLetterbox(await loadFineImage(source, index, k, loaded.image), geometry, k, fill.padValue);
  return { ...sample, fineImage: fineWarp(fine, draw, k, fill.padValue) };
}

/** The augmented training sample `index` of `epoch`: s × s, boxes in pixels, mask aligned with the image. */
export async function trainSample(
  source: SampleSource,
  index: number,
  epoch: number,
  options: TrainSampleOptions,
): Promise<Sample> {
  const { hyp } = options;
  const rng = sampleRng(options.seed, epoch, index);
  let sample: Sample;
  if (rng.next() < hyp.mosaic) {
    sample = await loadMosaic(source, index, rng, options);
    if (rng.next() < hyp.mixup) {
      const other = await loadMosaic(source, rng.int(0, source.length), rng, options);
      sample = mixup(sample, other, randomMixupRatio(rng));
    }
  } else {
    sample = await loadWarped(source, index, rng, options);
  }
  const gains = { h: hyp.hsv_h, s: hyp.hsv_s, v: hyp.hsv_v };
  const units = drawHsvUnits(gains, rng);
  if (options.weakHsv !== undefined) {
    const copy = { ...sample.image, data: sample.image.data.slice() };
    if (units) applyHsvUnits(copy, units, gains, options.weakHsv);
    sample = { ...sample, weakImage: copy };
  }
  if (units) applyHsvUnits(sample.image, units, gains);
  if (units && sample.fineImage) applyHsvUnits(sample.fineImage, units, gains, options.fine?.hsv ?? 1);
  if (rng.next() < hyp.flipud) sample = flipUpDown(sample);
  if (rng.next() < hyp.fliplr) sample = flipLeftRight(sample);
  return sample;
}

/** Options of {@link evalSample}. */
export interface EvalSampleOptions {
  /** Mask value of the letterbox border. @default false (0: not labelled) */
  paddingLabelled?: boolean;
  /** Grey of the border. @default 114 */
  padValue?: number;
  /** Enlarge images smaller than the shape. @default false (YOLOv5 validation only shrinks) */
  scaleUp?: boolean;
  /** Also make the fine view of the sample (`Sample.fineImage`; its `hsv` unused). @default none */
  fine?: FineViewOptions;
}

/** Validation sample `index`, letterboxed to `shape` [height, width] with no random change. */
export async function evalSample(
  source: SampleSource,
  index: number,
  shape: readonly [number, number],
  options: EvalSampleOptions = {},
): Promise<Sample> {
  const loaded = await source.load(index);
  const padValue = options.padValue ?? PAD_VALUE;
  const boxOptions = { shape, scaleUp: options.scaleUp ?? false, padValue };
  const sample = letterbox(loaded, { ...boxOptions, paddingLabelled: options.paddingLabelled ?? false }).sample;
  if (!options.fine) return sample;
  const k = options.fine.scale;
  const geometry = letterboxGeometry(loaded.image.width, loaded.image.height, boxOptions);
  return {
    ...sample,
    fineImage: fineLetterbox(await loadFineImage(source, index, k, loaded.image), geometry, k, padValue),
  };
}
