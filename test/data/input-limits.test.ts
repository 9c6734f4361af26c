/**
 * Issue 22, data inputs: every input file is read with a bound. A FIFO, /dev/zero or /dev/urandom as a label file,
 * a data YAML, a list file or an image is refused without reading (no hang, no growing memory); files past their
 * size limit, label files past MAX_LABEL_LINES lines and YAMLs declaring more than MAX_CLASSES classes are clean
 * errors naming the file; 200k problem rows in one label file do not overflow the stack.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join, sep } from "node:path";
import { describe, test } from "node:test";
import { checkDataset } from "../../src/data/check.js";
import { listImages } from "../../src/data/dataset.js";
import { loadDataYaml } from "../../src/data/dataset-yaml.js";
import { parseLldLabelText, readLldLabelFile } from "../../src/data/formats/lld.js";
import { readImageRgb, verifyImage } from "../../src/data/images.js";
import { MAX_CLASSES, MAX_LABEL_FILE_BYTES, MAX_LABEL_LINES } from "../../src/data/limits.js";
import { DataFormatError, formatProblem } from "../../src/data/problems.js";
import { loadHyp } from "../../src/train/hyp.js";
import { maxOf, minOf, pushAll } from "../../src/util/arrays.js";
import { InputFileError, MAX_YAML_BYTES, readBoundedFile } from "../../src/util/bounded-read.js";
import { REPO_ROOT } from "../helpers.js";
import { makeImage, put, withTempDir } from "./helpers.js";

/** Makes a FIFO (named pipe) at `path`; nothing ever writes to it. */
function fifo(path: string): string {
  execFileSync("mkfifo", [path]);
  return path;
}

/** Runs `fn` and asserts it took less than `ms` (a read of a FIFO or /dev/zero would block or run until OOM). */
async function fast<T>(ms: number, fn: () => Promise<T> | T): Promise<T> {
  const start = performance.now();
  const out = await fn();
  const took = performance.now() - start;
  assert.ok(took < ms, `took ${took.toFixed(0)} ms`);
  return out;
}

describe("bounded reads: only regular files, at most the limit", () => {
  test("a FIFO, /dev/zero and /dev/urandom are refused by kind, without reading", async () => {
    await withTempDir("bounded", async (dir) => {
      const pipe = fifo(join(dir, "pipe"));
      for (const [path, kind] of [
        [pipe, "a FIFO (named pipe)"],
        ["/dev/zero", "a character device"],
        ["/dev/urandom", "a character device"],
        [dir, "a folder"],
      ] as const) {
        await fast(1000, () =>
          assert.throws(
            () => readBoundedFile(path, 1024),
            (e: unknown) => e instanceof InputFileError && e.message === `${path}: not a regular file: ${kind}`,
          ),
        );
      }
    });
  });

  test("a file past the limit is refused before it is read; one within is read whole", async () => {
    await withTempDir("bounded-size", (dir) => {
      const file = put(join(dir, "f.txt"), "x".repeat(2000));
      assert.throws(
        () => readBoundedFile(file, 1999),
        (e: unknown) =>
          e instanceof InputFileError && e.tooLarge && /2\.0 KiB, more than the limit of 2\.0 KiB/.test(e.message),
      );
      assert.equal(readBoundedFile(file, 2000).length, 2000);
    });
  });
});

