/**
 * Draws the morphology of one white cell from its class and its attribute values: how each attribute shows in the
 * geometry and colours (Cell Size → diameter; Nuclear Chromatin → texture; Nuclear Shape → round vs lobed/indented
 * outline; Nucleolus → pale spots; Cytoplasm → rim width; Cytoplasmic Basophilia → blue tint; Cytoplasmic Vacuoles →
 * clear holes), plus class-typical features (granules, Auer rods, eccentric nuclei, scalloped outlines). Also draws
 * class-0 artefacts (smudge cells, pyknotic debris).
 */
import { NUM_ATTRIBUTES, UNKNOWN_ATTRIBUTE } from "../schema.js";
import { CLASS_PROFILES, type ClassProfile, DIAMETER_RANGES_640, UNKNOWN_ATTRIBUTE_RATE } from "./classes.js";
import { NucleusShape } from "./nucleus.js";
import type { Rgb } from "./raster.js";
import type { Rng } from "./rng.js";
import type { Dot, NucleusSpec, WhiteCell } from "./scene.js";
import { type CapsuleParams, type Harmonic, RadialShape, type RadialShapeParams } from "./shapes.js";
import { mixRgb, type Stain } from "./stain.js";

/** Attribute indices a0..a6 (label-column order). */
export const A = {
  size: 0,
  chromatin: 1,
  shape: 2,
  nucleolus: 3,
  cytoplasm: 4,
  basophilia: 5,
  vacuoles: 6,
} as const;

/** Nucleus radius as a fraction of the cell's inner radius, for Scanty and Abundant cytoplasm. */
const NUCLEUS_RATIO_SCANTY: readonly [number, number] = [0.78, 0.88];
const NUCLEUS_RATIO_ABUNDANT: readonly [number, number] = [0.5, 0.64];
/** Lobe radius relative to the nucleus radius, by number of lobes. */
const LOBE_SIZE: Readonly<Record<number, number>> = { 2: 0.62, 3: 0.52, 4: 0.46, 5: 0.42 };
/** Probability of keeping a vacuole that lands on the nucleus (they sit mostly, not only, in the cytoplasm). */
const VACUOLE_OVER_NUCLEUS = 0.3;
/** Artefact (class 0) diameters at 640 px. */
const SMUDGE_DIAMETER_640: readonly [number, number] = [34, 70];
const PYKNOTIC_DIAMETER_640: readonly [number, number] = [22, 36];

/** What the scene generator decides before placing a cell: class, attributes and radius in pixels. */
export interface CellPlan {
  cls: number;
  trueAttributes: number[];
  labelAttributes: number[];
  radius: number;
}

/** Draws class-conditional attributes and the cell radius (`pixelScale` = image size / 640). */
export function planCell(rng: Rng, cls: number, pixelScale: number): CellPlan {
  if (cls === 0) {
    const smudge = rng.chance(0.6);
    const [lo, hi] = smudge ? SMUDGE_DIAMETER_640 : PYKNOTIC_DIAMETER_640;
    const unknown = new Array<number>(NUM_ATTRIBUTES).fill(UNKNOWN_ATTRIBUTE);
    return {
      cls,
      trueAttributes: unknown,
      labelAttributes: [...unknown],
      radius: (rng.range(lo, hi) * pixelScale) / 2,
    };
  }
  const profile = CLASS_PROFILES[cls]!;
  const size = rng.weighted(profile.size);
  const trueAttributes = [size, ...profile.p.map((p) => (rng.chance(p) ? 1 : 0))];
  const labelAttributes = trueAttributes.map((v) => (rng.chance(UNKNOWN_ATTRIBUTE_RATE) ? UNKNOWN_ATTRIBUTE : v));
  const [lo, hi] = DIAMETER_RANGES_640[size]!;
  return { cls, trueAttributes, labelAttributes, radius: (rng.range(lo, hi) * pixelScale) / 2 };
}

/** Random harmonics: one per frequency in `ks`, amplitude uniform in [lo, hi). */
function harmonics(rng: Rng, ks: readonly number[], lo: number, hi: number): Harmonic[] {
  return ks.map((k) => ({ k, amp: rng.range(lo, hi), phase: rng.range(0, 2 * Math.PI) }));
}

/** Multiplies each channel of `c` by `f`. */
function scaled(c: Rgb, f: number): Rgb {
  return [c[0] * f, c[1] * f, c[2] * f];
}

