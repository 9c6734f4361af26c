/**
 * What `sladet detect --source` reads and how images become network inputs.
 *
 * Sources: an image file; a folder (the images directly inside, in natural order: img2 before img10); a glob
 * (`"data/**\/*.jpg"`, quoted so the shell leaves it alone); or a `.txt` list (one path per line, relative to the
 * list's folder; blank lines and `#` comments skipped). Entries that are not images (another extension, a missing file,
 * a folder named in a list) are returned as rejected, with the reason, never silently dropped.
 *
 * Inputs: each image is decoded with sharp (EXIF orientation applied), resized keeping its aspect ratio so that its
 * long side is the network size (YOLOv5 detect.py's letterbox: sides · r rounded as Python rounds, OpenCV's
 * INTER_LINEAR pixels through the image addon), and padded with grey to the batch's shape, a multiple of the model's
 * stride: the images of a batch share the smallest such shape that holds them all (never a stretch to a square).
 * Boxes map back as detect.py's scale_boxes does (one gain for both axes, from the letterboxed shape).
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { basename, dirname, extname, isAbsolute, join } from "node:path";
import { glob, isDynamicPattern } from "tinyglobby";
import { PAD_VALUE } from "../data/augment/hyp.js";
import { IMAGE_EXTENSIONS, isImagePath, type RgbImage, readImageRgb } from "../data/images.js";
import { MAX_LIST_FILE_BYTES } from "../data/limits.js";
import { resizeRgb } from "../data/pixels/image-kernels.js";
import { pythonRound } from "../model/config.js";
import { maxOf } from "../util/arrays.js";
import { readBoundedText } from "../util/bounded-read.js";
import { OptionError } from "../util/errors.js";
import type { InputBatch } from "./predictor.js";

/** The kinds of `--source`. */
export type SourceKind = "file" | "folder" | "glob" | "list";

/** An input that is not processed, and why. */
export interface RejectedInput {
  file: string;
  reason: string;
}

/** The images of a source, in processing order (paths as given: relative to the working folder or absolute). */
export interface SourceList {
  kind: SourceKind;
  images: string[];
  rejected: RejectedInput[];
}

/** Extension of list files. */
export const LIST_EXTENSION = ".txt";
/** Prefixes and extensions of sources YOLOv5 reads and sladet does not (streams, URLs, videos). */
const STREAM_PREFIXES = ["http://", "https://", "rtsp://", "rtmp://", "tcp://"] as const;
const VIDEO_EXTENSIONS = [".mp4", ".avi", ".mov", ".mkv", ".wmv", ".mpg", ".mpeg", ".m4v", ".gif", ".webm"] as const;

const naturalOrder = new Intl.Collator("en", { numeric: true, sensitivity: "variant" }).compare;

function notAnImage(file: string): string {
  const ext = extname(file).toLowerCase();
  return `not an image${ext ? ` (${ext})` : " (no extension)"}: sladet detect reads ${IMAGE_EXTENSIONS.join(" ")}`;
}

/** Sorts entries into images and rejected ones (hidden files are left out silently). */
function classify(paths: readonly string[]): Pick<SourceList, "images" | "rejected"> {
  const images: string[] = [];
  const rejected: RejectedInput[] = [];
  for (const p of paths) {
    if (basename(p).startsWith(".")) continue;
    if (isImagePath(p)) images.push(p);
    else rejected.push({ file: p, reason: notAnImage(p) });
  }
  return { images, rejected };
}

function listFile(list: string): SourceList {
  const folder = dirname(list);
  const images: string[] = [];
  const rejected: RejectedInput[] = [];
  readBoundedText(list, MAX_LIST_FILE_BYTES)
    .split(/\r?\n/)
    .forEach((raw, i) => {
      const entry = raw.trim();
      if (entry === "" || entry.startsWith("#")) return;
      const file = isAbsolute(entry) ? entry : join(folder, entry);
      const where = `line ${i + 1} of ${list}`;
      if (!existsSync(file)) rejected.push({ file, reason: `no such file (${where})` });
      else if (statSync(file).isDirectory())
        rejected.push({ file, reason: `a folder (${where}): a list names image files` });
      else if (!isImagePath(file)) rejected.push({ file, reason: `${notAnImage(file)} (${where})` });
      else images.push(file);
    });
  return { kind: "list", images, rejected };
}

/**
 * The images `source` names (see the module comment). Throws an {@link OptionError} (`source`) for a source that does not exist,
 * a stream or video, a file that is not an image or a list, and a source that holds no image.
 */
