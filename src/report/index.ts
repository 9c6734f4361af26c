/**
 * The run report: one self-contained HTML file (`report.html`) per run folder, from whatever artifacts the folder holds
 * (results.csv, metrics.json, per_class.csv, confusion_matrix.csv, curves.json, attributes/*.csv, gallery.json,
 * predictions.json). Charts are SVG rendered here by ECharts, pictures are embedded JPEG thumbnails: the page needs no
 * network and no script.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { writeFileAtomic } from "../util/fs.js";
import { type RunArtifacts, readRunArtifacts } from "./artifacts.js";
import { attributeSection } from "./attributes.js";
import { type ChartRenderer, chartRenderer } from "./charts.js";
import { detectGalleryItems, detectSummarySection } from "./detect.js";
import { gallery, thumbnail } from "./gallery.js";
import { callout, esc, page, type Section } from "./html.js";
import { isSparseTraining, trainingSection } from "./training.js";
import {
  confusionSection,
  curvesSection,
  meaningless,
  metricsSection,
  regionSection,
  validationGalleryItems,
} from "./validation.js";

export { type RunArtifacts, readRunArtifacts } from "./artifacts.js";

/** Images in the gallery at most. */
export const GALLERY_LIMIT = 16;

const KIND_TEXT: Record<RunArtifacts["kind"], [string, string]> = {
  pretrain: [
    "Training",
    "sladet pretrain: phase 1, detector training (and the attribute head when the data has attributes)",
  ],
  train: ["Training", "sladet train: phase 2, pseudo-labels and the similarity loss on sparse labels"],
  val: ["Validation", "sladet val: the YOLOv5 validation of a detector"],
  test: ["Test", "sladet test: validation on the test split"],
  detect: ["Detection", "sladet detect: predictions on new images"],
  unknown: ["Run", "a run folder with no artifact the report knows"],
};

function dateText(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

function text(v: unknown): string | null {
  return typeof v === "string" || typeof v === "number" ? String(v) : null;
}

/** The header's label/value pairs. */
function facts(a: RunArtifacts): Array<[string, string]> {
  const out: Array<[string, string]> = [["run folder", resolve(a.runDir)]];
  const add = (k: string, v: string | null | undefined) => {
    if (v) out.push([k, v]);
  };
  if (a.kind === "detect" && a.predictions) {
    add("weights", a.predictions.model.weights);
    add("backend", a.predictions.model.backend);
    add("images", String(a.predictions.images.length));
  } else if (a.args) {
    const cfg = a.args["cfg"];
    add(
      "weights",
      text(a.args["weights"]) ??
        `none: trained from scratch (${typeof cfg === "string" ? cfg : "model YAML in args.yaml"})`,
    );
    add("data", text(a.args["data"]));
    add(
      "epochs × batch × image size",
      `${text(a.args["epochs"]) ?? "?"} × ${text(a.args["batch"]) ?? "?"} × ${text(a.args["imgsz"]) ?? "?"}`,
    );
  } else if (a.metrics) {
    add("weights", a.metrics.weights);
    add("attribute head", a.metrics.attrWeights);
    add("data", a.metrics.data);
    add("split", a.metrics.task);
  }
  if (a.args && a.metrics?.epoch !== undefined)
    add("final validation", `epoch ${a.metrics.epoch + 1}, weights/last (EMA)`);
  add("date", a.date ? dateText(a.date) : null);
  return out;
}

/** The run folder's files (what else there is to look at). */
function filesSection(runDir: string): string | null {
  const out: string[] = [];
  const walk = (dir: string, prefix: string, depth: number) => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const n of names) {
      if (n.startsWith(".") || n === "report.html") continue;
      const path = join(dir, n);
      const st = statSync(path, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) {
        if (depth < 1) walk(path, `${prefix}${n}/`, depth + 1);
        else out.push(`${prefix}${n}/`);
      } else out.push(`${prefix}${n} (${st.size < 1024 ? `${st.size} B` : `${(st.size / 1024).toFixed(0)} KiB`})`);
    }
  };
  walk(runDir, "", 0);
  return out.length ? `<ul class="files">${out.map((f) => `<li>${esc(f)}</li>`).join("")}</ul>` : null;
}

/** Builds the sections one by one; a section that fails to render becomes a problem line, never the report's end. */
class SectionList {
  readonly sections: Section[] = [];
  constructor(readonly problems: string[]) {}

  async add(id: string, title: string, build: () => string | null | Promise<string | null>): Promise<void> {
    try {
      const body = await build();
      if (body) this.sections.push({ id, title, body });
    } catch (err) {
      this.problems.push(`${title}: could not be drawn (${(err as Error).message})`);
    }
  }
}

