/**
 * A detect run's `predictions.json` and `predictions.csv`, written image by image as the run goes, so that its memory
 * does not grow with the number of images: each image's entry is written when it is predicted and then dropped. Both
 * files are published atomically when the run ends ({@link PredictionFiles.commit}); a failed or interrupted run
 * leaves neither (nor an older run's, which a new run folder never holds anyway). The JSON text is exactly what
 * `JSON.stringify(document, null, 1)` gives for the whole {@link PredictionsJson} document.
 */
import { AtomicFileWriter } from "../util/fs.js";
import type { PredictedImage, PredictionsJson } from "./prediction-json.js";

/** Indentation of predictions.json (one space per level, as JSON.stringify(…, null, 1)). */
const JSON_INDENT = 1;
/** Depth of an image entry in the document: inside the top-level object's `images` array. */
const IMAGE_DEPTH = 2;

/** `value` as JSON.stringify(…, null, 1) writes it at nesting `depth` (its first line unindented). */
function jsonAt(value: unknown, depth: number): string {
  return JSON.stringify(value, null, JSON_INDENT).replace(/\n/g, `\n${" ".repeat(depth * JSON_INDENT)}`);
}

/** The document's fields written before `images` (in the schema's order), and `skipped`, written after them. */
export type PredictionsHead = Omit<PredictionsJson, "images" | "skipped">;

/** predictions.json written image by image. */
export class PredictionsJsonWriter {
  readonly #file: AtomicFileWriter;
  #images = 0;

  constructor(path: string, head: PredictionsHead) {
    this.#file = new AtomicFileWriter(path);
    const opening = jsonAt(head, 0);
    // the head object without its closing brace, then the images array opened
    this.#file.write(`${opening.slice(0, opening.length - 2)},\n "images": [`);
  }

  /** Appends one image's entry. */
  add(image: PredictedImage): void {
    const indent = " ".repeat(IMAGE_DEPTH * JSON_INDENT);
    this.#file.write(`${this.#images > 0 ? "," : ""}\n${indent}${jsonAt(image, IMAGE_DEPTH)}`);
    this.#images++;
  }

  /** Closes the document with the skipped inputs and publishes it. */
  commit(skipped: PredictionsJson["skipped"]): void {
    const closing = this.#images > 0 ? `\n${" ".repeat(JSON_INDENT)}]` : "]";
    this.#file.write(`${closing},\n "skipped": ${jsonAt(skipped, 1)}\n}\n`);
    this.#file.commit();
  }

  abort(): void {
    this.#file.abort();
  }
}

/** predictions.csv written row by row: the header line, then one line per cell. */
export class PredictionsCsvWriter {
  readonly #file: AtomicFileWriter;

  constructor(path: string, header: string) {
    this.#file = new AtomicFileWriter(path);
    this.#file.write(`${header}\n`);
  }

  /** Appends rows (one per cell). */
  add(rows: readonly string[]): void {
    if (rows.length > 0) this.#file.write(`${rows.join("\n")}\n`);
  }

  commit(): void {
    this.#file.commit();
  }

  abort(): void {
    this.#file.abort();
  }
}
