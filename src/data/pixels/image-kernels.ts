/**
 * OpenCV-identical pixel kernels from sladet's small image addon (build/Release/sladet_image.node, no libtorch, so
 * data-loader workers may load it: design.md §2 lesson 8): `cv2.resize` with INTER_LINEAR or INTER_AREA, and YOLOv5's
 * `augment_hsv` colour step with given gains, on interleaved 8-bit RGB images; and the pixels of sladet's
 * `random_perspective` (a warp of the image and its region mask). Bit-exact with Debian's
 * python3-opencv 4.6 (test/data/image-kernels.test.ts, fixture from tools/oracle/pixels.py). A folder of its own
 * below data/ and data/augment/, which both use it (no folder cycle).
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { PACKAGE_ROOT } from "../../util/package-root.js";
import type { RgbImage } from "../bmp.js";

interface ImageAddon {
  resize(
    src: Uint8Array,
    width: number,
    height: number,
    channels: number,
    dstWidth: number,
    dstHeight: number,
    area: boolean,
  ): Uint8Array;
  hsvGains(rgb: Uint8Array, rh: number, rs: number, rv: number): void;
  warp(
    src: Uint8Array,
    width: number,
    height: number,
    srcMask: Uint8Array | null,
    dst: Uint8Array,
    dstMask: Uint8Array | null,
    outWidth: number,
    outHeight: number,
    inv: Float64Array,
    pad: number,
    maskFill: number,
  ): void;
}

/** Interpolations of {@link resizeRgb}, named as OpenCV's. */
export const Interpolation = { linear: "linear", area: "area" } as const;
/** `linear` = cv2.INTER_LINEAR, `area` = cv2.INTER_AREA. */
export type Interpolation = (typeof Interpolation)[keyof typeof Interpolation];

function loadImageAddon(): ImageAddon {
  const path = process.env["SLADET_IMAGE_ADDON"] ?? join(PACKAGE_ROOT, "build", "Release", "sladet_image.node");
  if (!existsSync(path)) {
    throw new Error(`sladet's image addon is not built (${path} is missing); run: sh tools/setup.sh`);
  }
  return createRequire(import.meta.url)(path) as ImageAddon;
}

let addon: ImageAddon | null = null;
/** The addon, loaded on first use (one instance per thread). */
function imageAddon(): ImageAddon {
  addon ??= loadImageAddon();
  return addon;
}

/**
 * Resizes an RGB image to `width × height` exactly as `cv2.resize(im, (width, height), interpolation=…)` does for
 * uint8 images. Returns a new image (a copy when the size is unchanged).
 */
export function resizeRgb(image: RgbImage, width: number, height: number, interpolation: Interpolation): RgbImage {
  const data = imageAddon().resize(
    image.data,
    image.width,
    image.height,
    3,
    width,
    height,
    interpolation === Interpolation.area,
  );
  return { data, width, height };
}

/**
 * YOLOv5's `augment_hsv` with the gains already drawn, in place: hue × `rh` (mod 180), saturation × `rs` and value ×
 * `rv` (clipped to 255) through lookup tables on OpenCV's 8-bit HSV, converted as `cv2.cvtColor` does.
 */
export function applyHsvGainsRgb(image: RgbImage, rh: number, rs: number, rv: number): void {
  imageAddon().hsvGains(image.data, rh, rs, rv);
}

/** What {@link warpRgb} samples: an RGB image and, optionally, its one-channel mask of the same size. */
export interface WarpSource {
  image: RgbImage;
  mask?: Uint8Array | null;
}

/**
 * Warps `source` into `outWidth × outHeight`: each output pixel centre is mapped by `inverse` (row-major 3×3, output →
 * source pixel coordinates, pixel i spanning [i, i + 1)); the image is sampled bilinearly between the four nearest
 * source pixel centres (`pad` outside, rounded half up), the mask by the source pixel containing the point
 * (`maskFill` outside). Native code; bit-identical to the JavaScript loop it replaced.
 */
export function warpRgb(
  source: WarpSource,
  inverse: ArrayLike<number>,
  outWidth: number,
  outHeight: number,
  pad: number,
  maskFill: number,
): { image: RgbImage; mask: Uint8Array | null } {
  const data = new Uint8Array(outWidth * outHeight * 3);
  const mask = source.mask ? new Uint8Array(outWidth * outHeight) : null;
  const { image } = source;
  imageAddon().warp(
    image.data,
    image.width,
    image.height,
    source.mask ?? null,
    data,
    mask,
    outWidth,
    outHeight,
    Float64Array.from(inverse),
    pad,
    maskFill,
  );
  return { image: { data, width: outWidth, height: outHeight }, mask };
}
