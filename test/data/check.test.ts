import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { checkDataset } from "../../src/data/check.js";
import { formatCheckReport } from "../../src/data/check-report.js";
import { formatProblem, type ProblemKind } from "../../src/data/problems.js";
import { makeImage, put, withTempDir } from "./helpers.js";

const A = "0 0 0 0 0 0 0";
const R = "0 0 64 64";

/** Label files of the broken dataset: image stem → label text (undefined = no label file). */
const LABELS: Record<string, string | undefined> = {
  good: `1 0.5 0.5 0.2 0.2 ${R} 1 1 0 0 1 1 0\n3 0.25 0.25 0.1 0.1 ${R} ${A}\n`,
  cols: `1 0.5 0.5 0.2 0.2 ${R} ${A}\n1 0.5 0.5 0.2 0.2 ${R} 0 0\n`,
  nan: `1 0.5 abc 0.2 0.2 ${R} ${A}\n`,
  outside: `1 1.5 0.5 0.2 0.2 ${R} ${A}\n`,
  zero: `1 0.5 0.5 0 0.2 ${R} ${A}\n`,
  cls: `20 0.5 0.5 0.2 0.2 ${R} ${A}\n`,
  region: `1 0.25 0.25 0.1 0.1 0 0 32 32 ${A}\n2 0.2 0.2 0.1 0.1 0 0 40 32 ${A}\n`,
  centre: `1 0.75 0.75 0.1 0.1 0 0 32 32 ${A}\n`,
  attr: `1 0.5 0.5 0.2 0.2 ${R} 0 0 7 0 0 0 0\n`,
  dup: `1 0.5 0.5 0.2 0.2 ${R} ${A}\n2 0.5 0.5 0.2 0.2 ${R} ${A}\n1 0.5 0.5 0.2 0.2 ${R} ${A}\n`,
  readme: `4 0.5 0.5 0.2 0.2 ${R} 1 1 1 1 1 1\n`,
  bg: undefined,
  empty: "",
};

async function brokenDataset(dir: string): Promise<string> {
  const png = await makeImage(64, 64, "png");
  for (const [stem, text] of Object.entries(LABELS)) {
    put(join(dir, "images", "train", `${stem}.png`), png);
    if (text !== undefined) put(join(dir, "labels", "train", `${stem}.txt`), text);
  }
  // An image with a region but no object in it: kept through its sidecar.
  put(join(dir, "images", "val", "sidecar.png"), png);
  put(join(dir, "labels", "val", "sidecar.txt"), "");
  put(join(dir, "labels", "val", "sidecar.region"), "0 0 32 16\n");
  const jpg = await makeImage(64, 64, "jpeg");
  put(join(dir, "images", "val", "truncated.jpg"), jpg.subarray(0, jpg.length >> 1));
  put(join(dir, "images", "val", "garbage.png"), "not an image at all");
  put(join(dir, "labels", "val", "garbage.txt"), `1 0.5 0.5 0.2 0.2 ${R} ${A}\n`);
  return put(
    join(dir, "data.yaml"),
    "train: images/train\nval: images/val\nnc: 14\nnames: [a,b,c,d,e,f,g,h,i,j,k,l,m,n]\n",
  );
}

