/**
 * examples/*.mjs run against the packed package (test/helpers/packed-package.ts): `npm pack`, installed into an
 * empty project, each example run there with the installed launcher, so the published entry points (`exports`,
 * `files`, `bin`, the declared dependencies) are what is tested. A TypeScript consumer also compiles against the
 * published typings.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { readImageRgb } from "../../src/data/images.js";
import { load, OptionError, type PredictedCell, type PredictionsJson } from "../../src/index.js";
import { copyExamples, installPackedPackage, type PackedProject } from "../helpers/packed-package.js";
import { REPO_ROOT } from "../helpers.js";

const run = promisify(execFile);
let project: PackedProject;
/** What train-tiny.mjs writes in the project (its first argument) and the image size it trains at. */
const EXAMPLE_OUT = "runs/example";
const EXAMPLE_IMGSZ = 128;
/**
 * The detect example's confidence threshold on the train example's model: 3 epochs of a tiny model are far from
 * converged (no cell reaches detect's default 0.25), but at 0.01 it finds tens of cells on the 4 validation images.
 */
const EXAMPLE_CONF = 0.01;

before(() => {
  project = installPackedPackage();
  assert.deepEqual(copyExamples(project).sort(), ["detect-folder.mjs", "train-tiny.mjs"]);
});
after(() => project && rmSync(project.dir, { recursive: true, force: true }));

async function runInProject(args: readonly string[]): Promise<string> {
  const { stdout } = await run(project.launcher, [...args], { cwd: project.dir, encoding: "utf8" });
  return stdout;
}

test("train-tiny.mjs: synthesizes, trains and validates through the packed package", { timeout: 300_000 }, async () => {
  const stdout = await runInProject(["train-tiny.mjs", EXAMPLE_OUT, "3"]);
  const mapLine = /^mAP50 (\d\.\d{4}) {2}mAP50-95 (\d\.\d{4}) {2}\((\S+), report: (\S+)\)$/m.exec(stdout);
  assert.ok(mapLine, `the example prints the mAP: ${stdout}`);
  assert.match(stdout, /^trained 3 epochs: \S+best\.safetensors$/m);
  const valDir = join(project.dir, mapLine[3]!);
  const metrics = JSON.parse(readFileSync(join(valDir, "metrics.json"), "utf8")) as { all: { mAP50: number } };
  assert.equal(Number(mapLine[1]), Number(metrics.all.mAP50.toFixed(4)), "the printed mAP50 is the run's");
  assert.ok(existsSync(join(project.dir, mapLine[4]!)), "the validation wrote its report");
});

test("detect-folder.mjs: the table of cells equals the library's detect", { timeout: 300_000 }, async () => {
  // the model the train example wrote (the tests of a file run in order)
  const runDir = join(project.dir, EXAMPLE_OUT, "pretrain", "exp");
  const folder = join(project.dir, EXAMPLE_OUT, "data", "images", "val");
  assert.ok(existsSync(runDir), "train-tiny.mjs ran first");
  const stdout = await runInProject(["detect-folder.mjs", runDir, folder, String(EXAMPLE_IMGSZ), String(EXAMPLE_CONF)]);
  const lines = stdout.trimEnd().split("\n");
  assert.match(lines[0]!, /^image +cell +class +conf +x1 +y1 +x2 +y2 +attributes$/);
  const rows = lines.slice(1, -1).map((l) => l.split(/ {2,}/));

  const detector = await load(runDir); // the library of this checkout, in this process
  try {
    const files = readdirSync(folder).sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
    const results = await detector.detect(
      files.map((f) => join(folder, f)),
      { imgsz: EXAMPLE_IMGSZ, confThres: EXAMPLE_CONF },
    );
    const cells = results.flatMap((r) => r.cells);
    assert.ok(cells.length > 0, "the example's model finds cells");
    assert.equal(rows.length, cells.length, "one row per cell");
    assert.equal(lines.at(-1), `${cells.length} cells in ${files.length} images (libtorch, classes: cell)`);
    rows.forEach((row, i) => {
      assert.equal(row[2], cells[i]!.name);
      assert.equal(row[3], cells[i]!.confidence.toFixed(3));
      assert.deepEqual(
        row.slice(4, 8),
        cells[i]!.box.map((v) => v.toFixed(0)),
      );
    });
  } finally {
    await detector.dispose();
  }
});

/**
 * predictions.json's cells are the API's, rounded as the file rounds them (boxes to 0.001 px, scores to 1e-6; the API
 * returns the model's floats).
 */
function assertSameCellsRounded(inFile: readonly PredictedCell[], fromApi: readonly PredictedCell[]): void {
  const close = (a: number, b: number, half: number, what: string): void => {
    assert.ok(Math.abs(a - b) <= half * (1 + 1e-9) + 1e-12, `${what}: ${a} in the file, ${b} from the API`);
  };
  assert.equal(inFile.length, fromApi.length, "the run folder has as many cells");
  inFile.forEach((cell, k) => {
    const api = fromApi[k]!;
    assert.deepEqual([cell.class, cell.name], [api.class, api.name], `cell ${k}`);
    for (const [j, v] of cell.box.entries()) close(v, api.box[j]!, 5e-4, `cell ${k} box`);
    close(cell.confidence, api.confidence, 5e-7, `cell ${k} confidence`);
    for (const [name, a] of Object.entries(cell.attributes ?? {})) {
      const b = api.attributes![name]!;
      assert.equal(a.value, b.value, `cell ${k} ${name}`);
      for (const [i, p] of a.probabilities.entries()) close(p, b.probabilities[i]!, 5e-7, `cell ${k} ${name}`);
    }
  });
}

