/**
 * The checkpoint fuzz run (issue 22), run as its own process by checkpoints.fuzz.test.ts so that a crash (SIGSEGV,
 * SIGABRT), a hang or runaway memory shows as that process's death, time-out or peak RSS, never as the test runner's.
 * Generated safetensors headers (and sladet metadata mutated from a real checkpoint), pickles inside zip archives, and
 * zip archives (generated, and mutated from a real YOLOv5 .pt) go through the checkpoint readers: each must load or
 * fail with a user-input error that names the file, within {@link CASE_TIME_LIMIT_MS}. Prints one JSON line:
 * `{"cases": n, "maxRssMb": m, "slowestMs": t}`; exits 1 with the counterexample on a failure.
 *
 * Cases: env SLADET_FUZZ_RUNS (default {@link DEFAULT_FUZZ_RUNS}), split over the families; seed: env FC_SEED.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { isUserInputError } from "../../src/cli/user-errors.js";
import {
  checkpointGlobals,
  modelFromCheckpoint,
  parseYoloCheckpoint,
  unpickle,
  ZipReader,
} from "../../src/io/index.js";
import { disposeCheckpoint } from "../../src/io/yolo-import.js";
import { builtinModelYaml, parseCheckpoint, serializeCheckpoint, YoloModel } from "../../src/model/index.js";
import { setNumThreads } from "../../src/torch/index.js";
import { fixturePath } from "../helpers.js";
import { deflatedZip, storedZip } from "../io/zip-writer.js";

/** Cases of the default run (`npm test`): a few seconds. */
export const DEFAULT_FUZZ_RUNS = 600;
/**
 * The most CPU time one case may take (user + system, all threads: wall time would measure the machine's load): a
 * reader that takes longer on a small input is doing unbounded work. Cases take 0.1–100 ms.
 */
export const CASE_TIME_LIMIT_MS = 3000;
/** The file name every case's reader is given; every error must name it. */
const SOURCE = "fuzzed.bin";

/** CPU milliseconds of this process so far (every thread). */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** Runs one reader on one input: it returns, or throws a user-input error naming the file, in time (CPU ms). */
function check(read: () => void): number {
  const t0 = cpuMs();
  try {
    read();
  } catch (err) {
    assert.ok(isUserInputError(err), `not a user-input error: ${(err as Error)?.stack ?? String(err)}`);
    assert.ok(err.message.includes(SOURCE), `the message does not name the file: ${err.message}`);
    assert.ok(!err.message.includes("\n    at "), "no stack trace in the message");
  }
  const ms = cpuMs() - t0;
  assert.ok(ms < CASE_TIME_LIMIT_MS, `took ${ms.toFixed(0)} ms of CPU`);
  return ms;
}

// ---- safetensors headers and sladet metadata ----

const DTYPES = ["F32", "F64", "F16", "BF16", "I64", "I32", "I16", "I8", "U8", "BOOL", "F8", "x", ""];
const wildNumber = fc.oneof(
  fc.integer({ min: -3, max: 70 }),
  fc.constantFrom(0, -1, 1e6, 1e9, 2 ** 31, 2 ** 32, 2 ** 53, 1e300, 0.5, 1.0000001),
  fc.double({ noNaN: true }),
);
const wildValue: fc.Arbitrary<unknown> = fc.oneof(
  wildNumber,
  fc.constantFrom(null, true, "nc", "anchors", "None", "Conv", "Detect", [], {}),
  fc.array(wildNumber, { maxLength: 8 }),
  fc.array(fc.array(wildNumber, { maxLength: 7 }), { maxLength: 4 }),
  fc.string({ maxLength: 12 }),
);

/** A generated header entry: dtype, shape and offsets, each sometimes wrong. */
const entry = fc.record({
  dtype: fc.constantFrom(...DTYPES),
  shape: fc.oneof(fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 4 }), fc.array(wildNumber, { maxLength: 3 })),
  data_offsets: fc.oneof(
    fc.tuple(fc.integer({ min: 0, max: 256 }), fc.integer({ min: 0, max: 256 })),
    fc.array(wildNumber, { maxLength: 3 }),
  ),
});