describe("sladet check on a deliberately broken dataset", () => {
  test("each problem is reported with its file and line", async () => {
    await withTempDir("check", async (dir) => {
      const yaml = await brokenDataset(dir);
      const report = await checkDataset(yaml, { silent: true, cacheDir: join(dir, "cache") });
      const lbl = (stem: string, split = "train") => join(dir, "labels", split, `${stem}.txt`);
      const img = (name: string, split = "train") => join(dir, "images", split, name);
      const expect: Array<[ProblemKind, string, number | undefined, "error" | "warning" | "note"]> = [
        ["column-count", lbl("cols"), 2, "error"],
        ["not-a-number", lbl("nan"), 1, "error"],
        ["box-outside-image", lbl("outside"), 1, "error"],
        ["zero-area-box", lbl("zero"), 1, "error"],
        ["class-out-of-range", lbl("cls"), 1, "error"],
        ["region-inconsistent", lbl("region"), 2, "error"],
        ["centre-outside-region", lbl("centre"), 1, "error"],
        ["attribute-out-of-set", lbl("attr"), 1, "warning"],
        ["duplicate-line", lbl("dup"), 3, "warning"],
        ["readme-15-columns", lbl("readme"), undefined, "note"],
        ["background-image", img("bg.png"), undefined, "note"],
        ["image-corrupt", img("truncated.jpg", "val"), undefined, "error"],
        ["image-corrupt", img("garbage.png", "val"), undefined, "error"],
        ["labels-missing", join(dir, "data.yaml"), undefined, "warning"], // val's only readable image has no object
      ];
      for (const [kind, file, line, severity] of expect) {
        const hit = report.problems.find((p) => p.kind === kind && p.file === file);
        assert.ok(hit, `no ${kind} problem for ${file}:\n${report.problems.map(formatProblem).join("\n")}`);
        assert.equal(hit.line, line, kind);
        assert.equal(hit.severity, severity, kind);
        const text = formatProblem(hit);
        assert.ok(text.startsWith(line === undefined ? `${file}: expected ` : `${file}:${line}: expected `), text);
        assert.match(text, /, found /);
      }
      assert.equal(report.problems.filter((p) => p.kind === "readme-15-columns").length, 1, "said once");
      assert.equal(report.errors, 9);
      assert.equal(report.warnings, 3);

      const train = report.splits.train?.summary;
      assert.ok(train);
      assert.equal(train.images, Object.keys(LABELS).length);
      assert.equal(train.backgrounds, 2, "bg and empty (a file whose only line is invalid is broken, not background)");
      assert.equal(train.duplicates, 1);
      assert.equal(train.skippedLines, 5);
      // good (1, 3), cols (1), region (1, 2), centre (1), attr (1), dup (1, 2), readme (4)
      assert.deepEqual(train.instances.slice(0, 5), [0, 6, 2, 1, 1]);
      assert.equal(train.sparse, 2, "region and centre have a 32×32 region");
      const sizeCounts = train.attributeCounts[0];
      assert.deepEqual(sizeCounts, [8, 1, 0, 1], "Cell Size: 8 Small, 1 Medium, 1 unknown (the README line)");
      assert.deepEqual(train.attributeCounts[2], [8, 1, 1], "Nuclear Shape 7 is out of set → unknown");

      const val = report.splits.val;
      assert.ok(val);
      const sidecar = val.images.find((i) => i.image.endsWith("sidecar.png"));
      assert.deepEqual(sidecar?.region, { x1: 0, y1: 0, x2: 32, y2: 16 });
      assert.equal(val.summary.unreadable, 2);
      assert.ok(Math.abs(val.summary.labelledAreaFraction - (32 * 16) / (64 * 64)) < 1e-12);

      const text = formatCheckReport(report);
      assert.match(text, /^errors \(9\):/);
      assert.match(text, /FAILED: 9 error\(s\), 3 warning\(s\)/);
      assert.match(text, /== train ==/);
      assert.match(text, /a0 Cell Size +Small 8, Medium 1, Large 0 +1/);
    });
  });

  test("the cache is used on a second run and invalidated by a changed file", async () => {
    await withTempDir("check-cache", async (dir) => {
      const yaml = await brokenDataset(dir);
      const options = { silent: true, cacheDir: join(dir, "cache") };
      const first = await checkDataset(yaml, options);
      assert.equal(first.cached, 0);
      const second = await checkDataset(yaml, options);
      const total = Object.keys(LABELS).length + 3;
      assert.equal(second.cached, total);
      assert.deepEqual(second.problems, first.problems);
      writeFileSync(join(dir, "labels", "train", "zero.txt"), `1 0.5 0.5 0.1 0.2 ${R} ${A}\n`);
      const third = await checkDataset(yaml, options);
      assert.equal(third.cached, total - 1);
      assert.equal(third.errors, first.errors - 1);
      assert.equal(
        third.problems.some((p) => p.kind === "zero-area-box"),
        false,
      );
      const uncached = await checkDataset(yaml, { ...options, cache: false });
      assert.equal(uncached.cached, 0);
      assert.deepEqual(uncached.problems, third.problems);
    });
  });

  test("CLI: exit code 1 on errors, problems printed as file:line; exit 0 on a clean dataset", async () => {
    await withTempDir("check-cli", async (dir) => {
      const main = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));
      const yaml = await brokenDataset(join(dir, "broken"));
      const bad = spawnSync(process.execPath, [main, "check", "--data", yaml, "--quiet", "--no-cache"], {
        encoding: "utf8",
      });
      assert.equal(bad.status, 1, bad.stderr);
      assert.ok(
        bad.stdout.includes(`${join(dir, "broken", "labels", "train", "cols.txt")}:2: expected 16, 15, 12 or 5`),
      );
      const png = await makeImage(32, 32);
      put(join(dir, "ok", "images", "train", "a.png"), png);
      put(join(dir, "ok", "labels", "train", "a.txt"), "0 0.5 0.5 0.5 0.5\n");
      const okYaml = put(
        join(dir, "ok", "d.yaml"),
        "train: images/train\nval: images/train\nnames: [cell]\nattributes: []\n",
      );
      const ok = spawnSync(process.execPath, [main, "check", "--data", okYaml, "--quiet", "--no-cache"], {
        encoding: "utf8",
      });
      assert.equal(ok.status, 0, ok.stdout + ok.stderr);
      assert.match(ok.stdout, /OK: no errors/);
      const missing = spawnSync(process.execPath, [main, "check", "--data", join(dir, "nope.yaml")], {
        encoding: "utf8",
      });
      assert.equal(missing.status, 1);
      assert.match(
        missing.stderr,
        /nope\.yaml: expected a readable dataset YAML \(a regular file of at most 1\.0 MiB\), found ENOENT/,
      );
      assert.doesNotMatch(missing.stderr, /internal error|at .*\.js/);
    });
  });
});
