/**
 * What `sladet detect --source` reads (a file, a folder in natural order, a glob, a .txt list relative to its folder,
 * with unsupported entries reported), the letterbox (aspect ratio kept, grey border, batches sharing a stride-multiple
 * shape, exact mapping back), the drawing's attribute code and legend, and the CSV quoting. No engine needed.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import sharp from "sharp";
import { LLD_ATTRIBUTES } from "../../src/data/schema.js";
import {
  attributeCode,
  attributeCodeParts,
  legendText,
  UNCERTAIN_BELOW,
  valueLetters,
} from "../../src/infer/attribute-code.js";
import { type DecodedImage, decodeImage, letterboxBatch, listSources, toOriginal } from "../../src/infer/sources.js";
import { csvField, csvLine } from "../../src/util/csv.js";
import { ConfigError } from "../../src/util/errors.js";

let work: string;
const png = (w: number, h: number) =>
  sharp({ create: { width: w, height: h, channels: 3, background: "#ff0000" } })
    .png()
    .toBuffer();

before(async () => {
  work = mkdtempSync(join(tmpdir(), "sladet-sources-"));
  const dir = join(work, "films");
  mkdirSync(join(dir, "sub"), { recursive: true });
  for (const name of ["img10.png", "img2.png", "img1.PNG", "sub/deep.png"])
    writeFileSync(join(dir, name), await png(8, 6));
  writeFileSync(join(dir, "notes.csv"), "a,b\n");
  writeFileSync(join(dir, ".hidden.png"), "");
  writeFileSync(
    join(work, "list.txt"),
    "# fields of view\nfilms/img2.png\n\nfilms/missing.png\nfilms/notes.csv\nfilms/sub\n  films/sub/deep.png  \n",
  );
});
after(() => rmSync(work, { recursive: true, force: true }));

describe("sources", () => {
  test("a folder: its images in natural order; other files reported, hidden files and subfolders left out", async () => {
    const s = await listSources(join(work, "films"));
    assert.equal(s.kind, "folder");
    assert.deepEqual(
      s.images.map((f) => f.slice(work.length + 1)),
      ["films/img1.PNG", "films/img2.png", "films/img10.png"],
    );
    assert.deepEqual(
      s.rejected.map((r) => r.file.slice(work.length + 1)),
      ["films/notes.csv"],
    );
    assert.match(s.rejected[0]!.reason, /not an image \(\.csv\)/);
  });

  test("a .txt list: paths relative to the list's folder, every bad line reported with its line number", async () => {
    const s = await listSources(join(work, "list.txt"));
    assert.equal(s.kind, "list");
    assert.deepEqual(s.images, [join(work, "films", "img2.png"), join(work, "films", "sub", "deep.png")]);
    const reasons = s.rejected.map((r) => r.reason);
    assert.equal(reasons.length, 3);
    assert.match(reasons[0]!, /no such file \(line 4 of/);
    assert.match(reasons[1]!, /not an image \(\.csv\).*line 5/);
    assert.match(reasons[2]!, /a folder \(line 6/);
  });

  test("a glob and a single file", async () => {
    const g = await listSources(join(work, "films", "**", "*.png"));
    assert.equal(g.kind, "glob");
    assert.deepEqual(
      g.images.map((f) => f.slice(work.length + 1)),
      ["films/img2.png", "films/img10.png", "films/sub/deep.png"],
    );
    const f = await listSources(join(work, "films", "img2.png"));
    assert.deepEqual(f, { kind: "file", images: [join(work, "films", "img2.png")], rejected: [] });
  });

  test("unusable sources are refused with the reason", async () => {
    const refused = async (source: string, message: RegExp) =>
      assert.rejects(listSources(source), (e: unknown) => e instanceof ConfigError && message.test(e.message));
    await refused(join(work, "nope"), /no such file or folder/);
    await refused(join(work, "films", "notes.csv"), /not an image \(\.csv\)/);
    await refused("film.mp4", /videos are not supported/);
    await refused("rtsp://camera/1", /streams, URLs and cameras are not supported/);
    await refused(join(work, "films", "*.jpg"), /no images found/);
  });

  test("an unreadable image is an error with a one-line reason", async () => {
    const bad = join(work, "bad.jpg");
    writeFileSync(bad, "garbage");
    await assert.rejects(decodeImage(bad), (e: Error) => !e.message.includes("\n") && e.message.length > 0);
    await assert.rejects(decodeImage(join(work, "gone.jpg")), /no such file/);
  });
});

describe("letterbox", () => {
  const image = (width: number, height: number, value = 200): DecodedImage => ({
    file: "x",
    image: { data: new Uint8Array(width * height * 3).fill(value), width, height },
  });

  test("keeps the aspect ratio, pads with grey 114 to stride multiples, and maps back exactly", async () => {
    const { batch, transforms } = await letterboxBatch([image(400, 200)], { imgsz: 128, stride: 32 });
    // 400×200 → 128×64: already stride multiples
    assert.deepEqual(batch.shape, [1, 3, 64, 128]);
    assert.equal(batch.imgsz, 128);
    assert.deepEqual(transforms[0]!.ratio, [128 / 400, 64 / 200]);
    assert.deepEqual(transforms[0]!.pad, [0, 0]);
    const odd = await letterboxBatch([image(300, 200)], { imgsz: 128, stride: 32 });
    // 300×200 → 128×85 (detect.py's letterbox: round(200 · 128/300)), padded to 128×96: 5 rows above, 6 below;
    // boxes map back as scale_boxes does: gain min(96/200, 128/300), border (96 − 200 · gain)/2 = 16/3
    assert.deepEqual(odd.batch.shape, [1, 3, 96, 128]);
    assert.deepEqual(odd.transforms[0]!.ratio, [128 / 300, 128 / 300]);
    assert.equal(odd.transforms[0]!.pad[0], 0);
    assert.ok(Math.abs(odd.transforms[0]!.pad[1] - 16 / 3) < 1e-12, `${odd.transforms[0]!.pad}`);
    assert.ok(Math.abs(odd.batch.data[5 * 128 + 10]! - 200 / 255) < 1e-6, "image from row 5");
    assert.ok(Math.abs(odd.batch.data[90 * 128 + 10]! - 114 / 255) < 1e-6, "border from row 90");
    const at = (c: number, y: number, x: number) => odd.batch.data[c * 96 * 128 + y * 128 + x]!;
    assert.ok(Math.abs(at(0, 0, 10) - 114 / 255) < 1e-6, "grey border");
    assert.ok(Math.abs(at(0, 50, 10) - 200 / 255) < 1e-6, "image inside");
    const t = odd.transforms[0]!;
    const mapped = toOriginal(
      t,
      30 * t.ratio[0] + t.pad[0],
      40 * t.ratio[1] + t.pad[1],
      290 * t.ratio[0],
      190 * t.ratio[1] + t.pad[1],
    );
    mapped.forEach((v, i) => {
      assert.ok(Math.abs(v - [30, 40, 290, 190][i]!) < 1e-9, `${mapped}`);
    });
    assert.deepEqual(toOriginal(t, -10, -10, 500, 500), [0, 0, 300, 200], "clipped to the image");
  });

  test("a batch shares the smallest stride-multiple shape that holds every image; each image is centred", async () => {
    const { batch, transforms } = await letterboxBatch([image(200, 100), image(100, 200)], { imgsz: 128, stride: 32 });
    assert.deepEqual(batch.shape, [2, 3, 128, 128]);
    assert.deepEqual(transforms[0]!.pad, [0, 32]);
    assert.deepEqual(transforms[1]!.pad, [32, 0]);
  });

  test("a fixed input (static ONNX export) and a fixed batch size are honoured", async () => {
    const { batch, transforms } = await letterboxBatch([image(200, 100)], {
      imgsz: 640,
      stride: 32,
      fixedInput: [64, 96],
      batchSize: 2,
    });
    assert.deepEqual(batch.shape, [2, 3, 64, 96]);
    assert.equal(batch.imgsz, 96);
    assert.deepEqual(transforms[0]!.ratio, [96 / 200, 48 / 100]);
    assert.deepEqual(transforms[0]!.pad, [0, 8]);
    assert.ok(
      batch.data.subarray(3 * 64 * 96).every((v) => Math.abs(v - 114 / 255) < 1e-6),
      "padding image",
    );
  });
});

describe("drawing and CSV", () => {
  test("attribute codes: one distinct letter per value, groups size·nucleus·cytoplasm, uncertain values marked", () => {
    for (const spec of LLD_ATTRIBUTES) assert.equal(new Set(valueLetters(spec)).size, spec.values.length);
    assert.equal(attributeCode([0, 0, 0, 0, 0, 0, 0]), "S·ORI·SSA");
    assert.equal(attributeCode([2, 1, 1, 1, 1, 1, 1]), "L·CIP·AMP");
    const parts = attributeCodeParts([1, 0, 0, 0, 0, 0, 0], [0.9, UNCERTAIN_BELOW - 0.01, 1, 1, 1, 1, 1]);
    assert.deepEqual(
      parts.filter((p) => p.uncertain).map((p) => p.text),
      ["O"],
    );
  });

  test("the legend names every attribute and value, and every class colour", () => {
    const legend = legendText(["cell", "blast"]);
    for (const spec of LLD_ATTRIBUTES) {
      assert.ok(legend.includes(spec.name));
      for (const v of spec.values) assert.ok(legend.includes(v), v);
    }
    assert.match(legend, /0 cell\s+#[0-9a-f]{6}/);
    assert.match(legend, /1 blast\s+#[0-9a-f]{6}/);
    assert.doesNotMatch(legendText(["cell"], false), /Attribute code/);
  });

  test("CSV fields are quoted when they hold a comma, a quote or a line break", () => {
    assert.equal(csvField("plain.jpg"), "plain.jpg");
    assert.equal(csvField("a,b.jpg"), '"a,b.jpg"');
    assert.equal(csvField('say "hi"'), '"say ""hi"""');
    assert.equal(csvLine(["x\ny", 1.5]), '"x\ny",1.5');
  });
});
