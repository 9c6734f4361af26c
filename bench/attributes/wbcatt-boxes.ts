/**
 * A contact sheet of crops of a dataset written by `sladet convert --from wbcatt`, each with its label box drawn by
 * sladet's own drawing code (class name and attribute code), to look at how the stain-colour boxes fit (issue 25).
 * Crops are taken every `stride`-th label file of the split, so the sheet mixes the classes as the split does.
 *   bin/sladet-node dist/bench/attributes/wbcatt-boxes.js DATA_DIR [split=test] [count=24] [out=wbcatt-boxes.jpg]
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import sharp, { type OverlayOptions } from "sharp";
import { readLldLabelFile } from "../../src/data/formats/lld.js";
import { readImageRgb } from "../../src/data/images.js";
import { LLD_CLASS_NAMES } from "../../src/data/schema.js";
import { attributeCodeParts } from "../../src/infer/attribute-code.js";
import { drawAnnotated } from "../../src/infer/draw.js";

const [root, split = "test", countArg = "24", out = "wbcatt-boxes.jpg"] = process.argv.slice(2);
if (!root) throw new Error("usage: wbcatt-boxes.js DATA_DIR [split] [count] [out]");
const TILE = 240;
const COLUMNS = 6;
const labelDir = join(root, "labels", split);
const files = readdirSync(labelDir)
  .filter((f) => f.endsWith(".txt"))
  .sort();
const count = Math.min(Number(countArg), files.length);
const stride = Math.max(1, Math.floor(files.length / count));
const tiles: OverlayOptions[] = [];
for (let i = 0; i < count; i++) {
  const file = files[i * stride]!;
  const stem = file.slice(0, -4);
  const image = await readImageRgb(join(root, "images", split, `${stem}.jpg`));
  const labels = readLldLabelFile(join(labelDir, file)).labels;
  const cells = labels.map((l) => ({
    box: [
      (l.xc - l.w / 2) * image.width,
      (l.yc - l.h / 2) * image.height,
      (l.xc + l.w / 2) * image.width,
      (l.yc + l.h / 2) * image.height,
    ] as const,
    cls: l.cls,
    confidence: 1,
    code: attributeCodeParts(l.attributes),
  }));
  const drawn = await drawAnnotated(image, cells, LLD_CLASS_NAMES, "jpeg", { hideConf: true });
  const input = await sharp(drawn).resize(TILE, TILE, { fit: "fill" }).toBuffer();
  tiles.push({ input, left: (i % COLUMNS) * TILE, top: Math.floor(i / COLUMNS) * TILE });
  process.stdout.write(`${stem}: ${cells.map((c) => c.box.map((v) => v.toFixed(0)).join(" ")).join("; ")}\n`);
}
const rows = Math.ceil(count / COLUMNS);
await sharp({ create: { width: COLUMNS * TILE, height: rows * TILE, channels: 3, background: "#ffffff" } })
  .composite(tiles)
  .jpeg({ quality: 85 })
  .toFile(out);
process.stdout.write(`wrote ${out}\n`);