/** A point uniformly distributed in the disc of radius `r` around (cx, cy). */
function pointInDisc(rng: Rng, cx: number, cy: number, r: number): { x: number; y: number } {
  const a = rng.range(0, 2 * Math.PI);
  const d = r * Math.sqrt(rng.float());
  return { x: cx + d * Math.cos(a), y: cy + d * Math.sin(a) };
}

/** Context shared by the helpers that build one cell. */
interface Build {
  rng: Rng;
  cx: number;
  cy: number;
  /** Radius that the whole outline contains (the nucleus and dots must stay inside it). */
  inner: number;
  soft: number;
  s: number;
}

/** Builds the nucleus for the given form ("regular" or the class's irregular form). */
function buildNucleus(b: Build, profile: ClassProfile, irregular: boolean, ratio: number): NucleusSpec {
  const { rng, soft } = b;
  const rn = b.inner * ratio;
  // Off-centre placement within the free space.
  const free = b.inner - rn;
  const offA = rng.range(0, 2 * Math.PI);
  const off = free * profile.eccentric * rng.range(0.5, 1);
  const nx = b.cx + off * Math.cos(offA);
  const ny = b.cy + off * Math.sin(offA);
  const angle = rng.range(0, Math.PI);
  const empty: NucleusSpec = { parts: [], bridges: [], notch: null, folds: [] };
  if (!irregular) {
    empty.parts.push({
      cx: nx,
      cy: ny,
      rx: rn,
      ry: rn * rng.range(0.86, 1),
      angle,
      harmonics: harmonics(rng, [2, 3], 0, 0.025),
      soft,
    });
    return empty;
  }
  const bridgeHalf = Math.max(0.45, 0.9 * b.s);
  switch (profile.irregular) {
    case "lobed":
    case "bilobed": {
      const n = profile.irregular === "bilobed" ? 2 : rng.int(3, 5);
      const rl = b.inner * ratio * LOBE_SIZE[n]! * rng.range(0.92, 1.08);
      const spacing = rl * rng.range(1.55, 1.95);
      // Lobes sit on an arc around the cell centre (a C or S shape), consecutive lobes `spacing` apart.
      const arcR = Math.max(rl * 0.6, b.inner - rl * 1.1);
      const step = 2 * Math.asin(Math.min(1, spacing / (2 * arcR)));
      const start = rng.range(0, 2 * Math.PI) - (step * (n - 1)) / 2;
      let prev: { x: number; y: number } | null = null;
      for (let i = 0; i < n; i++) {
        const t = start + i * step + rng.range(-0.12, 0.12);
        const rr = n === 2 ? arcR * rng.range(0.55, 0.8) : arcR * rng.range(0.8, 1);
        const x = b.cx + rr * Math.cos(t);
        const y = b.cy + rr * Math.sin(t);
        empty.parts.push({
          cx: x,
          cy: y,
          rx: rl * rng.range(0.95, 1.12),
          ry: rl * rng.range(0.72, 0.9),
          angle: t + rng.range(-0.4, 0.4),
          harmonics: harmonics(rng, [2, 3], 0, 0.05),
          soft,
        });
        if (prev) {
          empty.bridges.push({ ax: prev.x, ay: prev.y, bx: x, by: y, halfWidth: bridgeHalf, soft });
        }
        prev = { x, y };
      }
      return empty;
    }
    case "kidney":
    case "folded": {
      const ry = rn * rng.range(0.72, 0.88);
      empty.parts.push({
        cx: nx,
        cy: ny,
        rx: rn,
        ry,
        angle,
        harmonics: harmonics(rng, profile.irregular === "folded" ? [2, 3, 4] : [3], 0.02, 0.07),
        soft,
      });
      // The notch sits on one side of the minor axis, turning the oval into a bean.
      const side = rng.chance(0.5) ? 1 : -1;
      const na = angle + (side * Math.PI) / 2;
      const nd = ry * rng.range(1.02, 1.22);
      const nr = rn * rng.range(0.38, 0.52);
      empty.notch = {
        cx: nx + nd * Math.cos(na),
        cy: ny + nd * Math.sin(na),
        rx: nr,
        ry: nr,
        angle: 0,
        harmonics: [],
        soft,
      };
      if (profile.irregular === "folded") {
        const folds = rng.int(1, 2);
        for (let i = 0; i < folds; i++) {
          const fa = rng.range(0, 2 * Math.PI);
          const len = rn * rng.range(0.35, 0.6);
          const fx = nx - 0.3 * rn * Math.cos(na) + rng.range(-0.15, 0.15) * rn;
          const fy = ny - 0.3 * rn * Math.sin(na) + rng.range(-0.15, 0.15) * rn;
          empty.folds.push({
            ax: fx,
            ay: fy,
            bx: fx + len * Math.cos(fa),
            by: fy + len * Math.sin(fa),
            halfWidth: Math.max(0.5, 0.9 * b.s),
            soft: soft * 1.5,
          });
        }
      }
      return empty;
    }
    case "cleft": {
      empty.parts.push({
        cx: nx,
        cy: ny,
        rx: rn,
        ry: rn * rng.range(0.8, 0.95),
        angle,
        harmonics: harmonics(rng, [2, 3, 4], 0.04, 0.09),
        soft,
      });
      // A narrow, deep cleft cut into the outline.
      const ca = rng.range(0, 2 * Math.PI);
      const cr = rn * rng.range(0.24, 0.34);
      const cd = rn * rng.range(0.82, 0.98);
      empty.notch = {
        cx: nx + cd * Math.cos(ca),
        cy: ny + cd * Math.sin(ca),
        rx: cr,
        ry: cr * 0.6,
        angle: ca,
        harmonics: [],
        soft,
      };
      return empty;
    }
  }
}

