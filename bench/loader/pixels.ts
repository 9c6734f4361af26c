/**
 * Per-sample cost of the loader's OpenCV-identical pixel kernels (the image addon) on one core, main thread:
 * augment_hsv on a 640² image, and load_image's resizes 1000×800 → 640×512 (INTER_LINEAR, INTER_AREA) beside the
 * sharp (libvips) linear resize they replaced, and random_perspective's warp of a 1280² mosaic canvas (with its mask)
 * to 640² beside the JavaScript loop it replaced (test/data/warp-reference.ts). Medians and ranges over `--reps` runs (default 30) on noise images.
 *
 *   bin/sladet-node dist/bench/loader/pixels.js [--reps 30]
 */
import { loadavg } from "node:os";
import sharp from "sharp";
import { matInvert } from "../../src/data/augment/perspective.js";
import { applyHsvGainsRgb, resizeRgb, warpRgb } from "../../src/data/pixels/image-kernels.js";
import { referenceWarp } from "../../test/data/warp-reference.js";

function noise(width: number, height: number): { data: Uint8Array; width: number; height: number } {
  const data = new Uint8Array(width * height * 3);
  let s = 1;
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    data[i] = s >>> 24;
  }
  return { data, width, height };
}

async function time(reps: number, fn: () => unknown): Promise<string> {
  const ms: number[] = [];
  for (let k = 0; k < reps; k++) {
    const t = process.hrtime.bigint();
    await fn();
    ms.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  ms.sort((a, b) => a - b);
  return `${ms[Math.floor(reps / 2)]!.toFixed(2)} ms (${ms[0]!.toFixed(2)}–${ms[reps - 1]!.toFixed(2)})`;
}

async function main(): Promise<void> {
  const i = process.argv.indexOf("--reps");
  const reps = i > 0 ? Number(process.argv[i + 1]) : 30;
  const square = noise(640, 640);
  const big = noise(1000, 800);
  console.log(`load average before: ${loadavg().map((v) => v.toFixed(1))}`);
  console.log(`augment_hsv 640×640: ${await time(reps, () => applyHsvGainsRgb(square, 1.01, 1.3, 0.8))}`);
  console.log(`INTER_LINEAR 1000×800 → 640×512: ${await time(reps, () => resizeRgb(big, 640, 512, "linear"))}`);
  console.log(`INTER_AREA 1000×800 → 640×512: ${await time(reps, () => resizeRgb(big, 640, 512, "area"))}`);
  const raw = { raw: { width: 1000, height: 800, channels: 3 as const } };
  console.log(
    `sharp linear 1000×800 → 640×512: ${await time(reps, () => sharp(big.data, raw).resize(640, 512, { fit: "fill", kernel: "linear" }).raw().toBuffer())}`,
  );
  const canvas = noise(1280, 1280);
  const mask = new Uint8Array(1280 * 1280).fill(1);
  // a mosaic's typical draw: scale 0.8, rotation 0, translate into the 640² output
  const inv = matInvert([0.8, 0, -192, 0, 0.8, -192, 0, 0, 1]);
  console.log(
    `warp 1280² → 640² (native): ${await time(reps, () => warpRgb({ image: canvas, mask }, inv, 640, 640, 114, 0))}`,
  );
  console.log(
    `warp 1280² → 640² (former JS loop): ${await time(reps, () => referenceWarp(canvas.data, 1280, 1280, mask, inv, 640, 640, 114, 0))}`,
  );
  console.log(`load average after: ${loadavg().map((v) => v.toFixed(1))}`);
}

await main();
