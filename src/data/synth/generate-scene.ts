/**
 * Draws the scene of one field of view: stain, white cells (placed first, apart from each other), red cells (many,
 * overlapping, in loose clusters, mostly keeping clear of white cells), platelets, stain precipitate and refractile
 * specks. Every image depends only on (seed, index, image size).
 */
import { CLASS_WEIGHTS } from "./classes.js";
import type { Rgb } from "./raster.js";
import { Rng, Stream } from "./rng.js";
import type { RedCell, Scene, Speck, WhiteCell } from "./scene.js";
import { drawStain, type Stain } from "./stain.js";
import { buildWhiteCell, planCell } from "./white-cell.js";

/** Reference image size: all sizes are specified at the LLD's 640 × 640 and scaled from it. */
export const REFERENCE_SIZE = 640;
/** Labelled objects (white cells and artefacts) per field of view. */
const OBJECTS_PER_IMAGE: readonly [number, number] = [2, 7];
/** Red cells per field of view, from a thin to a thick area of the film. */
const RED_CELLS_PER_IMAGE: readonly [number, number] = [45, 130];
/** Red-cell radius at 640 px: mean, standard deviation, clamp range. */
const RED_CELL_RADIUS_640 = { mean: 20.5, sd: 1.4, min: 16.5, max: 24.5 } as const;
/** Fraction of red cells placed in clusters (chains and clumps) rather than uniformly. */
const RED_CELL_CLUSTERED = 0.45;
/** Fraction of crenated red cells (echinocytes: a spiky outline). */
const CRENATED_RATE = 0.02;
/** Probability that a red cell landing on a white cell is moved away (white cells push red cells aside). */
const RED_CELL_AVOID_WHITE = 0.9;
/** Minimum distance between white-cell centres, as a fraction of the sum of their radii. */
const WHITE_CELL_SPACING = 0.95;
/** A white cell's centre stays this fraction of its radius inside the image, so most of it is visible. */
const WHITE_CELL_EDGE_MARGIN = 0.6;
/** Placement attempts per white cell before it is dropped. */
const PLACEMENT_TRIES = 40;

/** One harmonic-free blob with mild random roundness perturbations. */
function blob(rng: Rng, cx: number, cy: number, r: number, soft: number, irregularity: number) {
  return {
    cx,
    cy,
    rx: r,
    ry: r * rng.range(0.75, 1),
    angle: rng.range(0, Math.PI),
    harmonics: [
      { k: 2, amp: rng.range(0, irregularity), phase: rng.range(0, 2 * Math.PI) },
      { k: 3, amp: rng.range(0, irregularity), phase: rng.range(0, 2 * Math.PI) },
    ],
    soft,
  };
}

function scaled(c: Rgb, f: number): Rgb {
  return [c[0] * f, c[1] * f, c[2] * f];
}

function placeWhiteCells(rng: Rng, stain: Stain, width: number, height: number, s: number): WhiteCell[] {
  const count = rng.int(OBJECTS_PER_IMAGE[0], OBJECTS_PER_IMAGE[1]);
  const cells: WhiteCell[] = [];
  for (let i = 0; i < count; i++) {
    const plan = planCell(rng, rng.weighted(CLASS_WEIGHTS), s);
    const m = plan.radius * WHITE_CELL_EDGE_MARGIN;
    for (let t = 0; t < PLACEMENT_TRIES; t++) {
      const cx = rng.range(m, width - m);
      const cy = rng.range(m, height - m);
      const clear = cells.every((c) => {
        const d = Math.hypot(c.outline.cx - cx, c.outline.cy - cy);
        return d >= WHITE_CELL_SPACING * (c.outline.rx + plan.radius);
      });
      if (clear) {
        // The cell's details draw from their own stream: how many tries its dots take cannot shift the scene's.
        cells.push(buildWhiteCell(new Rng(rng.fork()), plan, cx, cy, stain, s));
        break;
      }
    }
  }
  return cells;
}

function makeRedCell(rng: Rng, stain: Stain, cx: number, cy: number, s: number): RedCell {
  const r =
    rng.normalClamped(
      RED_CELL_RADIUS_640.mean,
      RED_CELL_RADIUS_640.sd,
      RED_CELL_RADIUS_640.min,
      RED_CELL_RADIUS_640.max,
    ) * s;
  const crenated = rng.chance(CRENATED_RATE);
  const harmonics = [
    { k: 2, amp: rng.range(0, 0.05), phase: rng.range(0, 2 * Math.PI) },
    { k: 3, amp: rng.range(0, 0.025), phase: rng.range(0, 2 * Math.PI) },
  ];
  if (crenated) harmonics.push({ k: rng.int(10, 14), amp: rng.range(0.015, 0.035), phase: 0 });
  return {
    shape: {
      cx,
      cy,
      rx: r,
      ry: r * rng.range(0.86, 1),
      angle: rng.range(0, Math.PI),
      harmonics,
      soft: stain.edgeSoftness,
    },
    pallor: rng.chance(0.2) ? rng.range(0.7, 0.92) : rng.range(0.2, 0.65),
    pallorRadius: rng.range(0.45, 0.75),
    density: rng.range(0.85, 1.12),
  };
}

