/**
 * Fuzz: ≥ 200 malformed label, YAML and image files. Each must give a clear error naming the file (and the line for
 * line-oriented files); nothing may throw anything else or crash.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import fc from "fast-check";
import sharp from "sharp";
import { encodeBmp } from "../../src/data/bmp.js";
import { checkDataset } from "../../src/data/check.js";
import { loadDataYaml } from "../../src/data/dataset-yaml.js";
import { readLldLabelFile } from "../../src/data/formats/lld.js";
import { DataFormatError, formatProblem } from "../../src/data/problems.js";
import { put, withTempDir } from "./helpers.js";

// Property tests are reproducible: a fixed seed in CI; FC_SEED=<n> explores other cases.
fc.configureGlobal({ seed: Number(process.env["FC_SEED"] ?? 20261126) });

const NC = 14;
const SIZE = { width: 64, height: 48 };
const VALID = "3 0.5 0.5 0.2 0.2 0 0 64 48 1 0 1 0 1 0 1";

/** A mutation that makes a valid 16-column line invalid, for sure. */
const badLine: fc.Arbitrary<string> = fc.oneof(
  // wrong column count
  fc
    .integer({ min: 1, max: 30 })
    .filter((n) => ![5, 12, 15, 16].includes(n))
    .map((n) => Array.from({ length: n }, (_, i) => VALID.split(" ")[i % 16]).join(" ")),
  // a non-number in some column
  fc
    .tuple(
      fc.integer({ min: 0, max: 15 }),
      fc.constantFrom("abc", "NaN", "1e999", "--1", "0x10", "1,5", "∞", "0.5.5", "+-2", "\u0000"),
    )
    .map(([i, token]) =>
      VALID.split(" ")
        .map((f, j) => (j === i ? token : f))
        .join(" "),
    ),
  // class out of range, negative or fractional
  fc.constantFrom("14", "99", "-1", "2.5", "1e3").map((c) => `${c} ${VALID.slice(2)}`),
  // box number outside [0, 1]
  fc
    .tuple(fc.integer({ min: 1, max: 4 }), fc.constantFrom("1.5", "-0.2", "7", "-0"))
    .filter(([, v]) => v !== "-0")
    .map(([i, v]) =>
      VALID.split(" ")
        .map((f, j) => (j === i ? v : f))
        .join(" "),
    ),
  // zero width or height
  fc.constantFrom(3, 4).map((i) =>
    VALID.split(" ")
      .map((f, j) => (j === i ? "0" : f))
      .join(" "),
  ),
  // a different (still valid) region than the first line's
  fc.integer({ min: 33, max: 63 }).map((x2) => `3 0.25 0.25 0.1 0.1 0 0 ${x2} 48 1 0 1 0 1 0 1`),
);