export async function listSources(source: string): Promise<SourceList> {
  const lower = source.toLowerCase();
  if (STREAM_PREFIXES.some((p) => lower.startsWith(p)) || /^\d+$/.test(source))
    throw new OptionError("source", `${source}: streams, URLs and cameras are not supported; give image files`);
  if ((VIDEO_EXTENSIONS as readonly string[]).includes(extname(lower)))
    throw new OptionError("source", `${source}: videos are not supported; extract the frames as images first`);
  let found: SourceList;
  if (existsSync(source)) {
    if (statSync(source).isDirectory()) {
      const names = readdirSync(source, { withFileTypes: true })
        .filter((d) => !d.isDirectory())
        .map((d) => d.name)
        .sort(naturalOrder);
      found = { kind: "folder", ...classify(names.map((n) => join(source, n))) };
    } else if (lower.endsWith(LIST_EXTENSION)) {
      found = listFile(source);
    } else if (isImagePath(source)) {
      found = { kind: "file", images: [source], rejected: [] };
    } else {
      throw new OptionError("source", `${source}: ${notAnImage(source)}, or a ${LIST_EXTENSION} list of images`);
    }
  } else if (isDynamicPattern(source)) {
    // paths as given: absolute for an absolute pattern, else relative to the working folder
    const matches = await glob(source, {
      onlyFiles: true,
      expandDirectories: false,
      dot: false,
      absolute: isAbsolute(source),
    });
    found = { kind: "glob", ...classify(matches.sort(naturalOrder)) };
  } else {
    throw new OptionError("source", `${source}: no such file or folder`);
  }
  if (found.images.length === 0) {
    const why =
      found.rejected.length > 0
        ? ` (${found.rejected.length} entries rejected, e.g. ${found.rejected[0]!.file}: ${found.rejected[0]!.reason})`
        : "";
    throw new OptionError("source", `${source}: no images found${why}`);
  }
  return found;
}

// ---------------------------------------------------------------------------------------------------------------
// Decoding and letterboxing

/** An image as decoded: its pixels at the original resolution (after EXIF orientation). */
export interface DecodedImage {
  file: string;
  image: RgbImage;
}

/** Decodes an image file (EXIF orientation applied, 8-bit RGB); throws with a one-line reason on unreadable files. */
export async function decodeImage(file: string): Promise<DecodedImage> {
  try {
    return { file, image: await readImageRgb(file) };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : firstLine(err);
    throw new Error(reason);
  }
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split("\n")[0]!.trim() || "unreadable";
}

/** Where an original image lies in the network input: x_input = x · ratio[0] + pad[0] (y likewise). */
export interface LetterboxTransform {
  /** Original width and height. */
  width: number;
  height: number;
  /** Input pixels per original pixel along x and y (both detect.py's scale_boxes gain). */
  ratio: [number, number];
  /** Left and top border in input pixels (fractional, as scale_boxes computes it). */
  pad: [number, number];
}

/** Maps an input-pixel box back to the original image, clipped to it. */
export function toOriginal(
  t: LetterboxTransform,
  x1: number,
  y1: number,
  x2: number,
  y2: number,
): [number, number, number, number] {
  const cx = (v: number) => Math.min(t.width, Math.max(0, (v - t.pad[0]) / t.ratio[0]));
  const cy = (v: number) => Math.min(t.height, Math.max(0, (v - t.pad[1]) / t.ratio[1]));
  return [cx(x1), cy(y1), cx(x2), cy(y2)];
}

/** v / 255 as float32 for every byte v (the network's input scale). */
const UNIT = Float32Array.from({ length: 256 }, (_, v) => v / 255);

/** Options of {@link letterboxBatch}. */
export interface LetterboxBatchOptions {
  /** The network size: each image's long side is resized to it. */
  imgsz: number;
  /** Input sides are padded to multiples of it (the model's largest stride). */
  stride: number;
  /** A fixed input [height, width] (a static ONNX export): every image is letterboxed into it. @default null */
  fixedInput?: readonly [number, number] | null;
  /** Pad the batch with grey images up to this many (a static ONNX export's batch). @default the images' count */
  batchSize?: number;
  /** Grey of the border. @default 114 */
  padValue?: number;
  /**
   * A previous batch's data to write into when it has the new batch's size (its contents are overwritten): reusing
   * it spares allocating and first touching a fresh buffer (~5 MB at 640²) per batch.
   */
  reuse?: Float32Array | null;
  /**
   * Also make the batch's fine view (InputBatch.fine) at this many times the input's side, for an attribute head that
   * pools one (PredictorInfo.attributeImageScale). @default 1 (none)
   */
  fineScale?: number;
}

/** A letterboxed batch and where each image lies in it. */
export interface LetterboxedBatch {
  batch: InputBatch;
  transforms: LetterboxTransform[];
}

/**
 * Size an image is resized to inside [h, w] (aspect ratio kept; enlarging allowed), as YOLOv5's letterbox:
 * r = min(h / height, w / width), sides round(side · r) with Python's rounding (half to even).
 */
function fittedSize(width: number, height: number, shape: readonly [number, number]) {
  const r = Math.min(shape[0] / height, shape[1] / width);
  return { width: Math.max(1, pythonRound(width * r)), height: Math.max(1, pythonRound(height * r)) };
}

/** The image at `width × height`: cv2.resize INTER_LINEAR as detect.py's letterbox, the image itself when unchanged. */
function resize(image: RgbImage, width: number, height: number): Uint8Array {
  if (image.width === width && image.height === height) return image.data;
  return resizeRgb(image, width, height, "linear").data;
}

