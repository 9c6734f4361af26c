/**
 * The studio's keys (README "Studio"): navigation, tools, classes and attributes of the selected box, history,
 * predictions and layers. Keys typed into a form field are left to the field (Escape leaves the field).
 */
import type { App } from "./app.js";

/** The layer checkbox each layer key toggles. */
const LAYER_KEYS: Readonly<Record<string, string>> = { g: "layer-labels", l: "layer-region", o: "layer-predictions" };

/** Plain keys (no modifier) and what they do. */
const PLAIN_KEYS: Readonly<Record<string, (app: App) => void>> = {
  j: (app) => app.step(1),
  ArrowDown: (app) => app.step(1),
  ArrowRight: (app) => app.step(1),
  k: (app) => app.step(-1),
  ArrowUp: (app) => app.step(-1),
  ArrowLeft: (app) => app.step(-1),
  b: (app) => app.setMode("box"),
  r: (app) => app.setMode("region"),
  v: (app) => app.setMode("select"),
  Escape: (app) => {
    if (app.viewer.mode === "select") app.viewer.selection = null;
    app.setMode("select");
  },
  Delete: (app) => app.deleteSelected(),
  Backspace: (app) => app.deleteSelected(),
  f: (app) => app.viewer.fit(),
  p: (app) => void app.predict(),
  a: (app) => app.acceptSelected(),
};

/** Input types that take no typed text: keys pressed on them stay studio keys. */
const CLICK_INPUTS = new Set(["checkbox", "radio", "button"]);

/** True when a key goes to a form field (text, number, a list). */
function inField(e: KeyboardEvent): boolean {
  const t = e.target as HTMLElement | null;
  if (t instanceof HTMLInputElement) return !CLICK_INPUTS.has(t.type);
  return t !== null && (t.tagName === "SELECT" || t.tagName === "TEXTAREA");
}

/** The action of a key press, or null when it is not a studio key. */
function actionOf(e: KeyboardEvent): ((app: App) => void) | null {
  const ctrl = e.ctrlKey || e.metaKey;
  const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  if (ctrl && key === "s") return (app) => void app.save();
  if (ctrl && key === "z") return (app) => (e.shiftKey ? app.redo() : app.undo());
  if (ctrl && key === "y") return (app) => app.redo();
  if (inField(e) && e.key === "Escape") return () => (e.target as HTMLElement).blur();
  if (ctrl || e.altKey || inField(e)) return null;
  if (e.shiftKey && /^Digit[1-9]$/.test(e.code)) return (app) => app.cycleAttribute(Number(e.code.slice(5)) - 1);
  if (e.shiftKey && key === "a") return (app) => app.acceptAll();
  if (/^[0-9]$/.test(key)) return (app) => app.pickClass(Number(key));
  const layer = LAYER_KEYS[key];
  if (layer) return () => (document.getElementById(layer) as HTMLInputElement).click();
  return PLAIN_KEYS[key] ?? null;
}

/** Handles one key; returns true when it was a studio key. */
export function handleKey(app: App, e: KeyboardEvent): boolean {
  const action = actionOf(e);
  if (!action) return false;
  action(app);
  return true;
}
