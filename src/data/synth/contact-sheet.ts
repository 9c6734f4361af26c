/**
 * A contact sheet of synthetic samples, to see at a glance that the images look like blood films and that the
 * attributes are visible: a row of whole fields of view with their boxes and labelled region, then enlarged crops of
 * white cells grouped by class, each captioned with its class and attribute codes (LLD_ATTRIBUTES[i].code + value,
 * "?" when unknown).
 */
import sharp, { type OverlayOptions } from "sharp";
import { CLASS_COLOURS, LLD_ATTRIBUTES, LLD_CLASS_NAMES } from "../schema.js";
import { cellBox, regionHoldsCentre } from "./annotate.js";
import { synthesizeImage } from "./image.js";

/** Options of {@link makeContactSheet}. */
export interface ContactSheetOptions {
  /** Dataset seed of the samples. @default 0 */
  seed?: number;
  /** Size of the rendered images. @default 640 */
  imageSize?: number;
  /** Objects drawn this many times larger than an LLD field of view's at this size (generateScene). @default 1 */
  magnification?: number;
  /** Labelled-region area of the whole-image samples (the last one is shown dense). @default 0.2 */
  sparseArea?: number;
  /** Whole fields of view in the top row. @default 3 */
  fields?: number;
  /** Crops per class. @default 4 */
  cropsPerClass?: number;
  /** JPEG quality of the sheet. @default 80 */
  quality?: number;
}

/** Sheet layout in pixels. */
const FIELD_SIZE = 500;
const TILE = 116;
const CAPTION = 40;
const COLUMNS = 12;
const GAP = 6;
const TITLE = 28;
const LEGEND = 40;
/** Crop margin around a cell's box, as a fraction of its larger side. */
const CROP_MARGIN = 0.15;
/** Images scanned at most while looking for crops of every class. */
const MAX_SCAN = 400;

/** Class names too long for a tile caption. */
const SHORT_NAMES: Readonly<Record<number, string>> = { 4: "Atypical lymph.", 9: "Abn. promyelo." };

function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Attribute codes of a label, e.g. ["CS2 NC1 NS0 NU1", "CY0 CB1 CV?"]. */
export function attributeCodes(attributes: readonly number[]): [string, string] {
  const parts = LLD_ATTRIBUTES.map((spec, i) => {
    const v = attributes[i] ?? -1;
    return `${spec.code}${v >= 0 && v < spec.values.length ? v : "?"}`;
  });
  return [parts.slice(0, 4).join(" "), parts.slice(4).join(" ")];
}

function rawToPng(rgb: Uint8Array, width: number, height: number) {
  return sharp(rgb, { raw: { width, height, channels: 3 } });
}

