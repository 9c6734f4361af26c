/** The command line through the launcher: help, the demo, and flag errors. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { REPO_ROOT } from "../helpers.js";

const sladet = (...args: string[]) =>
  spawnSync(join(REPO_ROOT, "bin", "sladet"), args, { encoding: "utf8", env: { ...process.env, CI: "1" } });

test("help and data commands do not need the native addon", () => {
  const env = { ...process.env, SLADET_ADDON: "/nonexistent/sladet.node" };
  for (const command of ["check", "convert", "sparsify", "synth", "demo"]) {
    const r = spawnSync(join(REPO_ROOT, "bin", "sladet"), [command, "--help"], { encoding: "utf8", env });
    assert.equal(r.status, 0, `${command} --help: ${r.stderr}`);
  }
  const r = spawnSync(join(REPO_ROOT, "bin", "sladet"), ["demo", "--engine", "--steps", "1"], {
    encoding: "utf8",
    env,
  });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /addon is not built .* run: sh tools\/setup\.sh/);
});

test("--help lists the commands", () => {
  const r = sladet("--help");
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Usage: sladet/);
  assert.match(r.stdout, /demo/);
});

test("demo trains and prints a falling loss", () => {
  const r = sladet("demo", "--engine", "--steps", "30", "--seed", "1");
  assert.equal(r.status, 0, r.stderr);
  const losses = [...r.stdout.matchAll(/step \d+ loss ([\d.]+)/g)].map((m) => Number(m[1]));
  assert.ok(losses.length >= 3, r.stdout);
  assert.ok(losses[losses.length - 1]! < losses[0]!, `loss falls: ${losses.join(" ")}`);
  assert.match(r.stdout, /30 steps in/);
});

test("a bad flag value is reported by name with a non-zero exit", () => {
  const r = sladet("demo", "--engine", "--steps", "many");
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /--steps expects an integer >= 1, got "many"/);
});

test("user-input errors are recognised by the class names asUserErrors lists (the classes' name fields agree)", async () => {
  const { isUserInputError } = await import("../../src/cli/user-errors.js");
  const { DatasetCheckError } = await import("../../src/data/check.js");
  const report = { problems: [], config: { file: "data.yaml" } } as unknown as ConstructorParameters<
    typeof DatasetCheckError
  >[0];
  assert.ok(isUserInputError(new DatasetCheckError(report)), "DatasetCheckError");
  const classes = [
    (await import("../../src/data/problems.js")).DataFormatError,
    (await import("../../src/io/pickle.js")).PickleError,
    (await import("../../src/io/torch-archive.js")).CheckpointError,
    (await import("../../src/io/zip.js")).ZipError,
    (await import("../../src/model/checkpoint.js")).SladetCheckpointError,
    (await import("../../src/model/config.js")).ModelConfigError,
    (await import("../../src/util/bounded-read.js")).InputFileError,
    (await import("../../src/util/errors.js")).ConfigError,
    (await import("../../src/export/onnx-metadata.js")).OnnxModelError,
  ] as unknown as (new (
    m: string,
  ) => Error)[];
  for (const E of classes) assert.ok(isUserInputError(new E("x")), E.name);
  assert.equal(isUserInputError(new Error("x")), false);
  assert.equal(isUserInputError(new TypeError("x")), false);
});
