/**
 * Checks of a dataset's layout as a whole, after every image was checked (src/data/check.ts): mistakes no single file
 * shows, which used to pass silently. Each adds problems to the report:
 * - a split without images (error), a split without a single label file (error: a missing `labels/` folder would
 *   otherwise train on zero targets), a split whose label files hold no object (warning);
 * - images that share one label file (`a.jpg` and `a.png` → `labels/a.txt`; error: the labels describe one of them);
 * - label files without an image in a `labels/` folder (warning: they are not used; only when every split is checked);
 * - held-out labels (`heldout_labels`) that resolve to the training labels' folder (error).
 */
import { readdirSync, realpathSync } from "node:fs";
import { basename, dirname, join, sep } from "node:path";
import { pushAll } from "../util/arrays.js";
import type { CheckedImage, CheckReport } from "./check.js";
import { imageToLabelPath } from "./dataset.js";
import { SPLITS, type Split } from "./dataset-yaml.js";
import type { DataProblem } from "./problems.js";

/** Examples named in a summary problem. */
const EXAMPLES = 3;

function examples(paths: readonly string[]): string {
  const shown = paths.slice(0, EXAMPLES).join(", ");
  return paths.length > EXAMPLES ? `${shown}, …` : shown;
}

/** Runs every layout check on `report`; `allSplits` is true when every split of the YAML was checked. */
export function checkLayout(report: CheckReport, allSplits: boolean): void {
  for (const split of SPLITS) {
    const checked = report.splits[split];
    if (checked) pushAll(report.problems, splitProblems(report, split, checked.images));
  }
  pushAll(report.problems, sharedLabelFiles(report));
  if (allSplits) pushAll(report.problems, orphanLabelFiles(report));
  const heldout = heldoutIsLabels(report);
  if (heldout) report.problems.push(heldout);
}

/** An empty split, a split without label files, a split whose label files hold no object. */
function splitProblems(report: CheckReport, split: Split, images: readonly CheckedImage[]): DataProblem[] {
  const file = report.config.file;
  const sources = report.config.splits[split] ?? [];
  if (images.length === 0) {
    const missing = (src: string) => report.problems.some((p) => p.kind === "split-missing" && p.found.startsWith(src));
    if (sources.some(missing)) return [];
    return [
      {
        severity: "error",
        kind: "split-empty",
        file,
        expected: `at least one image in the ${split} split`,
        found: `none in ${sources.join(", ")}`,
      },
    ];
  }
  const readable = images.filter((img) => img.readable);
  if (readable.length === 0) return [];
  if (readable.every((img) => img.labelMissing)) {
    return [
      {
        severity: "error",
        kind: "labels-missing",
        file,
        expected: `a label file per image of the ${split} split (e.g. ${readable[0]!.labelFile}: images/ → labels/, .txt)`,
        found: `no label file for any of its ${readable.length} image(s)`,
        consequence: `the ${split} split has no targets`,
      },
    ];
  }
  if (readable.every((img) => img.labels.length === 0)) {
    return [
      {
        severity: "warning",
        kind: "labels-missing",
        file,
        expected: `objects in the label files of the ${split} split`,
        found: `${readable.length} image(s), 0 objects`,
        consequence: split === "train" ? "training refuses a split without targets" : "its metrics are meaningless",
      },
    ];
  }
  return [];
}

/** Every checked image once (an image in two splits is one image). */
function uniqueImages(report: CheckReport): CheckedImage[] {
  const seen = new Map<string, CheckedImage>();
  for (const split of SPLITS) for (const img of report.splits[split]?.images ?? []) seen.set(img.image, img);
  return [...seen.values()];
}

/** Images whose label paths are the same file (one stem, two extensions, one folder). */
function sharedLabelFiles(report: CheckReport): DataProblem[] {
  const byLabel = new Map<string, string[]>();
  for (const img of uniqueImages(report)) {
    const list = byLabel.get(img.labelFile) ?? [];
    list.push(img.image);
    byLabel.set(img.labelFile, list);
  }
  const problems: DataProblem[] = [];
  for (const [labelFile, images] of byLabel) {
    if (images.length < 2) continue;
    problems.push({
      severity: "error",
      kind: "label-shared",
      file: labelFile,
      expected: "one image per label file (a stem used once per folder)",
      found: `${images.length} images with this stem: ${examples(images.map((p) => basename(p)))}`,
      consequence: "rename all but one image",
    });
  }
  return problems;
}

/** `.txt` files in the `labels/` folders of the checked images that belong to no image. */
function orphanLabelFiles(report: CheckReport): DataProblem[] {
  const used = new Set<string>();
  const folders = new Set<string>();
  for (const img of uniqueImages(report)) {
    used.add(img.labelFile);
    if (img.labelFile.includes(`${sep}labels${sep}`)) folders.add(dirname(img.labelFile));
  }
  const problems: DataProblem[] = [];
  for (const folder of folders) {
    let names: string[];
    try {
      names = readdirSync(folder);
    } catch {
      continue;
    }
    const orphans = names.filter((n) => n.endsWith(".txt") && !used.has(join(folder, n))).sort();
    if (orphans.length === 0) continue;
    problems.push({
      severity: "warning",
      kind: "label-orphan",
      file: folder,
      expected: "a label file per image, and no other",
      found: `${orphans.length} label file(s) without an image: ${examples(orphans)}`,
      consequence: "not used",
    });
  }
  return problems;
}

function realFolder(path: string): string | undefined {
  try {
    return realpathSync(dirname(path));
  } catch {
    return undefined;
  }
}

/** An error when the held-out labels folder of the first image is its training labels folder (a link, say). */
function heldoutIsLabels(report: CheckReport): DataProblem | undefined {
  const folder = report.config.heldoutLabels;
  const first = uniqueImages(report)[0];
  if (!folder || !first) return undefined;
  const heldout = realFolder(imageToLabelPath(first.image, folder));
  if (heldout === undefined || heldout !== realFolder(first.labelFile)) return undefined;
  return {
    severity: "error",
    kind: "yaml",
    file: report.config.file,
    expected: "heldout_labels: a folder other than the training labels",
    found: `${folder}, which resolves to ${heldout}`,
    consequence: "the held-out labels would be the training labels",
  };
}