/** Safetensors bytes: a length field (sometimes lying), a generated JSON header, data bytes. */
const safetensorsBytes = fc
  .tuple(
    fc.dictionary(
      fc.oneof(
        fc.constantFrom("detector.model.0.conv.weight", "attributes.fc1.bias", "train.rng"),
        fc.string({ maxLength: 8 }),
      ),
      fc.oneof(entry, wildValue),
      { maxKeys: 6 },
    ),
    fc.option(
      fc.dictionary(
        fc.constantFrom("sladet", "format", "x"),
        fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('{"format":"sladet-checkpoint","version":1}')),
        { maxKeys: 2 },
      ),
    ),
    fc.uint8Array({ maxLength: 256 }),
    fc.oneof(fc.constant(null), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })),
  )
  .map(([tensors, metadata, data, lyingLength]) => {
    const header = new TextEncoder().encode(
      JSON.stringify(metadata ? { ...tensors, __metadata__: metadata } : tensors),
    );
    const out = new Uint8Array(8 + header.byteLength + data.byteLength);
    new DataView(out.buffer).setBigUint64(0, lyingLength ?? BigInt(header.byteLength), true);
    out.set(header, 8);
    out.set(data, 8 + header.byteLength);
    return out;
  });

/** A real sladet checkpoint of the tiny test model (nc 1), and its header, to mutate. */
function tinyCheckpoint(): { bytes: Uint8Array; header: Record<string, unknown>; length: number } {
  const model = new YoloModel({ ...builtinModelYaml("n"), width_multiple: 0.125, depth_multiple: 0.33, nc: 1 });
  const bytes = serializeCheckpoint(model, { epoch: 0 });
  model.dispose();
  const length = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return { bytes, header: JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length))), length };
}

/** Sets `value` at a path of keys/indices inside `root` (creating nothing: a missing step leaves it unchanged). */
function setAt(root: unknown, path: readonly (string | number)[], value: unknown): void {
  let at = root as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) {
    const next = at?.[key];
    if (next === null || typeof next !== "object") return;
    at = next as Record<string | number, unknown>;
  }
  if (at !== null && typeof at === "object") at[path.at(-1)!] = value;
}

const META_PATHS: ReadonlyArray<readonly (string | number)[]> = [
  ["model", "nc"],
  ["model", "depth_multiple"],
  ["model", "width_multiple"],
  ["model", "anchors"],
  ["model", "anchors", 0],
  ["model", "ch"],
  ["model", "backbone", 0, 1],
  ["model", "backbone", 0, 3],
  ["model", "backbone", 0, 3, 0],
  ["model", "backbone", 1, 0],
  ["model", "head", 0, 2],
  ["model", "head", 1, 3, 1],
  ["model", "head", 23, 0],
  ["model", "head", 23, 3],
  ["names"],
  ["taps"],
  ["taps", "p2"],
  ["attributeHead"],
  ["version"],
  ["training"],
];

/** The tiny checkpoint with its metadata or one tensor's header entry changed (the file's bytes otherwise intact). */
function mutatedCheckpoint(tiny: ReturnType<typeof tinyCheckpoint>): fc.Arbitrary<Uint8Array> {
  const names = Object.keys(tiny.header).filter((k) => k !== "__metadata__");
  const metaEdit = fc
    .tuple(fc.constantFrom(...META_PATHS), wildValue)
    .map(([path, value]) => (h: Record<string, unknown>) => {
      const doc = h["__metadata__"] as Record<string, string>;
      const meta = JSON.parse(doc["sladet"]!);
      setAt(meta, path, value);
      doc["sladet"] = JSON.stringify(meta);
    });
  const tensorEdit = fc
    .tuple(
      fc.constantFrom(...names),
      fc.constantFrom("dtype", "shape", "data_offsets"),
      fc.oneof(wildValue, fc.constantFrom(...DTYPES)),
    )
    .map(
      ([name, field, value]) =>
        (h: Record<string, unknown>) =>
          setAt(h, [name, field], value),
    );
  return fc.array(fc.oneof(metaEdit, tensorEdit), { minLength: 1, maxLength: 3 }).map((edits) => {
    const header = structuredClone(tiny.header);
    for (const edit of edits) edit(header);
    const text = new TextEncoder().encode(JSON.stringify(header));
    const data = tiny.bytes.subarray(8 + tiny.length);
    const out = new Uint8Array(8 + text.byteLength + data.byteLength);
    new DataView(out.buffer).setBigUint64(0, BigInt(text.byteLength), true);
    out.set(text, 8);
    out.set(data, 8 + text.byteLength);
    return out;
  });
}

