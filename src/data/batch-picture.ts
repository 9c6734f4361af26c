/**
 * The train-batch picture YOLOv5 users expect (`train_batch0.jpg`): up to 16 images of a batch in a grid, each with
 * its target boxes and class labels, and the labelled-region mask drawn on top: unlabelled pixels dimmed, the edge of
 * the labelled area outlined. A box whose centre is outside the mask is drawn dashed (it is a real object in an area
 * the mask does not vouch for, e.g. after mixup). Works on a {@link RawBatch}: no torch.
 */
import { basename } from "node:path";
import sharp from "sharp";
import { writeFileAtomic } from "../util/fs.js";
import { resizeNearest } from "./augment/index.js";
import { resizeRgb } from "./pixels/image-kernels.js";
import { type RawBatch, TARGET_BOX_FIELDS } from "./raw-batch.js";

/** Options of {@link renderBatchPicture}. */
export interface BatchPictureOptions {
  /** Class names for the labels (class ids shown when absent). @default undefined */
  names?: readonly string[];
  /** Image files of the batch, shown above each tile. @default undefined */
  files?: readonly string[];
  /** Longest side of the whole picture in pixels. @default 1920 */
  maxSize?: number;
  /** Most images drawn. @default 16 */
  maxImages?: number;
  /** Brightness kept in unlabelled areas (0 = black, 1 = not dimmed). @default 0.45 */
  unlabelledBrightness?: number;
  /** JPEG quality. @default 85 */
  quality?: number;
}

/** Box colours by class (a fixed, colour-blind-friendly-ish palette, cycled). */
const PALETTE = [
  "#FF3838",
  "#FF9D97",
  "#FF701F",
  "#FFB21D",
  "#CFD231",
  "#48F90A",
  "#92CC17",
  "#3DDB86",
  "#1A9334",
  "#00D4BB",
  "#2C99A8",
  "#00C2FF",
  "#344593",
  "#6473FF",
  "#0018EC",
  "#8438FF",
  "#520085",
  "#CB38FF",
  "#FF95C8",
  "#FF37C7",
];
/** Colour of the region outline (RGB). */
const OUTLINE: readonly [number, number, number] = [0, 255, 0];
/** Grid background and tile border. */
const BACKGROUND = 255;

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Renders the picture; resolves to JPEG bytes. */
export async function renderBatchPicture(batch: RawBatch, options: BatchPictureOptions = {}): Promise<Buffer> {
  const { maxSize = 1920, maxImages = 16, unlabelledBrightness = 0.45, quality = 85 } = options;
  const n = Math.min(batch.size, maxImages);
  const ns = Math.ceil(Math.sqrt(n));
  const { height: H, width: W } = batch;
  const scale = Math.min(1, maxSize / ns / Math.max(H, W));
  const h = Math.ceil(H * scale);
  const w = Math.ceil(W * scale);
  const gridW = ns * w;
  const gridH = Math.ceil(n / ns) * h;
  const canvas = new Uint8Array(gridW * gridH * 3).fill(BACKGROUND);
  const plane = H * W;
  const svg: string[] = [];
  const stride = TARGET_BOX_FIELDS + batch.numAttributes;
  const font = Math.max(10, Math.round(h / 40));
  for (let b = 0; b < n; b++) {
    const ox = (b % ns) * w;
    const oy = Math.floor(b / ns) * h;
    // CHW bytes → HWC bytes at full size, then scaled to the tile
    const full = new Uint8Array(plane * 3);
    const base = b * 3 * plane;
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < 3; c++) full[p * 3 + c] = batch.images[base + c * plane + p]!;
    }
    const fullMask = batch.masks.subarray(b * plane, (b + 1) * plane);
    const tile = resizeRgb({ data: full, width: W, height: H }, w, h, "linear").data;
    const mask = resizeNearest({ data: fullMask, width: W, height: H }, w, h).data;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const p = y * w + x;
        const m = mask[p]!;
        const edge =
          m === 1 &&
          (x === 0 ||
            y === 0 ||
            x === w - 1 ||
            y === h - 1 ||
            mask[p - 1] !== 1 ||
            mask[p + 1] !== 1 ||
            mask[p - w] !== 1 ||
            mask[p + w] !== 1);
        const o = ((oy + y) * gridW + ox + x) * 3;
        for (let c = 0; c < 3; c++) {
          const v = tile[p * 3 + c]!;
          canvas[o + c] = edge ? OUTLINE[c]! : m === 1 ? v : Math.round(v * unlabelledBrightness);
        }
      }
    }
    svg.push(
      `<rect x="${ox + 0.5}" y="${oy + 0.5}" width="${w - 1}" height="${h - 1}" fill="none" stroke="#fff" stroke-width="2"/>`,
    );
    const file = options.files?.[b];
    if (file) {
      svg.push(
        `<text x="${ox + 4}" y="${oy + font + 2}" font-size="${font}" font-family="sans-serif" fill="#dcdcdc" stroke="#000" stroke-width="0.6">${escapeXml(basename(file).slice(0, 40))}</text>`,
      );
    }
  }
  for (let r = 0; r < batch.numTargets; r++) {
    const t = batch.targets.subarray(r * stride, (r + 1) * stride);
    const b = t[0]!;
    if (b >= n) continue;
    const cls = t[1]!;
    const ox = (b % ns) * w;
    const oy = Math.floor(b / ns) * h;
    const bw = t[4]! * w;
    const bh = t[5]! * h;
    const x1 = ox + t[2]! * w - bw / 2;
    const y1 = oy + t[3]! * h - bh / 2;
    const colour = PALETTE[cls % PALETTE.length]!;
    const cx = Math.min(W - 1, Math.floor(t[2]! * W));
    const cy = Math.min(H - 1, Math.floor(t[3]! * H));
    const inside = batch.masks[b * plane + cy * W + cx] === 1;
    const dash = inside ? "" : ` stroke-dasharray="4 3"`;
    svg.push(
      `<rect x="${x1.toFixed(1)}" y="${y1.toFixed(1)}" width="${bw.toFixed(1)}" height="${bh.toFixed(1)}" fill="none" stroke="${colour}" stroke-width="2"${dash}/>`,
    );
    const label = escapeXml(options.names?.[cls] ?? String(cls));
    svg.push(
      `<text x="${(x1 + 2).toFixed(1)}" y="${(y1 - 3).toFixed(1)}" font-size="${font}" font-family="sans-serif" fill="${colour}" stroke="#000" stroke-width="0.5">${label}</text>`,
    );
  }
  const overlay = Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${gridW}" height="${gridH}">${svg.join("")}</svg>`,
  );
  return sharp(canvas, { raw: { width: gridW, height: gridH, channels: 3 } })
    .composite([{ input: overlay, top: 0, left: 0 }])
    .jpeg({ quality })
    .toBuffer();
}

/** Renders the picture and writes it (atomically) to `path`. */
export async function saveBatchPicture(
  path: string,
  batch: RawBatch,
  options: BatchPictureOptions = {},
): Promise<void> {
  writeFileAtomic(path, await renderBatchPicture(batch, options));
}
