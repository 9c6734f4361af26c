/**
 * The scene of one synthetic field of view: every object with its geometry and colours, before any pixel is drawn.
 * A scene is pure data (drawn from the image's random streams), so tests can inspect it, render it with one object
 * left out, or compare it with the labels.
 */
import type { Rgb } from "./raster.js";
import type { Box, CapsuleParams, RadialShapeParams } from "./shapes.js";
import type { Stain } from "./stain.js";

/** A round dot (granule, vacuole, nucleolus, platelet granule) in image pixels. */
export interface Dot {
  x: number;
  y: number;
  r: number;
}

/** A nucleus: the union of parts (one for a round nucleus, 2-5 lobes joined by bridges), minus an optional notch. */
export interface NucleusSpec {
  parts: RadialShapeParams[];
  bridges: CapsuleParams[];
  /** A disc cut out of the parts (kidney, cleft and folded forms); null for none. */
  notch: RadialShapeParams | null;
  /** Darker creases across a folded nucleus. */
  folds: CapsuleParams[];
}

/** A white cell (classes 1..13) or an artefact (class 0, "None"), with everything needed to draw it. */
export interface WhiteCell {
  cls: number;
  /** The attribute values the cell is drawn with (a0..a6; artefacts: all unknown). */
  trueAttributes: number[];
  /** The values written to the labels: `trueAttributes` with some left unknown (-1). */
  labelAttributes: number[];
  /** Cell outline. */
  outline: RadialShapeParams;
  /** Nucleus; null for a smudge cell. */
  nucleus: NucleusSpec | null;
  /** Cytoplasm OD (hue and basophilia applied). */
  cytoplasm: Rgb;
  /** Extra OD reached at the cell edge (the deep-blue rim of reactive lymphocytes); zeros for none. */
  rimOd: Rgb;
  /** Nucleus OD at full chromatin density. */
  nucleusOd: Rgb;
  /** Chromatin texture: blob size in pixels, and contrast (0 = uniform, 1 = dark clumps with pale gaps). */
  chromatinPeriod: number;
  chromatinContrast: number;
  /** Mean chromatin density (open chromatin is paler). */
  chromatinDensity: number;
  nucleoli: Dot[];
  vacuoles: Dot[];
  granules: Dot[];
  granuleOd: Rgb;
  /** Granules also cover the nucleus (basophils). */
  granulesOverNucleus: boolean;
  rods: CapsuleParams[];
  rodOd: Rgb;
  /** Seed of the cell's textures. */
  textureSeed: number;
  /** Box of the drawn outline (coverage 0.5), unclipped, in image pixels. */
  outlineBox: Box;
}

/** A red cell: a pale-centred disc. */
export interface RedCell {
  shape: RadialShapeParams;
  /** Central pallor: 0 = uniform, 1 = clear centre. */
  pallor: number;
  /** Pallor radius as a fraction of the cell radius. */
  pallorRadius: number;
  /** Haemoglobin density relative to the stain's red-cell OD (~1). */
  density: number;
}

/** A platelet or a stain/debris speck: a small blob. */
export interface Speck {
  shape: RadialShapeParams;
  od: Rgb;
}

/** Everything in one field of view. */
export interface Scene {
  width: number;
  height: number;
  stain: Stain;
  redCells: RedCell[];
  specks: Speck[];
  whiteCells: WhiteCell[];
  /** Seed of the sensor noise. */
  noiseSeed: number;
}