/** Reads sladet checkpoint bytes as `--weights` would (the model is built, then released). */
function readSladet(bytes: Uint8Array): void {
  const loaded = parseCheckpoint(bytes, SOURCE);
  loaded.model.dispose();
  loaded.attributeHead?.dispose();
  for (const t of loaded.training.values()) t.dispose();
}

// ---- pickles and zip archives ----

const latin1 = (s: string) => Array.from(s, (c) => c.charCodeAt(0));
const u32 = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
const GLOBALS = [
  "collections\nOrderedDict\n",
  "torch._utils\n_rebuild_tensor_v2\n",
  "torch._utils\n_rebuild_parameter\n",
  "torch\nFloatStorage\n",
  "models.yolo\nDetectionModel\n",
  "numpy.core.multiarray\n_reconstruct\n",
  "numpy\ndtype\n",
  "_codecs\nencode\n",
  "builtins\nset\n",
  "os\nsystem\n",
  "builtins\neval\n",
  "posix\nsystem\n",
];

/** One pickle opcode with plausible operands. */
const opcode: fc.Arbitrary<number[]> = fc.oneof(
  fc.constantFrom<number[]>(
    [0x28], // MARK
    [0x74], // TUPLE
    [0x29], // EMPTY_TUPLE
    [0x5d], // EMPTY_LIST
    [0x7d], // EMPTY_DICT
    [0x8f], // EMPTY_SET
    [0x61], // APPEND
    [0x65], // APPENDS
    [0x73], // SETITEM
    [0x75], // SETITEMS
    [0x52], // REDUCE
    [0x81], // NEWOBJ
    [0x62], // BUILD
    [0x51], // BINPERSID
    [0x4e], // NONE
    [0x88], // NEWTRUE
    [0x85], // TUPLE1
    [0x86], // TUPLE2
    [0x87], // TUPLE3
    [0x30], // POP
    [0x32], // DUP
    [0x2e], // STOP
  ),
  fc.constantFrom(...GLOBALS).map((g) => [0x63, ...latin1(g)]),
  fc.integer({ min: -5, max: 2 ** 31 - 1 }).map((n) => [0x4a, ...u32(n)]), // BININT
  fc.integer({ min: 0, max: 255 }).map((n) => [0x4b, n]), // BININT1
  fc.integer({ min: 0, max: 8 }).map((n) => [0x68, n]), // BINGET
  fc.integer({ min: 0, max: 8 }).map((n) => [0x71, n]), // BINPUT
  fc.string({ maxLength: 10 }).map((s) => [0x58, ...u32(s.length), ...latin1(s).map((c) => c & 0x7f)]), // BINUNICODE
  fc.constantFrom("storage", "0", "cpu").map((s) => [0x58, ...u32(s.length), ...latin1(s)]),
  fc.integer({ min: 0, max: 2 ** 32 - 1 }).map((n) => [0x58, ...u32(n)]), // BINUNICODE with a lying length
  fc.uint8Array({ minLength: 1, maxLength: 4 }).map((b) => [...b]), // raw bytes
);

/** A protocol-2 pickle of generated opcodes (usually ending in STOP). */
const pickle = fc
  .tuple(fc.array(opcode, { maxLength: 40 }), fc.boolean())
  .map(([ops, stop]) => Uint8Array.from([0x80, 0x02, ...ops.flat(), ...(stop ? [0x2e] : [])]));

/** The pickle as a checkpoint's data.pkl, with a storage entry beside it. */
const pickleArchive = fc.tuple(pickle, fc.uint8Array({ maxLength: 64 })).map(([pkl, storage]) =>
  storedZip([
    ["archive/data.pkl", pkl],
    ["archive/data/0", storage],
  ]),
);

