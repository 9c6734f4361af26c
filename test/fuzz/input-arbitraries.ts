/**
 * Generators of dataset inputs for the fuzz suites: label files (valid lines, mutated lines, random text), data
 * YAMLs (structured with hostile values, then possibly damaged as text) and image files (valid encodings, truncated,
 * with damaged or foreign headers, random bytes).
 */
import fc from "fast-check";
import sharp from "sharp";
import { stringify } from "yaml";
import { encodeBmp } from "../../src/data/bmp.js";

/** Classes of the generated datasets. */
export const FUZZ_NC = 3;
/** Side of the generated images. */
export const FUZZ_IMAGE = { width: 24, height: 16 };

/** Tokens that break number parsing in every way we know. */
const NASTY_TOKENS = [
  "",
  "NaN",
  "nan",
  "Infinity",
  "-Infinity",
  "-0",
  "1e309",
  "-1e-400",
  "0x1F",
  "0b1",
  "1_000",
  "１",
  "\u0000",
  "\u200b0.5",
  "9".repeat(400),
  "0.5.5",
  "+-1",
  "1,5",
  "２e3",
  "e",
  ".",
  "-",
];

const unit = fc.double({ min: 0, max: 1, noNaN: true });
const positive = fc.double({ min: 0.001, max: 1, noNaN: true });
const num = (v: number) => String(Number(v.toFixed(6)));

/** A syntactically valid label line in one of the 5, 12, 15 or 16 column forms (values may still be invalid). */
const validLine: fc.Arbitrary<string> = fc
  .record({
    cls: fc.integer({ min: -1, max: FUZZ_NC }),
    xc: unit,
    yc: unit,
    w: positive,
    h: positive,
    region: fc.tuple(
      fc.integer({ min: -2, max: 30 }),
      fc.integer({ min: -2, max: 20 }),
      fc.integer({ min: -2, max: 30 }),
      fc.integer({ min: -2, max: 20 }),
    ),
    attrs: fc.array(fc.integer({ min: -1, max: 4 }), { minLength: 7, maxLength: 7 }),
    form: fc.constantFrom(5, 12, 15, 16),
  })
  .map(({ cls, xc, yc, w, h, region, attrs, form }) => {
    const box = [String(cls), num(xc), num(yc), num(w), num(h)];
    if (form === 5) return box.join(" ");
    if (form === 12) return [...box, ...attrs].join(" ");
    if (form === 15) return [...box, ...region, ...attrs.slice(1)].join(" ");
    return [...box, ...region, ...attrs].join(" ");
  });

/** A valid line with one token replaced, or tokens dropped or repeated. */
const mutatedLine: fc.Arbitrary<string> = fc
  .tuple(validLine, fc.nat(), fc.constantFrom(...NASTY_TOKENS), fc.constantFrom("replace", "drop", "repeat", "join"))
  .map(([line, at, token, how]) => {
    const fields = line.split(" ");
    const i = at % fields.length;
    if (how === "replace") fields[i] = token;
    else if (how === "drop") fields.splice(i, 1);
    else if (how === "repeat") fields.splice(i, 0, fields[i]!);
    else return fields.join(token === "" ? "\t" : token);
    return fields.join(" ");
  });

/** Random text: printable, binary, or whitespace. */
const randomLine: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.string({ unit: "binary", maxLength: 80 }),
  fc.constantFrom(" ", "\t", "\u00a0", "\ufeff", "#", "\u0000\u0000"),
);

/** The text of a label file: 0–40 lines of the three kinds, any line ending, sometimes a BOM or repeated blocks. */
export const labelText: fc.Arbitrary<string> = fc
  .record({
    lines: fc.array(fc.oneof({ weight: 3, arbitrary: validLine }, mutatedLine, randomLine), { maxLength: 40 }),
    eol: fc.constantFrom("\n", "\r\n", "\r", "\n\n"),
    bom: fc.boolean(),
    repeat: fc.constantFrom(1, 1, 1, 2, 50),
  })
  .map(({ lines, eol, bom, repeat }) => {
    const body = Array(repeat).fill(lines.join(eol)).join(eol);
    return (bom ? "\ufeff" : "") + body;
  });

/** The text of a region sidecar: four numbers, or something else. */
export const sidecarText: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(fc.nat(30), fc.nat(20), fc.nat(30), fc.nat(20)).map((r) => `${r.join(" ")}\n`),
  mutatedLine,
  randomLine,
);

const hostileNumber = fc.oneof(
  fc.integer({ min: -5, max: 10 }),
  fc.constantFrom(0, 1e9, 1e15, -1, 2.5, 4096, 4097, Number.MAX_SAFE_INTEGER),
  fc.constantFrom("3", "x", null, true, [1], { a: 1 }),
);

/**
 * Class names. A list past MAX_CLASSES is left to test/data/input-limits.test.ts: the YAML library takes 0.2–0.6 s
 * to parse one, which would make it most of this suite's time.
 */