/**
 * Draws dots inside the cell by rejection: `accept(x, y, r)` decides; gives up on a dot after a few tries, so dense
 * packings end where space runs out.
 */
function scatter(
  b: Build,
  count: number,
  radius: readonly [number, number],
  reach: number,
  accept: (x: number, y: number, r: number, placed: readonly Dot[]) => boolean,
): Dot[] {
  const dots: Dot[] = [];
  const tries = 8;
  for (let i = 0; i < count; i++) {
    for (let t = 0; t < tries; t++) {
      const r = b.rng.range(radius[0], radius[1]);
      const p = pointInDisc(b.rng, b.cx, b.cy, Math.max(0, reach - r));
      if (accept(p.x, p.y, r, dots)) {
        dots.push({ x: p.x, y: p.y, r });
        break;
      }
    }
  }
  return dots;
}

/** Minimum coverage of `shape` on the circle of radius r around (x, y) and at its centre. */
function minCoverageOnCircle(nucleus: NucleusShape, x: number, y: number, r: number): number {
  let m = nucleus.coverage(x, y);
  const samples = 8;
  for (let i = 0; i < samples; i++) {
    const a = (2 * Math.PI * i) / samples;
    m = Math.min(m, nucleus.coverage(x + r * Math.cos(a), y + r * Math.sin(a)));
  }
  return m;
}