async function buildSections(a: RunArtifacts, charts: ChartRenderer): Promise<Section[]> {
  const list = new SectionList(a.problems);
  const sparse = meaningless(a.metrics).size > 0 || (a.results !== null && isSparseTraining(a.results));
  if (a.predictions) {
    const p = a.predictions;
    await list.add("detections", "Detections", () => detectSummarySection(p, charts));
  }
  if (a.results) {
    const r = a.results;
    await list.add("training", "Training", async () => {
      const body = trainingSection(r, charts);
      const batch = join(a.runDir, "train_batch0.jpg");
      const thumb = existsSync(batch) ? await thumbnail(batch, 960) : null;
      const picture = thumb
        ? `<h3>First training batch</h3><p class="hint">After augmentation (mosaic, affine, colour), with its boxes and labelled regions.</p>` +
          `<img class="batch" src="${thumb.dataUri}" width="${thumb.width}" height="${thumb.height}" alt="first training batch" style="max-width: 100%; height: auto">`
        : "";
      return body || picture ? `${body ?? ""}${picture}` : null;
    });
  }
  await list.add("metrics", a.results ? "Final validation" : "Detection metrics", () =>
    metricsSection(a.metrics, a.perClass),
  );
  await list.add("regions", "Labelled regions", () => regionSection(a.metrics));
  if (a.curves) {
    const c = a.curves;
    await list.add("curves", "Curves", () => curvesSection(c, charts));
  }
  if (a.confusion) {
    const c = a.confusion;
    await list.add("confusion", "Confusion matrix", () => confusionSection(c, charts, sparse));
  }
  await list.add("attributes", "Attributes", () => attributeSection(a.attributes, a.valueConfusion, charts));
  if (a.gallery && a.gallery.images.length > 0) {
    const items = validationGalleryItems({ ...a.gallery, images: a.gallery.images.slice(0, GALLERY_LIMIT) });
    await list.add("gallery", "Predictions and ground truth", async () => {
      const lead = `<p class="lead">The first ${items.length} images of the split: ground truth in green, predictions (confidence ≥ ${a.gallery!.confThres}) in orange${
        items.some((i) => i.region) ? ", the labelled region dashed yellow" : ""
      }. Hover a box for its class.</p>`;
      return lead + (await gallery(items));
    });
  }
  if (a.predictions && a.predictions.images.length > 0) {
    const items = detectGalleryItems(a.predictions, a.runDir, GALLERY_LIMIT);
    await list.add("gallery", "Gallery", async () => {
      const lead = `<p class="lead">The first ${items.length} images: each detection numbered, with its class and confidence; its attributes in the table under the picture (and on hover).</p>`;
      return lead + (await gallery(items, { truth: false }));
    });
  }
  await list.add("files", "Files", () => filesSection(a.runDir));
  if (a.problems.length > 0) {
    list.sections.unshift({
      id: "problems",
      title: "Problems",
      body: callout(
        `Some artifacts could not be shown:<ul>${a.problems.map((p) => `<li>${esc(p)}</li>`).join("")}</ul>`,
        "bad",
      ),
    });
  }
  if (list.sections.every((s) => s.id === "files" || s.id === "problems")) {
    list.sections.unshift({
      id: "empty",
      title: "Nothing to show",
      body: `<p class="lead">This folder holds none of results.csv, metrics.json, per_class.csv, confusion_matrix.csv, curves.json, gallery.json, predictions.json.</p>`,
    });
  }
  return list.sections;
}

/** The report's HTML for `runDir`. */
export async function renderRunReport(runDir: string): Promise<string> {
  const a = readRunArtifacts(runDir);
  const charts = await chartRenderer();
  const sections = await buildSections(a, charts);
  const [kindTitle, kindText] = KIND_TEXT[a.kind];
  return page({
    title: `${kindTitle} · ${basename(resolve(runDir))}`,
    kind: kindText,
    facts: facts(a),
    sections,
    footer: `Written by sladet on ${dateText(new Date())}. Self-contained: charts are inline SVG, pictures embedded; it opens offline.`,
  });
}

/**
 * Writes `<runDir>/report.html` from the artifacts the run folder holds (results.csv, metrics.json, predictions.json,
 * …) and returns its path. Missing artifacts leave their sections out; unreadable ones are listed in the page.
 */
export async function writeRunReport(runDir: string): Promise<string> {
  const html = await renderRunReport(runDir);
  const path = join(runDir, "report.html");
  writeFileAtomic(path, html);
  return path;
}

/**
 * {@link writeRunReport}, with a failure reported as a warning (the run's results are written already).
 * @param warn where the warning goes. @default a line on stderr
 */
export async function tryWriteRunReport(
  runDir: string,
  warn: (message: string) => void = (m) => process.stderr.write(`${m}\n`),
): Promise<string | null> {
  try {
    return await writeRunReport(runDir);
  } catch (err) {
    warn(`warning: report.html not written: ${(err as Error).message}`);
    return null;
  }
}
