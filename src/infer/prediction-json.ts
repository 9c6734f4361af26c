/**
 * The schema of a detect run's `predictions.json` (written by src/infer, read by src/report and by users' scripts).
 * Boxes are in pixels of the original image; every attribute carries its value and the probabilities of all values.
 */

/** Bumped on any incompatible change. */
export const PREDICTIONS_JSON_VERSION = 1;

export interface PredictedAttribute {
  /** The predicted value's name (e.g. "Medium"). */
  value: string;
  /** Its index in the attribute's values (the LLD label code). */
  index: number;
  /** Probability of each value, in the order of `PredictionsJson.model.attributes[i].values`. */
  probabilities: number[];
}

export interface PredictedCell {
  /** x1, y1, x2, y2 in pixels of the original image. */
  box: [number, number, number, number];
  class: number;
  name: string;
  confidence: number;
  /** By attribute name (LLD_ATTRIBUTES order); absent when the model has no attribute head or --hide-attrs. */
  attributes?: Record<string, PredictedAttribute>;
}

export interface PredictedImage {
  /** The image's path as given (relative to the working directory or absolute). */
  file: string;
  width: number;
  height: number;
  detections: PredictedCell[];
  /** The annotated image written for it, relative to the run folder (absent with --nosave). */
  annotated?: string;
}

export interface PredictionsJson {
  version: typeof PREDICTIONS_JSON_VERSION;
  model: {
    weights: string;
    backend: string;
    names: string[];
    imgsz: number;
    /** The attribute schema (name and value names), or null when the predictions carry no attributes. */
    attributes: { name: string; values: string[] }[] | null;
  };
  settings: { confThres: number; iouThres: number; maxDet: number; classes: number[] | null; agnostic: boolean };
  images: PredictedImage[];
  /** Inputs that could not be read, with the reason. */
  skipped: { file: string; reason: string }[];
  /** The working folder relative `file` paths are relative to (absent in files written before it was recorded). */
  workingDir?: string;
}
