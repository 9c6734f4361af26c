/**
 * Speed of the synthetic-data generator: images/s for JPEG and PNG output at a given size, writing a real dataset
 * (render, encode, label files, COCO, YAML) into a temporary folder. Run pinned to one core for the goal:
 *   taskset -c 0 node dist/bench/synth.js [images=300] [imgsz=640]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { generateDataset } from "../src/data/synth/dataset.js";
import { IMAGE_FORMATS } from "../src/data/synth/encode.js";

const images = Number(process.argv[2] ?? 300);
const imageSize = Number(process.argv[3] ?? 640);
const root = mkdtempSync(join(tmpdir(), "sladet-bench-synth-"));
try {
  process.stdout.write(`cpu: ${cpus()[0]?.model ?? "?"}; ${images} images of ${imageSize} px, sparse 0.2, seed 1\n`);
  for (const format of IMAGE_FORMATS) {
    const s = await generateDataset({ out: join(root, format), images, imageSize, seed: 1, sparseArea: 0.2, format });
    process.stdout.write(`${format}: ${s.imagesPerSecond.toFixed(1)} images/s (${s.seconds.toFixed(2)} s)\n`);
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
