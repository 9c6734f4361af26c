/** The process runs the way the launcher arranges it: jemalloc preloaded, libtorch threads = core count. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { test } from "node:test";
import { cudaIsAvailable, getNumThreads, resolveDevice, torchVersion } from "../../src/torch/index.js";

test("jemalloc is the allocator of the test process", () => {
  const maps = readFileSync("/proc/self/maps", "utf8");
  assert.match(maps, /libjemalloc\.so\.2/, "run the tests through bin/sladet-node (npm test does)");
  // freed pages are returned (a finite decay): with dirty_decay_ms:-1 the resident size grew every epoch (issue 24)
  assert.match(process.env["MALLOC_CONF"] ?? "", /dirty_decay_ms:30000\b/);
});

test("libtorch uses as many intra-op threads as the launcher asked for (the core count by default)", () => {
  const expected = Number(process.env["SLADET_THREADS"] ?? availableParallelism());
  assert.equal(getNumThreads(), expected);
});

test("the addon reports its libtorch version and devices are validated", () => {
  assert.match(torchVersion, /^\d+\.\d+\.\d+/);
  assert.equal(resolveDevice("cpu"), "cpu");
  assert.throws(() => resolveDevice("tpu"), /expected cpu, cuda, cuda:N or N/);
  if (!cudaIsAvailable()) assert.throws(() => resolveDevice("cuda:0"), /no CUDA device.*LIBTORCH=/);
});
