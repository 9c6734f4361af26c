/**
 * Where a dataset's images and labels are: the images of a split (folders searched recursively, list files read)
 * and the label file of an image (YOLOv5's rule: the last `/images/` becomes `/labels/`, the extension `.txt`).
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, resolve, sep } from "node:path";
import { describeBytes, InputFileError, readBoundedText } from "../util/bounded-read.js";
import type { DataConfig, Split } from "./dataset-yaml.js";
import { isImagePath } from "./images.js";
import { MAX_LIST_FILE_BYTES } from "./limits.js";
import type { DataProblem } from "./problems.js";

/**
 * Label file of an image: `…/images/…/a.jpg` → `…/labels/…/a.txt` (next to the image when no images folder);
 * `labelsFolder` names another folder in place of `labels` (held-out labels).
 */
export function imageToLabelPath(image: string, labelsFolder = "labels"): string {
  const a = `${sep}images${sep}`;
  const b = `${sep}${labelsFolder}${sep}`;
  const i = image.lastIndexOf(a);
  const swapped = i >= 0 ? image.slice(0, i) + b + image.slice(i + a.length) : image;
  const dot = swapped.lastIndexOf(".");
  const base = dot > swapped.lastIndexOf(sep) ? swapped.slice(0, dot) : swapped;
  return `${base}.txt`;
}

function walk(dir: string, out: string[]): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith(".")) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path, out);
    else if (isImagePath(entry.name)) out.push(path);
  }
}

/** Images of one split and the problems met while listing them (missing folders, list entries that are not images). */
export interface SplitImages {
  images: string[];
  problems: DataProblem[];
}

/**
 * Lists the images of the given sources (folders, list files of image paths, or image files), sorted, without
 * duplicates. List-file entries are relative to the list file's folder (YOLOv5's `./` rule), else to the working
 * directory.
 */
export function listImages(sources: readonly string[], yamlFile = "dataset YAML"): SplitImages {
  const problems: DataProblem[] = [];
  const found: string[] = [];
  for (const source of sources) {
    let stat: ReturnType<typeof statSync> | undefined;
    try {
      stat = statSync(source);
    } catch {
      problems.push({
        severity: "error",
        kind: "split-missing",
        file: yamlFile,
        expected: "an existing image folder or list file",
        found: `${source} (no such path)`,
      });
      continue;
    }
    if (stat.isDirectory()) {
      walk(source, found);
    } else if (isImagePath(source)) {
      found.push(source);
    } else {
      const text = readListFile(source, yamlFile, problems);
      if (text === undefined) continue;
      const lines = text.split(/\r?\n/);
      lines.forEach((raw, i) => {
        const entry = raw.trim();
        if (entry === "" || entry.startsWith("#")) return;
        let path = isAbsolute(entry) ? entry : resolve(dirname(source), entry);
        if (!isAbsolute(entry) && !existsSync(path) && existsSync(resolve(entry))) path = resolve(entry);
        if (!isImagePath(path)) {
          problems.push({
            severity: "error",
            kind: "image-missing",
            file: source,
            line: i + 1,
            expected: "an image path (.jpg, .png, .tif, .bmp, .webp)",
            found: JSON.stringify(entry),
            consequence: "entry skipped",
          });
          return;
        }
        found.push(path);
      });
    }
  }
  return { images: [...new Set(found)].sort(), problems };
}

/** The text of an image list file, or undefined with a problem (not a regular file, too large, unreadable). */
function readListFile(source: string, yamlFile: string, problems: DataProblem[]): string | undefined {
  try {
    return readBoundedText(source, MAX_LIST_FILE_BYTES);
  } catch (e) {
    const limit = e instanceof InputFileError;
    const tooLarge = limit && e.tooLarge;
    problems.push({
      severity: "error",
      kind: tooLarge ? "limit-exceeded" : "unreadable-file",
      file: yamlFile,
      expected: `an image folder, an image, or a list file of image paths (at most ${describeBytes(MAX_LIST_FILE_BYTES)})`,
      found: limit ? e.message : `${source} (${(e as NodeJS.ErrnoException).code ?? String(e)})`,
      consequence: "split entry skipped",
    });
    return undefined;
  }
}

/** Lists the images of `split` of a loaded dataset YAML (empty when the YAML has no such split). */
export function listSplitImages(config: DataConfig, split: Split): SplitImages {
  const sources = config.splits[split];
  return sources ? listImages(sources, config.file) : { images: [], problems: [] };
}