function placeRedCells(rng: Rng, stain: Stain, whites: readonly WhiteCell[], width: number, height: number, s: number) {
  const count = rng.int(RED_CELLS_PER_IMAGE[0], RED_CELLS_PER_IMAGE[1]);
  const cells: RedCell[] = [];
  const blocked = (x: number, y: number) =>
    whites.some(
      (w) => Math.hypot(w.outline.cx - x, w.outline.cy - y) < w.outline.rx + RED_CELL_RADIUS_640.mean * 0.6 * s,
    );
  const margin = RED_CELL_RADIUS_640.mean * s;
  let chain: { x: number; y: number; a: number; left: number } | null = null;
  for (let i = 0; i < count; i++) {
    let x = 0;
    let y = 0;
    for (let t = 0; t < 4; t++) {
      if (chain && chain.left > 0) {
        // Next cell of a chain: about one radius on, with a wobbling direction (overlapping like rouleaux).
        chain.a += rng.range(-0.6, 0.6);
        const step = rng.range(0.9, 1.7) * RED_CELL_RADIUS_640.mean * s;
        x = chain.x + step * Math.cos(chain.a);
        y = chain.y + step * Math.sin(chain.a);
      } else {
        x = rng.range(-margin, width + margin);
        y = rng.range(-margin, height + margin);
        chain = rng.chance(RED_CELL_CLUSTERED) ? { x, y, a: rng.range(0, 2 * Math.PI), left: rng.int(1, 5) } : null;
      }
      if (!blocked(x, y) || !rng.chance(RED_CELL_AVOID_WHITE)) break;
      chain = null;
    }
    if (chain) {
      chain.x = x;
      chain.y = y;
      chain.left--;
    }
    cells.push(makeRedCell(rng, stain, x, y, s));
  }
  return cells;
}

function placeSpecks(rng: Rng, stain: Stain, width: number, height: number, s: number): Speck[] {
  const specks: Speck[] = [];
  const soft = stain.edgeSoftness;
  // Platelets, single or in small clumps.
  const platelets = rng.int(4, 22);
  for (let i = 0; i < platelets; i++) {
    const x = rng.range(0, width);
    const y = rng.range(0, height);
    const n = rng.chance(0.15) ? rng.int(3, 8) : 1;
    for (let k = 0; k < n; k++) {
      const r = rng.range(1.4, 3.0) * s;
      specks.push({
        shape: blob(
          rng,
          x + rng.range(-6, 6) * s * (n > 1 ? 1 : 0),
          y + rng.range(-6, 6) * s * (n > 1 ? 1 : 0),
          r,
          soft,
          0.15,
        ),
        od: scaled(stain.platelet, rng.range(0.6, 1.1)),
      });
    }
  }
  // Stain precipitate: faint clusters of tiny dots.
  const clusters = rng.int(0, 4);
  for (let i = 0; i < clusters; i++) {
    const x = rng.range(0, width);
    const y = rng.range(0, height);
    const n = rng.int(5, 15);
    for (let k = 0; k < n; k++) {
      specks.push({
        shape: blob(rng, x + rng.range(-12, 12) * s, y + rng.range(-12, 12) * s, rng.range(0.6, 1.2) * s, soft, 0.2),
        od: scaled(stain.platelet, rng.range(0.25, 0.5)),
      });
    }
  }
  // Refractile specks: brighter than the background.
  const bright = rng.int(0, 10);
  for (let i = 0; i < bright; i++) {
    const v = -rng.range(0.08, 0.25);
    specks.push({
      shape: blob(rng, rng.range(0, width), rng.range(0, height), rng.range(1.2, 3.5) * s, soft, 0.05),
      od: [v, v, v],
    });
  }
  return specks;
}

/** Largest {@link generateScene} magnification: beyond it a white cell no longer fits a small image. */
export const MAX_MAGNIFICATION = 4;

/** Throws a RangeError unless `m` is a magnification {@link generateScene} takes: (0, MAX_MAGNIFICATION]. */
export function checkMagnification(m: number): void {
  if (!(m > 0 && m <= MAX_MAGNIFICATION)) {
    throw new RangeError(`magnification: expected a number in (0, ${MAX_MAGNIFICATION}], found ${m}`);
  }
}

/**
 * The scene of image `index` of the dataset with seed `seed`, at `imageSize` × `imageSize` pixels. At magnification 1
 * the field of view is an LLD image's at every size (a smaller image is a downscaled one), so object counts do not
 * depend on the size; at magnification m every object is drawn m times larger (a field of view m times narrower, with
 * as many white cells and fewer red ones): a 192 px image at 2 shows its cells at 0.6 of their 640 px LLD size instead
 * of 0.3, where nucleoli and vacuoles are pixels, not fractions of one.
 */
export function generateScene(seed: number, index: number, imageSize: number, magnification = 1): Scene {
  checkMagnification(magnification);
  const rng = Rng.forImage(seed, index, Stream.scene);
  const s = (imageSize / REFERENCE_SIZE) * magnification;
  const stain = drawStain(rng, s);
  const whiteCells = placeWhiteCells(rng, stain, imageSize, imageSize, s);
  const redCells = placeRedCells(rng, stain, whiteCells, imageSize, imageSize, s);
  const specks = placeSpecks(rng, stain, imageSize, imageSize, s);
  return {
    width: imageSize,
    height: imageSize,
    stain,
    redCells,
    specks,
    whiteCells,
    noiseSeed: Rng.forImage(seed, index, Stream.pixelNoise).u32(),
  };
}
