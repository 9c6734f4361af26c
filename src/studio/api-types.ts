/**
 * The studio's HTTP API as types, shared by the server (src/studio) and the front end (src/studio/web): no runtime
 * code, so the browser bundle imports it freely. Paths are relative to the dataset root (or ids of a run's images),
 * `/`-separated; boxes are normalised like label lines; regions are pixels of the stored image.
 */
import type { CellLabel, PixelRect } from "../data/schema.js";
import type { PredictedCell } from "../infer/prediction-json.js";

/** Header that carries the session's token (the token may also come as `?token=` for pictures). */
export const TOKEN_HEADER = "x-sladet-token";

/** What the studio shows and whether it can edit and predict. */
export interface StudioInfo {
  /** "data": a dataset YAML, editable; "run": a detect run's predictions, read-only. */
  mode: "data" | "run";
  /** The YAML or run folder, for the title bar. */
  title: string;
  readOnly: boolean;
  /** Class names and a colour (#rrggbb) per class. */
  names: string[];
  colours: string[];
  /** The attribute schema in label-column order. */
  attributes: { name: string; code: string; values: string[] }[];
  /** Splits in order (run mode: "images"). */
  splits: string[];
  /** True when weights were given: POST /api/predict works. */
  canPredict: boolean;
  /** Default confidence for "accept all predictions in the region". */
  acceptConf: number;
  /** Notes from loading (images left out, YAML warnings), shown once. */
  notes: string[];
}

/** One image in the browse list. */
export interface ImageSummary {
  path: string;
  split: string;
  name: string;
  width: number;
  height: number;
  /** Boxes per class id. */
  classCounts: number[];
  /** `attribute:value` pairs present among the boxes (value -1 = unknown). */
  attributeValues: string[];
  hasRegion: boolean;
  /** `sladet check` errors and warnings of the image. */
  problems: number;
}

/** A `sladet check` problem as shown in the studio. */
export interface ProblemView {
  severity: "error" | "warning" | "note";
  /** The line of the label file, when the problem is on one. */
  line?: number;
  message: string;
}

/** One image opened for viewing and editing. */
export interface ImageDetail {
  path: string;
  split: string;
  width: number;
  height: number;
  region: PixelRect | null;
  labels: CellLabel[];
  /** The label file's version: send it back with a save. */
  version: string;
  /** The label file (relative to the root), for messages. */
  labelFile: string;
  problems: ProblemView[];
  /** Run mode: the run's predictions of this image. */
  predictions?: PredictedCell[];
}

/** Body of PUT /api/labels. */
export interface SaveBody {
  version: string;
  region: PixelRect | null;
  labels: CellLabel[];
}

/** Answer of PUT /api/labels. */
export interface SaveResult {
  status: "saved" | "unchanged";
  version: string;
  /** The backup of the previous file, relative to the root; null when nothing was replaced. */
  backup: string | null;
  /** `sladet check` of the saved file. */
  problems: ProblemView[];
  summary: ImageSummary;
}

/** Answer of POST /api/predict. */
export interface PredictResult {
  cells: PredictedCell[];
  /** The model's class names (a prediction's class maps to the dataset's by name). */
  names: string[];
  cached: boolean;
}

/** Error answers: `{ error }` with the HTTP status. */
export interface ErrorBody {
  error: string;
}
