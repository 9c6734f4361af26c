/**
 * Bounds on a model description (a model YAML, or the `model.yaml` / metadata inside a checkpoint), checked before
 * anything is allocated: a crafted checkpoint could otherwise describe a giant model (`depth_multiple: 1000`,
 * `nc: 1e7`) and have it built before any tensor is read. Each limit is far above every published YOLOv5 model
 * (yolov5x: depth 1.33, width 1.25, 86.7 M parameters; yolov5x6: 140.7 M; COCO: 80 classes). docs/input-contract.md
 * lists them.
 */
import type { LayerSpec } from "./config.js";

/** Largest `depth_multiple` (yolov5x: 1.33). */
export const MAX_DEPTH_MULTIPLE = 4;
/** Largest `width_multiple` (yolov5x: 1.25). */
export const MAX_WIDTH_MULTIPLE = 4;
/** Largest class count `nc` (COCO: 80, LVIS: 1203). */
export const MAX_CLASSES = 10_000;
/** Largest number of anchors per Detect level (YOLOv5: 3). */
export const MAX_ANCHORS_PER_LEVEL = 16;
/** Largest number of Detect levels (YOLOv5 P3–P5: 3; the P6 models: 4). */
export const MAX_DETECT_LEVELS = 8;
/** Largest anchor side in pixels (YOLOv5's largest default anchor: 373). */
export const MAX_ANCHOR_PIXELS = 100_000;
/** Largest number of layer rows (backbone + head; YOLOv5: 25, the P6 models: 34). */
export const MAX_LAYERS = 1000;
/** Largest number of parameter and buffer values a description may give a detector (yolov5x6: 141 M). */
export const MAX_MODEL_VALUES = 1_000_000_000;
/** Largest Upsample factor (YOLOv5: 2). */
export const MAX_UPSAMPLE_FACTOR = 16;
/**
 * Largest number of activation values of the stride probe (one forward of a 256² image when a model is built; yolov5x:
 * about 40 M).
 */
export const MAX_PROBE_ACTIVATIONS = 512 * 1024 * 1024;
/** Largest input-channel count of an attribute head (the seed's on yolov5x: 480). */
export const MAX_ATTRIBUTE_IN_CHANNELS = 16_384;
/** Largest side of an attribute head's RoI grid (the seed's: 24 × 30). */
export const MAX_ATTRIBUTE_ROI_SIDE = 256;

/** Values (parameters and buffers) of a Conv block: the convolution without bias, and BatchNorm's four + counter. */
function convValues(c1: number, c2: number, k: number, g: number): number {
  return c2 * Math.floor(c1 / g) * k * k + 4 * c2 + 1;
}

/** The parameter and buffer values one copy of a layer holds. */
function layerValues(spec: LayerSpec): number {
  const a = spec.args;
  switch (a.kind) {
    case "Conv":
      return convValues(a.c1, a.c2, a.k, a.g);
    case "Bottleneck": {
      const c = Math.trunc(a.c2 * a.e);
      return convValues(a.c1, c, 1, 1) + convValues(c, a.c2, 3, a.g);
    }
    case "C3": {
      const c = Math.trunc(a.c2 * a.e);
      const bottleneck = convValues(c, c, 1, 1) + convValues(c, c, 3, a.g);
      return 2 * convValues(a.c1, c, 1, 1) + convValues(2 * c, a.c2, 1, 1) + a.n * bottleneck;
    }
    case "SPPF": {
      const c = Math.floor(a.c1 / 2);
      return convValues(a.c1, c, 1, 1) + convValues(4 * c, a.c2, 1, 1);
    }
    case "Detect": {
      const na = (a.anchors[0]?.length ?? 0) / 2;
      const outputs = na * (a.nc + 5);
      return a.ch.reduce((s, c) => s + outputs * c + outputs, 0) + a.anchors.length * na * 2;
    }
    default:
      return 0;
  }
}

/**
 * The number of values (parameters and buffers) in the state dict of the detector that `specs` describe, computed
 * without building it: a checkpoint must hold exactly this many for its detector.
 */
export function stateValueCount(specs: readonly LayerSpec[]): number {
  return specs.reduce((sum, spec) => sum + spec.repeats * layerValues(spec), 0);
}

/**
 * The activation values of one forward of a `side`² image through the layers (the stride probe's cost), from each
 * layer's output channels and an estimate of its resolution (a stride divides it, an Upsample multiplies it).
 */
export function probeActivationCount(specs: readonly LayerSpec[], side: number): number {
  const sides: number[] = [];
  let total = 0;
  for (const spec of specs) {
    const from = Array.isArray(spec.from) ? spec.from[0]! : spec.from;
    const j = from < 0 ? spec.index + from : from;
    const input = j < 0 ? side : (sides[j] ?? side);
    const a = spec.args;
    let out = input;
    if (a.kind === "Conv") out = Math.max(1, Math.ceil(input / Math.max(1, a.s)));
    else if (a.kind === "Upsample") {
      const size = Array.isArray(a.size) ? Math.max(...a.size) : a.size;
      out = size !== null ? size : input * (a.scaleFactor ?? 1);
    }
    sides.push(out);
    total += spec.repeats * Math.max(spec.outChannels, 1) * out * out;
  }
  return total;
}
