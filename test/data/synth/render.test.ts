import assert from "node:assert/strict";
import { test } from "node:test";
import { cellBox } from "../../../src/data/synth/annotate.js";
import { generateScene } from "../../../src/data/synth/generate-scene.js";
import { synthesizeImage } from "../../../src/data/synth/image.js";
import { renderScene } from "../../../src/data/synth/render.js";

test("rendering is deterministic: same seed and index, same pixels; another seed or index, other pixels", () => {
  const a = synthesizeImage({ seed: 11, index: 3, imageSize: 160 });
  const b = synthesizeImage({ seed: 11, index: 3, imageSize: 160 });
  assert.deepEqual(a.rgb, b.rgb);
  assert.deepEqual(a.annotation, b.annotation);
  assert.notDeepEqual(synthesizeImage({ seed: 12, index: 3, imageSize: 160 }).rgb, a.rgb);
  assert.notDeepEqual(synthesizeImage({ seed: 11, index: 4, imageSize: 160 }).rgb, a.rgb);
  // An image does not depend on which images were generated before it.
  synthesizeImage({ seed: 11, index: 9, imageSize: 160 });
  assert.deepEqual(synthesizeImage({ seed: 11, index: 3, imageSize: 160 }).rgb, a.rgb);
});

test("the images look like stained films: grey background, many red cells, purple white cells", () => {
  const { rgb, scene } = synthesizeImage({ seed: 2, index: 0, imageSize: 320 });
  assert.equal(rgb.length, 320 * 320 * 3);
  assert.ok(scene.redCells.length >= 40, `${scene.redCells.length} red cells`);
  assert.ok(scene.whiteCells.length >= 1);
  let bright = 0;
  let dark = 0;
  for (let i = 0; i < rgb.length; i += 3) {
    const l = (rgb[i]! + rgb[i + 1]! + rgb[i + 2]!) / 3;
    if (l > 130) bright++;
    if (l < 110) dark++;
  }
  const pixels = rgb.length / 3;
  // Mostly background, a good share of stained cells.
  assert.ok(bright / pixels > 0.35 && bright / pixels < 0.9, `background ${bright / pixels}`);
  assert.ok(dark / pixels > 0.08, `stained ${dark / pixels}`);
});

/**
 * The pixels a white cell changes (found by rendering the scene with and without it; drawing is additive and the
 * noise is the same, so every other pixel is identical) must lie inside its box, and reach every side of it.
 */
test("each box encloses its rendered cell, tightly (checked on rendered pixels)", () => {
  const size = 256;
  let checked = 0;
  for (let index = 0; index < 8; index++) {
    const scene = generateScene(5, index, size);
    const full = renderScene(scene);
    const blur = scene.stain.blurRadius * scene.stain.blurPasses;
    const soft = scene.stain.edgeSoftness;
    // Coverage ramps over `soft` px around the outline and blur spreads it further.
    const outside = soft / 2 + blur + 1;
    const inside = soft / 2 + blur + 1.5;
    scene.whiteCells.forEach((cell, i) => {
      const without = renderScene(scene, { omitWhiteCell: i });
      let x1 = size;
      let y1 = size;
      let x2 = -1;
      let y2 = -1;
      for (let y = 0; y < size; y++) {
        for (let x = 0; x < size; x++) {
          const p = (y * size + x) * 3;
          if (full[p] === without[p] && full[p + 1] === without[p + 1] && full[p + 2] === without[p + 2]) continue;
          x1 = Math.min(x1, x);
          y1 = Math.min(y1, y);
          x2 = Math.max(x2, x + 1);
          y2 = Math.max(y2, y + 1);
        }
      }
      const box = cellBox(cell, size, size);
      const what = `image ${index} cell ${i} (class ${cell.cls}): box ${JSON.stringify(box)}, changed [${x1},${y1},${x2},${y2}]`;
      assert.ok(x2 > x1 && y2 > y1, `${what}: no visible pixels`);
      // Enclosed: no changed pixel beyond the box (plus the edge ramp and blur).
      assert.ok(x1 >= box.x1 - outside && y1 >= box.y1 - outside, what);
      assert.ok(x2 <= box.x2 + outside && y2 <= box.y2 + outside, what);
      // Tight: the changed pixels reach every side of the box.
      assert.ok(x1 <= box.x1 + inside && y1 <= box.y1 + inside, what);
      assert.ok(x2 >= box.x2 - inside && y2 >= box.y2 - inside, what);
      checked++;
    });
  }
  assert.ok(checked >= 16, `only ${checked} cells checked`);
});

test("smaller images show the same field of view, scaled", () => {
  const big = generateScene(3, 1, 640);
  const small = generateScene(3, 1, 128);
  assert.equal(small.whiteCells.length, big.whiteCells.length);
  assert.deepEqual(
    small.whiteCells.map((c) => c.cls),
    big.whiteCells.map((c) => c.cls),
  );
  const b = big.whiteCells[0]!.outline;
  const s = small.whiteCells[0]!.outline;
  assert.ok(Math.abs(s.cx * 5 - b.cx) < 1e-6 && Math.abs(s.rx * 5 - b.rx) < 1e-6);
});
