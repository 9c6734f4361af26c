/**
 * `sladet convert --from wbcatt`: WBCAtt's CSV rows mapped to LLD (class, attributes), the stain-colour box finder on
 * drawn cells, the errors of bad rows, and a whole conversion of drawn PBC-like crops that `sladet check` accepts. No
 * real WBCAtt or PBC data: every crop is drawn here.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import sharp from "sharp";
import type { RgbImage } from "../../src/data/bmp.js";
import { checkDataset } from "../../src/data/check.js";
import { convertDataset } from "../../src/data/convert.js";
import { parseWbcattCsv, WBCATT_ATTRIBUTE_MAPPINGS } from "../../src/data/formats/wbcatt.js";
import { formatProblem } from "../../src/data/problems.js";
import { LLD_ATTRIBUTES, LLD_CLASS_NAMES } from "../../src/data/schema.js";
import { centralBox, findStainBox } from "../../src/data/stain-box.js";
import { put, withTempDir } from "./helpers.js";

/** Colours measured on PBC crops: pale background, pink red cell, lilac neutrophil cytoplasm, purple nucleus. */
const BACKGROUND = [255, 229, 202] as const;
const RED_CELL = [205, 165, 167] as const;
const CYTOPLASM = [189, 146, 173] as const;
const NUCLEUS = [80, 40, 140] as const;

type Rgb = readonly [number, number, number];

function canvas(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) data.set(BACKGROUND, 3 * p);
  return { data, width, height };
}

function disc(image: RgbImage, cx: number, cy: number, r: number, colour: Rgb): void {
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < image.width; x++) {
      if ((x - cx) ** 2 + (y - cy) ** 2 <= r * r) image.data.set(colour, 3 * (y * image.width + x));
    }
  }
}

/** A PBC-like crop: red cells around, one white cell (cytoplasm r 20, nucleus r 10) at (55, 62), another cut by the edge. */
function drawnCrop(): RgbImage {
  const image = canvas(120, 120);
  for (const [x, y] of [
    [15, 15],
    [100, 20],
    [20, 105],
    [95, 100],
    [60, 12],
  ])
    disc(image, x!, y!, 13, RED_CELL);
  disc(image, 55, 62, 20, CYTOPLASM);
  disc(image, 55, 62, 10, NUCLEUS);
  disc(image, 118, 60, 12, NUCLEUS); // a second white cell mostly outside the crop: farther from the centre
  return image;
}

const HEADER =
  "img_name,label,cell_size,cell_shape,nucleus_shape,nuclear_cytoplasmic_ratio,chromatin_density,cytoplasm_vacuole," +
  "cytoplasm_texture,cytoplasm_colour,granule_type,granule_colour,granularity,path";

/** A row in WBCAtt's layout. */
function row(name: string, label: string, type: string, values: string): string {
  return `${name}.jpg,${label},${values},PBC_dataset_normal_DIB/${type}/${name}.jpg`;
}
// cell_size,cell_shape,nucleus_shape,nuclear_cytoplasmic_ratio,chromatin_density,cytoplasm_vacuole,cytoplasm_texture,
// cytoplasm_colour,granule_type,granule_colour,granularity
const NEUTROPHIL = "big,round,segmented-multilobed,low,densely,no,clear,light blue,small,pink,yes";
const LYMPHOCYTE = "small,round,unsegmented-round,high,loosely,yes,clear,blue,nil,nil,no";
const MONOCYTE = "big,irregular,unsegmented-indented,low,loosely,yes,frosted,purple blue,small,pink,yes";

