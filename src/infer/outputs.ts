/**
 * What `sladet detect` writes for each image's cells: predictions.csv rows (the seed's columns in its order, then Cell
 * Size and every value's probability), predictions.json cells (src/infer/prediction-json.ts) and LLD label lines
 * (`--save-txt`) that the project's own reader parses back, so predictions can seed new annotations.
 */
import { formatLldLabelText } from "../data/formats/lld.js";
import { LLD_ATTRIBUTES, SEED_ATTRIBUTE_NAMES } from "../data/schema.js";
import { csvLine } from "../util/csv.js";
import type { PredictedAttribute, PredictedCell } from "./prediction-json.js";
import type { AttributeProbabilities, ImagePrediction } from "./predictor.js";
import { type LetterboxTransform, toOriginal } from "./sources.js";

/** One detection in original-image pixels, with its attributes when predicted. */
export interface Cell {
  box: [number, number, number, number];
  cls: number;
  confidence: number;
  /** Predicted value per attribute (LLD_ATTRIBUTES order); null without attributes. */
  values: number[] | null;
  /** Probabilities of every value per attribute (LLD_ATTRIBUTES order); null without attributes. */
  probabilities: number[][] | null;
}

/** Probabilities of a cell's attributes, per attribute (Cell Size: 3 values, then six pairs). */
function cellProbabilities(a: AttributeProbabilities, k: number): number[][] {
  const size = LLD_ATTRIBUTES[0]!.values.length;
  const binary = LLD_ATTRIBUTES.length - 1;
  const out = [Array.from(a.cellSize.subarray(k * size, (k + 1) * size))];
  for (let i = 0; i < binary; i++)
    out.push(Array.from(a.binary.subarray((k * binary + i) * 2, (k * binary + i) * 2 + 2)));
  return out;
}

function argmax(v: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
}

/** The detections of one image mapped back to its original pixels (boxes clipped to the image). */
export function cellsOf(prediction: ImagePrediction, transform: LetterboxTransform): Cell[] {
  const cells: Cell[] = [];
  const b = prediction.boxes;
  for (let k = 0; k < prediction.count; k++) {
    const o = k * 6;
    const probabilities = prediction.attributes ? cellProbabilities(prediction.attributes, k) : null;
    cells.push({
      box: toOriginal(transform, b[o]!, b[o + 1]!, b[o + 2]!, b[o + 3]!),
      confidence: b[o + 4]!,
      cls: Math.round(b[o + 5]!),
      values: probabilities ? probabilities.map(argmax) : null,
      probabilities,
    });
  }
  return cells;
}

// ---------------------------------------------------------------------------------------------------------------
// predictions.csv

/** The seed's detect.py columns (predictions_RG.csv), in its order. */
export const SEED_PREDICTION_COLUMNS: readonly string[] = [
  "Image Name",
  "Prediction",
  "Confidence",
  ...SEED_ATTRIBUTE_NAMES,
  "x_min",
  "y_min",
  "x_max",
  "y_max",
];

/** The probability columns: `P(<attribute>=<value>)` for every value of every attribute (LLD_ATTRIBUTES order). */
export const PROBABILITY_COLUMNS: readonly string[] = LLD_ATTRIBUTES.flatMap((a) =>
  a.values.map((v) => `P(${a.name}=${v})`),
);

/** Every column of predictions.csv: the seed's, then Cell Size, then the probabilities. */
export const PREDICTION_CSV_COLUMNS: readonly string[] = [
  ...SEED_PREDICTION_COLUMNS,
  "Cell Size",
  ...PROBABILITY_COLUMNS,
];

/** Digits of confidences and probabilities, and of box coordinates, in the CSV and JSON. */
export const SCORE_DIGITS = 4;
export const BOX_DIGITS = 1;

/** The CSV header line. */
export function predictionCsvHeader(): string {
  return csvLine(PREDICTION_CSV_COLUMNS);
}

/**
 * One CSV row: image, class name, confidence, the six binary attributes' value codes (0/1; empty without
 * attributes), the box in original pixels, Cell Size's code (0/1/2), the probabilities.
 */
export function predictionCsvRow(image: string, cell: Cell, names: readonly string[]): string {
  const v = cell.values;
  const binary = v ? v.slice(1) : new Array<string>(LLD_ATTRIBUTES.length - 1).fill("");
  const probabilities = cell.probabilities
    ? cell.probabilities.flat().map((p) => p.toFixed(SCORE_DIGITS))
    : new Array<string>(PROBABILITY_COLUMNS.length).fill("");
  return csvLine([
    image,
    names[cell.cls] ?? String(cell.cls),
    cell.confidence.toFixed(SCORE_DIGITS),
    ...binary,
    ...cell.box.map((c) => c.toFixed(BOX_DIGITS)),
    v ? v[0]! : "",
    ...probabilities,
  ]);
}

// ---------------------------------------------------------------------------------------------------------------
// predictions.json

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/**
 * Decimals predictions.json keeps: boxes in pixels (0.001 px: detect.py's boxes to within 1e-3), then confidences and
 * probabilities.
 */
export const JSON_DIGITS = { box: BOX_DIGITS + 2, score: SCORE_DIGITS + 2 } as const;

/**
 * A cell in predictions.json's schema. `rounded` (the file's default) rounds to {@link JSON_DIGITS}; the API passes
 * false and gets the model's float values (detect.py's boxes to 1e-4 px).
 */
export function predictedCell(cell: Cell, names: readonly string[], rounded = true): PredictedCell {
  const box = (v: number) => (rounded ? round(v, JSON_DIGITS.box) : v);
  const score = (v: number) => (rounded ? round(v, JSON_DIGITS.score) : v);
  const out: PredictedCell = {
    box: cell.box.map(box) as [number, number, number, number],
    class: cell.cls,
    name: names[cell.cls] ?? String(cell.cls),
    confidence: score(cell.confidence),
  };
  if (cell.values && cell.probabilities) {
    const attributes: Record<string, PredictedAttribute> = {};
    LLD_ATTRIBUTES.forEach((spec, i) => {
      const index = cell.values![i]!;
      attributes[spec.name] = {
        value: spec.values[index]!,
        index,
        probabilities: cell.probabilities![i]!.map(score),
      };
    });
    out.attributes = attributes;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// --save-txt

/**
 * The LLD label file of an image's cells: 16 columns `cls xc yc w h rx1 ry1 rx2 ry2 a0..a6`, box normalised to the
 * original image, the region the whole image (`0 0 width height` in pixels: every cell of it was looked at), the
 * predicted attribute values (unknown codes without attributes). "" when nothing was found.
 */
export function lldLabelText(cells: readonly Cell[], width: number, height: number): string {
  return formatLldLabelText(
    {
      image: "",
      width,
      height,
      region: null,
      labels: cells.map((c) => {
        const [x1, y1, x2, y2] = c.box;
        return {
          cls: c.cls,
          xc: (x1 + x2) / 2 / width,
          yc: (y1 + y2) / 2 / height,
          w: (x2 - x1) / width,
          h: (y2 - y1) / height,
          attributes: c.values ? [...c.values] : [],
        };
      }),
    },
    { denseRegion: "full-image" },
  );
}
