/**
 * The annotated images' renderer (src/infer/draw.ts): box outlines in the class colour at the box edges, the label
 * background above the box (inside it at the image's top edge), text pixels in the label, faded letters, the label
 * content options; the output against goldens drawn by the SVG renderer it replaced; characters without a glyph.
 * No engine needed.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import sharp from "sharp";
import type { RgbImage } from "../../src/data/images.js";
import { classColour } from "../../src/data/schema.js";
import { attributeCodeParts } from "../../src/infer/attribute-code.js";
import { type DrawnCell, drawAnnotated, drawCells, labelLines } from "../../src/infer/draw.js";
import { GLYPH_PHASES, glyphAtlas, glyphPhases, REPLACEMENT_CHARACTER } from "../../src/infer/glyph-atlas.js";
import { fixturePath } from "../helpers.js";
import { SCENES } from "./draw-scenes.js";

const GREY = 128;
const grey = (width = 200, height = 150): RgbImage => ({
  data: new Uint8Array(width * height * 3).fill(GREY),
  width,
  height,
});
const pixel = (img: RgbImage, x: number, y: number) => {
  const o = (y * img.width + x) * 3;
  return [img.data[o]!, img.data[o + 1]!, img.data[o + 2]!];
};
const rgb = (hex: string) => [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16));
/** Pixels of [x0, x1) × [y0, y1) for which `pred(r, g, b)` holds. */
function count(img: RgbImage, x0: number, y0: number, x1: number, y1: number, pred: (p: number[]) => boolean): number {
  let n = 0;
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) if (pred(pixel(img, x, y))) n++;
  return n;
}
const certain = [1, 1, 1, 1, 1, 1, 1];
const NAMES = ["a", "b", "c", "d"];

