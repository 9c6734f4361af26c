import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import sharp from "sharp";
import { decodeBmp, encodeBmp } from "../../src/data/bmp.js";
import { convertDataset } from "../../src/data/convert.js";
import { parseVocXml, vocToAnnotation } from "../../src/data/formats/voc.js";
import { probeImageSize, readImageRgb, verifyImage } from "../../src/data/images.js";
import { formatProblem } from "../../src/data/problems.js";
import { makeImage, put, withTempDir } from "./helpers.js";

/** A BCCD-like VOC file (640×480) with one WBC, one RBC at the edge and one degenerate (point) RBC box. */
function bccdXml(filename: string, extra = ""): string {
  const object = (name: string, b: [number, number, number, number], truncated = 0) => `	<object>
		<name>${name}</name>
		<pose>Unspecified</pose>
		<truncated>${truncated}</truncated>
		<difficult>0</difficult>
		<bndbox>
			<xmin>${b[0]}</xmin>
			<ymin>${b[1]}</ymin>
			<xmax>${b[2]}</xmax>
			<ymax>${b[3]}</ymax>
		</bndbox>
	</object>
`;
  return `<annotation>
	<folder>JPEGImages</folder>
	<filename>${filename}</filename>
	<path>/home/pi/detection_dataset/JPEGImages/${filename}</path>
	<source>
		<database>Unknown</database>
	</source>
	<size>
		<width>640</width>
		<height>480</height>
		<depth>3</depth>
	</size>
	<segmented>0</segmented>
${object("WBC", [260, 177, 491, 376])}${object("RBC", [555, 356, 640, 455], 1)}${object("RBC", [504, 337, 504, 337])}${extra}</annotation>
`;
}

describe("Pascal VOC import", () => {
  test("BCCD-like file: boxes converted, degenerate box dropped and reported with its line", () => {
    const voc = parseVocXml(bccdXml("BloodImage_00338.jpg"), "a.xml");
    assert.equal(voc.filename, "BloodImage_00338.jpg");
    assert.equal(voc.objects.length, 2);
    assert.deepEqual(voc.objects[0], {
      name: "WBC",
      x1: 259,
      y1: 176,
      x2: 490,
      y2: 375,
      difficult: false,
      truncated: false,
    });
    assert.equal(voc.objects[1]?.x2, 639);
    assert.equal(voc.problems.length, 1);
    assert.match(
      formatProblem(voc.problems[0]!),
      /^a\.xml:38: expected a box with xmax > xmin and ymax > ymin inside the image, found degenerate RBC box xmin 504 ymin 337 xmax 504 ymax 337; object dropped$/,
    );
    const { annotation, problems } = vocToAnnotation(voc, "img.jpg", new Map([["WBC", 0]]), "a.xml");
    assert.equal(annotation.labels.length, 1);
    assert.equal(problems[0]?.kind, "class-out-of-range");
    const wbc = annotation.labels[0]!;
    assert.ok(Math.abs(wbc.xc - 374.5 / 640) < 1e-12 && Math.abs(wbc.w - 231 / 640) < 1e-12);
    assert.ok(Math.abs(wbc.yc - 275.5 / 480) < 1e-12 && Math.abs(wbc.h - 199 / 480) < 1e-12);
  });

  test("malformed files give one error, never a crash", () => {
    for (const [xml, pattern] of [
      ["<annotation><size><width>1", /expected well-formed XML|expected <size>/],
      ["<foo/>", /expected a VOC <annotation> element/],
      ["<annotation><size><width>0</width><height>5</height></size></annotation>", /expected <size> with positive/],
      [
        "<annotation><size><width>9</width><height>9</height></size><object><name>a</name><bndbox><xmin>x</xmin></bndbox></object></annotation>",
        /expected an object with <name> and numeric <bndbox>/,
      ],
    ] as const) {
      const voc = parseVocXml(xml, "m.xml");
      assert.equal(voc.objects.length, 0);
      assert.match(formatProblem(voc.problems[0]!), pattern);
    }
  });

  test("convert a VOC folder (ImageSets splits) to LLD and to COCO, with a drop report", async () => {
    await withTempDir("voc", async (dir) => {
      const voc = join(dir, "VOC");
      const jpg = await makeImage(640, 480, "jpeg");
      for (const [i, name] of ["BloodImage_00001", "BloodImage_00002", "BloodImage_00003"].entries()) {
        put(join(voc, "JPEGImages", `${name}.jpg`), jpg);
        put(join(voc, "Annotations", `${name}.xml`), bccdXml(`${name}.jpg`, i === 2 ? "" : ""));
      }
      put(join(voc, "ImageSets", "Main", "train.txt"), "BloodImage_00001\nBloodImage_00002\n");
      put(join(voc, "ImageSets", "Main", "test.txt"), "BloodImage_00003\nBloodImage_09999\n");
      const out = join(dir, "lld");
      const report = await convertDataset({
        from: "voc",
        to: "lld",
        source: voc,
        out,
        classNames: ["RBC", "WBC", "Platelets"],
        silent: true,
      });
      assert.deepEqual(report.counts.train, { images: 2, instances: [2, 2, 0] });
      assert.deepEqual(report.counts.test, { images: 1, instances: [1, 1, 0] });
      assert.equal(report.problems.filter((p) => p.kind === "zero-area-box").length, 3);
      assert.ok(report.problems.some((p) => p.kind === "image-missing" && p.line === 2));
      const label = readFileSync(join(out, "labels", "train", "BloodImage_00001.txt"), "utf8");
      assert.equal(label, "1 0.585156 0.573958 0.360938 0.414583\n0 0.932031 0.842708 0.132813 0.20625\n");
      const yaml = readFileSync(join(out, "data.yaml"), "utf8");
      assert.match(yaml, /val: images\/test/);
      assert.match(yaml, /attributes: \[\]/);
      const coco = await convertDataset({ from: "voc", to: "coco", source: voc, out: join(dir, "coco"), silent: true });
      assert.deepEqual(coco.classNames, ["WBC", "RBC"]);
      const json = JSON.parse(readFileSync(join(dir, "coco", "Annotations", "train.json"), "utf8"));
      assert.equal(json.images.length, 2);
      assert.equal(json.annotations.length, 4);
    });
  });
});

