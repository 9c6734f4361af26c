/**
 * Safetensors read/write, from the format's specification: an 8-byte little-endian header length N, N bytes of JSON
 * ({name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}), then the tensor bytes,
 * little-endian, row-major, each tensor's offsets relative to the end of the header.
 */
import { readFileSync } from "node:fs";
import { writeFileAtomic } from "../util/fs.js";
import { type DType, elementSize } from "./dtype.js";
import { native } from "./native.js";
import { Tensor } from "./tensor.js";

const TO_FILE: Record<DType, string> = {
  float32: "F32",
  float64: "F64",
  float16: "F16",
  bfloat16: "BF16",
  int64: "I64",
  int32: "I32",
  int16: "I16",
  int8: "I8",
  uint8: "U8",
  bool: "BOOL",
};
const FROM_FILE = new Map(Object.entries(TO_FILE).map(([k, v]) => [v, k as DType]));

/** A loaded file: its tensors in file order and its string metadata. */
export interface SafetensorsContents {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
}

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

function fail(source: string, message: string): never {
  throw new Error(`${source}: not a valid safetensors file: ${message}`);
}

function parseHeader(bytes: Uint8Array, source: string): { header: Record<string, unknown>; dataStart: number } {
  if (bytes.byteLength < 8) fail(source, `expected at least 8 bytes, found ${bytes.byteLength}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = Number(view.getBigUint64(0, true));
  if (length > bytes.byteLength - 8) fail(source, `header length ${length} exceeds the file size ${bytes.byteLength}`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length)));
  } catch (err) {
    fail(source, `header is not JSON (${(err as Error).message})`);
  }
  if (header === null || typeof header !== "object" || Array.isArray(header)) fail(source, "header is not an object");
  return { header: header as Record<string, unknown>, dataStart: 8 + length };
}

function checkEntry(name: string, value: unknown, dataLength: number, source: string): HeaderEntry {
  const e = value as Partial<HeaderEntry> | null;
  if (e === null || typeof e !== "object") fail(source, `entry "${name}" is not an object`);
  if (typeof e.dtype !== "string" || !FROM_FILE.has(e.dtype))
    fail(source, `entry "${name}" has unknown dtype ${String(e.dtype)}`);
  if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0)) {
    fail(source, `entry "${name}" has an invalid shape`);
  }
  const offsets = Array.isArray(e.data_offsets) && e.data_offsets.length === 2 ? e.data_offsets : [];
  const [begin, end] = offsets;
  const dtype = FROM_FILE.get(e.dtype)!;
  const expected = e.shape.reduce((a, b) => a * b, 1) * elementSize(dtype);
  if (
    !Number.isInteger(begin) ||
    !Number.isInteger(end) ||
    begin! < 0 ||
    end! > dataLength ||
    end! - begin! !== expected
  ) {
    fail(
      source,
      `entry "${name}" has data_offsets ${JSON.stringify(e.data_offsets)} (expected ${expected} bytes within ${dataLength})`,
    );
  }
  return e as HeaderEntry;
}

/** The `__metadata__` entry: a map of strings to strings (the format's rule). */
function checkMetadata(value: unknown, source: string): Record<string, string> {
  if (value === null || typeof value !== "object" || Array.isArray(value))
    fail(source, "__metadata__ is not an object");
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== "string") fail(source, `__metadata__ entry "${k}" is not a string`);
  }
  return value as Record<string, string>;
}

/** Parses safetensors bytes into tensors (copied into libtorch memory on `device`). */
export function parseSafetensors(
  bytes: Uint8Array,
  options: { source?: string; device?: string } = {},
): SafetensorsContents {
  const source = options.source ?? "<buffer>";
  const { header, dataStart } = parseHeader(bytes, source);
  const data = bytes.subarray(dataStart);
  const tensors = new Map<string, Tensor>();
  let metadata: Record<string, string> = {};
  try {
    for (const [name, value] of Object.entries(header)) {
      if (name === "__metadata__") {
        metadata = checkMetadata(value, source);
        continue;
      }
      const e = checkEntry(name, value, data.byteLength, source);
      const dtype = FROM_FILE.get(e.dtype)!;
      const slice = data.subarray(e.data_offsets[0], e.data_offsets[1]);
      tensors.set(name, new Tensor(native.fromBuffer(slice, e.shape, dtype, options.device)));
    }
  } catch (err) {
    for (const t of tensors.values()) t.dispose();
    throw err;
  }
  return { tensors, metadata };
}

/** Reads a .safetensors file. */
export function loadSafetensors(path: string, options: { device?: string } = {}): SafetensorsContents {
  return parseSafetensors(readFileSync(path), { source: path, ...options });
}

/** Serialises tensors (in the given order) and string metadata to safetensors bytes. */
export function serializeSafetensors(
  tensors: Iterable<[string, Tensor]>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header["__metadata__"] = metadata;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    if (name === "__metadata__") throw new Error(`a tensor cannot be named "__metadata__"`);
    const bytes = new Uint8Array(native.toBuffer(t.handle));
    header[name] = { dtype: TO_FILE[t.dtype], shape: [...t.shape], data_offsets: [offset, offset + bytes.byteLength] };
    chunks.push(bytes);
    offset += bytes.byteLength;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padding = (8 - (json.byteLength % 8)) % 8;
  if (padding > 0) json = new TextEncoder().encode(JSON.stringify(header) + " ".repeat(padding));
  const out = new Uint8Array(8 + json.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.byteLength), true);
  out.set(json, 8);
  let at = 8 + json.byteLength;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** Writes a .safetensors file atomically (temp file + rename). */
export function saveSafetensors(
  path: string,
  tensors: Iterable<[string, Tensor]>,
  metadata: Record<string, string> = {},
): void {
  writeFileAtomic(path, serializeSafetensors(tensors, metadata));
}
