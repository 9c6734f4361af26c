/**
 * The studio page: opens images from the browse list, keeps the open image's editor, predictions and check
 * problems, and carries out the actions of the buttons and keys (annotate, predict, accept, save, undo/redo).
 */
import type { CellLabel } from "../../data/schema.js";
import { attributeCode } from "../../infer/attribute-code.js";
import type { PredictedCell } from "../../infer/prediction-json.js";
import { pushAll } from "../../util/arrays.js";
import type { ImageDetail, ProblemView, StudioInfo } from "../api-types.js";
import { type Api, ApiError } from "./api.js";
import { BrowseList } from "./browse.js";
import { Editor } from "./editor.js";
import { centreInside, iou, labelRect, setLabelRect } from "./geometry.js";
import { enable, Panel, UNKNOWN } from "./panel.js";
import { type Mode, Viewer } from "./viewer.js";

/** Predictions whose IoU with an existing box reaches this are not added again by "accept all". */
export const ACCEPT_DUPLICATE_IOU = 0.5;

export class App {
  readonly browse: BrowseList;
  readonly viewer: Viewer;
  readonly panel: Panel;
  editor: Editor | null = null;
  detail: ImageDetail | null = null;
  predictions: PredictedCell[] = [];
  /** The model's class names of the current predictions. */
  predictionNames: string[] = [];
  currentClass = 0;
  #serverProblems: ProblemView[] = [];
  readonly #predictionCache = new Map<string, { cells: PredictedCell[]; names: string[] }>();
  #opening = 0;
  /** Whether an image is being loaded. */
  #loading = false;

  constructor(
    readonly info: StudioInfo,
    readonly api: Api,
  ) {
    this.browse = new BrowseList(info, api, (path) => void this.open(path));
    this.panel = new Panel(info, {
      pickClass: (cls) => this.pickClass(cls),
      setAttribute: (i, v) => this.setAttribute(i, v),
    });
    this.viewer = new Viewer(document.getElementById("canvas") as HTMLCanvasElement, {
      info,
      editor: () => this.editor,
      predictions: () => this.predictions,
      currentClass: () => this.currentClass,
      changed: () => this.refresh(),
      predictionLabel: (cell) => this.predictionLabel(cell),
    });
    (document.getElementById("accept-conf") as HTMLInputElement).value = String(info.acceptConf);
    document.getElementById("title")!.textContent = info.title;
    if (info.readOnly) for (const id of ["predict-panel"]) document.getElementById(id)!.hidden = true;
    this.refresh();
  }

  /** Shows a message in the status line (red for errors). */
  status(message: string, error = false): void {
    const s = document.getElementById("status")!;
    s.textContent = message;
    s.classList.toggle("error", error);
  }