describe("drawing annotated images", () => {
  // default line width 2, font 12 px: label line height 14.4, padding 3; two lines → label 31.8 px high
  const below: DrawnCell = {
    box: [40, 60, 120, 130],
    cls: 0,
    confidence: 0.91,
    code: attributeCodeParts([1, 0, 1, 0, 1, 0, 1], certain),
  };
  const atTop: DrawnCell = {
    box: [130, 5, 190, 100],
    cls: 3,
    confidence: 0.5,
    code: attributeCodeParts([0, 0, 0, 0, 0, 0, 0], certain),
  };

  test("box outlines in the class colour on the box edges, label background above the box with light text", async () => {
    const img = grey();
    await drawCells(img, [below], NAMES);
    const colour = rgb(classColour(0, NAMES));
    assert.equal(classColour(0, NAMES), "#e6194b");
    for (const [x, y] of [
      [40, 95],
      [41, 95],
      [118, 95],
      [119, 95],
      [80, 128],
      [80, 129],
    ] as const)
      assert.deepEqual(pixel(img, x, y), colour, `edge (${x}, ${y})`);
    for (const [x, y] of [
      [39, 95],
      [42, 95],
      [117, 95],
      [120, 95],
      [80, 127],
      [80, 130],
    ] as const)
      assert.deepEqual(pixel(img, x, y), [GREY, GREY, GREY], `off the edge (${x}, ${y})`);
    // the label: rows 28.2–60, from x = 40; its padding in the class colour, nothing drawn above it
    assert.deepEqual(pixel(img, 41, 29), colour);
    assert.deepEqual(pixel(img, 41, 58), colour);
    assert.deepEqual(pixel(img, 41, 26), [GREY, GREY, GREY]);
    const light = count(img, 40, 29, 120, 60, (p) => p.every((v) => v > 200));
    assert.ok(light > 60, `light text pixels in the label: ${light}`);
    assert.equal(
      count(img, 0, 0, 200, 28, (p) => p.some((v) => v !== GREY)),
      0,
      "nothing above the label",
    );
  });

  test("at the image's top edge the label goes inside the box; dark text on a light colour", async () => {
    const img = grey();
    await drawCells(img, [atTop], NAMES);
    const colour = rgb(classColour(3, NAMES));
    assert.equal(classColour(3, NAMES), "#4363d8");
    // #4363d8 has luminance < 0.55: white text; a light class colour gets black text (checked below)
    assert.deepEqual(pixel(img, 131, 7), colour);
    assert.deepEqual(pixel(img, 131, 3), [GREY, GREY, GREY]);
    assert.ok(count(img, 130, 5, 200, 37, (p) => p.every((v) => v > 200)) > 60);

    const yellow = grey();
    const names = ["None", "Myeloblast", "Lymphoblast", "Neutrophil"]; // not LLD: the vivid palette; cls 2 = #ffe119
    assert.equal(classColour(2, names), "#ffe119");
    await drawCells(yellow, [{ ...atTop, cls: 2 }], names);
    assert.deepEqual(pixel(yellow, 131, 7), rgb("#ffe119"));
    const dark = count(yellow, 130, 5, 200, 37, (p) => p.every((v) => v < 60));
    assert.ok(dark > 60, `dark text pixels in the label: ${dark}`);
  });

  test("uncertain letters are faded; hideLabels draws boxes only; hideConf / hideAttrs shorten the label", async () => {
    const sure = grey();
    const unsure = grey();
    await drawCells(sure, [{ ...below, code: [{ text: "MOIIASP", uncertain: false }] }], NAMES);
    await drawCells(unsure, [{ ...below, code: [{ text: "MOIIASP", uncertain: true }] }], NAMES);
    // the second label line (y 44–57): white text on #e6194b; the brightest green channel above 0x19 measures the ink
    const ink = (img: RgbImage) => {
      let most = 0;
      for (let y = 44; y < 58; y++) for (let x = 43; x < 110; x++) most = Math.max(most, pixel(img, x, y)[1]! - 0x19);
      return most;
    };
    const ratio = ink(unsure) / ink(sure);
    assert.ok(ratio > 0.35 && ratio < 0.55, `faded / certain ink ${ratio.toFixed(2)} (opacity 0.45)`);

    const boxes = grey();
    await drawCells(boxes, [below, atTop], NAMES, { hideLabels: true });
    const ring = (x: number, y: number) =>
      (x >= 40 && x < 120 && y >= 60 && y < 130) || (x >= 130 && x < 190 && y >= 5 && y < 100);
    let outside = 0;
    for (let y = 0; y < 150; y++)
      for (let x = 0; x < 200; x++) if (!ring(x, y) && pixel(boxes, x, y).some((v) => v !== GREY)) outside++;
    assert.equal(outside, 0, "hideLabels: nothing drawn outside the boxes");
    assert.deepEqual(pixel(boxes, 42, 62), [GREY, GREY, GREY], "nor inside them");

    const names = ["a<b"];
    const text = (cell: DrawnCell, o = {}) => labelLines(cell, names, o).map((l) => l.map((p) => p.text).join(""));
    assert.deepEqual(text(below), ["a<b 0.91", "M·OII·ASP"]);
    assert.deepEqual(text(below, { hideConf: true }), ["a<b", text(below)[1]]);
    assert.deepEqual(text(below, { hideAttrs: true }), ["a<b 0.91"]);
    assert.deepEqual(text(below, { hideLabels: true }), []);
    assert.match(text(below)[1]!, /^M·OII·AS/);
    const oneLine = grey();
    await drawCells(oneLine, [below], NAMES, { hideAttrs: true });
    assert.deepEqual(pixel(oneLine, 41, 29), [GREY, GREY, GREY], "one line: the label starts lower");
    assert.deepEqual(pixel(oneLine, 41, 44), rgb(classColour(0, NAMES)));
  });

  /**
   * Goldens: test/fixtures/draw-<scene>.png, drawn by the SVG renderer (librsvg) before it was replaced. The glyph
   * rasters differ from librsvg's only by the sub-pixel phase (≤ 1/8 px). Measured when the raster renderer was
   * written: mean absolute difference per channel 0.385 (lld) and 0.280 (wide) over the image, 1.77 and 0.87 over the
   * pixels the golden draws on; one label in the wrong place, or confidences left out, gives 3.5–4.2 and 3–19.
   * Thresholds, fixed: 0.6 over the image, 2.5 over the drawn pixels.
   */
  for (const [name, scene] of Object.entries(SCENES))
    test(`matches the SVG renderer's golden: ${name}`, async () => {
      const background = scene.image();
      const drawn = await drawAnnotated(background, scene.cells, scene.names, "png", scene.options);
      const ours = await sharp(drawn).raw().toBuffer();
      const golden = await sharp(fixturePath(`draw-${name}.png`))
        .removeAlpha()
        .raw()
        .toBuffer();
      assert.equal(ours.length, golden.length);
      let all = 0;
      let onDrawn = 0;
      let drawnValues = 0;
      for (let p = 0; p < ours.length; p += 3) {
        const isDrawn = [0, 1, 2].some((c) => golden[p + c] !== background.data[p + c]);
        for (let c = 0; c < 3; c++) {
          const d = Math.abs(ours[p + c]! - golden[p + c]!);
          all += d;
          if (isDrawn) {
            onDrawn += d;
            drawnValues++;
          }
        }
      }
      const mad = all / ours.length;
      const madDrawn = onDrawn / drawnValues;
      assert.ok(mad <= 0.6, `${name}: mean |difference| per channel ${mad.toFixed(3)} > 0.6`);
      assert.ok(madDrawn <= 2.5, `${name}: on drawn pixels ${madDrawn.toFixed(3)} > 2.5`);
      // the input is not drawn on
      assert.deepEqual(background.data, scene.image().data);
    });

  test("characters without a glyph are drawn as the replacement glyph, Latin-1 as itself", async () => {
    const draw = async (name: string) => {
      const img = grey();
      await drawCells(img, [{ box: [40, 60, 120, 130], cls: 0, confidence: 0.5 }], [name]);
      return img.data;
    };
    const R = REPLACEMENT_CHARACTER;
    assert.deepEqual(await draw("細胞 ☃"), await draw(`${R}${R} ${R}`));
    assert.deepEqual(await draw("🩸x"), await draw(`${R}x`), "an astral character is one character");
    assert.notDeepEqual(await draw("é"), await draw(R));
    assert.notDeepEqual(await draw(R), await draw(" "), "the replacement glyph draws something");
    // one atlas per font size, rendered once
    assert.equal(glyphAtlas(12), glyphAtlas(12));
    assert.ok((await glyphAtlas(12)).glyphs.has("·"));
  });

  test("large fonts are rasterised at fewer sub-pixel positions (a 4000-px image's atlas stays small)", async () => {
    assert.equal(glyphPhases(12), GLYPH_PHASES);
    assert.equal(glyphPhases(31), GLYPH_PHASES);
    assert.equal(glyphPhases(32), 2);
    assert.equal(glyphPhases(66), 1);
    const atlas = await glyphAtlas(66);
    assert.equal(atlas.phases, 1);
    assert.equal(atlas.glyphs.get("M")!.length, 1);
    // a label at that size still draws its text: black letters on the yellow label of class 2 of a 4-class model
    const img = grey(600, 400);
    await drawCells(img, [{ box: [50, 250, 500, 390], cls: 2, confidence: 0.5 }], NAMES, { lineThickness: 11 });
    assert.ok(count(img, 0, 0, 600, 250, (p) => p[0]! + p[1]! + p[2]! < 100) > 500, "text drawn at font 66");
  });
});
