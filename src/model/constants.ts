/**
 * YOLOv5's numbers, each named and explained once (Ultralytics YOLOv5 v6.0 behaviour, re-stated from its published
 * architecture; no code copied).
 */

/** Channel counts after the width multiple are rounded up to a multiple of this (YOLOv5's `make_divisible(c, 8)`). */
export const CHANNEL_DIVISOR = 8;

/** BatchNorm epsilon YOLOv5 sets on every BatchNorm2d (`initialize_weights`), instead of PyTorch's 1e-5. */
export const BN_EPS = 1e-3;

/** BatchNorm running-statistics momentum YOLOv5 sets on every BatchNorm2d, instead of PyTorch's 0.1. */
export const BN_MOMENTUM = 0.03;

/** Hidden-channel ratio of C3 (`c_ = int(c2 * e)`, e = 0.5). */
export const C3_EXPANSION = 0.5;

/** Hidden-channel ratio of the Bottlenecks inside C3 (e = 1.0: the Bottleneck keeps C3's hidden width). */
export const C3_BOTTLENECK_EXPANSION = 1.0;

/** Hidden-channel ratio of a stand-alone Bottleneck layer (e = 0.5). */
export const BOTTLENECK_EXPANSION = 0.5;

/** Default max-pool kernel of SPPF (three chained 5×5 pools = SPP's 5/9/13 receptive fields). */
export const SPPF_KERNEL = 5;

/** Side of the all-zero image used by the dry run that measures each Detect level's stride. */
export const STRIDE_PROBE_SIZE = 256;

/**
 * BatchNorm momentum during the stride probe: PyTorch's default. YOLOv5 runs the probe in training mode before
 * `initialize_weights` sets {@link BN_MOMENTUM}, so a fresh model's running statistics have taken one step toward the
 * zero image's (running variance 0.9, `num_batches_tracked` 1); sladet does the same, so that with the same seed its
 * fresh model equals YOLOv5's bit for bit.
 */
export const STRIDE_PROBE_BN_MOMENTUM = 0.1;

/** Numbers in each Detect output row before the class scores: x, y, w, h, objectness. */
export const BOX_OUTPUTS = 5;

/**
 * Detect objectness bias prior: about this many objects per image of {@link BIAS_PRIOR_IMAGE_SIZE} pixels
 * (`b[:, 4] += log(8 / (640 / s) ** 2)`).
 */
export const BIAS_PRIOR_OBJECTS = 8;

/** Image side the objectness prior refers to. */
export const BIAS_PRIOR_IMAGE_SIZE = 640;

/** Detect class bias prior: initial class probability ≈ 0.6/(nc − 0.99999) (`b[:, 5:] += log(0.6 / (nc - 0.99999))`). */
export const BIAS_PRIOR_CLASS = 0.6;

/**
 * Offset in the class prior's denominator (nc − 0.99999), which keeps nc = 1 finite. YOLOv5 v7.0's value; 0.99 (an
 * older one) gave nc = 3 a class bias 0.005 lower and nc = 1 a bias of 4.1 instead of 11.0.
 */
export const BIAS_PRIOR_CLASS_OFFSET = 0.99999;

/** Decode: xy = (σ(t)·XY_SCALE − XY_OFFSET + grid)·stride (the centre may leave its cell by half a cell). */
export const XY_SCALE = 2;
/** See {@link XY_SCALE}. */
export const XY_OFFSET = 0.5;
/** Decode: wh = (σ(t)·WH_SCALE)²·anchor (a box is at most 4× its anchor). */
export const WH_SCALE = 2;

/** YOLOv5's default anchors in pixels, P3/8, P4/16, P5/32 (w, h pairs). */
export const DEFAULT_ANCHORS: readonly (readonly number[])[] = [
  [10, 13, 16, 30, 33, 23],
  [30, 61, 62, 45, 59, 119],
  [116, 90, 156, 198, 373, 326],
];

/**
 * Feature taps of the standard v6.0 topology (design.md §7.3): `p2` = layer 1 (stride-4 Conv before the first C3),
 * `p3` = layer 4 (stride-8 C3), `neckP3` = layer 17 (the neck's P3 C3).
 */
export const DEFAULT_TAPS: Readonly<Record<string, number>> = { p2: 1, p3: 4, neckP3: 17 };
