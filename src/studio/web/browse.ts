/**
 * The browse list: splits, the images of the current split with their counts per class, a filter (class, attribute
 * value, no labelled region, check problems) and lazily loaded thumbnails (the server caches them).
 */
import type { ImageSummary, StudioInfo } from "../api-types.js";
import type { Api } from "./api.js";
import { el } from "./dom.js";

/** The current filter. */
export interface Filter {
  split: string;
  /** A class id, or null for any. */
  cls: number | null;
  /** "attribute:value" (value -1 = unknown), or null for any. */
  attribute: string | null;
  noRegion: boolean;
  problems: boolean;
}

/** True when `image` passes `filter`. */
export function matches(image: ImageSummary, filter: Filter): boolean {
  if (image.split !== filter.split) return false;
  if (filter.cls !== null && !(image.classCounts[filter.cls]! > 0)) return false;
  if (filter.attribute !== null && !image.attributeValues.includes(filter.attribute)) return false;
  if (filter.noRegion && image.hasRegion) return false;
  if (filter.problems && image.problems === 0) return false;
  return true;
}

/** The left column. */
export class BrowseList {
  images: ImageSummary[] = [];
  /** Images that pass the filter, in list order. */
  shown: ImageSummary[] = [];
  filter: Filter;
  current: string | null = null;
  readonly #rows = new Map<string, HTMLLIElement>();

  constructor(
    readonly info: StudioInfo,
    readonly api: Api,
    readonly open: (path: string) => void,
  ) {
    this.filter = { split: info.splits[0] ?? "", cls: null, attribute: null, noRegion: false, problems: false };
    this.#buildControls();
  }

  #buildControls(): void {
    const splits = document.getElementById("splits")!;
    for (const split of this.info.splits) {
      const b = el("button", { textContent: split, type: "button" });
      b.dataset["split"] = split;
      b.addEventListener("click", () => this.setFilter({ split }));
      splits.append(b);
    }
    const cls = document.getElementById("filter-class") as HTMLSelectElement;
    for (const [i, n] of this.info.names.entries())
      cls.append(el("option", { value: String(i), textContent: `${i} ${n}` }));
    cls.addEventListener("change", () => this.setFilter({ cls: cls.value === "" ? null : Number(cls.value) }));
    const attr = document.getElementById("filter-attr") as HTMLSelectElement;
    this.info.attributes.forEach((a, i) => {
      const group = el("optgroup", { label: a.name });
      for (const [j, v] of [...a.values, "unknown"].entries()) {
        const value = `${i}:${j === a.values.length ? -1 : j}`;
        group.append(el("option", { value, textContent: `${a.code} = ${v}` }));
      }
      attr.append(group);
    });
    attr.addEventListener("change", () => this.setFilter({ attribute: attr.value === "" ? null : attr.value }));
    const noRegion = document.getElementById("filter-no-region") as HTMLInputElement;
    noRegion.addEventListener("change", () => this.setFilter({ noRegion: noRegion.checked }));
    const problems = document.getElementById("filter-problems") as HTMLInputElement;
    problems.addEventListener("change", () => this.setFilter({ problems: problems.checked }));
  }

  setImages(images: ImageSummary[]): void {
    this.images = images;
    this.render();
  }

  setFilter(change: Partial<Filter>): void {
    this.filter = { ...this.filter, ...change };
    this.render();
  }

  /** Replaces one image's summary (after a save) and redraws its row. */
  update(summary: ImageSummary): void {
    const i = this.images.findIndex((s) => s.path === summary.path);
    if (i >= 0) this.images[i] = summary;
    const row = this.#rows.get(summary.path);
    if (row) row.querySelector(".counts")!.replaceWith(this.#counts(summary));
  }

  #counts(image: ImageSummary): HTMLElement {
    const parts = image.classCounts
      .map((n, c) => (n > 0 ? `${n} ${this.info.names[c] ?? c}` : ""))
      .filter((t) => t !== "");
    const div = el("div", { className: "counts", textContent: parts.join(", ") || "no boxes" });
    if (!image.hasRegion && this.info.mode === "data") div.append(" · dense");
    if (image.problems > 0) div.append(el("span", { className: "warn", textContent: ` · ⚠ ${image.problems}` }));
    return div;
  }

  render(): void {
    for (const b of document.querySelectorAll<HTMLButtonElement>("#splits button"))
      b.classList.toggle("active", b.dataset["split"] === this.filter.split);
    this.shown = this.images.filter((image) => matches(image, this.filter));
    const list = document.getElementById("images")!;
    this.#rows.clear();
    const rows = this.shown.map((image) => {
      const li = el("li", { title: image.path });
      li.dataset["path"] = image.path;
      const img = el("img", { loading: "lazy", alt: "", src: this.api.thumbUrl(image.path) });
      const meta = el("div", { className: "meta" });
      meta.append(el("div", { className: "name", textContent: image.name }), this.#counts(image));
      li.append(img, meta);
      li.addEventListener("click", () => this.open(image.path));
      li.classList.toggle("current", image.path === this.current);
      this.#rows.set(image.path, li);
      return li;
    });
    list.replaceChildren(...rows);
    const count = document.getElementById("count")!;
    count.textContent = `${this.shown.length} of ${this.images.filter((i) => i.split === this.filter.split).length} images`;
  }

  /** Marks `path` as the open image and scrolls it into view. */
  setCurrent(path: string): void {
    this.#rows.get(this.current ?? "")?.classList.remove("current");
    this.current = path;
    const row = this.#rows.get(path);
    row?.classList.add("current");
    row?.scrollIntoView({ block: "nearest" });
  }

  /** The image `step` places after (or before) the current one in the filtered list. */
  neighbour(step: number): string | null {
    if (this.shown.length === 0) return null;
    const i = this.shown.findIndex((s) => s.path === this.current);
    const j = i < 0 ? 0 : Math.min(this.shown.length - 1, Math.max(0, i + step));
    return this.shown[j]?.path ?? null;
  }
}
