import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  isKnownAttribute,
  LLD_ATTRIBUTES,
  LLD_CLASS_NAMES,
  NUM_ATTRIBUTES,
  UNKNOWN_ATTRIBUTE,
} from "../../../src/data/schema.js";
import { annotateScene, cellBox, drawRegion } from "../../../src/data/synth/annotate.js";
import { DIAMETER_RANGES_640 } from "../../../src/data/synth/classes.js";
import { generateScene } from "../../../src/data/synth/generate-scene.js";
import type { WhiteCell } from "../../../src/data/synth/scene.js";
import { A } from "../../../src/data/synth/white-cell.js";

/** Cells of many scenes (geometry only: scenes are cheap, nothing is rendered). */
function manyCells(seed: number, images: number, size = 640): WhiteCell[] {
  const cells: WhiteCell[] = [];
  for (let i = 0; i < images; i++) cells.push(...generateScene(seed, i, size).whiteCells);
  return cells;
}

test("sparse regions hold exactly the labelled centres", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 2 ** 31 }),
      fc.integer({ min: 0, max: 10_000 }),
      fc.double({ min: 0.02, max: 1, noNaN: true }),
      fc.constantFrom(128, 320, 640),
      (seed, index, area, size) => {
        const scene = generateScene(seed, index, size);
        const region = drawRegion(seed, index, area, size, size);
        // Integer pixels, inside the image, of the requested area (up to rounding of the sides).
        for (const v of [region.x1, region.y1, region.x2, region.y2]) assert.ok(Number.isInteger(v));
        assert.ok(region.x1 >= 0 && region.y1 >= 0 && region.x2 <= size && region.y2 <= size);
        assert.ok(region.x2 > region.x1 && region.y2 > region.y1);
        const got = ((region.x2 - region.x1) * (region.y2 - region.y1)) / (size * size);
        const slack = (2 * (region.x2 - region.x1 + region.y2 - region.y1) + 4) / (size * size);
        assert.ok(Math.abs(got - area) <= slack, `area ${got} for ${area}`);

        const annotation = annotateScene(scene, "x.jpg", region);
        assert.deepEqual(annotation.region, region);
        // Every cell whose box centre lies in the region is labelled; every other cell is not.
        const expected = scene.whiteCells.filter((c) => {
          const b = cellBox(c, size, size);
          const x = (b.x1 + b.x2) / 2;
          const y = (b.y1 + b.y2) / 2;
          return x >= region.x1 && x < region.x2 && y >= region.y1 && y < region.y2;
        });
        assert.equal(annotation.labels.length, expected.length);
        expected.forEach((c, i) => {
          const l = annotation.labels[i]!;
          assert.equal(l.cls, c.cls);
          assert.deepEqual(l.attributes, c.labelAttributes);
          const cx = l.xc * size;
          const cy = l.yc * size;
          assert.ok(cx >= region.x1 && cx < region.x2 && cy >= region.y1 && cy < region.y2);
        });
      },
    ),
    { numRuns: 150 },
  );
});

test("without a region every cell is labelled, with boxes inside the image", () => {
  for (let i = 0; i < 30; i++) {
    const scene = generateScene(9, i, 320);
    const a = annotateScene(scene, "x.jpg", null);
    assert.equal(a.region, null);
    assert.equal(a.labels.length, scene.whiteCells.length);
    for (const l of a.labels) {
      assert.ok(l.w > 0 && l.h > 0);
      assert.ok(l.xc - l.w / 2 >= -1e-9 && l.xc + l.w / 2 <= 1 + 1e-9);
      assert.ok(l.yc - l.h / 2 >= -1e-9 && l.yc + l.h / 2 <= 1 + 1e-9);
    }
  }
});

test("attribute encodings follow the schema", () => {
  const cells = manyCells(1, 300);
  assert.ok(cells.length > 900);
  let unknown = 0;
  for (const c of cells) {
    assert.ok(Number.isInteger(c.cls) && c.cls >= 0 && c.cls < LLD_CLASS_NAMES.length);
    assert.equal(c.labelAttributes.length, NUM_ATTRIBUTES);
    assert.equal(c.trueAttributes.length, NUM_ATTRIBUTES);
    c.labelAttributes.forEach((v, i) => {
      assert.ok(v === UNKNOWN_ATTRIBUTE || isKnownAttribute(v, i), `a${i} = ${v}`);
      // A label is either the drawn value or unknown, never another value.
      if (v !== UNKNOWN_ATTRIBUTE) assert.equal(v, c.trueAttributes[i]);
      else unknown++;
    });
    if (c.cls === 0) {
      // Artefacts carry no attributes.
      assert.ok(c.labelAttributes.every((v) => v === UNKNOWN_ATTRIBUTE));
    } else {
      c.trueAttributes.forEach((v, i) => {
        assert.ok(isKnownAttribute(v, i));
      });
    }
  }
  // Some, not most, values are unknown for white cells.
  const whites = cells.filter((c) => c.cls !== 0).length;
  const rate = (unknown - (cells.length - whites) * NUM_ATTRIBUTES) / (whites * NUM_ATTRIBUTES);
  assert.ok(rate > 0.02 && rate < 0.1, `unknown rate ${rate}`);
  // Every class occurs; every attribute value occurs.
  for (let cls = 0; cls < LLD_CLASS_NAMES.length; cls++)
    assert.ok(
      cells.some((c) => c.cls === cls),
      `class ${cls}`,
    );
  LLD_ATTRIBUTES.forEach((spec, i) => {
    for (let v = 0; v < spec.values.length; v++) {
      assert.ok(
        cells.some((c) => c.labelAttributes[i] === v),
        `${spec.name} = ${spec.values[v]}`,
      );
    }
  });
});

