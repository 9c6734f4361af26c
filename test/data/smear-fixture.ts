/**
 * Tiny synthetic "blood smear" datasets for loader tests, benchmarks and the batch picture: pink background, purple
 * round cells, a labelled region per image (or none = dense) and LLD label files listing only the cells whose centre
 * lies in the region, exactly as sparse annotation works.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import sharp from "sharp";
import { writeDataYaml } from "../../src/data/dataset-yaml.js";
import { writeLldLabelFile } from "../../src/data/formats/lld.js";
import { type CellLabel, LLD_ATTRIBUTES, LLD_CLASS_NAMES, type PixelRect } from "../../src/data/schema.js";
import { Rng } from "../../src/util/random.js";

/** One image of a fixture dataset. */
export interface SmearSpec {
  width: number;
  height: number;
  /** Labelled region in pixels; null = dense. */
  region: PixelRect | null;
  format?: "png" | "jpeg";
  /** Number of cells drawn. @default 12 */
  cells?: number;
}

/** Writes one smear image and its label file; returns the labels written. */
async function writeSmear(imagePath: string, labelPath: string, spec: SmearSpec, rng: Rng): Promise<CellLabel[]> {
  const { width, height, region } = spec;
  const circles: string[] = [];
  const labels: CellLabel[] = [];
  for (let c = 0; c < (spec.cells ?? 12); c++) {
    const r = rng.uniform(10, 28);
    const x = rng.uniform(r, width - r);
    const y = rng.uniform(r, height - r);
    circles.push(
      `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="${r.toFixed(1)}" fill="#b48cc8"/>`,
      `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="${(r * 0.55).toFixed(1)}" fill="#503278"/>`,
    );
    const inside = !region || (x >= region.x1 && x < region.x2 && y >= region.y1 && y < region.y2);
    if (!inside) continue;
    labels.push({
      cls: 1 + rng.int(0, LLD_CLASS_NAMES.length - 1),
      xc: x / width,
      yc: y / height,
      w: (2 * r) / width,
      h: (2 * r) / height,
      attributes: LLD_ATTRIBUTES.map((a) => rng.int(0, a.values.length)),
    });
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="#f0d2d7"/>${circles.join("")}</svg>`;
  const img = sharp(Buffer.from(svg)).removeAlpha();
  await (spec.format === "jpeg" ? img.jpeg({ quality: 90 }) : img.png()).toFile(imagePath);
  writeLldLabelFile(
    labelPath,
    { image: imagePath, width, height, region, labels },
    { attributes: LLD_ATTRIBUTES, denseRegion: "omit" },
  );
  return labels;
}

/** Writes a dataset (train = val) of the given images under `dir`; returns the data YAML's path. */
export async function writeSmearDataset(dir: string, specs: readonly SmearSpec[], seed = 1): Promise<string> {
  const rng = new Rng(seed);
  mkdirSync(join(dir, "images", "train"), { recursive: true });
  mkdirSync(join(dir, "labels", "train"), { recursive: true });
  for (const [i, spec] of specs.entries()) {
    const name = `smear${String(i).padStart(3, "0")}`;
    const ext = spec.format === "jpeg" ? "jpg" : "png";
    await writeSmear(
      join(dir, "images", "train", `${name}.${ext}`),
      join(dir, "labels", "train", `${name}.txt`),
      spec,
      rng,
    );
  }
  const yaml = join(dir, "data.yaml");
  writeDataYaml(yaml, {
    path: ".",
    train: "images/train",
    val: "images/train",
    names: LLD_CLASS_NAMES,
    attributes: LLD_ATTRIBUTES,
  });
  return yaml;
}

/** A mixed little dataset: sizes 640×480, 500×500, 800×600, 480×640, a dense image, PNG and JPEG. */
export const MIXED_SPECS: readonly SmearSpec[] = [
  { width: 640, height: 480, region: { x1: 100, y1: 80, x2: 400, y2: 330 }, format: "jpeg" },
  { width: 500, height: 500, region: { x1: 250, y1: 0, x2: 500, y2: 260 } },
  { width: 800, height: 600, region: null, format: "jpeg" },
  { width: 480, height: 640, region: { x1: 40, y1: 300, x2: 460, y2: 620 } },
  { width: 640, height: 640, region: { x1: 200, y1: 200, x2: 520, y2: 456 } },
  { width: 640, height: 480, region: { x1: 0, y1: 0, x2: 320, y2: 240 } },
];