/** Generated zip archives: a few entries, some deflated with a declared size that may lie. */
const generatedZip = fc.oneof(
  fc
    .array(
      fc.tuple(
        fc.constantFrom("archive/data.pkl", "archive/data/0", "a/constants.pkl", "x", ""),
        fc.uint8Array({ maxLength: 64 }),
      ),
      { maxLength: 4 },
    )
    .map((e) => storedZip(e)),
  fc
    .tuple(fc.uint8Array({ maxLength: 512 }), fc.oneof(fc.constant(undefined), fc.integer({ min: 0, max: 0xffffffff })))
    .map(([data, declared]) => deflatedZip("archive/data.pkl", data, declared)),
);

/** A real YOLOv5 .pt with a few bytes overwritten, or cut short. */
function mutatedPt(pt: Uint8Array): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    fc
      .array(fc.tuple(fc.nat({ max: pt.byteLength - 1 }), fc.integer({ min: 0, max: 255 })), {
        minLength: 1,
        maxLength: 8,
      })
      .map((edits) => {
        const copy = Uint8Array.from(pt);
        for (const [at, value] of edits) copy[at] = value;
        return copy;
      }),
    fc.nat({ max: pt.byteLength }).map((n) => pt.subarray(0, n)),
  );
}

/** Reads .pt bytes as `--weights` would: the archive, the pickle, the model built and loaded. */
function readPt(bytes: Uint8Array): void {
  const ckpt = parseYoloCheckpoint(bytes, SOURCE);
  try {
    modelFromCheckpoint(ckpt).dispose();
  } finally {
    disposeCheckpoint(ckpt);
  }
}

/** Reads every entry of a zip archive. */
function readZip(bytes: Uint8Array): void {
  const zip = new ZipReader(bytes, SOURCE);
  for (const name of zip.names()) zip.read(name);
}

/** Runs every family; returns the number of cases and the slowest case's time. */
export function runCheckpointFuzz(runs: number, seed: number): { cases: number; slowestMs: number } {
  let cases = 0;
  let slowestMs = 0;
  const run = <T>(arb: fc.Arbitrary<T>, share: number, read: (x: T) => void, family: string) => {
    const numRuns = Math.max(1, Math.round(runs * share));
    const t0 = cpuMs();
    let familySlowest = 0;
    const result = fc.check(
      fc.property(arb, (x) => {
        const ms = check(() => read(x));
        familySlowest = Math.max(familySlowest, ms);
        slowestMs = Math.max(slowestMs, ms);
        cases++;
      }),
      { seed, numRuns, endOnFailure: true },
    );
    if (result.failed) {
      // the input itself can be megabytes: the family, seed and path reproduce it
      const cause = (result.errorInstance as Error | undefined)?.message ?? String(result.errorInstance);
      throw new Error(
        `${family}: case failed (seed ${result.seed}, path "${result.counterexamplePath}"): ${cause.slice(0, 2000)}`,
      );
    }
    if (process.env["SLADET_FUZZ_VERBOSE"]) {
      process.stderr.write(
        `${family}: ${numRuns} cases, ${(cpuMs() - t0).toFixed(0)} ms of CPU, slowest ${familySlowest.toFixed(0)} ms\n`,
      );
    }
  };
  const tiny = tinyCheckpoint();
  const pt = readFileSync(fixturePath("models/tiny14.pt"));
  readSladet(tiny.bytes); // warm-up (libtorch's first kernels), outside the timed cases
  readPt(pt);
  run(safetensorsBytes, 0.3, readSladet, "safetensors headers");
  run(mutatedCheckpoint(tiny), 0.1, readSladet, "sladet metadata"); // most build the tiny model: about 50 ms each
  run(pickle, 0.15, (bytes) => unpickle(bytes, { source: SOURCE, globals: checkpointGlobals() }), "pickles");
  run(pickleArchive, 0.15, readPt, "pickles in a checkpoint");
  run(generatedZip, 0.15, readZip, "zip archives");
  run(mutatedPt(pt), 0.15, readPt, "damaged .pt");
  return { cases, slowestMs };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const runs = Number(process.env["SLADET_FUZZ_RUNS"] ?? DEFAULT_FUZZ_RUNS);
  const seed = Number(process.env["FC_SEED"] ?? 20261202);
  setNumThreads(1); // one thread: the CPU time of a case is its own work, not idle threads spinning
  const { cases, slowestMs } = runCheckpointFuzz(runs, seed);
  const maxRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
  process.stdout.write(`${JSON.stringify({ cases, maxRssMb, slowestMs: Math.round(slowestMs) })}\n`);
}
