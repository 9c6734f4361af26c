/**
 * The studio's keys (README "Studio"): navigation, tools, classes and attributes of the selected box, history,
 * predictions and layers. Keys typed into a form field are left to the field.
 */
import type { App } from "./app.js";

/** The layer checkbox each layer key toggles. */
const LAYER_KEYS: Readonly<Record<string, string>> = { g: "layer-labels", l: "layer-region", o: "layer-predictions" };

function inField(e: KeyboardEvent): boolean {
  const t = e.target as HTMLElement | null;
  return t !== null && (t.tagName === "INPUT" || t.tagName === "SELECT" || t.tagName === "TEXTAREA");
}

/** Handles one key; returns true when it was a studio key. */
export function handleKey(app: App, e: KeyboardEvent): boolean {
  const ctrl = e.ctrlKey || e.metaKey;
  const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  if (ctrl && key === "s") return void app.save(), true;
  if (ctrl && key === "z") return e.shiftKey ? app.redo() : app.undo(), true;
  if (ctrl && key === "y") return app.redo(), true;
  if (ctrl || e.altKey || inField(e)) return false;
  if (e.shiftKey && /^Digit[1-9]$/.test(e.code)) return app.cycleAttribute(Number(e.code.slice(5)) - 1), true;
  if (e.shiftKey && key === "a") return app.acceptAll(), true;
  if (/^[0-9]$/.test(key)) return app.pickClass(Number(key)), true;
  const layer = LAYER_KEYS[key];
  if (layer) return (document.getElementById(layer) as HTMLInputElement).click(), true;
  switch (key) {
    case "j":
    case "ArrowDown":
    case "ArrowRight":
      return app.step(1), true;
    case "k":
    case "ArrowUp":
    case "ArrowLeft":
      return app.step(-1), true;
    case "b":
      return app.setMode("box"), true;
    case "r":
      return app.setMode("region"), true;
    case "v":
    case "Escape":
      app.viewer.selection = e.key === "Escape" && app.viewer.mode === "select" ? null : app.viewer.selection;
      return app.setMode("select"), true;
    case "Delete":
    case "Backspace":
      return app.deleteSelected(), true;
    case "f":
      return app.viewer.fit(), true;
    case "p":
      return void app.predict(), true;
    case "a":
      return app.acceptSelected(), true;
    default:
      return false;
  }
}
