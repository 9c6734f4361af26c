/**
 * How each of the 14 LLD classes looks on a synthetic film: how often it occurs, the class-dependent distribution of
 * each of the 7 attributes, and the class-typical features that are not attributes (granules, Auer rods, the form an
 * irregular nucleus takes, cytoplasm hue). Attribute values are drawn independently given the class, so within a class
 * every attribute varies on its own; where biology nearly fixes a value (a neutrophil's lobed nucleus), the
 * probability is close to 0 or 1 rather than exactly, as in real annotations.
 */

/** Form an Irregular nucleus takes for a class (a Regular one is always a smooth round/oval nucleus). */
export type IrregularForm = "lobed" | "bilobed" | "kidney" | "folded" | "cleft";

/** Granules in the cytoplasm, drawn as small stamped dots. */
export type GranuleKind = "none" | "fine" | "dust" | "sparseAzurophil" | "azurophil" | "eosinophil" | "basophil";

/** Base hue of the cytoplasm before basophilia (blue tint) is applied. */
export type CytoplasmHue = "pink" | "grey" | "blue";

/** Appearance profile of one class. */
export interface ClassProfile {
  /** Relative frequency of the class among drawn white cells. */
  weight: number;
  /** Probabilities of Cell Size Small / Medium / Large. */
  size: readonly [number, number, number];
  /**
   * Probability of value 1 for a1..a6: Coarse chromatin, Irregular nuclear shape, Prominent nucleolus, Abundant
   * cytoplasm, Moderate basophilia, Prominent vacuoles.
   */
  p: readonly [number, number, number, number, number, number];
  irregular: IrregularForm;
  granules: GranuleKind;
  hue: CytoplasmHue;
  /** Probability that the cell carries Auer rods (thin red rods in the cytoplasm). */
  auer: number;
  /** How far the nucleus sits off centre, as a fraction of the free space (0 = centred). */
  eccentric: number;
  /** Scalloped cell outline (hugging neighbouring red cells), as in reactive lymphocytes. */
  scalloped: boolean;
}

