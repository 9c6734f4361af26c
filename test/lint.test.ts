/** Lint and format (biome) and the type check are part of the test suite. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { REPO_ROOT } from "./helpers.js";

test("biome check (lint + format) is clean", () => {
  const r = spawnSync(join(REPO_ROOT, "node_modules", ".bin", "biome"), ["check", "."], {
    cwd: REPO_ROOT,
    encoding: "utf8",
  });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}\nfix with: npx biome check --write .`);
});
