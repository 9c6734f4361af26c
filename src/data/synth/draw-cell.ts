/**
 * Draws one white cell into an OD canvas. The cell's pixels are computed in a local patch: layers for vacuoles,
 * nucleoli, granules and rods are stamped first, then one pass over the patch combines outline, nucleus, chromatin
 * texture and colours, and adds the result to the canvas.
 */
import { NucleusShape } from "./nucleus.js";
import { clipSpan, type OdCanvas, ValueNoise } from "./raster.js";
import { Rng } from "./rng.js";
import type { Dot, WhiteCell } from "./scene.js";
import { type CapsuleParams, capsuleCoverage, capsuleExtent, RadialShape } from "./shapes.js";

/** Fraction of the stain a vacuole removes at its centre (a clear hole). */
const VACUOLE_CLEARING = 0.9;
/** Extra density on a vacuole's rim (its membrane), relative to the surrounding cytoplasm. */
const VACUOLE_RIM = 0.35;
/** Fraction of the chromatin density a nucleolus removes (a pale spot). */
const NUCLEOLUS_CLEARING = 0.62;
/** Extra density on a nucleolus's rim (the condensed chromatin around it). */
const NUCLEOLUS_RIM = 0.3;
/** Amplitude of the faint cytoplasm texture (±). */
const CYTOPLASM_TEXTURE = 0.12;
/** Period of the second chromatin octave relative to the first, and its weight in the mix. */
const CHROMATIN_FINE_SCALE = 0.5;
const CHROMATIN_FINE_WEIGHT = 0.35;
/** Texture values mapped to pale gaps (below CLUMP_LOW) and dark clumps (above CLUMP_HIGH). */
const CLUMP_LOW = 0.34;
const CLUMP_HIGH = 0.64;
/** Relative darkening on a fold of a folded nucleus. */
const FOLD_DARKENING = 0.5;

/** A layer local to the patch: one float per pixel. */
class Layer {
  readonly data: Float32Array;
  constructor(
    readonly x0: number,
    readonly y0: number,
    readonly width: number,
    readonly height: number,
    fill: number,
  ) {
    this.data = new Float32Array(width * height).fill(fill);
  }

  /**
   * Stamps dots: value at a pixel becomes `apply(old, coverage, rim)` where coverage is the dot's soft disc and rim a
   * soft ring of width `rimWidth` on its edge.
   */
  stampDots(
    dots: readonly Dot[],
    soft: number,
    rimWidth: number,
    apply: (old: number, c: number, rim: number) => number,
  ) {
    for (const d of dots) {
      const reach = d.r + rimWidth + soft;
      const xa = Math.max(this.x0, Math.floor(d.x - reach));
      const xb = Math.min(this.x0 + this.width, Math.ceil(d.x + reach));
      const ya = Math.max(this.y0, Math.floor(d.y - reach));
      const yb = Math.min(this.y0 + this.height, Math.ceil(d.y + reach));
      for (let y = ya; y < yb; y++) {
        for (let x = xa; x < xb; x++) {
          const dist = Math.hypot(x + 0.5 - d.x, y + 0.5 - d.y);
          let c = 0.5 + (d.r - dist) / soft;
          c = c <= 0 ? 0 : Math.min(c, 1);
          let rim = rimWidth > 0 ? 1 - Math.abs(dist - d.r) / rimWidth : 0;
          rim = Math.max(rim, 0);
          if (c === 0 && rim === 0) continue;
          const i = (y - this.y0) * this.width + (x - this.x0);
          this.data[i] = apply(this.data[i]!, c, rim);
        }
      }
    }
  }

  /** Stamps capsules, keeping the maximum coverage. */
  stampCapsules(capsules: readonly CapsuleParams[]) {
    for (const c of capsules) {
      const e = capsuleExtent(c);
      const xa = Math.max(this.x0, Math.floor(e.x1));
      const xb = Math.min(this.x0 + this.width, Math.ceil(e.x2));
      const ya = Math.max(this.y0, Math.floor(e.y1));
      const yb = Math.min(this.y0 + this.height, Math.ceil(e.y2));
      for (let y = ya; y < yb; y++) {
        for (let x = xa; x < xb; x++) {
          const v = capsuleCoverage(c, x + 0.5, y + 0.5);
          const i = (y - this.y0) * this.width + (x - this.x0);
          if (v > this.data[i]!) this.data[i] = v;
        }
      }
    }
  }
}

