// Runs the compiled test files with Node's test runner (spec reporter; its closing summary is what CI reads).
// Usage: bin/sladet-node tools/run-tests.mjs [substring ...]  (only test files whose path contains a substring)
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...findTests(path));
    else if (name.endsWith(".test.js")) out.push(path);
  }
  return out.sort();
}

const filters = process.argv.slice(2);
const files = findTests("dist/test").filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)));
if (files.length === 0) {
  console.error(`no test files match ${filters.join(", ")}`);
  process.exit(1);
}
// A test that hangs (a browser that never answers) fails after this instead of holding CI until its hard limit (it
// bounds each test file as a whole too, so it is far above the slowest file on a loaded machine).
const TEST_TIMEOUT_MS = 1_800_000;
const args = ["--test", "--test-reporter=spec", `--test-timeout=${TEST_TIMEOUT_MS}`, ...files];
const result = spawnSync(process.execPath, args, { stdio: "inherit" });
process.exit(result.status ?? 1);
