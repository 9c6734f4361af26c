/**
 * The studio's front end ships in the package: `npm pack` includes the built bundle (dist/src/studio/web), which
 * loads nothing from the network (no URL to fetch a script, style or font from).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { WEB_DIR } from "../../src/studio/server.js";

const REPO = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const WEB_FILES = ["index.html", "app.js", "app.css"];

test("npm pack includes the studio's built front end", () => {
  const out = execFileSync("npm", ["pack", "--dry-run", "--json", "--loglevel=error"], { cwd: REPO, encoding: "utf8" });
  const files = new Set((JSON.parse(out) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path));
  for (const name of WEB_FILES) assert.ok(files.has(`dist/src/studio/web/${name}`), `${name} is not in the package`);
});

test("the bundle and the page name no network resource", () => {
  for (const name of WEB_FILES) {
    const text = readFileSync(join(WEB_DIR, name), "utf8");
    assert.doesNotMatch(text, /(?:https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}\//i, `${name} names a URL`);
    assert.doesNotMatch(text, /@import|fonts\.googleapis|cdn\./i, name);
  }
  const html = readFileSync(join(WEB_DIR, "index.html"), "utf8");
  assert.deepEqual(
    [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]),
    ["app.css", "app.js"],
  );
});
