/**
 * The LLD label schema shared by every part of sladet: the 14 white-cell classes and the 7 morphological attributes
 * (design.md §4 decision 3, method.md §1.1 and §2). Index = the id written in label files.
 */

/** Class names of the Large Leukemia Dataset; class 0 "None" holds artefacts and non-WBC objects. */
export const LLD_CLASS_NAMES = [
  "None",
  "Myeloblast",
  "Lymphoblast",
  "Neutrophil",
  "Atypical lymphocyte",
  "Promonocyte",
  "Monoblast",
  "Lymphocyte",
  "Myelocyte",
  "Abnormal promyelocyte",
  "Monocyte",
  "Metamyelocyte",
  "Eosinophil",
  "Basophil",
] as const;

/**
 * A distinct colour (#rrggbb) per LLD class id, for boxes: the synthetic contact sheet's and `sladet detect`'s annotated
 * images' (class 0 "None" grey).
 */
export const CLASS_COLOURS = [
  "#9e9e9e",
  "#e6194b",
  "#3cb44b",
  "#ffe119",
  "#4363d8",
  "#f58231",
  "#911eb4",
  "#42d4f4",
  "#f032e6",
  "#bfef45",
  "#fabed4",
  "#469990",
  "#dcbeff",
  "#9a6324",
];

/** True when `names` are the LLD classes (in order). */
function isLld(names: readonly string[]): boolean {
  return names.length === LLD_CLASS_NAMES.length && names.every((n, i) => n === LLD_CLASS_NAMES[i]);
}

/**
 * The box colour of class `cls` of a model with these class names: {@link CLASS_COLOURS} for the LLD classes (grey for
 * "None"); for other models the same palette without its grey, so that a one-class model's cells stand out.
 */
export function classColour(cls: number, names: readonly string[]): string {
  if (isLld(names)) return CLASS_COLOURS[cls % CLASS_COLOURS.length]!;
  const vivid = CLASS_COLOURS.slice(1);
  return vivid[cls % vivid.length]!;
}

/** One morphological attribute: its name and the names of its values (value index = the number in label files). */
export interface AttributeSpec {
  /** Human-readable name, as in the seed's CSV headers where it has one. */
  readonly name: string;
  /** Short code used in compact drawings and tables. */
  readonly code: string;
  /** Value names; any label value outside 0..values.length-1 means "unknown" for this attribute. */
  readonly values: readonly string[];
}

/** The 7 attributes in label-column order a0..a6. a0 (Cell Size) has 3 values; the others are binary. */
export const LLD_ATTRIBUTES: readonly AttributeSpec[] = [
  { name: "Cell Size", code: "CS", values: ["Small", "Medium", "Large"] },
  { name: "Nuclear Chromatin", code: "NC", values: ["Open", "Coarse"] },
  { name: "Nuclear Shape", code: "NS", values: ["Regular", "Irregular"] },
  { name: "Nucleolus", code: "NU", values: ["Inconspicuous", "Prominent"] },
  { name: "Cytoplasm", code: "CY", values: ["Scanty", "Abundant"] },
  { name: "Cytoplasmic Basophilia", code: "CB", values: ["Slight", "Moderate"] },
  { name: "Cytoplasmic Vacuoles", code: "CV", values: ["Absent", "Prominent"] },
];

/** The seed's CSV column names of a1..a6 (val.py, test.py, detect.py); its "Nucleus" is the Nucleolus attribute. */
export const SEED_ATTRIBUTE_NAMES = [
  "Nuclear Chromatin",
  "Nuclear Shape",
  "Nucleus",
  "Cytoplasm",
  "Cytoplasmic Basophilia",
  "Cytoplasmic Vacuoles",
] as const;

/** Number of attributes per object (a0..a6). */
export const NUM_ATTRIBUTES = 7;

/** Value stored for an attribute that is not annotated (any out-of-range value is read as this). */
export const UNKNOWN_ATTRIBUTE = -1;

/** True when `value` is a known value of attribute `index` under `schema`. */
export function isKnownAttribute(value: number, index: number, schema: readonly AttributeSpec[] = LLD_ATTRIBUTES) {
  const spec = schema[index];
  return spec !== undefined && Number.isInteger(value) && value >= 0 && value < spec.values.length;
}

/** Axis-aligned rectangle in absolute pixels of the stored image, end-exclusive: x1 <= x < x2, y1 <= y < y2. */
export interface PixelRect {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

/** One annotated object. Box normalised to [0,1] of the stored image (YOLO convention). */
export interface CellLabel {
  cls: number;
  /** Box centre x, centre y, width, height, each normalised to the image. */
  xc: number;
  yc: number;
  w: number;
  h: number;
  /** a0..a6; UNKNOWN_ATTRIBUTE (-1) where not annotated. Empty array = no attributes (plain YOLO / VOC data). */
  attributes: number[];
}

/** Everything known about one image's annotation. */
export interface ImageAnnotation {
  /** Image path (absolute, or relative to the dataset root where the context says so). */
  image: string;
  width: number;
  height: number;
  /** The labelled region in pixels of the stored image; null = the whole image is labelled (dense). */
  region: PixelRect | null;
  labels: CellLabel[];
  /**
   * Objects outside the labelled region that the dataset's maker knows (sparsify and the synthetic generator set
   * aside what they unlabel): never trained on, only used to measure pseudo-labels. @default undefined (none known)
   */
  heldout?: CellLabel[];
}
