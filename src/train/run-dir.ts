/**
 * Run folders as YOLOv5 makes them: runs/<task>/<name>, then <name>2, <name>3, … unless exist-ok reuses the name.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";

/** The first free path among name, name2, name3, … (or name itself with existOk). Creates the folder. */
export function incrementRunDir(project: string, name: string, existOk = false): string {
  let dir = join(project, name);
  if (!existOk) {
    for (let n = 2; existsSync(dir); n++) dir = join(project, `${name}${n}`);
  }
  mkdirSync(dir, { recursive: true });
  return dir;
}