  /**
   * Opens an image (asks first when the open one has unsaved changes). The image already shown, with no other one
   * loading, stays as it is: opening it again would drop its unsaved edits and the view.
   */
  async open(path: string): Promise<void> {
    if (path === this.detail?.path && !this.#loading) return;
    if (this.editor?.dirty && path !== this.detail?.path) {
      if (!confirm(`${this.detail?.path} has unsaved changes: discard them?`)) return;
    }
    const ticket = ++this.#opening;
    this.#loading = true;
    try {
      const detail = await this.api.image(path);
      const picture = new Image();
      picture.src = this.api.pixelsUrl(path);
      await picture.decode();
      if (ticket !== this.#opening) return;
      this.detail = detail;
      // a box without attribute columns (plain YOLO lines) has every attribute unknown
      const unknown = this.info.attributes.map(() => UNKNOWN);
      const labels = detail.labels.map((l) => ({ ...l, attributes: unknown.map((u, i) => l.attributes[i] ?? u) }));
      this.editor = this.info.readOnly ? null : new Editor({ region: detail.region, labels });
      const cached = this.#predictionCache.get(path);
      this.predictions = detail.predictions ?? cached?.cells ?? [];
      this.predictionNames = detail.predictions ? this.info.names : (cached?.names ?? []);
      this.#serverProblems = detail.problems;
      this.browse.setCurrent(path);
      document.getElementById("image-name")!.textContent = `${detail.path} (${detail.width}×${detail.height})`;
      this.viewer.setImage(picture, { width: detail.width, height: detail.height });
      this.status(`${detail.split}: ${detail.path}`);
      this.refresh();
    } catch (e) {
      this.status(`cannot open ${path}: ${(e as Error).message}`, true);
    } finally {
      if (ticket === this.#opening) this.#loading = false;
    }
  }

  /** Reads the list again (files changed by another editor, a git pull). */
  async reloadList(): Promise<void> {
    try {
      this.browse.setImages(await this.api.images());
      if (this.detail) this.browse.setCurrent(this.detail.path);
    } catch (e) {
      this.status(`cannot read the list: ${(e as Error).message}`, true);
    }
  }

  /** Opens the next (step 1) or previous (-1) image of the filtered list. */
  step(step: number): void {
    const next = this.browse.neighbour(step);
    if (next && next !== this.detail?.path) void this.open(next);
    else if (next && !this.detail) void this.open(next);
  }

  selectedBox(): CellLabel | null {
    const sel = this.viewer.selection;
    return sel?.kind === "box" ? (this.editor?.doc.labels[sel.index] ?? null) : null;
  }

  /** Live problems: boxes whose centre lies outside the region (a save would be refused). */
  #liveProblems(): ProblemView[] {
    const editor = this.editor;
    if (!editor || !this.detail) return [];
    const size = { width: this.detail.width, height: this.detail.height };
    return editor.doc.labels.flatMap((label, i) =>
      centreInside(label, editor.doc.region, size)
        ? []
        : [{ severity: "error" as const, message: `box ${i + 1}: centre outside the labelled region` }],
    );
  }

  /** Redraws the panels after any change. */
  refresh(): void {
    const editor = this.editor;
    const writable = editor !== null && !this.info.readOnly;
    this.panel.showSelection(this.currentClass, this.selectedBox());
    this.panel.showProblems([...(editor?.dirty ? [] : this.#serverProblems), ...this.#liveProblems()]);
    enable("undo", writable && editor.canUndo);
    enable("redo", writable && editor.canRedo);
    enable("save", writable && editor.dirty);
    enable("delete", writable && (this.viewer.selection?.kind === "box" || this.viewer.selection?.kind === "region"));
    enable("predict", this.info.canPredict && this.detail !== null);
    enable("accept", writable && this.viewer.selection?.kind === "pred");
    enable("accept-all", writable && this.predictions.length > 0);
    document.getElementById("save")!.classList.toggle("dirty", editor?.dirty ?? false);
    for (const b of document.querySelectorAll<HTMLButtonElement>(".tools button[data-mode]"))
      b.classList.toggle("active", b.dataset["mode"] === this.viewer.mode);
    this.viewer.draw();
  }

  setMode(mode: Mode): void {
    if (this.info.readOnly && mode !== "select") return;
    this.viewer.mode = mode;
    this.refresh();
  }

  /** Sets the class of new boxes and of the selected box. */
  pickClass(cls: number): void {
    if (cls < 0 || cls >= this.info.names.length) return;
    this.currentClass = cls;
    const sel = this.viewer.selection;
    if (this.editor && sel?.kind === "box")
      this.editor.change((doc) => {
        doc.labels[sel.index]!.cls = cls;
      });
    this.refresh();
  }

  setAttribute(index: number, value: number): void {
    const sel = this.viewer.selection;
    if (!this.editor || sel?.kind !== "box") return;
    this.editor.change((doc) => {
      doc.labels[sel.index]!.attributes[index] = value;
    });
    this.refresh();
  }

  /** Steps attribute `index` of the selected box through its values, then unknown. */
  cycleAttribute(index: number): void {
    const box = this.selectedBox();
    const spec = this.info.attributes[index];
    if (!box || !spec) return;
    const v = box.attributes[index] ?? UNKNOWN;
    this.setAttribute(index, v === UNKNOWN ? 0 : v + 1 >= spec.values.length ? UNKNOWN : v + 1);
  }

  /** Deletes the selected box, or the region (the image becomes dense). */
  deleteSelected(): void {
    const sel = this.viewer.selection;
    if (!this.editor || !sel || sel.kind === "pred") return;
    this.editor.change((doc) => {
      if (sel.kind === "box") doc.labels.splice(sel.index, 1);
      else doc.region = null;
    });
    this.viewer.selection = null;
    this.refresh();
  }

  undo(): void {
    if (this.editor?.undo()) this.#afterHistory();
  }
  redo(): void {
    if (this.editor?.redo()) this.#afterHistory();
  }
  #afterHistory(): void {
    const sel = this.viewer.selection;
    if (sel?.kind === "box" && !this.editor?.doc.labels[sel.index]) this.viewer.selection = null;
    this.refresh();
  }

  /** Runs the model on the open image (cached per image here and on the server). */
  async predict(): Promise<void> {
    const detail = this.detail;
    if (!detail || !this.info.canPredict) return;
    this.status("predicting…");
    try {
      const result = await this.api.predict(detail.path);
      this.#predictionCache.set(detail.path, { cells: result.cells, names: result.names });
      if (this.detail?.path !== detail.path) return;
      this.predictions = result.cells;
      this.predictionNames = result.names;
      this.viewer.layers.predictions = true;
      (document.getElementById("layer-predictions") as HTMLInputElement).checked = true;
      this.status(`${result.cells.length} prediction(s)${result.cached ? " (cached)" : ""}`);
      this.refresh();
    } catch (e) {
      this.status(`prediction failed: ${(e as Error).message}`, true);
    }
  }

  predictionLabel(cell: PredictedCell): string {
    const values = this.info.attributes.map((a) => cell.attributes?.[a.name]?.index ?? -1);
    const code =
      cell.attributes === undefined
        ? ""
        : values.length === 7
          ? ` ${attributeCode(values)}`
          : ` ${values.map((v, i) => this.info.attributes[i]!.values[v]?.[0] ?? "?").join("")}`;
    const name = this.info.names.length > 1 ? `${cell.name} ` : "";
    return `${name}${cell.confidence.toFixed(2)}${code}`;
  }

  /** The dataset's class for a predicted cell (by name; by index when the model has the dataset's class count). */
  #datasetClass(cell: PredictedCell): number {
    const byName = this.info.names.indexOf(cell.name);
    if (byName >= 0) return byName;
    return this.predictionNames.length === this.info.names.length ? cell.class : -1;
  }

  #labelOf(cell: PredictedCell): CellLabel | null {
    const cls = this.#datasetClass(cell);
    if (cls < 0 || !this.detail) return null;
    const label: CellLabel = {
      cls,
      xc: 0,
      yc: 0,
      w: 0,
      h: 0,
      attributes: this.info.attributes.map((a) => cell.attributes?.[a.name]?.index ?? UNKNOWN),
    };
    const [x1, y1, x2, y2] = cell.box;
    setLabelRect(label, { x1, y1, x2, y2 }, this.detail);
    return label;
  }

  /** Accepts the selected prediction as a label. */
  acceptSelected(): void {
    const sel = this.viewer.selection;
    if (!this.editor || sel?.kind !== "pred") return;
    const cell = this.predictions[sel.index];
    const label = cell && this.#labelOf(cell);
    if (!label) {
      this.status(`the model's class "${cell?.name}" is not a class of this dataset`, true);
      return;
    }
    this.editor.change((doc) => {
      doc.labels.push(label);
    });
    this.viewer.selection = { kind: "box", index: this.editor.doc.labels.length - 1 };
    this.status("prediction accepted as a label");
    this.refresh();
  }

  /** Accepts every prediction at or above the confidence whose centre lies in the region (one undo step). */
  acceptAll(): void {
    const editor = this.editor;
    const detail = this.detail;
    if (!editor || !detail) return;
    const conf = Number((document.getElementById("accept-conf") as HTMLInputElement).value);
    const existing = editor.doc.labels.map((l) => labelRect(l, detail));
    const added: CellLabel[] = [];
    const foreign = new Set<string>();
    for (const cell of this.predictions) {
      if (cell.confidence < conf) continue;
      const label = this.#labelOf(cell);
      if (!label) foreign.add(cell.name);
      if (!label || !centreInside(label, editor.doc.region, detail)) continue;
      const rect = labelRect(label, detail);
      if (existing.some((r) => iou(r, rect) >= ACCEPT_DUPLICATE_IOU)) continue;
      existing.push(rect);
      added.push(label);
    }
    if (added.length > 0)
      editor.change((doc) => {
        pushAll(doc.labels, added);
      });
    const skipped = foreign.size > 0 ? `; the model's ${[...foreign].join(", ")} is not a class of this dataset` : "";
    this.status(
      `${added.length} prediction(s) accepted (confidence ≥ ${conf}, centre in the region, not duplicates)${skipped}`,
      foreign.size > 0,
    );
    this.refresh();
  }

  /** Saves the open image's labels; a conflict or invalid labels leave the editor as it is. */
  async save(): Promise<void> {
    const editor = this.editor;
    const detail = this.detail;
    if (!editor || !detail) return;
    const doc = editor.doc;
    try {
      const result = await this.api.save(detail.path, {
        version: detail.version,
        region: doc.region,
        labels: doc.labels,
      });
      detail.version = result.version;
      editor.markSaved();
      this.#serverProblems = result.problems;
      this.browse.update(result.summary);
      this.status(
        result.status === "unchanged"
          ? "unchanged: nothing written"
          : `saved ${detail.labelFile}${result.backup ? ` (previous version: ${result.backup})` : ""}`,
      );
    } catch (e) {
      const conflict = e instanceof ApiError && e.status === 409;
      this.status(`${conflict ? "NOT SAVED (conflict): " : "not saved: "}${(e as Error).message}`, true);
    }
    this.refresh();
  }
}