describe("label files", () => {
  test("a FIFO or a device as a label file is an error naming it; check goes on (no hang)", async () => {
    await withTempDir("label-fifo", async (dir) => {
      const png = await makeImage(32, 32);
      put(join(dir, "images", "a.png"), png);
      put(join(dir, "images", "b.png"), png);
      put(join(dir, "labels", "b.txt"), "0 0.5 0.5 0.2 0.2\n");
      const label = fifo(join(dir, "labels", "a.txt"));
      const yaml = put(join(dir, "d.yaml"), "train: images\nval: images\nnames: [x]\nattributes: []\n");
      const report = await fast(10_000, () => checkDataset(yaml, { silent: true, cache: false }));
      const hit = report.problems.find((p) => p.file === label);
      assert.ok(hit, report.problems.map(formatProblem).join("\n"));
      assert.equal(hit.kind, "unreadable-file");
      assert.match(
        formatProblem(hit),
        /a\.txt: expected a readable regular text file .*found not a regular file: a FIFO/,
      );
      const dev = readLldLabelFile("/dev/zero");
      assert.equal(dev.problems[0]?.kind, "unreadable-file");
      assert.match(
        formatProblem(dev.problems[0]!),
        /^\/dev\/zero: .* found not a regular file: a character device; file skipped$/,
      );
    });
  });

  test(`more than MAX_LABEL_LINES (${MAX_LABEL_LINES}) lines or ${MAX_LABEL_FILE_BYTES} bytes: one error, no labels`, async () => {
    await withTempDir("label-big", (dir) => {
      const lines = (n: number) =>
        Array.from(
          { length: n },
          (_, i) => `0 ${(i % 100) / 100 + 0.005} ${Math.floor(i / 100) / 200 + 0.002} 0.001 0.001\n`,
        ).join("");
      const many = put(join(dir, "many.txt"), lines(MAX_LABEL_LINES + 1));
      const r = readLldLabelFile(many);
      assert.equal(r.labels.length, 0);
      assert.deepEqual(
        r.problems.map((p) => [p.kind, p.severity, p.found]),
        [["limit-exceeded", "error", `${MAX_LABEL_LINES + 1} lines`]],
      );
      assert.equal(readLldLabelFile(put(join(dir, "ok.txt"), lines(MAX_LABEL_LINES))).problems.length, 0);
      const huge = put(join(dir, "huge.txt"), Buffer.alloc(MAX_LABEL_FILE_BYTES + 1, 0x20));
      const h = readLldLabelFile(huge);
      assert.equal(h.problems[0]?.kind, "limit-exceeded");
      assert.match(h.problems[0]!.found, /4\.0 MiB, more than the limit of 4\.0 MiB/);
    });
  });

  test("200,000 problem rows in one label text: every problem reported, no stack overflow", () => {
    const rows = 200_000;
    const text = "not a label line\n".repeat(rows);
    const parsed = parseLldLabelText(text, "big.txt", { maxLines: Number.POSITIVE_INFINITY });
    assert.equal(parsed.problems.length, rows);
    assert.equal(parsed.problems[rows - 1]?.line, rows);
    // the kind of bug: a spread of a huge array into a call
    const big = Array.from({ length: 500_000 }, (_, i) => i);
    assert.equal(pushAll([] as number[], big).length, big.length);
    assert.equal(maxOf(big), 499_999);
    assert.equal(minOf(big), 0);
    assert.equal(maxOf([]), Number.NEGATIVE_INFINITY);
  });

  test("src/ spreads no array into push or unshift, nor a data-sized one into Math.max/min (src/data)", () => {
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (entry.name.endsWith(".ts") && !path.endsWith(join("util", "arrays.ts"))) {
          const pattern = path.includes(`${sep}data${sep}`)
            ? /(push|unshift|Math\.(max|min))\(\.\.\./
            : /(push|unshift)\(\.\.\./;
          readFileSync(path, "utf8")
            .split("\n")
            .forEach((line, i) => {
              if (pattern.test(line)) offenders.push(`${path}:${i + 1}: ${line.trim()}`);
            });
        }
      }
    };
    walk(join(REPO_ROOT, "src"));
    assert.deepEqual(offenders, []);
  });
});