/** Profiles indexed by class id 1..13 (class 0, "None", is artefacts: see {@link ARTEFACT_WEIGHT}). */
export const CLASS_PROFILES: Readonly<Record<number, ClassProfile>> = {
  1: {
    // Myeloblast: large, fine open chromatin, prominent nucleoli, thin blue rim, occasional Auer rod.
    weight: 1.2,
    size: [0.1, 0.5, 0.4],
    p: [0.15, 0.25, 0.8, 0.3, 0.7, 0.15],
    irregular: "cleft",
    granules: "sparseAzurophil",
    hue: "blue",
    auer: 0.25,
    eccentric: 0.2,
    scalloped: false,
  },
  2: {
    // Lymphoblast: small to medium, scanty cytoplasm, denser chromatin than a myeloblast, no granules.
    weight: 1.2,
    size: [0.45, 0.45, 0.1],
    p: [0.4, 0.3, 0.45, 0.1, 0.6, 0.2],
    irregular: "cleft",
    granules: "none",
    hue: "blue",
    auer: 0,
    eccentric: 0.15,
    scalloped: false,
  },
  3: {
    // Neutrophil: 3-5 lobes joined by thin strands, pale pink cytoplasm with fine lilac granules.
    weight: 1.3,
    size: [0.1, 0.8, 0.1],
    p: [0.9, 0.97, 0.02, 0.95, 0.1, 0.1],
    irregular: "lobed",
    granules: "fine",
    hue: "pink",
    auer: 0,
    eccentric: 0,
    scalloped: false,
  },
  4: {
    // Atypical (reactive) lymphocyte: abundant deep-blue cytoplasm hugging red cells.
    weight: 1,
    size: [0.15, 0.5, 0.35],
    p: [0.6, 0.4, 0.25, 0.8, 0.85, 0.15],
    irregular: "cleft",
    granules: "none",
    hue: "blue",
    auer: 0,
    eccentric: 0.35,
    scalloped: true,
  },
  5: {
    // Promonocyte: large, folded nucleus with fine chromatin, grey-blue cytoplasm.
    weight: 1,
    size: [0.05, 0.4, 0.55],
    p: [0.25, 0.8, 0.5, 0.75, 0.55, 0.35],
    irregular: "folded",
    granules: "dust",
    hue: "grey",
    auer: 0,
    eccentric: 0.2,
    scalloped: false,
  },
  6: {
    // Monoblast: large, round nucleus, very fine chromatin, one or two big nucleoli, abundant cytoplasm.
    weight: 1,
    size: [0.05, 0.35, 0.6],
    p: [0.1, 0.2, 0.85, 0.7, 0.65, 0.3],
    irregular: "cleft",
    granules: "none",
    hue: "grey",
    auer: 0,
    eccentric: 0.25,
    scalloped: false,
  },
  7: {
    // Lymphocyte: small, round dense nucleus, thin sky-blue rim.
    weight: 1.3,
    size: [0.85, 0.15, 0],
    p: [0.9, 0.08, 0.05, 0.15, 0.4, 0.03],
    irregular: "cleft",
    granules: "none",
    hue: "blue",
    auer: 0,
    eccentric: 0.3,
    scalloped: false,
  },
  8: {
    // Myelocyte: round eccentric nucleus, abundant pink cytoplasm with dense fine granules.
    weight: 1,
    size: [0.05, 0.6, 0.35],
    p: [0.65, 0.2, 0.1, 0.9, 0.25, 0.05],
    irregular: "kidney",
    granules: "fine",
    hue: "pink",
    auer: 0,
    eccentric: 0.6,
    scalloped: false,
  },
  9: {
    // Abnormal promyelocyte (APL): heavy red-purple granules, bilobed nucleus, bundles of Auer rods.
    weight: 1,
    size: [0, 0.4, 0.6],
    p: [0.3, 0.7, 0.4, 0.85, 0.35, 0.1],
    irregular: "bilobed",
    granules: "azurophil",
    hue: "pink",
    auer: 0.55,
    eccentric: 0.2,
    scalloped: false,
  },
  10: {
    // Monocyte: large, kidney-shaped nucleus with lacy chromatin, abundant grey-blue cytoplasm, often vacuolated.
    weight: 1,
    size: [0, 0.45, 0.55],
    p: [0.3, 0.85, 0.05, 0.95, 0.3, 0.5],
    irregular: "kidney",
    granules: "dust",
    hue: "grey",
    auer: 0,
    eccentric: 0.2,
    scalloped: false,
  },
  11: {
    // Metamyelocyte: bean-shaped nucleus, pink granular cytoplasm.
    weight: 1,
    size: [0.1, 0.75, 0.15],
    p: [0.8, 0.92, 0.03, 0.9, 0.15, 0.05],
    irregular: "kidney",
    granules: "fine",
    hue: "pink",
    auer: 0,
    eccentric: 0.3,
    scalloped: false,
  },
  12: {
    // Eosinophil: two lobes, cytoplasm packed with large orange-red granules.
    weight: 1,
    size: [0.05, 0.85, 0.1],
    p: [0.85, 0.92, 0.02, 0.9, 0.1, 0.05],
    irregular: "bilobed",
    granules: "eosinophil",
    hue: "pink",
    auer: 0,
    eccentric: 0,
    scalloped: false,
  },
  13: {
    // Basophil: nucleus obscured by coarse dark purple-black granules.
    weight: 0.9,
    size: [0.3, 0.65, 0.05],
    p: [0.8, 0.75, 0.02, 0.7, 0.2, 0.05],
    irregular: "bilobed",
    granules: "basophil",
    hue: "pink",
    auer: 0,
    eccentric: 0,
    scalloped: false,
  },
};

/** Relative frequency of class-0 "None" objects (smudge cells, pyknotic debris) against one white-cell class. */
export const ARTEFACT_WEIGHT = 0.8;

/** Class-sampling weights indexed by class id 0..13. */
export const CLASS_WEIGHTS: readonly number[] = [
  ARTEFACT_WEIGHT,
  ...Array.from({ length: 13 }, (_, i) => CLASS_PROFILES[i + 1]!.weight),
];

/**
 * Diameter ranges in pixels at 640 px (the real LLD's scale, where a red cell is ~40 px across) for Cell Size Small,
 * Medium and Large. The gaps between ranges keep the attribute decidable from the box alone.
 */
export const DIAMETER_RANGES_640: readonly (readonly [number, number])[] = [
  [38, 50],
  [54, 68],
  [72, 92],
];

/** Probability that any one attribute of a labelled cell is left unannotated (written as unknown). */
export const UNKNOWN_ATTRIBUTE_RATE = 0.05;