/** Adds white cell `cell` to `canvas`. */
export function drawWhiteCell(canvas: OdCanvas, cell: WhiteCell): void {
  const outline = new RadialShape(cell.outline);
  const span = clipSpan(outline.extent(), canvas.width, canvas.height);
  const w = span.x1 - span.x0;
  const h = span.y1 - span.y0;
  if (w <= 0 || h <= 0) return;
  const soft = cell.outline.soft;
  const rng = new Rng(cell.textureSeed);
  // Texture noises cover the disc around the cell centre that reaches every pixel of the patch.
  const { cx, cy } = cell.outline;
  const reach = Math.hypot(Math.max(cx - span.x0, span.x1 - cx), Math.max(cy - span.y0, span.y1 - cy));
  const chromatin = new ValueNoise(rng, cx, cy, reach, cell.chromatinPeriod);
  const chromatinFine = new ValueNoise(rng, cx, cy, reach, cell.chromatinPeriod * CHROMATIN_FINE_SCALE);
  const texture = new ValueNoise(rng, cx, cy, reach, cell.chromatinPeriod * 2.5);
  const nucleus = cell.nucleus ? new NucleusShape(cell.nucleus) : null;
  const nucleusBox = nucleus?.extent() ?? { x1: 0, y1: 0, x2: -1, y2: -1 };
  const hasFolds = (cell.nucleus?.folds.length ?? 0) > 0;

  const vacuoles = new Layer(span.x0, span.y0, w, h, 1);
  vacuoles.stampDots(cell.vacuoles, soft, Math.max(0.6, soft * 0.8), (old, c, rim) =>
    Math.min(old, (1 - VACUOLE_CLEARING * c) * (1 + VACUOLE_RIM * rim * (1 - c))),
  );
  const nucleoli = new Layer(span.x0, span.y0, w, h, 1);
  nucleoli.stampDots(cell.nucleoli, soft, Math.max(0.6, soft * 0.8), (old, c, rim) =>
    Math.min(old, (1 - NUCLEOLUS_CLEARING * c) * (1 + NUCLEOLUS_RIM * rim * (1 - c))),
  );
  const granules = new Layer(span.x0, span.y0, w, h, 0);
  granules.stampDots(cell.granules, Math.max(0.6, soft * 0.7), 0, (old, c) => Math.min(1, old + c));
  const rods = new Layer(span.x0, span.y0, w, h, 0);
  rods.stampCapsules(cell.rods);

  const [cr, cg, cb] = cell.cytoplasm;
  const [rr, rg, rb] = cell.rimOd;
  const [nr, ng, nb] = cell.nucleusOd;
  const [gr, gg, gb] = cell.granuleOd;
  const [ar, ag, ab] = cell.rodOd;
  const contrast = cell.chromatinContrast;
  const density = cell.chromatinDensity;
  const overNucleus = cell.granulesOverNucleus;
  const od = canvas.od;
  for (let y = span.y0; y < span.y1; y++) {
    const py = y + 0.5;
    for (let x = span.x0; x < span.x1; x++) {
      const px = x + 0.5;
      const c = outline.coverage(px, py);
      if (c <= 0) continue;
      const rho = outline.rho;
      const li = (y - span.y0) * w + (x - span.x0);
      let n = 0;
      if (nucleus && px >= nucleusBox.x1 && px <= nucleusBox.x2 && py >= nucleusBox.y1 && py <= nucleusBox.y2) {
        n = nucleus.coverage(px, py);
      }
      // Chromatin: a smooth texture remapped so that high contrast gives dark clumps and pale gaps.
      const t =
        (1 - CHROMATIN_FINE_WEIGHT) * chromatin.sample(px, py) + CHROMATIN_FINE_WEIGHT * chromatinFine.sample(px, py);
      const clump = t < CLUMP_LOW ? 0 : t > CLUMP_HIGH ? 1 : (t - CLUMP_LOW) / (CLUMP_HIGH - CLUMP_LOW);
      let chrom = density * (1 + contrast * (1.25 * clump - 0.6));
      if (hasFolds && n > 0) chrom *= 1 + FOLD_DARKENING * nucleus!.fold(px, py);
      const cyTex = 1 + CYTOPLASM_TEXTURE * (2 * texture.sample(px, py) - 1);
      // A cell without a nucleus (smudge) takes the chromatin texture in its body.
      const body = nucleus ? cyTex : chrom;
      const rim = rho * rho * rho;
      const nuc = n * chrom * nucleoli.data[li]!;
      const cyt = (1 - n) * body;
      const g = granules.data[li]! * (overNucleus ? 1 : 1 - n);
      const rod = c * rods.data[li]!;
      const v = c * vacuoles.data[li]!;
      const i = (y * canvas.width + x) * 3;
      od[i]! += v * (cyt * (cr + rr * rim) + nuc * nr + g * gr) + rod * ar;
      od[i + 1]! += v * (cyt * (cg + rg * rim) + nuc * ng + g * gg) + rod * ag;
      od[i + 2]! += v * (cyt * (cb + rb * rim) + nuc * nb + g * gb) + rod * ab;
    }
  }
}
