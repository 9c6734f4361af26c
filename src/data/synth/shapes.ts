/**
 * Soft-edged 2-D shapes evaluated per pixel: star-shaped "radial harmonic" ellipses (cells, nuclei, lobes) and
 * capsules (chromatin bridges, Auer rods). Coverage is 0 outside, 1 inside, and ramps linearly across the edge, which
 * antialiases and models a slightly defocused edge at once. The coverage-0.5 contour is the shape's true outline, so
 * {@link RadialShape.bounds} gives a box that matches what is drawn.
 */

/** One harmonic of a star-shaped outline: r(θ) = 1 + Σ amp·cos(k·θ + phase), in the ellipse's own frame. */
export interface Harmonic {
  /** Angular frequency (1 = shift, 2 = oval, 3 = triangular, 5..8 = scalloped). */
  k: number;
  /** Relative amplitude (0.05 = the radius varies by ±5%). */
  amp: number;
  /** Phase in radians. */
  phase: number;
}

/** Parameters of a {@link RadialShape}, in image pixels. */
export interface RadialShapeParams {
  cx: number;
  cy: number;
  /** Semi-axes before the harmonics are applied. */
  rx: number;
  ry: number;
  /** Rotation of the ellipse in radians. */
  angle: number;
  /** Outline perturbations; empty for a plain ellipse. */
  harmonics: readonly Harmonic[];
  /** Width of the edge ramp in pixels (≥ 0.5 keeps edges antialiased). */
  soft: number;
}

/** Axis-aligned box in image pixels (floating point, x2/y2 exclusive edges). */
export interface Box {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

/** Number of boundary samples used to measure a shape's box. */
const BOUNDS_SAMPLES = 360;

/** A star-shaped ellipse with harmonic perturbations; evaluate with {@link RadialShape.coverage}. */
export class RadialShape {
  readonly params: RadialShapeParams;
  private readonly cos: number;
  private readonly sin: number;
  /** Cosine and sine coefficients per frequency 1..maxK. */
  private readonly ca: Float64Array;
  private readonly sa: Float64Array;
  private readonly maxK: number;
  private readonly invSoft: number;
  /** Normalised radius of the last evaluated pixel: 0 at the centre, 1 on the outline (set by coverage()). */
  rho = 0;

  constructor(params: RadialShapeParams) {
    this.params = params;
    this.cos = Math.cos(params.angle);
    this.sin = Math.sin(params.angle);
    let maxK = 0;
    for (const h of params.harmonics) maxK = Math.max(maxK, h.k);
    this.maxK = maxK;
    this.ca = new Float64Array(maxK + 1);
    this.sa = new Float64Array(maxK + 1);
    for (const h of params.harmonics) {
      this.ca[h.k]! += h.amp * Math.cos(h.phase);
      this.sa[h.k]! -= h.amp * Math.sin(h.phase);
    }
    this.invSoft = 1 / Math.max(params.soft, 1e-3);
  }

  /** Outline radius factor r(θ) for the direction (c, s) = (cos θ, sin θ) in the ellipse frame. */
  private radiusFactor(c: number, s: number): number {
    let r = 1;
    let ck = 1;
    let sk = 0;
    for (let k = 1; k <= this.maxK; k++) {
      const nc = ck * c - sk * s;
      sk = sk * c + ck * s;
      ck = nc;
      r += this.ca[k]! * ck + this.sa[k]! * sk;
    }
    return r;
  }

  /** Coverage in [0, 1] at image point (px, py); also sets {@link rho}. */
  coverage(px: number, py: number): number {
    const p = this.params;
    const dx = px - p.cx;
    const dy = py - p.cy;
    const u = (dx * this.cos + dy * this.sin) / p.rx;
    const v = (-dx * this.sin + dy * this.cos) / p.ry;
    const rho = Math.sqrt(u * u + v * v);
    let c = 1;
    let s = 0;
    if (rho > 1e-9) {
      c = u / rho;
      s = v / rho;
    }
    const r = this.maxK > 0 ? this.radiusFactor(c, s) : 1;
    this.rho = rho / r;
    // Pixel length of the unit ray in this direction turns the normalised distance into pixels.
    const scale = Math.sqrt(c * c * p.rx * p.rx + s * s * p.ry * p.ry);
    const t = 0.5 + (r - rho) * scale * this.invSoft;
    return t <= 0 ? 0 : Math.min(t, 1);
  }

  /** The box of the coverage-0.5 outline. */
  bounds(): Box {
    const p = this.params;
    let x1 = Number.POSITIVE_INFINITY;
    let y1 = Number.POSITIVE_INFINITY;
    let x2 = Number.NEGATIVE_INFINITY;
    let y2 = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < BOUNDS_SAMPLES; i++) {
      const t = (2 * Math.PI * i) / BOUNDS_SAMPLES;
      const c = Math.cos(t);
      const s = Math.sin(t);
      const r = this.radiusFactor(c, s);
      const u = r * c * p.rx;
      const v = r * s * p.ry;
      const x = p.cx + u * this.cos - v * this.sin;
      const y = p.cy + u * this.sin + v * this.cos;
      x1 = Math.min(x1, x);
      x2 = Math.max(x2, x);
      y1 = Math.min(y1, y);
      y2 = Math.max(y2, y);
    }
    return { x1, y1, x2, y2 };
  }

  /**
   * A box holding everything this shape touches (coverage > 0): a cheap, conservative bound (the largest possible
   * radius in every direction, plus the edge ramp), for drawing. Use {@link bounds} for the exact outline box.
   */
  extent(): Box {
    const p = this.params;
    let amp = 0;
    for (const h of p.harmonics) amp += Math.abs(h.amp);
    const r = Math.max(p.rx, p.ry) * (1 + amp) + p.soft / 2 + 1;
    return { x1: p.cx - r, y1: p.cy - r, x2: p.cx + r, y2: p.cy + r };
  }
}

/** Parameters of a capsule: the set of points within `halfWidth` of the segment a→b. */
export interface CapsuleParams {
  ax: number;
  ay: number;
  bx: number;
  by: number;
  halfWidth: number;
  soft: number;
}

/** Coverage of a soft capsule at (px, py). */
export function capsuleCoverage(c: CapsuleParams, px: number, py: number): number {
  const ex = c.bx - c.ax;
  const ey = c.by - c.ay;
  const len2 = ex * ex + ey * ey;
  let t = len2 > 0 ? ((px - c.ax) * ex + (py - c.ay) * ey) / len2 : 0;
  t = t < 0 ? 0 : Math.min(t, 1);
  const dx = px - (c.ax + t * ex);
  const dy = py - (c.ay + t * ey);
  const d = Math.sqrt(dx * dx + dy * dy);
  const v = 0.5 + (c.halfWidth - d) / Math.max(c.soft, 1e-3);
  return v <= 0 ? 0 : Math.min(v, 1);
}

/** The box of everything a capsule touches. */
export function capsuleExtent(c: CapsuleParams): Box {
  const m = c.halfWidth + c.soft / 2 + 1;
  return {
    x1: Math.min(c.ax, c.bx) - m,
    y1: Math.min(c.ay, c.by) - m,
    x2: Math.max(c.ax, c.bx) + m,
    y2: Math.max(c.ay, c.by) + m,
  };
}

/** Union of two boxes. */
export function unionBox(a: Box, b: Box): Box {
  return { x1: Math.min(a.x1, b.x1), y1: Math.min(a.y1, b.y1), x2: Math.max(a.x2, b.x2), y2: Math.max(a.y2, b.y2) };
}