/** Renders the contact sheet as a JPEG buffer. */
export async function makeContactSheet(options: ContactSheetOptions = {}): Promise<Buffer> {
  const {
    seed = 0,
    imageSize = 640,
    magnification = 1,
    sparseArea = 0.2,
    fields = 3,
    cropsPerClass = 4,
    quality = 80,
  } = options;
  const width = COLUMNS * (TILE + GAP) + GAP;
  const fieldSize = Math.min(FIELD_SIZE, Math.floor((width - GAP * (fields + 1)) / fields));
  const composites: OverlayOptions[] = [];
  const svg: string[] = [];
  let y = GAP;
  svg.push(
    `<text x="${GAP}" y="${y + 18}" font-size="17" font-weight="bold">sladet synth: fields of view (boxes; yellow = labelled region, dashed = unlabelled cell; last field dense)</text>`,
  );
  y += TITLE;

  // Whole fields of view.
  const scale = fieldSize / imageSize;
  for (let f = 0; f < fields; f++) {
    const sparse = f < fields - 1 ? sparseArea : null;
    const img = synthesizeImage({ seed, index: f, imageSize, magnification, sparseArea: sparse });
    const x0 = GAP + f * (fieldSize + GAP);
    composites.push({
      input: await rawToPng(img.rgb, imageSize, imageSize).resize(fieldSize, fieldSize).png().toBuffer(),
      left: x0,
      top: y,
    });
    const region = img.annotation.region;
    for (const cell of img.scene.whiteCells) {
      const b = cellBox(cell, imageSize, imageSize);
      const labelled =
        !region ||
        regionHoldsCentre(
          region,
          { cls: 0, xc: (b.x1 + b.x2) / 2 / imageSize, yc: (b.y1 + b.y2) / 2 / imageSize, w: 0, h: 0, attributes: [] },
          imageSize,
          imageSize,
        );
      const colour = CLASS_COLOURS[cell.cls]!;
      svg.push(
        `<rect x="${x0 + b.x1 * scale}" y="${y + b.y1 * scale}" width="${(b.x2 - b.x1) * scale}" height="${(b.y2 - b.y1) * scale}" fill="none" stroke="${colour}" stroke-width="2"${labelled ? "" : ' stroke-dasharray="4 3"'}/>`,
        `<text x="${x0 + b.x1 * scale + 2}" y="${y + b.y1 * scale - 3}" font-size="12" font-weight="bold" fill="${colour}" stroke="black" stroke-width="0.4">${cell.cls}</text>`,
      );
    }
    if (region) {
      svg.push(
        `<rect x="${x0 + region.x1 * scale}" y="${y + region.y1 * scale}" width="${(region.x2 - region.x1) * scale}" height="${(region.y2 - region.y1) * scale}" fill="none" stroke="yellow" stroke-width="2.5"/>`,
      );
    }
  }
  y += fieldSize + GAP;

  // Crops grouped by class: scan images until every class has enough examples.
  svg.push(
    `<text x="${GAP}" y="${y + 18}" font-size="17" font-weight="bold">White cells by class (enlarged), with attribute codes</text>`,
  );
  y += TITLE;
  const crops: Array<{ cls: number; png: Buffer; attributes: number[] }> = [];
  const counts = new Array<number>(LLD_CLASS_NAMES.length).fill(0);
  for (let index = fields; index < fields + MAX_SCAN && counts.some((c) => c < cropsPerClass); index++) {
    const img = synthesizeImage({ seed, index, imageSize, magnification });
    for (const cell of img.scene.whiteCells) {
      if (counts[cell.cls]! >= cropsPerClass) continue;
      const b = cellBox(cell, imageSize, imageSize);
      const side = Math.max(b.x2 - b.x1, b.y2 - b.y1) * (1 + 2 * CROP_MARGIN);
      const cx = (b.x1 + b.x2) / 2;
      const cy = (b.y1 + b.y2) / 2;
      const left = Math.round(Math.max(0, Math.min(imageSize - side, cx - side / 2)));
      const top = Math.round(Math.max(0, Math.min(imageSize - side, cy - side / 2)));
      const s = Math.min(imageSize, Math.round(side));
      const png = await rawToPng(img.rgb, imageSize, imageSize)
        .extract({ left, top, width: s, height: s })
        .resize(TILE, TILE, { kernel: "lanczos3" })
        .png()
        .toBuffer();
      crops.push({ cls: cell.cls, png, attributes: cell.labelAttributes });
      counts[cell.cls]!++;
    }
  }
  crops.sort((a, b) => a.cls - b.cls);
  crops.forEach((crop, i) => {
    const cx = GAP + (i % COLUMNS) * (TILE + GAP);
    const cy = y + Math.floor(i / COLUMNS) * (TILE + CAPTION + GAP);
    composites.push({ input: crop.png, left: cx, top: cy });
    const [l1, l2] = attributeCodes(crop.attributes);
    const name = SHORT_NAMES[crop.cls] ?? LLD_CLASS_NAMES[crop.cls]!;
    svg.push(
      `<rect x="${cx}" y="${cy}" width="${TILE}" height="${TILE}" fill="none" stroke="${CLASS_COLOURS[crop.cls]}" stroke-width="3"/>`,
      `<text x="${cx + 1}" y="${cy + TILE + 11}" font-size="10.5" font-weight="bold">${crop.cls} ${escapeXml(name)}</text>`,
      `<text x="${cx + 1}" y="${cy + TILE + 24}" font-size="11" font-family="DejaVu Sans Mono, monospace">${l1}</text>`,
      `<text x="${cx + 1}" y="${cy + TILE + 37}" font-size="11" font-family="DejaVu Sans Mono, monospace">${l2}</text>`,
    );
  });
  y += Math.ceil(crops.length / COLUMNS) * (TILE + CAPTION + GAP);

  const legend = LLD_ATTRIBUTES.map((a) => `${a.code} ${a.name}: ${a.values.map((v, i) => `${i} ${v}`).join(", ")}`);
  svg.push(
    `<text x="${GAP}" y="${y + 14}" font-size="12">${escapeXml(legend.slice(0, 4).join("  |  "))}</text>`,
    `<text x="${GAP}" y="${y + 30}" font-size="12">${escapeXml(legend.slice(4).join("  |  "))}  |  ? unknown</text>`,
  );
  y += LEGEND;

  const height = y;
  const overlay = Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="DejaVu Sans, sans-serif">${svg.join("")}</svg>`,
  );
  return sharp({ create: { width, height, channels: 3, background: "#ffffff" } })
    .composite([...composites, { input: overlay, left: 0, top: 0 }])
    .jpeg({ quality })
    .toBuffer();
}