test("attributes vary within classes and depend on the class", () => {
  const cells = manyCells(2, 600).filter((c) => c.cls !== 0);
  const share = (cls: number, a: number) => {
    const own = cells.filter((c) => c.cls === cls);
    return own.filter((c) => c.trueAttributes[a] === 1).length / own.length;
  };
  // Class-typical: blasts have nucleoli, lymphocytes scanty cytoplasm, neutrophils lobed nuclei.
  assert.ok(share(1, A.nucleolus) > 0.6 && share(7, A.nucleolus) < 0.2);
  assert.ok(share(7, A.cytoplasm) < 0.35 && share(3, A.cytoplasm) > 0.8);
  assert.ok(share(3, A.shape) > 0.85 && share(7, A.shape) < 0.25);
  // Not fixed by the class: in a blast class both values of each binary attribute occur.
  for (let a = 1; a < NUM_ATTRIBUTES; a++) {
    const s = share(5, a);
    assert.ok(s > 0 && s < 1, `promonocyte a${a} share ${s}`);
  }
});

test("Cell Size is the cell diameter: Small < Medium < Large boxes", () => {
  const size = 640;
  for (const c of manyCells(3, 150, size)) {
    const v = c.trueAttributes[A.size]!;
    if (c.cls === 0) continue;
    const b = c.outlineBox;
    const [lo, hi] = DIAMETER_RANGES_640[v]!;
    // The outline's long side is its diameter up to the drawn roundness (±10%).
    const d = Math.max(b.x2 - b.x1, b.y2 - b.y1);
    assert.ok(d >= lo * 0.88 && d <= hi * 1.1, `size ${v}: diameter ${d.toFixed(1)} not near [${lo}, ${hi}]`);
  }
});

test("magnification m draws every white cell m times larger (192 px at 2: 0.6 of its 640 px size)", () => {
  let [cells1, cells2] = [0, 0];
  for (let i = 0; i < 40; i++) {
    const one = generateScene(6, i, 192);
    const two = generateScene(6, i, 192, 2);
    cells1 += one.whiteCells.length;
    cells2 += two.whiteCells.length;
    // the first cell is planned before any placement draws, so both scenes plan the same one (later ones differ
    // with how many tries the placements took)
    const [a, b] = [one.whiteCells[0]!, two.whiteCells[0]!];
    assert.equal(b.cls, a.cls);
    assert.deepEqual(b.trueAttributes, a.trueAttributes);
    assert.ok(Math.abs(b.outline.rx / a.outline.rx - 2) < 1e-9, `image ${i}: radius ${a.outline.rx} → ${b.outline.rx}`);
  }
  // as many white cells: a narrower field of view, not fewer cells (a few larger ones find no free place)
  assert.ok(cells2 >= 0.9 * cells1, `${cells2} cells at 2 against ${cells1} at 1`);
  assert.deepEqual(generateScene(6, 3, 192, 1), generateScene(6, 3, 192));
  assert.throws(() => generateScene(6, 3, 192, 0), /magnification: expected a number in \(0, 4\], found 0/);
  assert.throws(() => generateScene(6, 3, 192, 5), /found 5/);
});

test("visible attributes change the drawn morphology", () => {
  const cells = manyCells(4, 400).filter((c) => c.cls !== 0);
  for (const c of cells) {
    const at = c.trueAttributes;
    // Nucleoli and vacuoles are drawn exactly when prominent (a cramped nucleus may fit fewer nucleoli, never none).
    if (at[A.nucleolus] === 0) assert.equal(c.nucleoli.length, 0);
    if (at[A.vacuoles] === 1) assert.ok(c.vacuoles.length >= 2, `${c.vacuoles.length} vacuoles`);
    else assert.equal(c.vacuoles.length, 0);
    // Irregular nuclei have several lobes or a notch; regular ones are one smooth part.
    const n = c.nucleus!;
    if (at[A.shape] === 1) assert.ok(n.parts.length > 1 || n.notch !== null);
    else assert.ok(n.parts.length === 1 && n.notch === null);
  }
  const withNucleoli = cells.filter((c) => c.trueAttributes[A.nucleolus] === 1);
  assert.ok(withNucleoli.filter((c) => c.nucleoli.length > 0).length / withNucleoli.length > 0.9);
  // Moderate basophilia: a bluer cytoplasm (red light absorbed: about twice the red OD of Slight), per hue class.
  const blueness = (c: WhiteCell) => c.cytoplasm[0];
  for (const cls of [1, 3, 10]) {
    const own = cells.filter((c) => c.cls === cls);
    const mean = (v: number) => {
      const xs = own.filter((c) => c.trueAttributes[A.basophilia] === v).map(blueness);
      return xs.reduce((a, b) => a + b, 0) / xs.length;
    };
    assert.ok(mean(1) > mean(0) * 2, `class ${cls}: ${mean(1)} vs ${mean(0)}`);
  }
});
