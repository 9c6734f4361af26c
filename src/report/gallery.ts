/**
 * The picture gallery: each image as a small embedded JPEG (a data URI made with sharp) under an inline SVG that draws
 * ground truth, predictions and the labelled region in the original image's pixels. Checkboxes (plain CSS, no
 * script) switch each layer on and off.
 */
import { basename } from "node:path";
import sharp from "sharp";
import { readImageRgb } from "../data/images.js";
import { esc } from "./html.js";

/** Longest side of a thumbnail in pixels. */
export const THUMBNAIL_SIZE = 480;
/** JPEG quality of thumbnails. */
export const THUMBNAIL_QUALITY = 80;

/** x1, y1, x2, y2 in pixels of the original image. */
export type Box = readonly [number, number, number, number];

export interface Drawn {
  box: Box;
  /** Text on the box (predictions only). */
  tag?: string;
  /** Hover text. */
  tooltip: string;
}

export interface GalleryItem {
  /** The image file to embed. */
  file: string;
  /** Size of the original image: the frame of every box. */
  width: number;
  height: number;
  region: Box | null;
  truth: readonly Drawn[];
  predictions: readonly Drawn[];
  /** One line under the file name (counts). */
  summary: string;
  /** Extra HTML under the picture, folded (e.g. a table of the detections). Already escaped. */
  detailsHtml?: string;
}

export interface Thumbnail {
  dataUri: string;
  width: number;
  height: number;
}

/** A JPEG thumbnail of `file` as a data URI (EXIF orientation applied); null when it cannot be read. */
export async function thumbnail(file: string, size = THUMBNAIL_SIZE): Promise<Thumbnail | null> {
  try {
    const rgb = await readImageRgb(file); // EXIF orientation applied; BMP too, as the loader reads it
    const { data, info } = await sharp(rgb.data, { raw: { width: rgb.width, height: rgb.height, channels: 3 } })
      .resize({ width: size, height: size, fit: "inside", withoutEnlargement: true })
      .jpeg({ quality: THUMBNAIL_QUALITY })
      .toBuffer({ resolveWithObject: true });
    return { dataUri: `data:image/jpeg;base64,${data.toString("base64")}`, width: info.width, height: info.height };
  } catch {
    return null;
  }
}

const r1 = (v: number) => Math.round(v * 10) / 10;

function rect(b: Box, className: string): string {
  const [x1, y1, x2, y2] = b;
  return `<rect class="${className}" x="${r1(x1)}" y="${r1(y1)}" width="${r1(Math.max(0, x2 - x1))}" height="${r1(Math.max(0, y2 - y1))}" vector-effect="non-scaling-stroke"/>`;
}

/** The label of a prediction: a filled strip above the box (inside it at the top edge of the image). */
function tag(d: Drawn, fontSize: number): string {
  if (!d.tag) return "";
  const [x1, y1] = d.box;
  const w = d.tag.length * fontSize * 0.56 + fontSize * 0.5;
  const h = fontSize * 1.25;
  const top = y1 - h >= 0 ? y1 - h : y1;
  return (
    `<g class="tag"><rect x="${r1(x1)}" y="${r1(top)}" width="${r1(w)}" height="${r1(h)}"/>` +
    `<text x="${r1(x1 + fontSize * 0.25)}" y="${r1(top + fontSize * 0.95)}" font-size="${r1(fontSize)}">${esc(d.tag)}</text></g>`
  );
}

/** The SVG drawn over the picture (viewBox = original pixels, so boxes need no scaling). */
export function overlay(item: GalleryItem): string {
  const fontSize = Math.max(item.width, item.height) / 30;
  const parts: string[] = [];
  if (item.region) parts.push(`<g class="region"><title>labelled region</title>${rect(item.region, "box")}</g>`);
  for (const t of item.truth) parts.push(`<g class="gt"><title>${esc(t.tooltip)}</title>${rect(t.box, "box")}</g>`);
  // least confident first, so the most confident labels end up on top
  for (const p of [...item.predictions].reverse())
    parts.push(`<g class="pred"><title>${esc(p.tooltip)}</title>${rect(p.box, "box")}${tag(p, fontSize)}</g>`);
  return `<svg class="overlay" viewBox="0 0 ${item.width} ${item.height}" preserveAspectRatio="none" aria-hidden="true">${parts.join("")}</svg>`;
}

function figure(item: GalleryItem, thumb: Thumbnail | null): string {
  const name = basename(item.file);
  const picture = thumb
    ? `<img src="${thumb.dataUri}" width="${thumb.width}" height="${thumb.height}" alt="${esc(name)}">`
    : `<div class="missing">image not found:<br>${esc(item.file)}</div>`;
  const details = item.detailsHtml ? `<details><summary>details</summary>${item.detailsHtml}</details>` : "";
  return (
    `<figure class="shot"><div class="frame" style="aspect-ratio: ${item.width} / ${item.height}">${picture}${overlay(item)}</div>` +
    `<figcaption><div class="file" title="${esc(item.file)}">${esc(name)}</div><div class="counts">${esc(item.summary)}</div></figcaption>${details}</figure>`
  );
}

export interface GalleryOptions {
  /** Show the ground-truth and region switches (not for detect runs). @default true */
  truth?: boolean;
}

/** The switches and the grid of figures; thumbnails are made in parallel. */
export async function gallery(items: readonly GalleryItem[], options: GalleryOptions = {}): Promise<string> {
  const thumbs = await Promise.all(items.map((it) => thumbnail(it.file)));
  const truth = options.truth ?? true;
  const toggle = (id: string, label: string, key: string | null) =>
    `<input type="checkbox" id="${id}" checked><label for="${id}">` +
    `${key ? `<span class="legend-key"><i class="${key}"></i>` : "<span>"}${esc(label)}</span></label>`;
  const hasRegion = items.some((it) => it.region);
  const toggles = [
    truth ? toggle("show-gt", "ground truth", "gt") : "",
    toggle("show-pred", "predictions", "pred"),
    truth && hasRegion ? toggle("show-region", "labelled region", "region") : "",
    toggle("show-labels", "labels", null),
  ].join("\n");
  const figures = items.map((it, i) => figure(it, thumbs[i] ?? null)).join("\n");
  // the inputs are siblings of the grid: the CSS hides a layer when its box is unchecked
  return `<div class="toggles">\n${toggles}\n<div class="gallery">\n${figures}\n</div>\n</div>`;
}
