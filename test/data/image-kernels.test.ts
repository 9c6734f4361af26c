/**
 * The image addon against OpenCV (test/fixtures/pixels.safetensors from tools/oracle/pixels.py, python3-opencv 4.6):
 * cv2.resize INTER_LINEAR and INTER_AREA of uint8 RGB images, and YOLOv5's augment_hsv with fixed gains. Bit-exact.
 * And the random_perspective warp against the JavaScript loop it replaced (./warp-reference.ts), bit-exact.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type Mat3, matInvert, matMul } from "../../src/data/augment/perspective.js";
import { applyHsvGainsRgb, resizeRgb, warpRgb } from "../../src/data/pixels/image-kernels.js";
import { Rng } from "../../src/util/random.js";
import { loadGolden } from "../helpers.js";
import { referenceWarp } from "./warp-reference.js";

const golden = loadGolden("pixels.safetensors", "pixels.py");
const bytes = (key: string) => new Uint8Array(golden.ref(key).toTypedArray() as Uint8Array);

/** Number of differing bytes, and the first one. */
function compare(got: Uint8Array, want: Uint8Array): { differ: number; first: number } {
  assert.equal(got.length, want.length, "length");
  let differ = 0;
  let first = -1;
  for (let i = 0; i < want.length; i++) {
    if (got[i] !== want[i]) {
      differ++;
      if (first < 0) first = i;
    }
  }
  return { differ, first };
}

const resizeKeys = [...golden.tensors.keys()].filter((k) => /^(linear|area)\//.test(k));

test("the fixture covers enlarging, shrinking, integer and non-integer factors and 1-pixel sides", () => {
  assert.ok(resizeKeys.length >= 60, `${resizeKeys.length} resize cases`);
  for (const k of ["linear/6x6/3x3", "area/64x48/16x12", "area/97x77/13x10", "linear/37x23/111x69", "area/1x1/3x5"])
    assert.ok(resizeKeys.includes(k), k);
});

for (const key of resizeKeys) {
  test(`cv2.resize ${key}`, () => {
    const [mode, from, to] = key.split("/") as ["linear" | "area", string, string];
    const [w, h] = from.split("x").map(Number) as [number, number];
    const [dw, dh] = to.split("x").map(Number) as [number, number];
    const got = resizeRgb({ data: bytes(`src/${from}`), width: w, height: h }, dw, dh, mode);
    assert.equal(got.width, dw);
    assert.equal(got.height, dh);
    const { differ, first } = compare(got.data, bytes(key));
    assert.equal(differ, 0, `${differ} bytes differ from OpenCV, the first at byte ${first}`);
  });
}

test("augment_hsv with fixed gains equals OpenCV's cvtColor + LUT + cvtColor", () => {
  const gains = JSON.parse(golden.metadata["hsv_gains"]!.replaceAll("(", "[").replaceAll(")", "]")) as number[][];
  const src = bytes("hsv/src");
  const [height, width] = golden.ref("hsv/src").shape as [number, number];
  gains.forEach(([rh, rs, rv], k) => {
    const image = { data: src.slice(), width, height };
    applyHsvGainsRgb(image, rh!, rs!, rv!);
    const { differ, first } = compare(image.data, bytes(`hsv/${k}`));
    assert.equal(differ, 0, `gains ${gains[k]}: ${differ} bytes differ from OpenCV, the first at byte ${first}`);
  });
});

test("bad arguments are refused with a message", () => {
  const image = { data: new Uint8Array(12), width: 2, height: 2 };
  assert.throws(() => resizeRgb({ ...image, width: 3 }, 1, 1, "linear"), /src holds 12 bytes, 3×2×3 expected/);
  assert.throws(() => resizeRgb(image, 0, 1, "area"), /dstWidth must be an integer/);
  assert.throws(() => applyHsvGainsRgb({ data: new Uint8Array(4), width: 1, height: 1 }, 1, 1, 1), /multiple of 3/);
});

/** A random warp: scale 0.3-3, rotation, shear, translation partly out of the image, perspective in every third. */
function randomMatrix(rng: Rng, k: number, w: number, h: number): Mat3 {
  const s = rng.uniform(0.3, 3);
  const a = rng.uniform(-Math.PI, Math.PI);
  const sh = rng.uniform(-0.3, 0.3);
  const p = k % 3 === 0 ? rng.uniform(-1e-3, 1e-3) : 0;
  const affine: Mat3 = [
    s * Math.cos(a),
    -s * Math.sin(a) + sh,
    rng.uniform(-w, w),
    s * Math.sin(a),
    s * Math.cos(a),
    rng.uniform(-h, h),
    0,
    0,
    1,
  ];
  return matMul([1, 0, 0, 0, 1, 0, p, p / 2, 1], affine);
}

test("the native random_perspective warp equals the JavaScript loop it replaced, bit for bit", () => {
  const rng = new Rng(23);
  for (let k = 0; k < 40; k++) {
    const [w, h] = [rng.int(1, 90), rng.int(1, 90)];
    const [ow, oh] = [rng.int(1, 120), rng.int(1, 120)];
    const src = Uint8Array.from({ length: w * h * 3 }, () => rng.int(0, 256));
    const mask = Uint8Array.from({ length: w * h }, () => rng.int(0, 2));
    const inv = matInvert(randomMatrix(rng, k, w, h));
    const [pad, fill] = [k % 2 === 0 ? 114 : 0, k % 4 < 2 ? 0 : 1];
    const got = warpRgb({ image: { data: src, width: w, height: h }, mask }, inv, ow, oh, pad, fill);
    const want = referenceWarp(src, w, h, mask, inv, ow, oh, pad, fill);
    const image = compare(got.image.data, want.image);
    const m = compare(got.mask!, want.mask);
    assert.equal(
      image.differ,
      0,
      `case ${k} (${w}x${h} -> ${ow}x${oh}): ${image.differ} image bytes differ, first at ${image.first}`,
    );
    assert.equal(m.differ, 0, `case ${k}: ${m.differ} mask pixels differ`);
  }
});