describe("image reading", () => {
  test("grey, RGBA, 16-bit PNG, TIFF, WebP and JPEG all come out as 8-bit RGB", async () => {
    await withTempDir("img", async (dir) => {
      const grey = await sharp(Buffer.alloc(6 * 4, 90), { raw: { width: 6, height: 4, channels: 1 } })
        .png()
        .toBuffer();
      const rgba = await sharp({
        create: { width: 6, height: 4, channels: 4, background: { r: 10, g: 20, b: 30, alpha: 0.5 } },
      })
        .png()
        .toBuffer();
      const deep = await sharp({ create: { width: 6, height: 4, channels: 3, background: { r: 255, g: 0, b: 128 } } })
        .toColourspace("rgb16")
        .png()
        .toBuffer();
      assert.equal((await sharp(deep).metadata()).depth, "ushort");
      const cases: Array<[string, Buffer, [number, number, number]]> = [
        ["grey.png", grey, [90, 90, 90]],
        ["rgba.png", rgba, [10, 20, 30]],
        ["deep.png", deep, [255, 0, 128]],
        ["a.tif", await makeImage(6, 4, "tiff"), [200, 100, 50]],
        [
          "a.webp",
          await sharp({ create: { width: 6, height: 4, channels: 3, background: { r: 200, g: 100, b: 50 } } })
            .webp({ lossless: true })
            .toBuffer(),
          [200, 100, 50],
        ],
      ];
      for (const [name, bytes, rgb] of cases) {
        const image = await readImageRgb(put(join(dir, name), bytes));
        assert.equal(image.width, 6, name);
        assert.equal(image.height, 4, name);
        assert.equal(image.data.length, 6 * 4 * 3, name);
        assert.deepEqual([...image.data.subarray(0, 3)], rgb, name);
      }
    });
  });

  test("EXIF orientation is applied (size and probe agree)", async () => {
    await withTempDir("exif", async (dir) => {
      const file = put(
        join(dir, "rot.jpg"),
        await sharp({ create: { width: 8, height: 4, channels: 3, background: { r: 0, g: 0, b: 0 } } })
          .jpeg()
          .withMetadata({ orientation: 6 })
          .toBuffer(),
      );
      const image = await readImageRgb(file);
      assert.deepEqual([image.width, image.height], [4, 8]);
      assert.deepEqual(await probeImageSize(file), { width: 4, height: 8 });
    });
  });

  test("BMP: our decoder round trips, and check-level verification reads it", async () => {
    await withTempDir("bmp", async (dir) => {
      const data = new Uint8Array(5 * 3 * 3).map((_, i) => (i * 37) % 256);
      const bytes = encodeBmp({ data, width: 5, height: 3 });
      assert.deepEqual(decodeBmp(bytes).data, data);
      const file = put(join(dir, "a.bmp"), bytes);
      assert.deepEqual((await readImageRgb(file)).data, data);
      assert.deepEqual(await verifyImage(file), { ok: true, width: 5, height: 3 });
      assert.deepEqual(await probeImageSize(file), { width: 5, height: 3 });
    });
  });

  test("truncated, corrupt and non-image files are refused with a reason", async () => {
    await withTempDir("bad-img", async (dir) => {
      const noise = new Uint8Array(64 * 64 * 3).map((_, i) => (i * 7919) % 251);
      const jpg = await sharp(noise, { raw: { width: 64, height: 64, channels: 3 } })
        .jpeg()
        .toBuffer();
      const truncated = put(join(dir, "t.jpg"), jpg.subarray(0, jpg.length >> 1));
      const text = put(join(dir, "x.png"), "hello");
      const bmp = encodeBmp({ data: new Uint8Array(4 * 4 * 3), width: 4, height: 4 });
      const shortBmp = put(join(dir, "s.bmp"), bmp.subarray(0, 60));
      for (const file of [truncated, text, shortBmp, join(dir, "missing.jpg")]) {
        const v = await verifyImage(file);
        assert.equal(v.ok, false, file);
        if (!v.ok) assert.ok(v.reason.length > 0);
      }
      writeFileSync(join(dir, "ok.jpg"), jpg);
      assert.equal((await verifyImage(join(dir, "ok.jpg"))).ok, true);
    });
  });
});
