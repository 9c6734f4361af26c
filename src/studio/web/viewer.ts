/**
 * The field of view on a canvas: zoom (wheel, at the cursor), pan (drag on empty space, the middle button, or Space
 * + drag), fit; the layers (ground-truth boxes in class colours, the labelled region dashed, predictions with
 * confidence and attribute code); and the mouse edits: draw, select, move and resize boxes and the region. Edges
 * drawn or dragged with the mouse land on whole image pixels.
 */
import type { PixelRect } from "../../data/schema.js";
import type { PredictedCell } from "../../infer/prediction-json.js";
import type { StudioInfo } from "../api-types.js";
import type { Editor } from "./editor.js";
import {
  centreInside,
  contains,
  HANDLES,
  type Handle,
  handlePoint,
  hitHandle,
  labelRect,
  moveRect,
  normalizeRect,
  onOutline,
  resizeRect,
  roundRect,
  type Size,
  setLabelRect,
} from "./geometry.js";

export type Mode = "select" | "box" | "region";
export type Selection = { kind: "box"; index: number } | { kind: "region" } | { kind: "pred"; index: number } | null;
export interface Layers {
  labels: boolean;
  region: boolean;
  predictions: boolean;
}

/** What the viewer asks of the page around it. */
export interface ViewerHost {
  readonly info: StudioInfo;
  editor(): Editor | null;
  predictions(): readonly PredictedCell[];
  /** Class given to a new box. */
  currentClass(): number;
  /** The document or the selection changed (refresh the panels). */
  changed(): void;
  /** Short text for a prediction's label: confidence and attribute code. */
  predictionLabel(cell: PredictedCell): string;
}

/** Smallest box or region drawn with the mouse, in screen pixels (a click draws nothing). */
export const MIN_DRAW_PX = 4;
/** Screen pixels the pointer must travel before a press on a box or the region moves or resizes it. */
export const DRAG_THRESHOLD_PX = 3;
/** Distance in screen pixels within which a handle or an outline is hit. */
export const HIT_PX = 7;
/** Zoom range relative to the image's pixels. */
export const MIN_ZOOM = 0.05;
export const MAX_ZOOM = 40;
/** Colour of predictions and of boxes whose centre lies outside the region. */
const PREDICTION_COLOUR = "#ff9800";
const OUTSIDE_COLOUR = "#ff1744";
const REGION_COLOUR = "#ffffff";

type Drag =
  | { kind: "pan"; sx: number; sy: number; ox: number; oy: number }
  | { kind: "draw"; what: "box" | "region"; start: { x: number; y: number }; now: { x: number; y: number } }
  | { kind: "move"; target: "box" | "region"; index: number; start: { x: number; y: number }; rect: PixelRect }
  | { kind: "resize"; target: "box" | "region"; index: number; handle: Handle; rect: PixelRect };

export class Viewer {
  mode: Mode = "select";
  selection: Selection = null;
  layers: Layers = { labels: true, region: true, predictions: true };
  /** Milliseconds spent drawing each of the last frames (read by the performance test). */
  readonly frameTimes: number[] = [];
  #image: CanvasImageSource | null = null;
  #size: Size = { width: 1, height: 1 };
  #scale = 1;
  #ox = 0;
  #oy = 0;
  /** Whether the view is still the fitted one (a resize fits again) or the user's (a resize keeps it). */
  #fitted = true;
  #drag: Drag | null = null;
  #spaceHeld = false;
  #dpr = 1;
  #cssWidth = 1;
  #cssHeight = 1;
  /** Where the button went down (client pixels), and whether the pointer has since moved far enough to drag. */
  #press = { x: 0, y: 0 };
  #dragging = false;
  #frame = 0;
  readonly #ctx: CanvasRenderingContext2D;