describe("data YAMLs, list files, images, hyp files", () => {
  test("a FIFO or /dev/zero as the data YAML or the hyp file: a clean error naming it, at once", async () => {
    await withTempDir("yaml-fifo", async (dir) => {
      const pipe = fifo(join(dir, "data.yaml"));
      for (const path of [pipe, "/dev/zero", "/dev/urandom"]) {
        await fast(1000, () =>
          assert.throws(
            () => loadDataYaml(path),
            (e: unknown) =>
              e instanceof DataFormatError &&
              e.message.startsWith(`${path}: expected a readable dataset YAML`) &&
              /found .* (FIFO|character device)/.test(e.message),
          ),
        );
        await fast(1000, () => assert.throws(() => loadHyp(path), /cannot read the hyp file \(not a regular file: /));
      }
      const big = put(join(dir, "big.yaml"), `# ${"x".repeat(MAX_YAML_BYTES)}\ntrain: a\n`);
      assert.throws(() => loadDataYaml(big), /big\.yaml: expected a readable dataset YAML .*more than the limit/);
    });
  });

  test(`nc or names past MAX_CLASSES (${MAX_CLASSES}): a clean error on the key's line, at once`, async () => {
    await withTempDir("yaml-nc", async (dir) => {
      const cases: Array<[string, RegExp]> = [
        ["train: a\nnc: 1000000000\n", /d\.yaml:2: expected at most 4096 classes .*, found nc 1000000000$/],
        [
          `train: a\nnames: [${Array(MAX_CLASSES + 1)
            .fill("c")
            .join(",")}]\n`,
          /d\.yaml:2: .*found a names list of 4097$/,
        ],
        ["train: a\nnames: {0: a, 999999999: b}\n", /d\.yaml:2: .*found a class id 999999999$/],
        [`train: a\nnames: [${"n".repeat(300)}]\n`, /d\.yaml:2: expected class names of at most 256 characters/],
        [
          `train: a\nnames: [x]\nattributes: [${Array(65).fill("{name: a, values: [0, 1]}").join(",")}]\n`,
          /d\.yaml:3: expected at most 64 attributes, found 65/,
        ],
        [
          "train: a\nnames: [x]\nheldout_labels: labels\n",
          /d\.yaml:3: expected heldout_labels: a folder other than labels/,
        ],
      ];
      for (const [text, message] of cases) {
        const yaml = put(join(dir, "d.yaml"), text);
        await fast(1000, () =>
          assert.throws(
            () => loadDataYaml(yaml),
            (e: unknown) => e instanceof DataFormatError && message.test(e.message),
            text.slice(0, 60),
          ),
        );
      }
    });
  });

  test("a FIFO as a split's list file or as an image is a problem, not a hang", async () => {
    await withTempDir("list-fifo", async (dir) => {
      const list = fifo(join(dir, "train.txt"));
      const listed = await fast(1000, () => listImages([list], "d.yaml"));
      assert.equal(listed.images.length, 0);
      assert.match(
        formatProblem(listed.problems[0]!),
        /^d\.yaml: expected an image folder.*found .*train\.txt: not a regular file: a FIFO/,
      );
      const image = fifo(join(dir, "x.png"));
      const verdict = await fast(1000, () => verifyImage(image));
      assert.deepEqual(verdict, { ok: false, reason: "not a regular file: a FIFO (named pipe)" });
      await assert.rejects(readImageRgb("/dev/zero"), InputFileError);
    });
  });

  test("an image whose header declares more than MAX_IMAGE_PIXELS is refused before decoding", async () => {
    await withTempDir("pixels", async (dir) => {
      // a BMP header declaring 60000×60000 (3.6 G pixels) with no pixel data
      const bmp = Buffer.alloc(54);
      bmp.write("BM", 0, "latin1");
      bmp.writeUInt32LE(54, 10);
      bmp.writeUInt32LE(40, 14);
      bmp.writeInt32LE(60000, 18);
      bmp.writeInt32LE(60000, 22);
      bmp.writeUInt16LE(1, 26);
      bmp.writeUInt16LE(24, 28);
      const file = put(join(dir, "big.bmp"), bmp);
      const verdict = await verifyImage(file);
      assert.equal(verdict.ok, false);
      assert.match((verdict as { reason: string }).reason, /60000×60000 pixels, more than the limit/);
    });
  });
});
