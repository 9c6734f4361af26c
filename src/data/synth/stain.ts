/**
 * Per-image staining and optics: the colours of every component (as optical densities), the background, focus, noise
 * and illumination. Base values were measured on real LLD fields of view (background ≈ RGB 159,159,150; red cells
 * ≈ 70,85,118 at the rim; nuclei ≈ 50..80, 25..45, 100..115), then jittered per image like films stained on different
 * days and photographed under different lamps.
 */
import type { Rgb } from "./raster.js";
import type { Rng } from "./rng.js";

/** Colours and optics of one field of view. */
export interface Stain {
  /** Unstained background intensity, 0..255 per channel. */
  background: Rgb;
  /** Red-cell optical density at the rim. */
  redCell: Rgb;
  /** Nucleus OD for dense chromatin (open chromatin is drawn lighter). */
  nucleus: Rgb;
  /** Cytoplasm OD per base hue with Slight basophilia. */
  cytoplasmPink: Rgb;
  cytoplasmGrey: Rgb;
  cytoplasmBlue: Rgb;
  /** OD added by Moderate basophilia (absorbs red: a blue tint). */
  basophilia: Rgb;
  /** Granule ODs. */
  neutrophilGranule: Rgb;
  azurophilGranule: Rgb;
  eosinophilGranule: Rgb;
  basophilGranule: Rgb;
  /** Auer rod OD. */
  auerRod: Rgb;
  /** Platelet OD. */
  platelet: Rgb;
  /** Width of object edges in pixels (defocus and antialiasing). */
  edgeSoftness: number;
  /** Box-blur radius applied to the whole image (0 = sharp). */
  blurRadius: number;
  /** Number of box-blur passes. */
  blurPasses: number;
  /** Sensor noise amplitude in grey levels. */
  noise: number;
  /** Illumination: linear gradient amplitudes along x and y and vignetting strength (fractions of the gain). */
  gradientX: number;
  gradientY: number;
  vignette: number;
}

/** Reference background of LLD images. */
const BACKGROUND: Rgb = [159, 159, 150];
/** Per-image multiplicative jitter of the background brightness (±). */
const BACKGROUND_BRIGHTNESS_JITTER = 0.08;
/** Per-channel jitter of the background tint (±). */
const BACKGROUND_TINT_JITTER = 0.035;
/** Red-cell rim OD: −ln(70/159), −ln(85/159), −ln(118/150). */
const RED_CELL_OD: Rgb = [0.82, 0.63, 0.24];
/** Dense nucleus OD (deep purple), and a bluer variant the per-image hue interpolates towards. */
const NUCLEUS_PURPLE: Rgb = [1.05, 1.7, 0.42];
const NUCLEUS_BLUE: Rgb = [1.25, 1.45, 0.5];
/** Cytoplasm ODs (Slight basophilia) per hue, and the OD Moderate basophilia adds. */
const CYTO_PINK: Rgb = [0.03, 0.17, 0.02];
const CYTO_GREY: Rgb = [0.11, 0.12, 0.03];
const CYTO_BLUE: Rgb = [0.13, 0.1, 0.01];
const BASOPHILIA: Rgb = [0.34, 0.2, 0.03];
/** Granule and rod ODs. */
const NEUTROPHIL_GRANULE: Rgb = [0.25, 0.45, 0.1];
const AZUROPHIL_GRANULE: Rgb = [0.5, 0.95, 0.22];
const EOSINOPHIL_GRANULE: Rgb = [0.08, 0.5, 0.72];
const BASOPHIL_GRANULE: Rgb = [1.3, 1.6, 0.55];
const AUER_ROD: Rgb = [0.45, 1.0, 0.35];
const PLATELET: Rgb = [0.55, 0.85, 0.2];

/** Multiplies each channel of `c` by `f`. */
function scale(c: Rgb, f: number): Rgb {
  return [c[0] * f, c[1] * f, c[2] * f];
}

/** Channel-wise linear interpolation between `a` and `b`. */
export function mixRgb(a: Rgb, b: Rgb, t: number): Rgb {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

/**
 * Draws the stain and optics of one image.
 * @param rng the image's scene stream
 * @param pixelScale image size / 640 (sizes are specified at the LLD's 640 px)
 */
export function drawStain(rng: Rng, pixelScale: number): Stain {
  const brightness = 1 + rng.range(-BACKGROUND_BRIGHTNESS_JITTER, BACKGROUND_BRIGHTNESS_JITTER);
  const background: Rgb = [
    Math.min(250, BACKGROUND[0] * brightness * (1 + rng.range(-BACKGROUND_TINT_JITTER, BACKGROUND_TINT_JITTER))),
    Math.min(250, BACKGROUND[1] * brightness * (1 + rng.range(-BACKGROUND_TINT_JITTER, BACKGROUND_TINT_JITTER))),
    Math.min(250, BACKGROUND[2] * brightness * (1 + rng.range(-BACKGROUND_TINT_JITTER, BACKGROUND_TINT_JITTER))),
  ];
  // Haematoxylin-like (nuclei, basophilia) and eosin-like (granules, pink cytoplasm) strengths vary per film.
  const hema = rng.range(0.85, 1.15);
  const eosin = rng.range(0.85, 1.15);
  const focus = rng.float();
  // Most fields are in focus; about a quarter are a little soft, a tenth clearly soft.
  const blurRadius = focus < 0.65 ? 0 : 1;
  const blurPasses = focus < 0.65 ? 0 : focus < 0.9 ? 1 : 2;
  return {
    background,
    redCell: scale(RED_CELL_OD, rng.range(0.85, 1.15) * eosin),
    nucleus: scale(mixRgb(NUCLEUS_PURPLE, NUCLEUS_BLUE, rng.float()), hema),
    cytoplasmPink: scale(CYTO_PINK, eosin),
    cytoplasmGrey: scale(CYTO_GREY, hema),
    cytoplasmBlue: scale(CYTO_BLUE, hema),
    basophilia: scale(BASOPHILIA, hema),
    neutrophilGranule: scale(NEUTROPHIL_GRANULE, eosin),
    azurophilGranule: scale(AZUROPHIL_GRANULE, hema),
    eosinophilGranule: scale(EOSINOPHIL_GRANULE, eosin),
    basophilGranule: scale(BASOPHIL_GRANULE, hema),
    auerRod: scale(AUER_ROD, eosin),
    platelet: scale(PLATELET, hema),
    edgeSoftness: Math.max(0.7, rng.range(1.0, 1.8) * pixelScale),
    blurRadius: Math.round(blurRadius * Math.max(1, pixelScale)),
    blurPasses: pixelScale < 0.35 ? Math.min(blurPasses, 1) : blurPasses,
    noise: rng.range(1.5, 5),
    gradientX: rng.range(-0.06, 0.06),
    gradientY: rng.range(-0.06, 0.06),
    vignette: rng.range(0, 0.1),
  };
}
