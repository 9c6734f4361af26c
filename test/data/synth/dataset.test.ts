import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { Command, CommanderError } from "commander";
import sharp from "sharp";
import { register } from "../../../src/cli/synth.js";
import { loadDataYaml } from "../../../src/data/dataset-yaml.js";
import { readCocoJson } from "../../../src/data/formats/coco.js";
import { readLldLabelFile } from "../../../src/data/formats/lld.js";
import { LLD_ATTRIBUTES, LLD_CLASS_NAMES } from "../../../src/data/schema.js";
import { generateDataset, imageStem, splitCounts, splitOf } from "../../../src/data/synth/dataset.js";
import { synthesizeImage } from "../../../src/data/synth/image.js";

const root = mkdtempSync(join(tmpdir(), "sladet-synth-test-"));
after(() => rmSync(root, { recursive: true, force: true }));

/** Every file under `dir` (relative path → bytes). */
function snapshot(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const walk = (d: string, rel: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name), `${rel}${e.name}/`);
      else files.set(`${rel}${e.name}`, readFileSync(join(d, e.name)));
    }
  };
  walk(dir, "");
  return files;
}

test("split counts: rounded shares, at least one image per non-empty split, errors for impossible requests", () => {
  assert.deepEqual(splitCounts(100, [0.7, 0.15, 0.15]), [70, 15, 15]);
  assert.deepEqual(splitCounts(8, [0.7, 0.15, 0.15]), [6, 1, 1]);
  assert.deepEqual(splitCounts(3, [0.98, 0.01, 0.01]), [1, 1, 1]);
  assert.deepEqual(splitCounts(5, [0.8, 0.2, 0]), [4, 1, 0]);
  assert.throws(() => splitCounts(2, [0.7, 0.15, 0.15]), /cannot fill/);
  assert.throws(() => splitCounts(10, [0.5, 0.6, 0]), /sum to 1/);
  assert.throws(() => splitCounts(10, [0, 0.5, 0.5]), /train/);
  assert.throws(() => splitCounts(0, [1, 0, 0]), /positive integer/);
  const counts = splitCounts(20, [0.5, 0.25, 0.25]);
  assert.equal(splitOf(0, counts), "train");
  assert.equal(splitOf(counts[0], counts), "val");
  assert.equal(splitOf(19, counts), "test");
});

test("a small dataset is written in well under a second, in the LLD layout, readable by the format readers", async () => {
  const out = join(root, "a");
  const start = performance.now();
  const summary = await generateDataset({ out, images: 8, seed: 7, imageSize: 128, sparseArea: 0.3 });
  const ms = performance.now() - start;
  assert.ok(ms < 3000, `${ms} ms`);
  assert.deepEqual(summary.images, { train: 6, val: 1, test: 1 });

  const config = loadDataYaml(join(out, "data.yaml"));
  assert.deepEqual(config.names, [...LLD_CLASS_NAMES]);
  assert.deepEqual(
    config.attributes.map((a) => a.code),
    LLD_ATTRIBUTES.map((a) => a.code),
  );
  assert.ok(config.splits.train?.[0]?.endsWith(join("images", "train")));

  let labelled = 0;
  for (let index = 0; index < 8; index++) {
    const split = index < 6 ? "train" : index < 7 ? "val" : "test";
    const stem = imageStem(index);
    const meta = await sharp(join(out, "images", split, `${stem}.jpg`)).metadata();
    assert.equal(meta.format, "jpeg");
    assert.equal(meta.width, 128);
    assert.equal(meta.height, 128);
    const file = readLldLabelFile(join(out, "labels", split, `${stem}.txt`), {
      imageSize: { width: 128, height: 128 },
      numClasses: LLD_CLASS_NAMES.length,
    });
    assert.deepEqual(
      file.problems.filter((p) => p.severity === "error"),
      [],
    );
    // The written labels are those of the in-memory image.
    const expected = synthesizeImage({ seed: 7, index, imageSize: 128, sparseArea: split === "test" ? null : 0.3 });
    assert.equal(file.labels.length, expected.annotation.labels.length);
    file.labels.forEach((l, i) => {
      const e = expected.annotation.labels[i]!;
      assert.equal(l.cls, e.cls);
      assert.ok(Math.abs(l.xc - e.xc) < 1e-5 && Math.abs(l.w - e.w) < 1e-5);
      assert.deepEqual(l.attributes, e.attributes);
    });
    if (split === "test") {
      // Dense: no region, or one covering the whole image.
      const r = file.region;
      assert.ok(r === null || (r.x1 === 0 && r.y1 === 0 && r.x2 === 128 && r.y2 === 128));
    } else {
      // Sparse: the region is kept (also when it holds no cell) and is the drawn one.
      assert.deepEqual(file.region, expected.annotation.region);
      assert.ok(file.region !== null);
    }
    labelled += file.labels.length;
  }
  assert.equal(labelled, summary.cellsLabelled);
  assert.ok(summary.cellsDrawn >= summary.cellsLabelled);

  const coco = readCocoJson(join(out, "annotations", "train.json"), { classNames: LLD_CLASS_NAMES });
  assert.equal(coco.annotations.length, 6);
  const cocoTest = JSON.parse(readFileSync(join(out, "annotations", "test.json"), "utf8"));
  assert.equal(cocoTest.images.length, 1);
  assert.equal(cocoTest.categories.length, 14);
  assert.equal(cocoTest.attribute_schema.length, 7);
});