describe("WBCAtt rows as LLD labels", () => {
  test("classes and the six mapped attributes; Nucleolus unknown", () => {
    const csv = parseWbcattCsv(
      [
        HEADER,
        row("A", "Neutrophil", "neutrophil", NEUTROPHIL),
        row("B", "Lymphocyte", "lymphocyte", LYMPHOCYTE),
        row("C", "Monocyte", "monocyte", MONOCYTE),
      ].join("\n"),
      "train.csv",
    );
    assert.deepEqual(csv.problems, []);
    assert.deepEqual(
      csv.rows.map((r) => [r.name, LLD_CLASS_NAMES[r.cls], r.line, r.path]),
      [
        ["A.jpg", "Neutrophil", 2, "PBC_dataset_normal_DIB/neutrophil/A.jpg"],
        ["B.jpg", "Lymphocyte", 3, "PBC_dataset_normal_DIB/lymphocyte/B.jpg"],
        ["C.jpg", "Monocyte", 4, "PBC_dataset_normal_DIB/monocyte/C.jpg"],
      ],
    );
    const named = csv.rows.map((r) => r.attributes.map((v, i) => LLD_ATTRIBUTES[i]!.values[v] ?? "unknown"));
    assert.deepEqual(named, [
      ["Large", "Coarse", "Irregular", "unknown", "Abundant", "Slight", "Absent"],
      ["Small", "Open", "Regular", "unknown", "Scanty", "Moderate", "Prominent"],
      ["Large", "Open", "Irregular", "unknown", "Abundant", "Moderate", "Prominent"],
    ]);
  });

  test("every mapping targets an existing LLD attribute value, and Medium is never written", () => {
    for (const m of WBCATT_ATTRIBUTE_MAPPINGS) {
      const spec = LLD_ATTRIBUTES.find((a) => a.name === m.attribute);
      assert.ok(spec, m.attribute);
      for (const v of Object.values(m.values)) assert.ok(spec.values.includes(v), `${m.attribute} ${v}`);
    }
    const size = WBCATT_ATTRIBUTE_MAPPINGS.find((m) => m.attribute === "Cell Size")!;
    assert.ok(!Object.values(size.values).includes("Medium"));
  });

  test("bad rows are skipped or read as unknown with their file and line; a bad header is one error", () => {
    const text = [
      HEADER,
      row("A", "Neutrophil", "neutrophil", NEUTROPHIL),
      "B.jpg,Lymphocyte,small",
      row("C", "Platelet", "platelet", NEUTROPHIL),
      "",
      row("D", "Neutrophil", "neutrophil", NEUTROPHIL.replace("big", "medium")),
      "",
    ].join("\n");
    const csv = parseWbcattCsv(text, "val.csv");
    assert.deepEqual(
      csv.rows.map((r) => [r.name, r.attributes[0]]),
      [
        ["A.jpg", 2],
        ["D.jpg", -1],
      ],
    );
    assert.deepEqual(csv.problems.map(formatProblem), [
      "val.csv:3: expected 14 comma-separated fields as in the header, found 3; row skipped",
      'val.csv:4: expected label one of Neutrophil, Eosinophil, Basophil, Lymphocyte, Monocyte, found "Platelet"; row skipped',
      'val.csv:6: expected cell_size one of big, small, found "medium"; Cell Size written as unknown',
    ]);
    const unclosed = parseWbcattCsv(
      `${HEADER}\n${row("A", "Neutrophil", "neutrophil", NEUTROPHIL)}\n"B.jpg,x\n`,
      "a.csv",
    );
    assert.deepEqual(unclosed.rows, []);
    assert.deepEqual(unclosed.problems.map(formatProblem), [
      "a.csv:3: expected a closing quote, found a quote that opens here and never closes; file skipped",
    ]);
    const bad = parseWbcattCsv("img_name,label,path\nA.jpg,Neutrophil,x.jpg\n", "test.csv");
    assert.equal(bad.rows.length, 0);
    assert.equal(bad.problems.length, 1);
    assert.match(formatProblem(bad.problems[0]!), /^test\.csv:1: expected a WBCAtt header .* found no cell_size, /);
  });
});

describe("the stain-colour box", () => {
  test("finds the white cell nearest the centre, not the red cells or the cell at the edge", () => {
    const { box, fallback } = findStainBox(drawnCrop());
    assert.equal(fallback, undefined);
    // the disc spans x 35..75, y 42..82 (end-exclusive 76, 83); the 5×5 majority trims its 1-pixel tips, the 3-px
    // dilation and the 4-px padding add 7: 36−7 .. 75+7, 43−7 .. 82+7
    assert.deepEqual(box, { x1: 29, y1: 36, x2: 82, y2: 89 });
  });

  test("a crop tinted blue all over: the blue margin is raised to its background's B − G plus 28", () => {
    const image = canvas(120, 120);
    for (let p = 0; p < 120 * 120; p++) image.data.set([228, 210, 230], 3 * p); // B − G 20: stain by the first margin
    for (const [x, y] of [
      [15, 15],
      [100, 20],
      [20, 105],
      [95, 100],
    ])
      disc(image, x!, y!, 13, [200, 170, 195]);
    disc(image, 55, 62, 20, [170, 120, 190]); // cytoplasm B − G 70 ≥ 20 + 28
    disc(image, 55, 62, 10, NUCLEUS);
    assert.deepEqual(findStainBox(image), { box: { x1: 29, y1: 36, x2: 82, y2: 89 } });
    assert.deepEqual(findStainBox(image, { maxAreaFraction: 1.01 }).box, { x1: 0, y1: 0, x2: 120, y2: 120 });
    const purple = canvas(50, 50);
    for (let p = 0; p < 50 * 50; p++) purple.data.set(NUCLEUS, 3 * p); // stained everywhere, also after the retry
    assert.deepEqual(findStainBox(purple), { box: centralBox(50, 50, 0.6), fallback: "background-stained" });
  });

  test("falls back to the central box when there is no stain or the stained region is too small", () => {
    const empty = findStainBox(canvas(100, 80));
    assert.deepEqual(empty, { box: centralBox(100, 80, 0.6), fallback: "no-stain" });
    assert.deepEqual(empty.box, { x1: 20, y1: 16, x2: 80, y2: 64 });
    const speck = canvas(100, 100);
    disc(speck, 50, 50, 6, NUCLEUS);
    assert.equal(findStainBox(speck).fallback, undefined);
    assert.equal(findStainBox(speck, { minSideFraction: 0.5 }).fallback, "implausible-box");
  });
});

