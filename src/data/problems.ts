/**
 * Problems found in a dataset's files, each pointing at a file (and line) so a person can fix it. Every reader in
 * src/data reports through this type; `sladet check` prints them as `file:line: expected …, found …`.
 */

/** How bad a problem is: errors make `sladet check` (and training) fail; warnings and notes do not. */
export const SEVERITIES = ["error", "warning", "note"] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Every kind of problem the readers and `sladet check` report. */
export const PROBLEM_KINDS = [
  "yaml",
  "split-missing",
  "unreadable-file",
  "limit-exceeded",
  "column-count",
  "not-a-number",
  "class-out-of-range",
  "box-outside-image",
  "zero-area-box",
  "region-invalid",
  "region-inconsistent",
  "centre-outside-region",
  "attribute-out-of-set",
  "duplicate-line",
  "readme-15-columns",
  "image-corrupt",
  "image-missing",
  "background-image",
  "split-overlap",
  "split-empty",
  "labels-missing",
  "label-shared",
  "label-orphan",
  "annotation",
] as const;
export type ProblemKind = (typeof PROBLEM_KINDS)[number];

/** One problem in one file. */
export interface DataProblem {
  severity: Severity;
  kind: ProblemKind;
  /** The file that holds the problem, as given to the reader. */
  file: string;
  /** 1-based line number where the file is line-oriented and the problem is on one line. */
  line?: number;
  /** What a valid file holds here. */
  expected: string;
  /** What the file holds instead. */
  found: string;
  /** What sladet does about it (e.g. "line skipped", "read as unknown"). */
  consequence?: string;
}

/** Formats a problem as `file:line: expected …, found …[; consequence]`. */
export function formatProblem(problem: DataProblem): string {
  const where = problem.line === undefined ? problem.file : `${problem.file}:${problem.line}`;
  const tail = problem.consequence ? `; ${problem.consequence}` : "";
  return `${where}: expected ${problem.expected}, found ${problem.found}${tail}`;
}

/** Shortens a text for quoting in a message (long lines would drown the message). */
export function quote(text: string, max = 80): string {
  const oneLine = text.replace(/\s+/g, " ").trim();
  return JSON.stringify(oneLine.length > max ? `${oneLine.slice(0, max)}…` : oneLine);
}

/** Thrown by readers that cannot go on (unreadable YAML, malformed JSON): carries the problem. */
export class DataFormatError extends Error {
  override name = "DataFormatError";
  constructor(readonly problem: DataProblem) {
    super(formatProblem(problem));
  }
}
