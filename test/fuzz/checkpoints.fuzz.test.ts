/**
 * Fuzz of the checkpoint readers (issue 22): generated safetensors headers and sladet metadata, pickles, zip archives
 * and damaged YOLOv5 .pt files (checkpoint-fuzz-cases.ts), run in a child process with a time limit and a peak-memory
 * limit: zero crashes (the child would die of a signal), zero hangs (it would time out), every failure a one-line
 * user-input error naming the file. Seeded; ≥ 500 cases by default, env SLADET_FUZZ_RUNS for a longer run (FC_SEED
 * for another seed).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { REPO_ROOT } from "../helpers.js";
import { CASE_TIME_LIMIT_MS, DEFAULT_FUZZ_RUNS } from "./checkpoint-fuzz-cases.js";

/** Peak resident memory allowed to the fuzz process (node + libtorch start at about 250 MB). */
const MAX_RSS_MB = 1536;
/** Wall time allowed per case on average before the run counts as hung (most take a few milliseconds). */
const AVERAGE_CASE_BUDGET_MS = 200;

test("the checkpoint readers survive generated and damaged files: no crash, no hang, bounded memory", () => {
  const runs = Number(process.env["SLADET_FUZZ_RUNS"] ?? DEFAULT_FUZZ_RUNS);
  assert.ok(runs >= 500 || process.env["SLADET_FUZZ_RUNS"] !== undefined, "the default run has ≥ 500 cases");
  const timeout = 60_000 + runs * AVERAGE_CASE_BUDGET_MS + CASE_TIME_LIMIT_MS;
  const r = spawnSync(
    join(REPO_ROOT, "bin", "sladet-node"),
    [join(REPO_ROOT, "dist", "test", "fuzz", "checkpoint-fuzz-cases.js")],
    { encoding: "utf8", timeout, env: { ...process.env, SLADET_FUZZ_RUNS: String(runs) }, maxBuffer: 64 * 1024 * 1024 },
  );
  assert.equal(r.error, undefined, `the fuzz run did not finish in ${timeout} ms (a hang): ${r.error?.message}`);
  assert.equal(r.signal, null, `the fuzz process died of ${r.signal} (a crash):\n${r.stderr.slice(-4000)}`);
  assert.equal(r.status, 0, `a case failed:\n${r.stderr.slice(-8000)}`);
  const summary = JSON.parse(r.stdout.trim().split("\n").at(-1)!) as {
    cases: number;
    maxRssMb: number;
    slowestMs: number;
  };
  assert.ok(summary.cases >= runs * 0.99, `${summary.cases} cases run`);
  assert.ok(summary.maxRssMb < MAX_RSS_MB, `peak memory ${summary.maxRssMb} MB`);
  assert.ok(summary.slowestMs < CASE_TIME_LIMIT_MS, `slowest case ${summary.slowestMs} ms`);
});
