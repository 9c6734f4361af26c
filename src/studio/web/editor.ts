/**
 * The labels of the open image as an editable document with undo and redo: every change is one step (a drag is one
 * step, taken when it ends), and the document knows whether it differs from what was loaded or last saved.
 */
import type { CellLabel, PixelRect } from "../../data/schema.js";

/** What the editor edits: the image's region and its boxes (normalised, as label lines). */
export interface Doc {
  region: PixelRect | null;
  labels: CellLabel[];
}

/** Most steps kept for undo. */
export const UNDO_DEPTH = 500;

function clone(doc: Doc): Doc {
  return {
    region: doc.region ? { ...doc.region } : null,
    labels: doc.labels.map((l) => ({ ...l, attributes: [...l.attributes] })),
  };
}

/** The open image's document and its history. */
export class Editor {
  doc: Doc;
  #past: Doc[] = [];
  #future: Doc[] = [];
  #saved: string;
  #dragStart: Doc | null = null;

  constructor(doc: Doc) {
    this.doc = clone(doc);
    this.#saved = JSON.stringify(this.doc);
  }

  /** True when the document differs from the one loaded or last saved. */
  get dirty(): boolean {
    return JSON.stringify(this.doc) !== this.#saved;
  }
  get canUndo(): boolean {
    return this.#past.length > 0;
  }
  get canRedo(): boolean {
    return this.#future.length > 0;
  }

  #push(before: Doc): void {
    this.#past.push(before);
    if (this.#past.length > UNDO_DEPTH) this.#past.shift();
    this.#future = [];
  }

  /** Applies one change as one undo step. */
  change(mutate: (doc: Doc) => void): void {
    const before = clone(this.doc);
    mutate(this.doc);
    if (JSON.stringify(before) !== JSON.stringify(this.doc)) this.#push(before);
  }

  /** Starts a drag: the changes until {@link endDrag} are one step. */
  beginDrag(): void {
    this.#dragStart = clone(this.doc);
  }
  endDrag(): void {
    const start = this.#dragStart;
    this.#dragStart = null;
    if (start && JSON.stringify(start) !== JSON.stringify(this.doc)) this.#push(start);
  }

  undo(): boolean {
    const previous = this.#past.pop();
    if (!previous) return false;
    this.#future.push(clone(this.doc));
    this.doc = previous;
    return true;
  }
  redo(): boolean {
    const next = this.#future.pop();
    if (!next) return false;
    this.#past.push(clone(this.doc));
    this.doc = next;
    return true;
  }

  /** Marks the current document as saved. */
  markSaved(): void {
    this.#saved = JSON.stringify(this.doc);
  }
}