/** Border before an image of size `inner` centred in `outer` (YOLOv5: round(d/2 − 0.1); + 0 turns −0 into 0). */
const borderBefore = (outer: number, inner: number) => Math.round((outer - inner) / 2 - 0.1) + 0;

/**
 * Writes each image, resized to its `sizes` entry × k and centred in the [h, w] input as letterboxing places it
 * (borders × k), into image i of a [B, 3, k·h, k·w] buffer (k = 1: the network input; k > 1: its fine view for an
 * attribute head that pools one). Returns each image's left and top border in network-input pixels.
 */
function writeLetterboxed(
  data: Float32Array,
  images: readonly DecodedImage[],
  sizes: readonly { width: number; height: number }[],
  [h, w]: readonly [number, number],
  k: number,
): { left: number; top: number }[] {
  const [H, W] = [k * h, k * w];
  const plane = H * W;
  return images.map(({ image }, i) => {
    const left = borderBefore(w, sizes[i]!.width);
    const top = borderBefore(h, sizes[i]!.height);
    const [nw, nh] = [k * sizes[i]!.width, k * sizes[i]!.height];
    const src = resize(image, nw, nh);
    const base = i * 3 * plane;
    for (let y = 0; y < nh; y++) {
      let s = y * nw * 3;
      let o = base + (y + k * top) * W + k * left;
      for (const end = o + nw; o < end; o++, s += 3) {
        data[o] = UNIT[src[s]!]!;
        data[o + plane] = UNIT[src[s + 1]!]!;
        data[o + 2 * plane] = UNIT[src[s + 2]!]!;
      }
    }
    return { left, top };
  });
}

/**
 * The input → original mapping of detect.py's scale_boxes. Alone, an image is letterboxed into its own shape
 * [Hi, Wi] (the fixed input, or its resized size rounded up to the stride); scale_boxes maps back with one gain
 * g = min(Hi/h0, Wi/w0) and a float border ((Wi − w0·g)/2, (Hi − h0·g)/2). In a larger batch the image sits
 * (left − its own left border, top − its own top border) further in, which shifts the border by as much.
 */
function scaleBoxesTransform(
  image: RgbImage,
  resized: { width: number; height: number },
  placed: { left: number; top: number },
  own: readonly [number, number],
): Pick<LetterboxTransform, "ratio" | "pad"> {
  const [hi, wi] = own;
  const gain = Math.min(hi / image.height, wi / image.width);
  const padX = placed.left - borderBefore(wi, resized.width) + (wi - image.width * gain) / 2;
  const padY = placed.top - borderBefore(hi, resized.height) + (hi - image.height * gain) / 2;
  return { ratio: [gain, gain], pad: [padX, padY] };
}

/**
 * Letterboxes decoded images into one network input [B, 3, H, W] (float32 RGB in 0..1): each resized keeping its
 * aspect ratio, centred, the border grey; H, W the smallest stride multiples that hold every resized image (or the
 * fixed input).
 */
export async function letterboxBatch(
  images: readonly DecodedImage[],
  options: LetterboxBatchOptions,
): Promise<LetterboxedBatch> {
  const { imgsz, stride, fixedInput = null, padValue = PAD_VALUE } = options;
  const batchSize = options.batchSize ?? images.length;
  if (images.length === 0 || images.length > batchSize)
    throw new Error(`letterboxBatch: ${images.length} images for a batch of ${batchSize}`);
  const sizes = images.map(({ image }) => fittedSize(image.width, image.height, fixedInput ?? [imgsz, imgsz]));
  const roundUp = (v: number) => Math.ceil(v / stride) * stride;
  const [h, w] = fixedInput
    ? [fixedInput[0], fixedInput[1]]
    : [roundUp(maxOf(sizes.map((s) => s.height))), roundUp(maxOf(sizes.map((s) => s.width)))];
  const length = batchSize * 3 * h * w;
  const data = options.reuse?.length === length ? options.reuse : new Float32Array(length);
  // the grey border, unless the images cover the whole input
  if (images.length < batchSize || sizes.some((s) => s.width !== w || s.height !== h)) data.fill(padValue / 255);
  const borders = writeLetterboxed(data, images, sizes, [h, w], 1);
  const transforms = images.map(({ image }, i) => {
    const own = fixedInput ?? ([roundUp(sizes[i]!.height), roundUp(sizes[i]!.width)] as const);
    const mapping = scaleBoxesTransform(image, sizes[i]!, borders[i]!, own);
    return { width: image.width, height: image.height, ...mapping };
  });
  const k = options.fineScale ?? 1;
  const fine = k === 1 ? null : new Float32Array(length * k * k).fill(padValue / 255);
  if (fine) writeLetterboxed(fine, images, sizes, [h, w], k);
  return {
    batch: {
      data,
      shape: [batchSize, 3, h, w],
      imgsz: fixedInput ? Math.max(h, w) : imgsz,
      ...(fine ? { fine: { data: fine, shape: [batchSize, 3, k * h, k * w] as const } } : {}),
    },
    transforms,
  };
}