/** Writes a drawn crop as a JPEG under `root`. */
async function putCrop(root: string, path: string): Promise<void> {
  const image = drawnCrop();
  const raw = sharp(Buffer.from(image.data), { raw: { width: image.width, height: image.height, channels: 3 } });
  put(join(root, path), await raw.jpeg({ quality: 95 }).toBuffer());
}

describe("sladet convert --from wbcatt", () => {
  test("writes WBCAtt's splits as an LLD dataset that sladet check accepts", async () => {
    await withTempDir("wbcatt", async (dir) => {
      const csvs = join(dir, "csv");
      const pbc = join(dir, "pbc");
      for (const [name, type] of [
        ["A", "neutrophil"],
        ["B", "lymphocyte"],
        ["C", "monocyte"],
      ] as const) {
        await putCrop(pbc, `PBC_dataset_normal_DIB/${type}/${name}.jpg`);
      }
      put(
        join(csvs, "pbc_attr_v1_train.csv"),
        `${[HEADER, row("A", "Neutrophil", "neutrophil", NEUTROPHIL), row("B", "Lymphocyte", "lymphocyte", LYMPHOCYTE), row("Z", "Monocyte", "monocyte", MONOCYTE)].join("\n")}\n`,
      );
      put(join(csvs, "pbc_attr_v1_test.csv"), `${HEADER}\n${row("C", "Monocyte", "monocyte", MONOCYTE)}\n`);
      const out = join(dir, "lld");
      const report = await convertDataset({
        from: "wbcatt",
        to: "lld",
        source: csvs,
        wbcattImages: pbc,
        out,
        silent: true,
      });
      assert.deepEqual(report.boxFallbacks, { "no-stain": 0, "implausible-box": 0, "background-stained": 0 });
      assert.deepEqual(report.problems.map(formatProblem), [
        `${join(csvs, "pbc_attr_v1_train.csv")}:4: expected its image PBC_dataset_normal_DIB/monocyte/Z.jpg under ${pbc}, found none; row skipped`,
      ]);
      assert.equal(report.counts.train?.images, 2);
      assert.equal(report.counts.test?.images, 1);
      // box 30 37 81 88 (the raw drawing's 29 36 82 89 less the disc tips JPEG blurs below the thresholds); region =
      // the whole crop; Nucleolus unknown (2)
      const lineOf = (split: string, stem: string) => readFileSync(join(out, "labels", split, `${stem}.txt`), "utf8");
      assert.equal(lineOf("train", "A"), "3 0.4625 0.520833 0.425 0.425 0 0 120 120 2 1 1 2 1 0 0\n");
      assert.equal(lineOf("train", "B"), "7 0.4625 0.520833 0.425 0.425 0 0 120 120 0 0 0 2 0 1 1\n");
      assert.equal(lineOf("test", "C"), "10 0.4625 0.520833 0.425 0.425 0 0 120 120 2 0 1 2 1 1 1\n");
      const check = await checkDataset(join(out, "data.yaml"), { silent: true, cache: false });
      assert.deepEqual(check.problems.filter((p) => p.severity === "error").map(formatProblem), []);
      assert.deepEqual(check.config.names, [...LLD_CLASS_NAMES]);
    });
  });

  test("without --images, or without the CSVs, the error says what to give", async () => {
    await withTempDir("wbcatt-err", async (dir) => {
      await assert.rejects(
        convertDataset({ from: "wbcatt", to: "lld", source: dir, out: join(dir, "o"), silent: true }),
        /expected the folder holding PBC_dataset_normal_DIB\/ \(--images\), found none given/,
      );
      await assert.rejects(
        convertDataset({
          from: "wbcatt",
          to: "lld",
          source: dir,
          wbcattImages: dir,
          out: join(dir, "o"),
          silent: true,
        }),
        /expected WBCAtt CSVs pbc_attr_v1_train\.csv, pbc_attr_v1_val\.csv, pbc_attr_v1_test\.csv .*found none of them/,
      );
    });
  });
});