const names = fc.oneof(
  { weight: 8, arbitrary: fc.array(fc.string({ maxLength: 12 }), { maxLength: 8 }) },
  {
    weight: 6,
    arbitrary: fc.constantFrom(["a", "b", "c"], [], "abc", 3, null, { 0: "a", 2: "c" }, { 0: "a", 1000000000: "b" }),
  },
  { weight: 1, arbitrary: fc.constant(["x".repeat(1000)]) },
);

const splitValue = fc.oneof(
  fc.constantFrom("images", "images/train", "missing", "list.txt", "", "/dev/zero", "..", "."),
  fc.constantFrom(5, null, [], ["images", 3], { a: 1 }),
);

const attributes = fc.oneof(
  fc.constantFrom(undefined, [], "x", [1, 2], [{ name: "a" }], [{ name: "a", values: [] }]),
  fc.array(
    fc.record({ name: fc.string({ maxLength: 6 }), values: fc.array(fc.string({ maxLength: 4 }), { maxLength: 4 }) }),
    {
      maxLength: 8,
    },
  ),
  fc.constant(Array.from({ length: 65 }, () => ({ name: "a", values: ["0", "1"] }))),
);

/** A data YAML document as an object with hostile values. */
const yamlObject = fc.record(
  {
    path: fc.oneof(fc.constantFrom(".", "..", "nowhere", "/"), fc.constantFrom(3, null)),
    train: splitValue,
    val: splitValue,
    test: splitValue,
    nc: hostileNumber,
    names,
    region_order: fc.constantFrom("x1y1x2y2", "x1x2y1y2", "xyxy", 1),
    region_units: fc.constantFrom("px", "norm", "pixels", {}),
    heldout_labels: fc.constantFrom("labels_heldout", "labels", "images", "../x", 3, "labels"),
    attributes,
  },
  { requiredKeys: [] },
);

/** Damage done to the YAML's text. */
const yamlDamage = fc.oneof(
  fc.constant((t: string) => t),
  fc.nat().map((n) => (t: string) => t.slice(0, n % (t.length + 1))),
  fc
    .tuple(
      fc.nat(),
      fc.constantFrom("&a [*a, *a]", "*missing", "!!python/object:os.system ls", ": :", "\t", "{", "[", "'", "\u0000"),
    )
    .map(([n, s]) => (t: string) => {
      const i = n % (t.length + 1);
      return t.slice(0, i) + s + t.slice(i);
    }),
  fc.constant((t: string) => `a: &a [x, x]\nb: &b [*a, *a, *a]\nc: [*b, *b, *b]\n${t}`),
);

/** The text of a data YAML: a hostile object, perhaps damaged, or random text. */
export const yamlText: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(yamlObject, yamlDamage).map(([o, damage]) => damage(stringify(o))) },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 200 }) },
);

/** Valid encodings of one small image in every format the readers take (built once). */
export async function validImageEncodings(): Promise<Buffer[]> {
  const { width, height } = FUZZ_IMAGE;
  const raw = Buffer.from(Array.from({ length: width * height * 3 }, (_, i) => (i * 37) % 256));
  const image = () => sharp(raw, { raw: { width, height, channels: 3 } });
  return [
    await image().png().toBuffer(),
    await image().jpeg().toBuffer(),
    await image().webp().toBuffer(),
    await image().tiff().toBuffer(),
    await image().grayscale().png().toBuffer(),
    await image().ensureAlpha().png().toBuffer(),
    await image().toColourspace("rgb16").png().toBuffer(),
    Buffer.from(encodeBmp({ data: new Uint8Array(raw), width, height })),
  ];
}

/** Magic numbers of other formats, put where an image's header was. */
const FOREIGN_HEADERS = [
  "BM",
  "\x89PNG\r\n\x1a\n",
  "\xff\xd8\xff",
  "GIF89a",
  "RIFF\0\0\0\0WEBP",
  "II*\0",
  "%PDF-",
  "PK\x03\x04",
];

/** An image file's bytes: a valid encoding (from `pool`), truncated, with damaged bytes, a foreign header, or noise. */
export function imageBytes(pool: readonly Buffer[]): fc.Arbitrary<Buffer> {
  const base = fc.nat().map((i) => pool[i % pool.length]!);
  return fc.oneof(
    base,
    fc.tuple(base, fc.nat()).map(([b, n]) => b.subarray(0, n % b.length)),
    fc
      .tuple(base, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }))
      .map(([b, edits]) => {
        const out = Buffer.from(b);
        for (const [at, v] of edits) out[at % out.length] = v;
        return out;
      }),
    fc.tuple(base, fc.constantFrom(...FOREIGN_HEADERS)).map(([b, h]) => {
      const out = Buffer.from(b);
      out.write(h, 0, "latin1");
      return out;
    }),
    fc.tuple(base, fc.nat(40)).map(([b, at]) => {
      // header size fields blown up: BMP width/height, PNG IHDR width/height
      const out = Buffer.from(b);
      if (out.length > at + 4) out.writeUInt32BE(0x7fff_fff0 >>> 0, at);
      return out;
    }),
    fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
  );
}
