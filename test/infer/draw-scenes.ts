/**
 * Fixed scenes for the drawing tests: an image (a smooth synthetic background) and cells to draw on it. The goldens
 * test/fixtures/draw-<scene>.png were drawn from these scenes by the SVG renderer that `drawAnnotated` used up to
 * commit 19285e8 (an SVG overlay rendered by librsvg and composited by sharp), encoded as PNG.
 */

import type { RgbImage } from "../../src/data/images.js";
import { LLD_CLASS_NAMES } from "../../src/data/schema.js";
import { attributeCodeParts } from "../../src/infer/attribute-code.js";
import type { DrawnCell, DrawOptions } from "../../src/infer/draw.js";

/** A scene: what to draw and how. */
export interface DrawScene {
  image: () => RgbImage;
  cells: DrawnCell[];
  names: readonly string[];
  options: DrawOptions;
}

/** A smooth, pinkish, deterministic background (a smear-like field without cells). */
function background(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      data[o] = Math.round(205 + 30 * Math.sin(x / 37));
      data[o + 1] = Math.round(175 + 25 * Math.cos(y / 23));
      data[o + 2] = Math.round(195 + 20 * Math.sin((x + y) / 50));
    }
  return { data, width, height };
}

const certain = [1, 1, 1, 1, 1, 1, 1];

/**
 * "lld": 400×300, LLD classes, the default line width (2 px, font 12 px): labels above boxes, inside the box at the
 * top edge, pushed left at the right edge, faded letters, light and dark class colours, a box without attributes,
 * overlapping boxes, fractional coordinates.
 */
export const LLD_SCENE: DrawScene = {
  image: () => background(400, 300),
  names: LLD_CLASS_NAMES,
  options: {},
  cells: [
    {
      box: [20.4, 60.7, 110.2, 150.9],
      cls: 1,
      confidence: 0.93,
      code: attributeCodeParts([1, 1, 1, 0, 1, 0, 0], certain),
    },
    {
      box: [150, 2.5, 230.6, 80.3],
      cls: 3,
      confidence: 0.71,
      code: attributeCodeParts([0, 0, 1, 1, 0, 1, 1], [0.9, 0.5, 0.95, 0.6, 1, 0.4, 0.99]),
    },
    {
      box: [340.3, 120.1, 399, 200.5],
      cls: 9,
      confidence: 0.55,
      code: attributeCodeParts([2, 1, 0, 1, 1, 1, 0], certain),
    },
    { box: [90.8, 130.2, 180.1, 230.7], cls: 7, confidence: 0.88 },
    {
      box: [230, 200, 300.5, 290.5],
      cls: 12,
      confidence: 0.42,
      code: attributeCodeParts([1, 0, 0, 0, 0, 0, 1], certain),
    },
    { box: [5, 250.2, 30, 275], cls: 0, confidence: 0.3, code: attributeCodeParts([0, 0, 0, 0, 0, 0, 0], certain) },
  ],
};

/** "wide": 240×160, other class names (one with Latin-1 letters), line width 3 (font 18 px), no confidences. */
export const WIDE_SCENE: DrawScene = {
  image: () => background(240, 160),
  names: ["Myélocyte", "cell"],
  options: { lineThickness: 3, hideConf: true },
  cells: [
    { box: [10, 60, 120, 150], cls: 0, confidence: 0.9, code: attributeCodeParts([2, 0, 1, 0, 1, 1, 0], certain) },
    {
      box: [130.5, 1.2, 235.5, 90.5],
      cls: 1,
      confidence: 0.6,
      code: attributeCodeParts([1, 1, 1, 1, 1, 1, 1], [1, 0.3, 1, 1, 1, 1, 0.2]),
    },
  ],
};

export const SCENES = { lld: LLD_SCENE, wide: WIDE_SCENE } as const;