test("the same seed writes the same bytes; another seed other images", async () => {
  const opts = { images: 5, imageSize: 96, sparseArea: 0.25, split: [0.6, 0.2, 0.2] } as const;
  await generateDataset({ ...opts, out: join(root, "b1"), seed: 3 });
  await generateDataset({ ...opts, out: join(root, "b2"), seed: 3, inFlight: 5 });
  await generateDataset({ ...opts, out: join(root, "b3"), seed: 4 });
  const b1 = snapshot(join(root, "b1"));
  const b2 = snapshot(join(root, "b2"));
  const b3 = snapshot(join(root, "b3"));
  assert.deepEqual([...b1.keys()].sort(), [...b2.keys()].sort());
  for (const [name, bytes] of b1) assert.ok(bytes.equals(b2.get(name)!), `${name} differs`);
  const image = "images/train/synth_000000.jpg";
  assert.ok(!b1.get(image)!.equals(b3.get(image)!));
});

test("earlier outputs are refused unless clean is set; PNG output", async () => {
  const out = join(root, "c");
  await generateDataset({ out, images: 3, imageSize: 64, seed: 1 });
  await assert.rejects(generateDataset({ out, images: 3, imageSize: 64, seed: 1 }), /already exists/);
  const summary = await generateDataset({ out, images: 3, imageSize: 64, seed: 1, clean: true, format: "png" });
  assert.equal(summary.images.train + summary.images.val + summary.images.test, 3);
  assert.deepEqual(readdirSync(join(out, "images", "train")), ["synth_000000.png"]);
});

/** Runs `sladet synth ARGS` in-process (the CLI's registrar on a fresh program); returns what it printed. */
async function runSynthCli(...args: string[]): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  const program = new Command("sladet").exitOverride();
  let stdout = "";
  let stderr = "";
  program.configureOutput({
    writeOut: (s) => {
      stdout += s;
    },
    writeErr: (s) => {
      stderr += s;
    },
  });
  register(program, (text) => {
    stdout += text;
  });
  try {
    await program.parseAsync(["node", "sladet", "synth", ...args]);
    return { ok: true, stdout, stderr };
  } catch (err) {
    if (!(err instanceof CommanderError)) stderr += (err as Error).message;
    return { ok: false, stdout, stderr };
  }
}

test("sladet synth validates its flags with clear errors", async () => {
  const cases: Array<[string[], RegExp]> = [
    [["--out", join(root, "d"), "--images", "abc"], /--images.*expected an integer/],
    [["--out", join(root, "d"), "--images", "4", "--sparse", "0"], /--sparse.*\(0, 1\]/],
    [["--out", join(root, "d"), "--images", "4", "--split", "0.5,0.5"], /three non-negative fractions/],
    [["--out", join(root, "d"), "--images", "4", "--imgsz", "8"], /\[32, 4096\]/],
    [["--out", join(root, "d"), "--images", "4", "--format", "gif"], /jpeg, png/],
    [["--out", join(root, "d"), "--images", "4", "--magnification", "9"], /--magnification.*\(0, 4\], found "9"/],
    [["--out", join(root, "d"), "--images", "2"], /cannot fill 3 non-empty splits/],
    [["--images", "4"], /--out <dir> is required/],
  ];
  for (const [args, message] of cases) {
    const r = await runSynthCli(...args);
    assert.equal(r.ok, false, args.join(" "));
    assert.match(r.stderr, message);
  }
  const args = ["--out", join(root, "e"), "--images", "3", "--imgsz", "64", "--quiet", "--split", "0.34,0.33,0.33"];
  const ok = await runSynthCli(...args);
  assert.equal(ok.ok, true, ok.stderr);
  assert.match(ok.stdout, /images: train 1, val 1, test 1/);
  assert.match(ok.stdout, /images\/s/);
  // A second run into the same folder needs --force.
  const again = await runSynthCli(...args);
  assert.equal(again.ok, false);
  assert.match(again.stderr, /--force/);
  assert.equal((await runSynthCli(...args, "--force")).ok, true);
  // --magnification reaches the images: the same seed's first image differs from the unmagnified one
  const plain = await runSynthCli("--out", join(root, "m"), "--images", "3", "--imgsz", "64", "--quiet");
  const magnified = await runSynthCli(
    "--out",
    join(root, "m2"),
    "--images",
    "3",
    "--imgsz",
    "64",
    "--quiet",
    "--magnification",
    "2",
  );
  assert.ok(plain.ok && magnified.ok);
  const first = (d: string) => readFileSync(join(root, d, "images", "train", "synth_000000.jpg"));
  assert.notDeepEqual(first("m"), first("m2"));
});