describe("fuzz: malformed files give clear errors naming the file", () => {
  test("≥ 120 malformed label files: an error on the bad line, never a throw", async () => {
    await withTempDir("fuzz-labels", (dir) => {
      let n = 0;
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 3 }), badLine, fc.integer({ min: 0, max: 3 }), (before, bad, after) => {
          const lines = [
            ...Array(before)
              .fill(VALID)
              .map((l, i) => l.replace("0.5 0.5", `0.5 0.${5 + i}`)),
            bad,
            ...Array(after).fill("0 0.25 0.25 0.1 0.1 0 0 64 48 2 2 2 2 2 2 2"),
          ];
          const file = join(dir, `l${n++}.txt`);
          put(file, lines.join(n % 2 ? "\n" : "\r\n"));
          const result = readLldLabelFile(file, { imageSize: SIZE, numClasses: NC });
          const line = before + 1;
          const hit = result.problems.find((p) => p.severity === "error" && p.line === line);
          assert.ok(hit, `no error on line ${line} of ${JSON.stringify(lines)}: ${result.problems.map(formatProblem)}`);
          assert.equal(hit.file, file);
          assert.ok(formatProblem(hit).startsWith(`${file}:${line}: expected `));
          assert.match(formatProblem(hit), /, found ./);
        }),
        { numRuns: 120 },
      );
      assert.ok(n >= 120);
    });
  });

  test("≥ 60 malformed dataset YAMLs: a DataFormatError naming the file (and the key's line)", async () => {
    await withTempDir("fuzz-yaml", (dir) => {
      const keyed = fc.record({
        key: fc.constantFrom("nc", "names", "region_order", "region_units", "attributes", "train", "path"),
        pad: fc.integer({ min: 0, max: 3 }),
      });
      const badValue: Record<string, string[]> = {
        nc: ["x", "-3", "0", "2.5", "[1]", "6"],
        names: ["5", "{a: 1}", "{0: a, 5: b}", "true"],
        region_order: ["xyxy", "1", "[x1, y1]", "X1Y1X2Y2"],
        region_units: ["pixels", "2", "{}"],
        attributes: ["x", "[1, 2]", "[{name: a}]", "[{name: a, values: []}]", "{a: 1}"],
        train: ["42", "[]", "[1, 2]", "{}", '""'],
        path: ["5", "[a]"],
      };
      let n = 0;
      fc.assert(
        fc.property(keyed, fc.nat(), ({ key, pad }, pick) => {
          const values = badValue[key] ?? [];
          const value = values[pick % values.length];
          const lines = ["# fuzz", ...Array(pad).fill(""), "train: images", "names: [a, b, c, d, e]"].filter(
            (l) => !l.startsWith(`${key}:`),
          );
          lines.push(`${key}: ${value}`);
          const file = join(dir, `y${n++}.yaml`);
          put(file, `${lines.join("\n")}\n`);
          assert.throws(
            () => loadDataYaml(file),
            (e: unknown) => {
              assert.ok(e instanceof DataFormatError, `${String(e)} for ${key}: ${value}`);
              assert.ok(e.message.startsWith(`${file}:${lines.length}: expected `), e.message);
              return true;
            },
          );
        }),
        { numRuns: 50 },
      );
      // Syntax errors and garbage: file (and line where YAML knows it).
      const garbage = fc.oneof(
        fc.constantFrom(
          "train: [a\nnames: [b]\n",
          "a: b: c\n",
          "- x\n- y\n",
          "",
          "'unterminated\n",
          "names: [a]\nnames: [b]\n",
        ),
        fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b) => Buffer.from(b).toString("latin1")),
      );
      fc.assert(
        fc.property(garbage, (text) => {
          const file = join(dir, `g${n++}.yaml`);
          put(file, text);
          assert.throws(
            () => loadDataYaml(file),
            (e: unknown) =>
              e instanceof DataFormatError && e.message.startsWith(`${file}`) && / expected .*, found /.test(e.message),
          );
        }),
        { numRuns: 30 },
      );
      assert.ok(n >= 80);
    });
  });

  test("≥ 60 malformed images: each an image-corrupt error on that image, the rest of the dataset still checked", async () => {
    await withTempDir("fuzz-images", async (dir) => {
      const raw = new Uint8Array(SIZE.width * SIZE.height * 3).map((_, i) => (i * 31) % 256);
      const png = await sharp(raw, { raw: { ...SIZE, channels: 3 } })
        .png()
        .toBuffer();
      const jpg = await sharp(raw, { raw: { ...SIZE, channels: 3 } })
        .jpeg()
        .toBuffer();
      const bmp = encodeBmp({ data: raw, ...SIZE });
      const broken = fc.oneof(
        // truncated well inside the data
        fc
          .tuple(
            fc.constantFrom(["png", png], ["jpg", jpg], ["bmp", bmp]),
            fc.double({ min: 0.05, max: 0.8, noNaN: true }),
          )
          .map(([[ext, bytes], f]) => [ext, bytes.subarray(0, Math.floor(bytes.length * f))] as const),
        // signature destroyed
        fc
          .tuple(
            fc.constantFrom(["png", png], ["jpg", jpg], ["bmp", bmp]),
            fc.uint8Array({ minLength: 4, maxLength: 4 }),
          )
          .map(([[ext, bytes], junk]) => {
            const copy = Uint8Array.from(bytes);
            copy.set(
              junk.map((b) => b ^ 0x5a ^ (copy[0] ?? 0)),
              0,
            );
            copy[0] = 0x00;
            return [ext, copy] as const;
          }),
        // not an image at all
        fc
          .tuple(fc.constantFrom("png", "jpg", "tif", "webp", "bmp"), fc.string({ maxLength: 40 }))
          .map(([ext, s]) => [ext, new TextEncoder().encode(s)] as const),
        // BMP header lies: zero width, odd bit depth, RLE compression
        fc.constantFrom(18, 28, 30).map((offset) => {
          const copy = Uint8Array.from(bmp);
          new DataView(copy.buffer).setUint32(offset, offset === 18 ? 0 : offset === 28 ? 7 : 1, true);
          return ["bmp", copy] as const;
        }),
      );
      const files = fc.sample(broken, { numRuns: 64, seed: 42 });
      const names: string[] = [];
      files.forEach(([ext, bytes], i) => {
        const image = put(join(dir, "images", "train", `b${i}.${ext}`), bytes);
        put(join(dir, "labels", "train", `b${i}.txt`), "0 0.5 0.5 0.2 0.2\n");
        names.push(image);
      });
      put(join(dir, "images", "train", "good.png"), png);
      put(join(dir, "labels", "train", "good.txt"), "0 0.5 0.5 0.2 0.2\n");
      const yaml = put(join(dir, "d.yaml"), "train: images/train\nnames: [a]\nattributes: []\n");
      const report = await checkDataset(yaml, { silent: true, cache: false });
      for (const image of names) {
        const hit = report.problems.find((p) => p.file === image && p.severity === "error");
        assert.ok(hit, `no error for ${image}`);
        assert.ok(["image-corrupt", "image-missing"].includes(hit.kind));
        assert.match(
          formatProblem(hit),
          new RegExp(`^${image.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: expected a readable image`),
        );
      }
      const good = report.splits.train?.images.find((i) => i.image.endsWith("good.png"));
      assert.equal(good?.readable, true);
      assert.equal(report.splits.train?.summary.unreadable, names.length);
      assert.ok(names.length >= 60);
    });
  });
});