/** Draws the full morphology of a planned cell centred at (cx, cy). */
export function buildWhiteCell(rng: Rng, plan: CellPlan, cx: number, cy: number, stain: Stain, s: number): WhiteCell {
  const soft = stain.edgeSoftness;
  if (plan.cls === 0) return buildArtefact(rng, plan, cx, cy, stain, s);
  const profile = CLASS_PROFILES[plan.cls]!;
  const at = plan.trueAttributes;
  const R = plan.radius;
  const outlineH = profile.scalloped
    ? [...harmonics(rng, [2], 0.02, 0.05), ...harmonics(rng, [4, 5, 6, 7], 0.008, 0.03)]
    : harmonics(rng, [2, 3], 0.01, 0.035);
  const ryRatio = rng.range(0.9, 1);
  const outline: RadialShapeParams = {
    cx,
    cy,
    rx: R,
    ry: R * ryRatio,
    angle: rng.range(0, Math.PI),
    harmonics: outlineH,
    soft,
  };
  let ampSum = 0;
  for (const h of outlineH) ampSum += h.amp;
  const inner = R * ryRatio * (1 - ampSum) - soft;
  const b: Build = { rng, cx, cy, inner, soft, s };

  const ratioRange = at[A.cytoplasm] === 1 ? NUCLEUS_RATIO_ABUNDANT : NUCLEUS_RATIO_SCANTY;
  const nucleusSpec = buildNucleus(b, profile, at[A.shape] === 1, rng.range(ratioRange[0], ratioRange[1]));
  const nucleus = new NucleusShape(nucleusSpec);

  // Chromatin: coarse = dark clumps with pale gaps; open = fine, even and paler.
  const coarse = at[A.chromatin] === 1;
  const chromatinPeriod = (coarse ? rng.range(3.4, 4.6) : rng.range(1.8, 2.4)) * Math.max(s, 0.25);
  const chromatinContrast = coarse ? rng.range(0.8, 1) : rng.range(0.08, 0.2);
  const chromatinDensity = coarse ? rng.range(0.95, 1.1) : rng.range(0.58, 0.7);

  // Nucleoli: pale round spots well inside the nucleus.
  let nucleoli: Dot[] = [];
  if (at[A.nucleolus] === 1) {
    const count = plan.cls === 6 ? rng.int(1, 2) : rng.int(1, 3);
    const big = plan.cls === 6 ? 1.25 : 1;
    const main = nucleusSpec.parts[0]!;
    nucleoli = scatter(
      { ...b, cx: main.cx, cy: main.cy },
      count,
      [2.3 * s * big, 3.6 * s * big],
      Math.min(main.rx, main.ry) * 0.75,
      (x, y, r) => minCoverageOnCircle(nucleus, x, y, r + soft) > 0.98,
    );
  }

  // Cytoplasm colour: class hue, plus a blue tint for Moderate basophilia.
  const hue =
    profile.hue === "pink" ? stain.cytoplasmPink : profile.hue === "grey" ? stain.cytoplasmGrey : stain.cytoplasmBlue;
  const baso = at[A.basophilia] === 1 ? rng.range(0.85, 1.15) : rng.range(0, 0.12);
  const cytoplasm = scaled(
    mixRgb(hue, [hue[0] + stain.basophilia[0], hue[1] + stain.basophilia[1], hue[2] + stain.basophilia[2]], baso),
    rng.range(0.88, 1.12),
  );
  const rimOd: Rgb = profile.scalloped ? scaled(stain.basophilia, at[A.basophilia] === 1 ? 0.7 : 0.3) : [0, 0, 0];

  // Vacuoles: clear holes, preferably in the cytoplasm.
  let vacuoles: Dot[] = [];
  if (at[A.vacuoles] === 1) {
    vacuoles = scatter(b, rng.int(3, 9), [1.8 * s, 3.6 * s], inner, (x, y, r, placed) => {
      if (placed.some((v) => Math.hypot(v.x - x, v.y - y) < v.r + r)) return false;
      return nucleus.coverage(x, y) < 0.3 || rng.chance(VACUOLE_OVER_NUCLEUS);
    });
  }

  // Granules.
  const cytoArea = Math.PI * inner * inner * (1 - (at[A.cytoplasm] === 1 ? 0.35 : 0.65));
  const perArea = (px640: number) => Math.round(cytoArea / (px640 * s * s));
  const offNucleus = (x: number, y: number) => nucleus.coverage(x, y) < 0.5;
  let granules: Dot[] = [];
  let granuleOd: Rgb = [0, 0, 0];
  let granulesOverNucleus = false;
  switch (profile.granules) {
    case "fine":
      granules = scatter(b, perArea(9), [0.7 * s, 1.05 * s], inner, offNucleus);
      granuleOd = scaled(stain.neutrophilGranule, rng.range(0.5, 0.8));
      break;
    case "dust":
      granules = scatter(b, perArea(22), [0.6 * s, 0.8 * s], inner, offNucleus);
      granuleOd = scaled(stain.azurophilGranule, 0.3);
      break;
    case "sparseAzurophil":
      granules = scatter(b, rng.int(0, 8), [0.9 * s, 1.3 * s], inner, offNucleus);
      granuleOd = scaled(stain.azurophilGranule, 0.8);
      break;
    case "azurophil":
      granules = scatter(b, perArea(7), [1.0 * s, 1.6 * s], inner, () => true);
      granuleOd = stain.azurophilGranule;
      granulesOverNucleus = true;
      break;
    case "eosinophil":
      granules = scatter(b, perArea(4), [1.3 * s, 1.8 * s], inner, offNucleus);
      granuleOd = scaled(stain.eosinophilGranule, rng.range(0.7, 0.95));
      break;
    case "basophil":
      granules = scatter(b, rng.int(25, 45), [1.6 * s, 2.6 * s], inner, () => true);
      granuleOd = scaled(stain.basophilGranule, rng.range(0.6, 0.95));
      granulesOverNucleus = true;
      break;
    case "none":
      break;
  }

  // Auer rods: thin red rods in the cytoplasm (bundles in abnormal promyelocytes).
  const rods: CapsuleParams[] = [];
  if (rng.chance(profile.auer)) {
    const count = plan.cls === 9 ? rng.int(2, 5) : 1;
    const [p] = scatter(b, 1, [0, 0], inner * 0.8, (x, y) => nucleus.coverage(x, y) < 0.2);
    if (p) {
      const a = rng.range(0, Math.PI);
      for (let i = 0; i < count; i++) {
        const len = rng.range(5, 10) * s;
        const ai = a + rng.range(-0.2, 0.2);
        const ox = p.x + (i - count / 2) * 1.6 * s * Math.sin(a);
        const oy = p.y - (i - count / 2) * 1.6 * s * Math.cos(a);
        rods.push({
          ax: ox - (len / 2) * Math.cos(ai),
          ay: oy - (len / 2) * Math.sin(ai),
          bx: ox + (len / 2) * Math.cos(ai),
          by: oy + (len / 2) * Math.sin(ai),
          halfWidth: Math.max(0.45, 0.75 * s),
          soft,
        });
      }
    }
  }

  return {
    cls: plan.cls,
    trueAttributes: [...plan.trueAttributes],
    labelAttributes: [...plan.labelAttributes],
    outline,
    nucleus: nucleusSpec,
    cytoplasm,
    rimOd,
    nucleusOd: stain.nucleus,
    chromatinPeriod,
    chromatinContrast,
    chromatinDensity,
    nucleoli,
    vacuoles,
    granules,
    granuleOd,
    granulesOverNucleus,
    rods,
    rodOd: stain.auerRod,
    textureSeed: rng.fork(),
    outlineBox: new RadialShape(outline).bounds(),
  };
}

