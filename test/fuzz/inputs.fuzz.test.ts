/**
 * Fuzz suite of the data inputs (issue 22): generated label files, data YAMLs and images (valid, truncated, with
 * wrong headers, random) against the label reader, the YAML loader, the image verifier and `check` on whole small
 * datasets. Every case must end in a result or a clean, file-naming error, within the harness's time limit per case
 * and memory limit per process. Cases per property: `SLADET_FUZZ_RUNS` (default 500), seed `SLADET_FUZZ_SEED`.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { checkDataset } from "../../src/data/check.js";
import { loadDataYaml } from "../../src/data/dataset-yaml.js";
import { readLldLabelFile } from "../../src/data/formats/lld.js";
import { readImageRgb, verifyImage } from "../../src/data/images.js";
import { MAX_CLASSES, MAX_IMAGE_PIXELS } from "../../src/data/limits.js";
import { DataFormatError, type DataProblem, formatProblem, SEVERITIES } from "../../src/data/problems.js";
import { FUZZ_RUNS, FUZZ_SEED, FuzzCounter, fuzzRuns } from "./harness.js";
import {
  FUZZ_IMAGE,
  FUZZ_NC,
  imageBytes,
  labelText,
  sidecarText,
  validImageEncodings,
  yamlText,
} from "./input-arbitraries.js";

const work = mkdtempSync(join(tmpdir(), "sladet-fuzz-inputs-"));
after(() => rmSync(work, { recursive: true, force: true }));
let pool: Buffer[] = [];
before(async () => {
  pool = await validImageEncodings();
});

/** A problem is well-formed: a known severity, names one of `files`, and a line inside the file when it has one. */
function assertProblem(p: DataProblem, files: readonly string[], lineCount: number): void {
  assert.ok((SEVERITIES as readonly string[]).includes(p.severity), p.severity);
  assert.ok(files.includes(p.file), `${p.file} is not one of ${files.join(", ")}`);
  if (p.line !== undefined) assert.ok(Number.isInteger(p.line) && p.line >= 1 && p.line <= lineCount, `line ${p.line}`);
  const text = formatProblem(p);
  assert.ok(text.startsWith(p.file), text);
  assert.match(text, /: expected .+, found /s);
}