test("Detector: paths, encoded bytes and pixels give the same cells; detectToFolder writes detect's run folder", {
  timeout: 120_000,
}, async () => {
  const runDir = join(project.dir, EXAMPLE_OUT, "pretrain", "exp");
  const folder = join(project.dir, EXAMPLE_OUT, "data", "images", "val");
  const file = join(folder, readdirSync(folder).sort()[0]!);
  const detector = await load(runDir);
  try {
    const options = { imgsz: EXAMPLE_IMGSZ, confThres: EXAMPLE_CONF };
    const [byPath] = await detector.detect(file, options);
    const [byBytes, byPixels] = await detector.detect([readFileSync(file), await readImageRgb(file)], options);
    assert.equal(byPath!.source, file);
    assert.equal(byBytes!.source, null);
    assert.ok(byPath!.cells.length > 0);
    assert.deepEqual(byBytes!.cells, byPath!.cells);
    assert.deepEqual(byPixels!.cells, byPath!.cells);

    const out = await detector.detectToFolder(file, {
      ...options,
      project: join(project.dir, "api-detect"), // removed with the project
      verbose: false,
    });
    assert.equal(out.predictionsJson, join(out.runDir, "predictions.json"));
    const written = JSON.parse(readFileSync(out.predictionsJson, "utf8")) as PredictionsJson;
    assertSameCellsRounded(written.images[0]!.detections, byPath!.cells);

    await assert.rejects(
      detector.detect(file, { imgsz: 0 }),
      (e: unknown) => e instanceof OptionError && e.option === "imgsz",
    );
    await assert.rejects(detector.detect(file, { confThres: 2 }), /confThres 2 is outside \[0, 1\]/);
  } finally {
    await detector.dispose();
  }
  await assert.rejects(detector.detect(file), /disposed/);
  await assert.rejects(
    load(join(folder, "missing.pt")),
    (e: unknown) => e instanceof OptionError && e.option === "weights",
  );
});

test("the exports map: sladet and sladet/torch resolve, deep paths do not", { timeout: 60_000 }, async () => {
  const probe = [
    'const api = await import("sladet");',
    'const torch = await import("sladet/torch");',
    "let deep = 'resolved';",
    'try { await import("sladet/dist/src/index.js"); } catch (e) { deep = e.code; }',
    "console.log(typeof api.load, typeof api.train, typeof torch.tensor, typeof torch.tidy, deep);",
  ].join("\n");
  const stdout = await runInProject(["--input-type=module", "-e", probe]);
  assert.equal(stdout.trim(), "function function function function ERR_PACKAGE_PATH_NOT_EXPORTED");
});

test("a TypeScript consumer compiles against the published typings", { timeout: 120_000 }, async () => {
  symlinkSync(join(REPO_ROOT, "node_modules", "@types"), join(project.dir, "node_modules", "@types"), "dir");
  writeFileSync(
    join(project.dir, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: { module: "nodenext", target: "es2022", strict: true, noEmit: true, types: ["node"] },
      files: ["consumer.ts"],
    }),
  );
  writeFileSync(
    join(project.dir, "consumer.ts"),
    [
      'import { type Detector, type ImageDetections, load, pretrain, train, validate, exportOnnx } from "sladet";',
      'import { tensor, tidy } from "sladet/torch";',
      'const detector: Detector = await load("runs/train/exp", { backend: "onnx", threads: 2 });',
      'const results: ImageDetections[] = await detector.detect(["a.jpg", new Uint8Array(0)], { confThres: 0.3 });',
      'const size: string | undefined = results[0]?.cells[0]?.attributes?.["Cell Size"]?.value;',
      "await detector.dispose();",
      'const p1 = await pretrain({ data: "d.yaml", epochs: 1, attributes: true });',
      'const p2 = await train({ data: "d.yaml", weights: p1.runDir, sla: { proposer: "student" } });',
      'const v = await validate({ data: "d.yaml", weights: p2.runDir, task: "test" });',
      "const e = await exportOnnx({ weights: p2.best, dynamic: true });",
      "const n: number = tidy(() => tensor([1, 2]).sum().item());",
      "console.log(size, v.result.all.map50, e.model, n);",
      "// @ts-expect-error: confThres is a number",
      'await detector.detect("a.jpg", { confThres: "high" });',
      "",
    ].join("\n"),
  );
  const tsc = join(REPO_ROOT, "node_modules", ".bin", "tsc");
  const { stdout } = await run(tsc, ["-p", "tsconfig.json"], { cwd: project.dir, encoding: "utf8" }).catch(
    (err: { stdout: string }) => {
      throw new Error(`tsc failed in ${project.dir}:\n${err.stdout}`);
    },
  );
  assert.equal(stdout.trim(), "");
});