/** Class 0: a smudge cell (ragged smear of nuclear material) or pyknotic debris (dense fragments in a pale rim). */
function buildArtefact(rng: Rng, plan: CellPlan, cx: number, cy: number, stain: Stain, s: number): WhiteCell {
  const soft = stain.edgeSoftness;
  const R = plan.radius;
  const smudge = R * 2 >= PYKNOTIC_DIAMETER_640[1] * s;
  const outline: RadialShapeParams = {
    cx,
    cy,
    rx: R,
    ry: R * rng.range(0.7, 1),
    angle: rng.range(0, Math.PI),
    harmonics: smudge ? harmonics(rng, [2, 3, 4, 5, 7], 0.03, 0.09) : harmonics(rng, [2, 3], 0.01, 0.04),
    soft: smudge ? soft * 2 : soft,
  };
  let nucleus: NucleusSpec | null = null;
  if (!smudge) {
    nucleus = { parts: [], bridges: [], notch: null, folds: [] };
    const n = rng.int(1, 3);
    for (let i = 0; i < n; i++) {
      const r = R * rng.range(0.25, 0.42);
      const p = pointInDisc(rng, cx, cy, Math.max(0, R * 0.8 - r));
      nucleus.parts.push({ cx: p.x, cy: p.y, rx: r, ry: r * rng.range(0.85, 1), angle: 0, harmonics: [], soft });
    }
  }
  return {
    cls: 0,
    trueAttributes: [...plan.trueAttributes],
    labelAttributes: [...plan.labelAttributes],
    outline,
    nucleus,
    cytoplasm: smudge ? scaled(stain.nucleus, rng.range(0.22, 0.4)) : scaled(stain.cytoplasmPink, rng.range(0.8, 1.4)),
    rimOd: [0, 0, 0],
    nucleusOd: scaled(stain.nucleus, 1.25),
    chromatinPeriod: (smudge ? rng.range(4, 7) : 3) * Math.max(s, 0.25),
    chromatinContrast: smudge ? rng.range(0.7, 1) : 0.1,
    chromatinDensity: 1,
    nucleoli: [],
    vacuoles: [],
    granules: [],
    granuleOd: [0, 0, 0],
    granulesOverNucleus: false,
    rods: [],
    rodOd: [0, 0, 0],
    textureSeed: rng.fork(),
    outlineBox: new RadialShape(outline).bounds(),
  };
}