describe("fuzz: data inputs end in a result or a clean error naming the file", () => {
  test("label files (and region sidecars): problems with file and line, only valid labels kept", () => {
    const counter = new FuzzCounter("label files");
    const dir = join(work, "labels");
    mkdirSync(dir);
    fc.assert(
      fc.property(labelText, fc.option(sidecarText), fc.boolean(), (text, sidecar, norm) => {
        const file = join(dir, `l${counter.cases}.txt`);
        const side = join(dir, `l${counter.cases}.region`);
        writeFileSync(file, text);
        if (sidecar !== null) writeFileSync(side, sidecar);
        const r = counter.time(() =>
          readLldLabelFile(file, {
            imageSize: FUZZ_IMAGE,
            numClasses: FUZZ_NC,
            ...(norm ? { regionUnits: "norm" as const } : {}),
          }),
        );
        const lineCount = Math.max(text.split(/\r?\n/).length, sidecar?.split(/\r?\n/).length ?? 0);
        for (const p of r.problems) assertProblem(p, [file, side], lineCount);
        for (const l of r.labels) {
          assert.ok(Number.isInteger(l.cls) && l.cls >= 0 && l.cls < FUZZ_NC, `class ${l.cls}`);
          for (const v of [l.xc, l.yc, l.w, l.h]) assert.ok(Number.isFinite(v) && v >= 0 && v <= 1, `box ${v}`);
          assert.ok(l.w > 0 && l.h > 0);
        }
        if (r.labels.length > 0) assert.equal(r.exists, true);
        rmSync(side, { force: true });
      }),
      { seed: FUZZ_SEED, numRuns: FUZZ_RUNS },
    );
    counter.finish(FUZZ_RUNS);
  });

  test("data YAMLs: a valid configuration or a DataFormatError naming the file", () => {
    const counter = new FuzzCounter("data YAMLs");
    const dir = join(work, "yamls");
    mkdirSync(join(dir, "images"), { recursive: true });
    fc.assert(
      fc.property(yamlText, (text) => {
        const file = join(dir, `d${counter.cases}.yaml`);
        writeFileSync(file, text);
        counter.time(() => {
          try {
            const config = loadDataYaml(file);
            assert.ok(Number.isInteger(config.nc) && config.nc >= 1 && config.nc <= MAX_CLASSES, `nc ${config.nc}`);
            assert.equal(config.names.length, config.nc);
            assert.ok(Object.keys(config.splits).length >= 1);
            assert.ok(config.heldoutLabels !== "labels");
          } catch (e) {
            if (!(e instanceof DataFormatError)) throw e;
            assert.ok(e.message.startsWith(file), e.message);
            assert.match(e.message, / expected .+, found /s);
          }
        });
      }),
      { seed: FUZZ_SEED, numRuns: FUZZ_RUNS },
    );
    counter.finish(FUZZ_RUNS);
  });

  test("images (valid, truncated, damaged, foreign headers, noise): a size or a reason, never a throw", async () => {
    const counter = new FuzzCounter("images");
    const dir = join(work, "images");
    mkdirSync(dir);
    const ext = [".png", ".jpg", ".bmp", ".webp", ".tif"];
    await fc.assert(
      fc.asyncProperty(imageBytes(pool), fc.nat(), async (bytes, e) => {
        const file = join(dir, `i${counter.cases}${ext[e % ext.length]}`);
        writeFileSync(file, bytes);
        const verdict = await counter.timeAsync(() => verifyImage(file));
        if (verdict.ok) {
          assert.ok(verdict.width > 0 && verdict.height > 0 && verdict.width * verdict.height <= MAX_IMAGE_PIXELS);
          const image = await readImageRgb(file);
          assert.equal(image.data.length, image.width * image.height * 3);
        } else {
          assert.ok(typeof verdict.reason === "string" && verdict.reason.length > 0);
        }
        rmSync(file);
      }),
      { seed: FUZZ_SEED, numRuns: FUZZ_RUNS },
    );
    counter.finish(FUZZ_RUNS);
  });

  test("check on whole small datasets: a report whose problems name files, never a throw past the YAML", async () => {
    const counter = new FuzzCounter("check datasets");
    const runs = fuzzRuns(0.1, 50);
    const dataset = fc.record({
      images: fc.array(fc.tuple(imageBytes(pool), fc.option(labelText), fc.constantFrom(".png", ".jpg")), {
        minLength: 0,
        maxLength: 4,
      }),
      yaml: fc.oneof(
        { weight: 4, arbitrary: fc.constant("train: images\nval: images\nnames: [a, b, c]\n") },
        { weight: 1, arbitrary: yamlText },
      ),
    });
    await fc.assert(
      fc.asyncProperty(dataset, async ({ images, yaml }) => {
        const dir = join(work, `ds${counter.cases}`);
        mkdirSync(join(dir, "images"), { recursive: true });
        const files = [join(dir, "data.yaml")];
        images.forEach(([bytes, label, ext], i) => {
          files.push(join(dir, "images", `im${i}${ext}`));
          writeFileSync(files.at(-1)!, bytes);
          if (label !== null) {
            mkdirSync(join(dir, "labels"), { recursive: true });
            files.push(join(dir, "labels", `im${i}.txt`));
            writeFileSync(files.at(-1)!, label);
          }
        });
        writeFileSync(files[0]!, yaml);
        await counter.timeAsync(async () => {
          try {
            const report = await checkDataset(files[0]!, { silent: true, cache: false });
            for (const p of report.problems) {
              const named = p.file.startsWith(dir) || p.file === files[0];
              assert.ok(named, `${formatProblem(p)} names no file of the dataset`);
            }
            assert.equal(report.errors, report.problems.filter((p) => p.severity === "error").length);
            if (images.length === 0) assert.ok(report.errors > 0, "a dataset without images is not OK");
          } catch (e) {
            if (!(e instanceof DataFormatError)) throw e;
            assert.ok(e.message.startsWith(files[0]!), e.message);
          }
        });
        rmSync(dir, { recursive: true, force: true });
      }),
      { seed: FUZZ_SEED, numRuns: runs },
    );
    counter.finish(runs);
  });
});
