/**
 * What every fuzz suite under test/fuzz/ shares: the number of cases (env `SLADET_FUZZ_RUNS`, default
 * {@link DEFAULT_FUZZ_RUNS}: `npm test` runs a few seconds of them; bench/fuzz runs thousands), the seed (env
 * `SLADET_FUZZ_SEED`, fixed by default so a failure reproduces), per-case time and whole-process memory limits,
 * and the statistics bench/fuzz collects (env `SLADET_FUZZ_STATS`: a file that receives one JSON line per property).
 */
import assert from "node:assert/strict";
import { appendFileSync } from "node:fs";

/** Cases per property in `npm test`. */
export const DEFAULT_FUZZ_RUNS = 500;
/** The seed of `npm test`'s cases. */
export const DEFAULT_FUZZ_SEED = 22;
/** A case slower than this is a hang (a bounded read of a bounded input takes milliseconds). */
export const CASE_TIME_LIMIT_MS = 5000;
/**
 * The JavaScript heap plus external buffers must stay below this: generated inputs are small, so growth is a leak
 * (results kept across cases) or a bomb (an input that expands).
 */
export const JS_MEMORY_LIMIT_BYTES = 1024 ** 3;
/**
 * Hard cap of the process's resident size. Higher than the JS limit because native decoders (libvips) may take up
 * to 3 × MAX_IMAGE_PIXELS bytes for one image that is refused only after its header, and the launcher's jemalloc
 * keeps freed pages resident for up to 30 s (`dirty_decay_ms:30000`) before returning them.
 */
export const RSS_LIMIT_BYTES = 4 * 1024 ** 3;

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got ${raw}`);
  return n;
}

/** Cases per property (`SLADET_FUZZ_RUNS`). */
export const FUZZ_RUNS = envInt("SLADET_FUZZ_RUNS", DEFAULT_FUZZ_RUNS);
/** The seed (`SLADET_FUZZ_SEED`). */
export const FUZZ_SEED = envInt("SLADET_FUZZ_SEED", DEFAULT_FUZZ_SEED);

/** `share` of {@link FUZZ_RUNS}, at least `min`: for properties whose cases cost more (async, several files). */
export function fuzzRuns(share = 1, min = 1): number {
  return Math.max(min, Math.round(FUZZ_RUNS * share));
}

/** Counts the cases of one property, times each and checks memory; {@link FuzzCounter.finish} records them. */
export class FuzzCounter {
  cases = 0;
  slowestMs = 0;
  readonly #start = performance.now();
  constructor(readonly property: string) {}

  /** Runs one case, counting it and failing it when it takes longer than {@link CASE_TIME_LIMIT_MS}. */
  time<T>(fn: () => T): T {
    const start = performance.now();
    const out = fn();
    this.#after(start);
    return out;
  }

  /** {@link time} for an async case. */
  async timeAsync<T>(fn: () => Promise<T>): Promise<T> {
    const start = performance.now();
    const out = await fn();
    this.#after(start);
    return out;
  }

  #after(start: number): void {
    const ms = performance.now() - start;
    this.cases++;
    this.slowestMs = Math.max(this.slowestMs, ms);
    assert.ok(ms < CASE_TIME_LIMIT_MS, `${this.property}: a case took ${ms.toFixed(0)} ms (a hang)`);
    if (this.cases % 64 === 0) checkMemory(this.property);
  }

  /** Asserts the count and memory, and appends the statistics to `SLADET_FUZZ_STATS` when set. */
  finish(minCases: number): void {
    checkMemory(this.property);
    assert.ok(this.cases >= minCases, `${this.property}: ${this.cases} cases, expected ≥ ${minCases}`);
    const file = process.env["SLADET_FUZZ_STATS"];
    if (!file) return;
    const line = {
      property: this.property,
      cases: this.cases,
      slowestMs: Math.round(this.slowestMs),
      ms: Math.round(performance.now() - this.#start),
      maxRssKiB: process.resourceUsage().maxRSS,
      rssKiB: Math.round(process.memoryUsage().rss / 1024),
      heapKiB: Math.round(process.memoryUsage().heapUsed / 1024),
      externalKiB: Math.round(process.memoryUsage().external / 1024),
    };
    appendFileSync(file, `${JSON.stringify(line)}\n`);
  }
}

function checkMemory(property: string): void {
  const { rss, heapUsed, external } = process.memoryUsage();
  const mib = (n: number) => `${(n / 1024 ** 2).toFixed(0)} MiB`;
  assert.ok(heapUsed + external < JS_MEMORY_LIMIT_BYTES, `${property}: JS heap + external ${mib(heapUsed + external)}`);
  assert.ok(rss < RSS_LIMIT_BYTES, `${property}: resident memory ${mib(rss)}`);
}
