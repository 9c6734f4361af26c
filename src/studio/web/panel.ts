/** The right column: class list, attribute panel (with "unknown"), check problems, and the buttons' states. */
import type { CellLabel } from "../../data/schema.js";
import type { ProblemView, StudioInfo } from "../api-types.js";
import { el } from "./dom.js";

/** Value of an attribute `<select>` meaning unknown (written as the format's unknown code). */
export const UNKNOWN = -1;

/** What the panel calls back. */
export interface PanelActions {
  pickClass(cls: number): void;
  setAttribute(index: number, value: number): void;
}

export class Panel {
  readonly #classRows: HTMLLIElement[] = [];
  readonly #attrSelects: HTMLSelectElement[] = [];

  constructor(
    readonly info: StudioInfo,
    actions: PanelActions,
  ) {
    const classes = document.getElementById("classes")!;
    info.names.forEach((name, i) => {
      const li = el("li", { title: i < 10 ? `key ${i}` : "" });
      li.dataset["cls"] = String(i);
      const swatch = el("span", { className: "swatch" });
      swatch.style.background = info.colours[i] ?? "#fff";
      li.append(swatch, `${i} ${name}`);
      li.addEventListener("click", () => actions.pickClass(i));
      classes.append(li);
      this.#classRows.push(li);
    });
    const attributes = document.getElementById("attributes")!;
    info.attributes.forEach((a, i) => {
      const select = el("select", { id: `attr-${i}` });
      for (const [j, v] of a.values.entries()) select.append(el("option", { value: String(j), textContent: v }));
      select.append(el("option", { value: String(UNKNOWN), textContent: "unknown" }));
      select.addEventListener("change", () => actions.setAttribute(i, Number(select.value)));
      const label = el("label", { title: `Shift+${i + 1}` });
      label.append(`${a.name} (${a.code})`, select);
      attributes.append(label);
      this.#attrSelects.push(select);
    });
  }

  /** Shows the current class for new boxes and the selected box's class and attributes. */
  showSelection(currentClass: number, box: CellLabel | null): void {
    this.#classRows.forEach((row, i) => {
      row.classList.toggle("current", i === currentClass);
      row.classList.toggle("selected-box", box !== null && box.cls === i);
    });
    this.#attrSelects.forEach((select, i) => {
      select.disabled = box === null || this.info.readOnly;
      const v = box?.attributes[i] ?? UNKNOWN;
      select.value = String(v >= 0 ? v : UNKNOWN);
    });
  }

  /** Lists the server's check problems and the live ones of the edited labels. */
  showProblems(problems: readonly ProblemView[]): void {
    const list = document.getElementById("problems")!;
    const items = problems.map((p) =>
      el("li", { className: p.severity, textContent: `${p.line === undefined ? "" : `line ${p.line}: `}${p.message}` }),
    );
    list.replaceChildren(...(items.length > 0 ? items : [el("li", { className: "note", textContent: "no problems" })]));
  }
}

/** Enables or disables a button by id. */
export function enable(id: string, on: boolean): void {
  (document.getElementById(id) as HTMLButtonElement).disabled = !on;
}
