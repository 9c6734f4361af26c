/** Renders a {@link Scene} to 8-bit RGB pixels. */
import { drawWhiteCell } from "./draw-cell.js";
import { clipSpan, developFilm, OdCanvas } from "./raster.js";
import type { RedCell, Scene, Speck } from "./scene.js";
import { RadialShape } from "./shapes.js";

/** Options of {@link renderScene}. */
export interface RenderOptions {
  /**
   * Index into `scene.whiteCells` of a cell to leave out (tests compare renders with and without a cell to find the
   * pixels it changes). Drawing is additive, so the rest of the image is unaffected except through blur.
   * @default undefined (draw every cell)
   */
  omitWhiteCell?: number;
}

/** Darkening of a red cell's rim relative to its body (the biconcave disc's thick edge). */
const RED_CELL_RIM = 0.25;
/** Growth of density beyond one cell's where red cells overlap (1 = plain stacking). */
const RED_CELL_OVERLAP_GAIN = 0.5;

/** Adds red cell `cell` to a haemoglobin density layer (one float per pixel, 1 = one cell's rim density). */
function drawRedCell(density: Float32Array, width: number, height: number, cell: RedCell): void {
  const shape = new RadialShape(cell.shape);
  const span = clipSpan(shape.extent(), width, height);
  const invPallor = 1 / cell.pallorRadius;
  for (let y = span.y0; y < span.y1; y++) {
    for (let x = span.x0; x < span.x1; x++) {
      const c = shape.coverage(x + 0.5, y + 0.5);
      if (c <= 0) continue;
      const rho = shape.rho;
      const p = rho * invPallor;
      const bump = p < 1 ? 1 - p * p : 0;
      const rim = rho > 0.7 ? (rho - 0.7) * (1 / 0.3) : 0;
      density[y * width + x]! += cell.density * c * (1 - cell.pallor * bump) * (1 + RED_CELL_RIM * Math.min(rim, 1));
    }
  }
}

function drawSpeck(canvas: OdCanvas, speck: Speck): void {
  const shape = new RadialShape(speck.shape);
  const span = clipSpan(shape.extent(), canvas.width, canvas.height);
  const [r, g, b] = speck.od;
  const od = canvas.od;
  for (let y = span.y0; y < span.y1; y++) {
    for (let x = span.x0; x < span.x1; x++) {
      const c = shape.coverage(x + 0.5, y + 0.5);
      if (c <= 0) continue;
      const i = (y * canvas.width + x) * 3;
      od[i]! += c * r;
      od[i + 1]! += c * g;
      od[i + 2]! += c * b;
    }
  }
}

/** Illumination gain along one axis: a linear gradient and a quadratic fall-off towards the edges. */
function axisGain(n: number, gradient: number, vignette: number): Float32Array {
  const g = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const t = (i + 0.5) / n - 0.5;
    g[i] = 1 + gradient * 2 * t - vignette * 4 * t * t;
  }
  return g;
}

/** Scratch buffers reused across renders of the same size (allocating ~8 MB per image costs GC time). */
const scratchBySize = new Map<string, { od: Float32Array; density: Float32Array; blur: Float32Array }>();

function scratchFor(width: number, height: number) {
  const key = `${width}x${height}`;
  let s = scratchBySize.get(key);
  if (!s) {
    if (scratchBySize.size > 4) scratchBySize.clear();
    s = {
      od: new Float32Array(width * height * 3),
      density: new Float32Array(width * height),
      blur: new Float32Array(width * height * 3),
    };
    scratchBySize.set(key, s);
  }
  s.od.fill(0);
  s.density.fill(0);
  return s;
}

/** Renders `scene` to interleaved 8-bit RGB (width × height × 3). */
export function renderScene(scene: Scene, options: RenderOptions = {}): Uint8Array {
  const { width, height, stain } = scene;
  const scratch = scratchFor(width, height);
  const canvas = new OdCanvas(width, height, scratch.od);
  for (const cell of scene.redCells) drawRedCell(scratch.density, width, height, cell);
  for (const speck of scene.specks) drawSpeck(canvas, speck);
  scene.whiteCells.forEach((cell, i) => {
    if (i !== options.omitWhiteCell) drawWhiteCell(canvas, cell);
  });
  // Where red cells overlap, density beyond one cell grows at a reduced rate (cells flatten rather than stack).
  const density = scratch.density;
  for (let p = 0; p < density.length; p++) {
    const d = density[p]!;
    if (d > 1) density[p] = 1 + RED_CELL_OVERLAP_GAIN * (d - 1);
  }
  return developFilm(
    canvas,
    {
      background: stain.background,
      columnGain: axisGain(width, stain.gradientX, stain.vignette),
      rowGain: axisGain(height, stain.gradientY, stain.vignette),
      noise: stain.noise,
      noiseSeed: scene.noiseSeed,
      blurRadius: stain.blurRadius,
      blurPasses: stain.blurPasses,
    },
    { density, colour: stain.redCell },
    scratch.blur,
  );
}
