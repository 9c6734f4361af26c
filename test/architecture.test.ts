/**
 * The layers run one way (design.md §3): dependency-cruiser checks the compiled modules against
 * .dependency-cruiser.cjs — no runtime import from a layer to one above it, no two folders importing each other,
 * the native addon reached through src/torch only. A second test shows the rules catch each kind of violation.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { cruise, type ICruiseResult, type IViolation } from "dependency-cruiser";
import { REPO_ROOT } from "./helpers.js";

interface DepcruiseConfig {
  forbidden: NonNullable<NonNullable<Parameters<typeof cruise>[1]>["ruleSet"]>["forbidden"];
  options: NonNullable<Parameters<typeof cruise>[1]>;
}

const CONFIG_FILE = join(REPO_ROOT, ".dependency-cruiser.cjs");
const config = createRequire(import.meta.url)(CONFIG_FILE) as DepcruiseConfig;

/** A compiled module's source file, for messages: dist/src/eval/nms.js → src/eval/nms.ts. */
function sourceName(compiled: string): string {
  return compiled.replace(/^dist\/src\//, "src/").replace(/\.js$/, ".ts");
}

/** One line per violation: the rule, the import (or the folder cycle), and what the rule means. */
function describeViolation(v: IViolation): string {
  const path = v.cycle?.length ? [v.from, ...v.cycle.map((c) => c.name)] : [v.from, v.to];
  const comment = config.forbidden?.find((r) => r.name === v.rule.name)?.comment ?? "";
  return `${v.rule.name}: ${path.map(sourceName).join(" → ")}\n    (${comment})`;
}

/** The compiled modules under `root`/dist/src whose TypeScript source still exists (tsc leaves stale outputs). */
function compiledModules(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (e.name.endsWith(".js") && existsSync(join(root, sourceName(path)))) out.push(path);
    }
  };
  walk(join("dist", "src"));
  return out.sort();
}

async function violations(root: string): Promise<IViolation[]> {
  const { output } = await cruise(compiledModules(root), {
    ...config.options,
    baseDir: root,
    validate: true,
    ruleSet: { forbidden: config.forbidden },
  });
  return (output as ICruiseResult).summary.violations;
}

test("imports run one way between the layers of src/ (.dependency-cruiser.cjs)", async () => {
  // the imports themselves first: each folder cycle they cause repeats them
  const found = (await violations(REPO_ROOT)).sort((a, b) => Number(!!a.cycle) - Number(!!b.cycle));
  assert.equal(
    found.length,
    0,
    `${found.length} violation(s) of the layering (design.md §3, rules in .dependency-cruiser.cjs):\n` +
      found.map(describeViolation).join("\n"),
  );
});

test("the rules catch an upward import, a folder cycle and the raw addon outside src/torch", async () => {
  const root = mkdtempSync(join(tmpdir(), "sladet-arch-"));
  try {
    const files: Record<string, string> = {
      "torch/native.js": "export const addon = {};\n",
      "torch/tensor.js": 'import "../runs/val-run.js";\n', // torch → runs: upward
      "runs/val-run.js": "export const run = 1;\n",
      "infer/predictor.js": 'import "../export/graph.js";\n', // infer ⇄ export: a folder cycle
      "export/graph.js": 'import "../infer/draw.js";\n',
      "infer/draw.js": "export const draw = 1;\n",
      "io/archive.js": 'import "../torch/native.js";\n', // the raw addon from io
    };
    for (const [file, text] of Object.entries(files)) {
      for (const [dir, ext] of [
        ["dist/src", text],
        ["src", ""],
      ] as const) {
        const path = join(root, dir, dir === "src" ? file.replace(/\.js$/, ".ts") : file);
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, ext);
      }
    }
    const found = (await violations(root)).map(describeViolation);
    const expect = (pattern: RegExp) =>
      assert.ok(
        found.some((line) => pattern.test(line)),
        `expected a violation matching ${pattern}; found:\n${found.join("\n")}`,
      );
    expect(/^no-upward-import-from-torch: src\/torch\/tensor\.ts → src\/runs\/val-run\.ts/);
    expect(/^no-folder-cycle: src\/(infer → src\/export → src\/infer|export → src\/infer → src\/export)/);
    expect(/^native-only-through-torch: src\/io\/archive\.ts → src\/torch\/native\.ts/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