  constructor(
    readonly canvas: HTMLCanvasElement,
    readonly host: ViewerHost,
  ) {
    this.#ctx = canvas.getContext("2d")!;
    canvas.addEventListener("pointerdown", (e) => this.#down(e));
    canvas.addEventListener("pointermove", (e) => this.#move(e));
    canvas.addEventListener("pointerup", (e) => this.#up(e));
    canvas.addEventListener("wheel", (e) => this.#wheel(e), { passive: false });
    new ResizeObserver(() => this.#resize()).observe(canvas.parentElement!);
    addEventListener("keydown", (e) => {
      if (e.code === "Space" && e.target === document.body) this.#spaceHeld = true;
    });
    addEventListener("keyup", (e) => {
      if (e.code === "Space") this.#spaceHeld = false;
    });
  }

  get size(): Size {
    return this.#size;
  }
  get scale(): number {
    return this.#scale;
  }

  /** Shows a new image (fitted). */
  setImage(image: CanvasImageSource | null, size: Size): void {
    this.#image = image;
    this.#size = size;
    this.selection = null;
    this.#drag = null;
    this.fit();
  }

  /** Fits the whole image in the canvas. */
  fit(): void {
    const [width, height] = [this.#cssWidth, this.#cssHeight];
    this.#scale = Math.min(width / this.#size.width, height / this.#size.height) * 0.96;
    this.#ox = (width - this.#size.width * this.#scale) / 2;
    this.#oy = (height - this.#size.height * this.#scale) / 2;
    this.#fitted = true;
    this.draw();
  }

  /** Zooms by `factor` keeping the image point under screen point (sx, sy) in place. */
  zoomAt(factor: number, sx: number, sy: number): void {
    const scale = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, this.#scale * factor));
    this.#ox = sx - ((sx - this.#ox) * scale) / this.#scale;
    this.#oy = sy - ((sy - this.#oy) * scale) / this.#scale;
    this.#scale = scale;
    this.#fitted = false;
    this.draw();
  }

  /** Sets the view: `scale` screen pixels per image pixel, image origin at (ox, oy) of the canvas. */
  setView(scale: number, ox: number, oy: number): void {
    this.#scale = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, scale));
    this.#ox = ox;
    this.#oy = oy;
    this.#fitted = false;
    this.draw();
  }

  /** Moves the view by (dx, dy) screen pixels. */
  panBy(dx: number, dy: number): void {
    this.#ox += dx;
    this.#oy += dy;
    this.#fitted = false;
    this.draw();
  }

  /** Image point → screen point (CSS pixels of the canvas). */
  toScreen(x: number, y: number): { x: number; y: number } {
    return { x: x * this.#scale + this.#ox, y: y * this.#scale + this.#oy };
  }

  #toImage(e: MouseEvent): { x: number; y: number } {
    const r = this.canvas.getBoundingClientRect();
    return { x: (e.clientX - r.left - this.#ox) / this.#scale, y: (e.clientY - r.top - this.#oy) / this.#scale };
  }

  #resize(): void {
    const parent = this.canvas.parentElement!;
    // the backing store in device pixels (sharp on high-density screens); all view math stays in CSS pixels
    this.#dpr = devicePixelRatio || 1;
    this.#cssWidth = parent.clientWidth;
    this.#cssHeight = parent.clientHeight;
    this.canvas.width = Math.round(this.#cssWidth * this.#dpr);
    this.canvas.height = Math.round(this.#cssHeight * this.#dpr);
    this.canvas.style.width = `${this.#cssWidth}px`;
    this.canvas.style.height = `${this.#cssHeight}px`;
    // a fitted view follows the canvas; the user's zoom and pan stay where they were (anchored at its corner)
    if (this.#fitted) this.fit();
    else this.draw();
  }

  #wheel(e: WheelEvent): void {
    e.preventDefault();
    const r = this.canvas.getBoundingClientRect();
    this.zoomAt(1.1 ** (-e.deltaY / 100), e.clientX - r.left, e.clientY - r.top);
  }

  /** The box under `p` (the smallest that holds it), or -1. */
  #boxAt(p: { x: number; y: number }): number {
    const editor = this.host.editor();
    if (!editor || !this.layers.labels) return -1;
    let best = -1;
    let bestArea = Number.POSITIVE_INFINITY;
    editor.doc.labels.forEach((label, i) => {
      const r = labelRect(label, this.#size);
      const area = (r.x2 - r.x1) * (r.y2 - r.y1);
      if (contains(r, p) && area < bestArea) [best, bestArea] = [i, area];
    });
    return best;
  }

  #predictionAt(p: { x: number; y: number }): number {
    if (!this.layers.predictions) return -1;
    const cells = this.host.predictions();
    let best = -1;
    let bestArea = Number.POSITIVE_INFINITY;
    cells.forEach((c, i) => {
      const [x1, y1, x2, y2] = c.box;
      const area = (x2 - x1) * (y2 - y1);
      if (contains({ x1, y1, x2, y2 }, p) && area < bestArea) [best, bestArea] = [i, area];
    });
    return best;
  }

  /** The drag a press at `p` starts in select mode (and the selection it makes). */
  #selectDrag(p: { x: number; y: number }, e: PointerEvent): Drag {
    const editor = this.host.editor();
    const tol = HIT_PX / this.#scale;
    const sel = this.selection;
    if (editor && !this.host.info.readOnly) {
      const selected =
        sel?.kind === "box" && editor.doc.labels[sel.index]
          ? { target: "box" as const, index: sel.index, rect: labelRect(editor.doc.labels[sel.index]!, this.#size) }
          : sel?.kind === "region" && editor.doc.region
            ? { target: "region" as const, index: -1, rect: editor.doc.region }
            : null;
      const handle = selected && hitHandle(selected.rect, p, tol);
      if (selected && handle) {
        editor.beginDrag();
        return { kind: "resize", target: selected.target, index: selected.index, handle, rect: selected.rect };
      }
      const box = this.#boxAt(p);
      if (box >= 0) {
        this.selection = { kind: "box", index: box };
        editor.beginDrag();
        return {
          kind: "move",
          target: "box",
          index: box,
          start: p,
          rect: labelRect(editor.doc.labels[box]!, this.#size),
        };
      }
    }
    const pred = this.#predictionAt(p);
    if (pred >= 0) {
      this.selection = { kind: "pred", index: pred };
      return { kind: "pan", sx: e.clientX, sy: e.clientY, ox: this.#ox, oy: this.#oy };
    }
    const region = editor?.doc.region;
    if (editor && region && this.layers.region && !this.host.info.readOnly && onOutline(region, p, tol)) {
      this.selection = { kind: "region" };
      editor.beginDrag();
      return { kind: "move", target: "region", index: -1, start: p, rect: region };
    }
    this.selection = null;
    return { kind: "pan", sx: e.clientX, sy: e.clientY, ox: this.#ox, oy: this.#oy };
  }

  #down(e: PointerEvent): void {
    if (!this.#image) return;
    this.#press = { x: e.clientX, y: e.clientY };
    this.#dragging = false;
    this.canvas.setPointerCapture(e.pointerId);
    const p = this.#toImage(e);
    const pan = e.button === 1 || this.#spaceHeld;
    if (pan) this.#drag = { kind: "pan", sx: e.clientX, sy: e.clientY, ox: this.#ox, oy: this.#oy };
    else if (this.mode !== "select" && !this.host.info.readOnly)
      this.#drag = { kind: "draw", what: this.mode, start: p, now: p };
    else this.#drag = this.#selectDrag(p, e);
    this.host.changed();
    this.draw();
  }

  #move(e: PointerEvent): void {
    const drag = this.#drag;
    if (!drag) return;
    if (drag.kind === "move" || drag.kind === "resize") {
      // a click that jitters by a pixel or two is not a drag: it must not move (or snap) anything
      const moved = Math.hypot(e.clientX - this.#press.x, e.clientY - this.#press.y) >= DRAG_THRESHOLD_PX;
      if (!moved && !this.#dragging) return;
      this.#dragging = true;
    }
    const p = this.#toImage(e);
    const editor = this.host.editor();
    if (drag.kind === "pan") {
      this.#ox = drag.ox + e.clientX - drag.sx;
      this.#oy = drag.oy + e.clientY - drag.sy;
      this.#fitted = false;
    } else if (drag.kind === "draw") {
      drag.now = p;
    } else if (editor) {
      const rect =
        drag.kind === "move"
          ? moveRect(drag.rect, p.x - drag.start.x, p.y - drag.start.y, this.#size)
          : resizeRect(drag.rect, drag.handle, p, this.#size);
      if (drag.target === "region") editor.doc.region = roundRect(rect);
      else setLabelRect(editor.doc.labels[drag.index]!, roundRect(rect), this.#size);
      this.host.changed();
    }
    this.draw();
  }

  #up(e: PointerEvent): void {
    const drag = this.#drag;
    this.#drag = null;
    if (this.canvas.hasPointerCapture(e.pointerId)) this.canvas.releasePointerCapture(e.pointerId);
    const editor = this.host.editor();
    if (!drag || !editor) {
      this.draw();
      return;
    }
    if (drag.kind === "draw") this.#finishDraw(drag.what, drag.start, this.#toImage(e));
    else if (drag.kind === "move" || drag.kind === "resize") editor.endDrag();
    this.host.changed();
    this.draw();
  }

  #finishDraw(what: "box" | "region", a: { x: number; y: number }, b: { x: number; y: number }): void {
    const editor = this.host.editor()!;
    const rect = normalizeRect(a, b);
    const min = MIN_DRAW_PX / this.#scale;
    if (rect.x2 - rect.x1 < min || rect.y2 - rect.y1 < min) return;
    if (what === "region") {
      editor.change((doc) => {
        doc.region = roundRect(rect);
      });
      this.selection = { kind: "region" };
      this.mode = "select";
      return;
    }
    const label = { cls: this.host.currentClass(), xc: 0, yc: 0, w: 0, h: 0, attributes: [] as number[] };
    label.attributes = this.host.info.attributes.map(() => -1);
    setLabelRect(label, roundRect(rect), this.#size);
    editor.change((doc) => {
      doc.labels.push(label);
    });
    this.selection = { kind: "box", index: editor.doc.labels.length - 1 };
  }

  /** Schedules a redraw on the next animation frame. */
  draw(): void {
    if (this.#frame) return;
    this.#frame = requestAnimationFrame(() => {
      this.#frame = 0;
      this.drawNow();
    });
  }

  /** Draws the image and the layers now. */
  drawNow(): void {
    const t0 = performance.now();
    const ctx = this.#ctx;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = "#202124";
    ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    if (!this.#image) return;
    ctx.imageSmoothingEnabled = this.#scale < 2;
    const [s, d] = [this.#scale, this.#dpr];
    ctx.setTransform(s * d, 0, 0, s * d, this.#ox * d, this.#oy * d);
    ctx.drawImage(this.#image, 0, 0, this.#size.width, this.#size.height);
    ctx.setTransform(d, 0, 0, d, 0, 0);
    const editor = this.host.editor();
    if (this.layers.predictions) this.#drawPredictions();
    if (editor && this.layers.region && editor.doc.region) this.#drawRegion(editor.doc.region);
    if (editor && this.layers.labels) this.#drawLabels(editor);
    if (this.#drag?.kind === "draw") {
      const r = normalizeRect(this.#drag.start, this.#drag.now);
      this.#strokeRect(
        r,
        this.#drag.what === "region" ? REGION_COLOUR : this.#classColour(this.host.currentClass()),
        [4, 3],
      );
    }
    this.frameTimes.push(performance.now() - t0);
    if (this.frameTimes.length > 600) this.frameTimes.shift();
  }

  #classColour(cls: number): string {
    return this.host.info.colours[cls] ?? "#ffffff";
  }

  #strokeRect(r: PixelRect, colour: string, dash: number[] = [], width = 2): void {
    const ctx = this.#ctx;
    const a = this.toScreen(r.x1, r.y1);
    const b = this.toScreen(r.x2, r.y2);
    ctx.setLineDash(dash);
    ctx.lineWidth = width;
    ctx.strokeStyle = colour;
    ctx.strokeRect(a.x, a.y, b.x - a.x, b.y - a.y);
    ctx.setLineDash([]);
  }

  #text(text: string, x: number, y: number, colour: string): void {
    const ctx = this.#ctx;
    ctx.font = "12px sans-serif";
    const w = ctx.measureText(text).width + 6;
    ctx.fillStyle = colour;
    ctx.fillRect(x, y - 15, w, 15);
    ctx.fillStyle = "#000000";
    ctx.fillText(text, x + 3, y - 3);
  }

  #handles(r: PixelRect): void {
    const ctx = this.#ctx;
    ctx.fillStyle = "#ffffff";
    for (const h of HANDLES) {
      const p = handlePoint(r, h);
      const s = this.toScreen(p.x, p.y);
      ctx.fillRect(s.x - 4, s.y - 4, 8, 8);
      ctx.strokeStyle = "#000000";
      ctx.lineWidth = 1;
      ctx.strokeRect(s.x - 4, s.y - 4, 8, 8);
    }
  }

  #drawRegion(region: PixelRect): void {
    const selected = this.selection?.kind === "region";
    this.#strokeRect(region, REGION_COLOUR, [10, 6], selected ? 3 : 2);
    const a = this.toScreen(region.x1, region.y1);
    this.#text("labelled region", a.x, a.y, REGION_COLOUR);
    if (selected) this.#handles(region);
  }

  #drawLabels(editor: Editor): void {
    const { names } = this.host.info;
    editor.doc.labels.forEach((label, i) => {
      const r = labelRect(label, this.#size);
      const inside = centreInside(label, editor.doc.region, this.#size);
      const selected = this.selection?.kind === "box" && this.selection.index === i;
      const colour = inside ? this.#classColour(label.cls) : OUTSIDE_COLOUR;
      this.#strokeRect(r, colour, inside ? [] : [3, 3], selected ? 3.5 : 2);
      const a = this.toScreen(r.x1, r.y1);
      this.#text(`${inside ? "" : "✕ outside region · "}${names[label.cls] ?? label.cls}`, a.x, a.y, colour);
      if (selected) this.#handles(r);
    });
  }

  #drawPredictions(): void {
    this.host.predictions().forEach((cell, i) => {
      const [x1, y1, x2, y2] = cell.box;
      const selected = this.selection?.kind === "pred" && this.selection.index === i;
      this.#strokeRect({ x1, y1, x2, y2 }, PREDICTION_COLOUR, [6, 4], selected ? 3.5 : 1.5);
      const b = this.toScreen(x1, y2);
      this.#text(this.host.predictionLabel(cell), b.x, b.y + 15, PREDICTION_COLOUR);
    });
  }
}
