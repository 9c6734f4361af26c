/**
 * What the studio shows: a dataset (editable) or a detect run (read-only). Both answer in the API's shapes
 * (api-types.ts) and map an API path to the one file they allow to be read for it.
 */

import type { DataProblem } from "../data/problems.js";
import type { ImageDetail, ImageSummary, ProblemView, SaveBody, SaveResult, StudioInfo } from "./api-types.js";

/** A dataset or a run folder as the studio serves it. */
export interface StudioSource {
  /** The real folder nothing is read or written outside of (thumbnails and backups go under it when writable). */
  readonly root: string;
  info(canPredict: boolean, acceptConf: number): StudioInfo;
  list(): ImageSummary[] | Promise<ImageSummary[]>;
  /** The image behind an API path; throws a NotFoundError or a PathRefusedError. */
  imageFile(path: string): string;
  detail(path: string): ImageDetail | Promise<ImageDetail>;
  /** Saves labels (data mode only). */
  save(path: string, body: SaveBody): Promise<SaveResult>;
}

/** An API path that names no image of the source (HTTP 404). */
export class NotFoundError extends Error {
  override name = "NotFoundError";
}

/** A change asked of a read-only source (HTTP 405). */
export class ReadOnlyError extends Error {
  override name = "ReadOnlyError";
}

/** A check problem for the page: "expected …, found …; consequence". */
export function problemView(p: DataProblem): ProblemView {
  const tail = p.consequence ? `; ${p.consequence}` : "";
  return {
    severity: p.severity,
    ...(p.line === undefined ? {} : { line: p.line }),
    message: `${p.kind}: expected ${p.expected}, found ${p.found}${tail}`,
  };
}
