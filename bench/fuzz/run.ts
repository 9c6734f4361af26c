/**
 * The long fuzz run (issue 22): every suite under test/fuzz/ with many cases per property, each suite in its own
 * process under /usr/bin/time, killed when it runs past the time limit. Reports per suite and property the cases, the
 * crashes (failing tests, or the process ended by a signal or a non-zero status), the hangs (a case past the harness's
 * per-case limit, or the process past --timeout), the peak resident memory and the wall time; exits 1 when any suite
 * crashed or hung. Record the table in BENCHMARKS.md ("Fuzzing (bench/fuzz, issue 22)").
 *
 *   nice -n 15 bin/sladet-node dist/bench/fuzz/run.js [--runs 20000] [--seed 22] [--timeout 3600] [--only inputs]
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

/** One property's statistics, as test/fuzz/harness.ts writes them. */
interface PropertyStats {
  property: string;
  cases: number;
  slowestMs: number;
  ms: number;
  maxRssKiB: number;
}

/** The outcome of one suite. */
interface SuiteResult {
  suite: string;
  properties: PropertyStats[];
  tests: number;
  failed: number;
  /** Killed by the time limit, or ended by a signal. */
  hung: boolean;
  status: number | null;
  signal: string | null;
  peakRssKiB: number;
  wallS: number;
  /** The failing tests' names. */
  failures: string[];
  /** Each failing test's name and the key lines of its diagnostics. */
  details: string[];
}

/** Lines of a failing test's diagnostics searched for its error, seed and counterexample. */
const DETAIL_LINES = 40;

const TIME_BINARY = "/usr/bin/time";

function runSuite(file: string, env: NodeJS.ProcessEnv, timeoutS: number): SuiteResult {
  const statsDir = mkdtempSync(join(tmpdir(), "sladet-fuzz-stats-"));
  const statsFile = join(statsDir, "stats.jsonl");
  const timeFile = join(statsDir, "time.txt");
  const args = [process.execPath, "--test", "--test-reporter=tap", file];
  const useTime = existsSync(TIME_BINARY);
  const start = performance.now();
  const r = spawnSync(
    useTime ? TIME_BINARY : args[0]!,
    useTime ? ["-f", "%M %e", "-o", timeFile, ...args] : args.slice(1),
    {
      env: { ...env, SLADET_FUZZ_STATS: statsFile },
      encoding: "utf8",
      timeout: timeoutS * 1000,
      killSignal: "SIGKILL",
      maxBuffer: 256 * 1024 * 1024,
    },
  );
  const wallS = (performance.now() - start) / 1000;
  const tap = `${r.stdout ?? ""}`;
  const count = (key: string) => Number(new RegExp(`^# ${key} (\\d+)$`, "m").exec(tap)?.[1] ?? 0);
  const properties = existsSync(statsFile)
    ? readFileSync(statsFile, "utf8")
        .trim()
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => JSON.parse(l) as PropertyStats)
    : [];
  const time = existsSync(timeFile) ? readFileSync(timeFile, "utf8").trim().split("\n").at(-1)?.split(" ") : undefined;
  rmSync(statsDir, { recursive: true, force: true });
  const failures = [...tap.matchAll(/^\s*not ok \d+ - (.*)$/gm)].map((m) => m[1]!);
  const details = failureDetails(tap);
  const timedOut = r.error !== undefined && (r.error as NodeJS.ErrnoException).code === "ETIMEDOUT";
  return {
    suite: file,
    properties,
    tests: count("tests"),
    failed: count("fail"),
    hung: timedOut || r.signal !== null,
    status: r.status,
    signal: r.signal,
    peakRssKiB: Number(time?.[0] ?? Math.max(0, ...properties.map((p) => p.maxRssKiB))),
    wallS,
    failures,
    details,
  };
}

/** The first lines of each failing test's diagnostics (the error, fast-check's seed, path and counterexample). */
function failureDetails(tap: string): string[] {
  const lines = tap.split("\n");
  const out: string[] = [];
  lines.forEach((line, i) => {
    if (!/^\s*not ok \d+ - /.test(line)) return;
    const block = lines
      .slice(i + 1, i + 1 + DETAIL_LINES)
      .filter((l) => /error|seed|Counterexample|cause|Assertion|Error/.test(l));
    out.push(`${line.trim()}\n${block.map((l) => `    ${l.trim()}`).join("\n")}`);
  });
  return out;
}

function table(results: readonly SuiteResult[]): string {
  const rows = [
    "| suite / property | cases | crashes | hangs | slowest case | peak RSS | wall |",
    "|---|---|---|---|---|---|---|",
  ];
  for (const s of results) {
    const crashes = s.failed + (s.status !== 0 && s.failed === 0 && !s.hung ? 1 : 0);
    const slowHangs = s.failures.filter((f) => /a hang/.test(f)).length;
    const cases = s.properties.reduce((n, p) => n + p.cases, 0);
    rows.push(
      `| **${s.suite}** | ${cases} | ${crashes} | ${(s.hung ? 1 : 0) + slowHangs} | ` +
        `${Math.max(0, ...s.properties.map((p) => p.slowestMs))} ms | ${(s.peakRssKiB / 1024).toFixed(0)} MiB | ${s.wallS.toFixed(0)} s |`,
    );
    for (const p of s.properties) {
      rows.push(
        `| ${p.property} | ${p.cases} | | | ${p.slowestMs} ms | ${(p.maxRssKiB / 1024).toFixed(0)} MiB (so far) | ${(p.ms / 1000).toFixed(0)} s |`,
      );
    }
  }
  return rows.join("\n");
}

function main(): void {
  const { values } = parseArgs({
    options: {
      runs: { type: "string", default: "20000" },
      seed: { type: "string", default: "22" },
      timeout: { type: "string", default: "3600" },
      only: { type: "string" },
    },
  });
  const root = fileURLToPath(new URL("../../../", import.meta.url)); // dist/bench/fuzz/ → the repository root
  const dir = join(root, "dist", "test", "fuzz");
  const suites = readdirSync(dir)
    .filter((f) => f.endsWith(".test.js") && (!values.only || f.includes(values.only)))
    .sort()
    .map((f) => join(dir, f));
  if (suites.length === 0) throw new Error(`no fuzz suites in ${dir} (run tsc first)`);
  const env = { ...process.env, SLADET_FUZZ_RUNS: values.runs, SLADET_FUZZ_SEED: values.seed };
  process.stdout.write(
    `fuzz: ${suites.length} suite(s), SLADET_FUZZ_RUNS=${values.runs}, seed ${values.seed}, ` +
      `${cpus()[0]?.model ?? "cpu"}, ${new Date().toISOString()}\n`,
  );
  const results: SuiteResult[] = [];
  for (const suite of suites) {
    const r = runSuite(suite, env, Number(values.timeout));
    results.push({ ...r, suite: suite.slice(root.length) });
    for (const d of r.details) process.stdout.write(`${d}\n`);
  }
  process.stdout.write(`${table(results)}\n`);
  const bad = results.some((r) => r.failed > 0 || r.hung || r.status !== 0);
  process.exitCode = bad ? 1 : 0;
}

main();
