/**
 * Turns a generated dataset into single-class detection ("cell"): every label's class becomes 0 and the data YAML's
 * names/nc say so. Regions and attributes are kept. Used by the quick demo and the test fixture, where a tiny model
 * must learn to find cells within a minute.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { writeFileAtomic } from "../../util/fs.js";
import { HELDOUT_LABELS } from "../dataset-writer.js";

/** Rewrites `<root>/labels/<split>/*.txt` (and the held-out labels) and `<root>/data.yaml` in place. Returns the YAML path. */
export function collapseToOneClass(root: string, name = "cell"): string {
  for (const folder of [join(root, "labels"), join(root, HELDOUT_LABELS)]) {
    if (existsSync(folder)) relabelFolder(folder);
  }
  const yamlPath = join(root, "data.yaml");
  const doc = parse(readFileSync(yamlPath, "utf8")) as Record<string, unknown>;
  doc["names"] = [name];
  doc["nc"] = 1;
  writeFileAtomic(yamlPath, stringify(doc));
  return yamlPath;
}

/** Sets the class of every line of every label file under `labels/<split>/` to 0. */
function relabelFolder(labels: string): void {
  for (const split of readdirSync(labels)) {
    const dir = join(labels, split);
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".txt"))) {
      const path = join(dir, file);
      const lines = readFileSync(path, "utf8").split("\n");
      writeFileAtomic(path, lines.map((l) => l.replace(/^(\s*)\d+(?=\s)/, "$10")).join("\n"));
    }
  }
}
