/**
 * PyTorch's zip checkpoints (`torch.save`, PyTorch ≥ 1.6): `<archive>/data.pkl` is a protocol-2 pickle whose tensors
 * refer, by persistent id ('storage', <storage type>, key, location, numel), to raw little-endian storages in
 * `<archive>/data/<key>`. Read with the safe pickle reader and the allow-list of design.md §7.5; tensors stay
 * {@link TensorRef}s (views into the file, validated) until materialised, so unused entries (the optimizer, the
 * non-EMA model) cost nothing.
 */
import type { DType } from "../torch/dtype.js";
import { firstNonFinite, type Tensor, tensorFromBytes } from "../torch/index.js";
import { readWeightsFile } from "../util/weights-file.js";
import { describe, type GlobalHandler, PickleError, PyObject, type Settable, unpickle } from "./pickle.js";
import { ZipError, ZipReader } from "./zip.js";

/** Storage types allowed in persistent ids, and the dtype each holds. */
export const STORAGE_DTYPES: Readonly<Record<string, DType>> = {
  "torch.FloatStorage": "float32",
  "torch.HalfStorage": "float16",
  "torch.LongStorage": "int64",
};

const BYTES: Partial<Record<DType, number>> = { float32: 4, float16: 2, int64: 8 };

/** Module classes of a YOLOv5 checkpoint, read as plain objects (their `__dict__` holds the weights). */
export const MODULE_CLASSES = [
  "models.yolo.DetectionModel",
  "models.yolo.Detect",
  "models.common.Conv",
  "models.common.C3",
  "models.common.Bottleneck",
  "models.common.SPPF",
  "models.common.Concat",
  "torch.nn.modules.conv.Conv2d",
  "torch.nn.modules.batchnorm.BatchNorm2d",
  "torch.nn.modules.activation.SiLU",
  "torch.nn.modules.pooling.MaxPool2d",
  "torch.nn.modules.upsampling.Upsample",
  "torch.nn.modules.container.Sequential",
  "torch.nn.modules.container.ModuleList",
] as const;

/** A damaged or unsupported checkpoint. */
export class CheckpointError extends Error {
  override name = "CheckpointError";
}

/** A storage of the archive: its bytes are read (and CRC-checked) on first use. */
export class StorageRef {
  #bytes: Uint8Array | null = null;
  constructor(
    readonly key: string,
    readonly dtype: DType,
    readonly numel: number,
    readonly read: () => Uint8Array,
  ) {}
  get bytes(): Uint8Array {
    if (!this.#bytes) {
      const b = this.read();
      const expected = this.numel * BYTES[this.dtype]!;
      if (b.byteLength < expected) {
        throw new CheckpointError(`storage ${this.key}: expected ${expected} bytes, found ${b.byteLength}`);
      }
      this.#bytes = b;
    }
    return this.#bytes;
  }
}

/** A tensor in the archive: storage, offset, size and strides (in elements), not yet in libtorch. */
export class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly shape: readonly number[],
    readonly stride: readonly number[],
  ) {
    const numel = shape.reduce((a, b) => a * b, 1);
    if (numel > storage.numel) {
      throw new CheckpointError(`tensor of shape [${shape}] has more elements than its storage (${storage.numel})`);
    }
    if (numel > 0) {
      const last = offset + shape.reduce((s, d, i) => s + (d - 1) * stride[i]!, 0);
      if (last >= storage.numel) {
        throw new CheckpointError(
          `tensor of shape [${shape}] at offset ${offset} with strides [${stride}] reaches element ${last} of a storage of ${storage.numel}`,
        );
      }
    }
  }
  get dtype(): DType {
    return this.storage.dtype;
  }
  get numel(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  /** A contiguous copy of the elements' bytes (strides and offset applied). */
  contiguousBytes(): Uint8Array {
    const el = BYTES[this.dtype]!;
    const src = this.storage.bytes;
    const n = this.numel;
    const contiguous = this.shape.every((_, i) => {
      const inner = this.shape.slice(i + 1).reduce((a, b) => a * b, 1);
      return this.shape[i] === 1 || this.stride[i] === inner;
    });
    if (contiguous) return src.subarray(this.offset * el, (this.offset + n) * el);
    const out = new Uint8Array(n * el);
    const idx = new Array<number>(this.shape.length).fill(0);
    for (let k = 0; k < n; k++) {
      let at = this.offset;
      for (let d = 0; d < idx.length; d++) at += idx[d]! * this.stride[d]!;
      out.set(src.subarray(at * el, at * el + el), k * el);
      for (let d = idx.length - 1; d >= 0; d--) {
        if (++idx[d]! < this.shape[d]!) break;
        idx[d] = 0;
      }
    }
    return out;
  }

  /**
   * Copies the tensor into libtorch.
   * @param options.float32 convert float16 to float32. @default true
   */
  toTensor(options: { float32?: boolean } = {}): Tensor {
    const t = tensorFromBytes(this.contiguousBytes(), this.shape, this.dtype);
    if (this.dtype !== "float16" || options.float32 === false) return t;
    const f = t.to("float32");
    t.dispose();
    return f;
  }
}

/** A numpy dtype (only what a checkpoint's scalars and arrays need). */
class NpDType implements Settable {
  byteOrder = "<";
  constructor(readonly descr: string) {}
  setState(state: unknown): void {
    if (Array.isArray(state) && typeof state[1] === "string") this.byteOrder = state[1];
  }
  /** Decodes little-endian bytes to numbers. */
  decode(bytes: Uint8Array): number[] {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const little = this.byteOrder !== ">";
    const reader: Record<string, [number, (at: number) => number]> = {
      f8: [8, (at) => view.getFloat64(at, little)],
      f4: [4, (at) => view.getFloat32(at, little)],
      i8: [8, (at) => Number(view.getBigInt64(at, little))],
      i4: [4, (at) => view.getInt32(at, little)],
      u1: [1, (at) => view.getUint8(at)],
      b1: [1, (at) => view.getUint8(at)],
    };
    const r = reader[this.descr];
    if (!r) throw new Error(`numpy dtype ${this.descr} is not supported`);
    const [size, get] = r;
    if (bytes.byteLength % size) throw new Error(`${bytes.byteLength} bytes is not a whole number of ${this.descr}`);
    return Array.from({ length: bytes.byteLength / size }, (_, i) => get(i * size));
  }
}

/** A numpy array, as numbers (e.g. YOLOv5's `best_fitness`). */
export class NdArray implements Settable {
  shape: number[] = [];
  values: number[] = [];
  setState(state: unknown): void {
    if (!Array.isArray(state) || state.length !== 5) throw new Error("numpy array state must be a 5-tuple");
    const [, shape, dtype, , raw] = state as [unknown, unknown, unknown, unknown, unknown];
    if (!(dtype instanceof NpDType)) throw new Error(`numpy array dtype is a ${describe(dtype)}`);
    if (!(raw instanceof Uint8Array)) throw new Error("numpy object arrays are not supported");
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new Error("numpy array shape must be a tuple of sizes");
    }
    this.shape = shape as number[];
    this.values = dtype.decode(raw);
    if (this.values.length !== this.shape.reduce((a, b) => a * b, 1)) {
      throw new Error(`numpy array of shape [${this.shape}] holds ${this.values.length} values`);
    }
  }
}

const isInt = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v >= 0;
const isIntList = (v: unknown): v is number[] => Array.isArray(v) && v.every(isInt);

function pairsToMap(args: unknown[]): Map<unknown, unknown> {
  const m = new Map<unknown, unknown>();
  const items = args[0];
  if (items === undefined) return m;
  if (items instanceof Map) return new Map(items);
  if (!Array.isArray(items)) throw new Error("OrderedDict expects a list of pairs");
  for (const p of items) {
    if (!Array.isArray(p) || p.length !== 2) throw new Error("OrderedDict expects (key, value) pairs");
    m.set(p[0], p[1]);
  }
  return m;
}

/** The allow-list of design.md §7.5, with the JS meaning of each callable. */
export function checkpointGlobals(): Map<string, GlobalHandler> {
  const g = new Map<string, GlobalHandler>();
  const call = (name: string, fn: (args: unknown[]) => unknown) => g.set(name, { kind: "call", call: fn });
  call("collections.OrderedDict", pairsToMap);
  const makeSet = (args: unknown[]) => {
    if (args.length > 0 && !Array.isArray(args[0])) throw new Error("set expects a list");
    return new Set((args[0] as unknown[] | undefined) ?? []);
  };
  call("__builtin__.set", makeSet);
  call("builtins.set", makeSet);
  call("_codecs.encode", ([text, encoding]) => {
    if (typeof text !== "string" || (encoding !== "latin1" && encoding !== "latin-1")) {
      throw new Error("_codecs.encode expects (str, 'latin1')");
    }
    const out = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c > 0xff) throw new Error("latin1 text holds a character above 255");
      out[i] = c;
    }
    return out;
  });
  call("numpy.core.multiarray._reconstruct", () => new NdArray());
  call("numpy.dtype", ([descr]) => {
    if (typeof descr !== "string") throw new Error("numpy.dtype expects a type code");
    return new NpDType(descr);
  });
  call("numpy.core.multiarray.scalar", ([dtype, raw]) => {
    if (!(dtype instanceof NpDType) || !(raw instanceof Uint8Array)) throw new Error("scalar expects (dtype, bytes)");
    const v = dtype.decode(raw);
    if (v.length !== 1) throw new Error("a numpy scalar holds one value");
    return v[0];
  });
  g.set("numpy.ndarray", { kind: "value" });
  call("torch._utils._rebuild_tensor_v2", ([storage, offset, size, stride]) => {
    if (!(storage instanceof StorageRef)) throw new Error(`expected a storage, found a ${describe(storage)}`);
    if (!isInt(offset) || !isIntList(size) || !isIntList(stride) || size.length !== stride.length) {
      throw new Error("expected (storage, offset, size, stride, …) with integer sizes and strides");
    }
    return new TensorRef(storage, offset, size, stride);
  });
  call("torch._utils._rebuild_parameter", ([data]) => {
    if (!(data instanceof TensorRef)) throw new Error(`expected a tensor, found a ${describe(data)}`);
    return data;
  });
  for (const name of Object.keys(STORAGE_DTYPES)) g.set(name, { kind: "value" });
  for (const name of MODULE_CLASSES) g.set(name, { kind: "object" });
  return g;
}

/** The decoded contents of a checkpoint. */
export interface TorchArchive {
  /** The unpickled top-level value. */
  root: unknown;
  /** Source file name (for messages). */
  source: string;
}

/** Legacy (pre-1.6) torch.save files start with a pickled magic number, not a zip signature. */
const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];

/** Reads a `.pt`/`.pth` zip checkpoint from bytes. Executes nothing; refuses anything off the allow-list. */
export function parseTorchArchive(bytes: Uint8Array, source = "<checkpoint>"): TorchArchive {
  if (bytes.byteLength < 4 || !ZIP_MAGIC.every((b, i) => bytes[i] === b)) {
    throw new CheckpointError(
      `${source}: not a PyTorch zip checkpoint (files saved by PyTorch < 1.6 are not supported: re-save them with torch.save in a newer PyTorch)`,
    );
  }
  const zip = new ZipReader(bytes, source);
  const pkl = zip.names().find((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (!pkl) {
    const hint = zip.names().some((n) => n.endsWith("constants.pkl")) ? " (a TorchScript archive?)" : "";
    throw new CheckpointError(`${source}: no <archive>/data.pkl entry${hint}`);
  }
  const prefix = pkl.slice(0, -"data.pkl".length);
  const storages = new Map<string, StorageRef>();
  const persistentLoad = (pid: unknown): StorageRef => {
    if (!Array.isArray(pid) || pid.length !== 5 || pid[0] !== "storage") {
      throw new Error("expected ('storage', type, key, location, numel)");
    }
    const [, type, key, , numel] = pid as [string, unknown, unknown, unknown, unknown];
    const typeName = (type as { qualifiedName?: string } | null)?.qualifiedName ?? describe(type);
    const dtype = STORAGE_DTYPES[typeName];
    if (!dtype) throw new Error(`storage type ${typeName} is not supported`);
    if (typeof key !== "string" || !/^[0-9A-Za-z_]+$/.test(key)) throw new Error("storage key must be a name");
    if (!isInt(numel)) throw new Error("storage size must be a non-negative integer");
    const known = storages.get(key);
    if (known) {
      if (known.dtype !== dtype || known.numel !== numel) throw new Error(`storage ${key} is declared twice`);
      return known;
    }
    const entry = `${prefix}data/${key}`;
    if (!zip.has(entry)) throw new Error(`storage ${key} has no entry ${entry}`);
    const ref = new StorageRef(key, dtype, numel, () => zip.read(entry));
    storages.set(key, ref);
    return ref;
  };
  const root = unpickle(zip.read(pkl), { source: `${source}:${pkl}`, globals: checkpointGlobals(), persistentLoad });
  return { root, source };
}

/** Reads a `.pt`/`.pth` zip checkpoint file. */
export function readTorchArchive(path: string): TorchArchive {
  return parseTorchArchive(readWeightsFile(path, "checkpoint"), path);
}

/**
 * The state dict of a module object (its `_parameters`, persistent `_buffers` and `_modules`, recursively), with
 * PyTorch's key names. Entries that are None are skipped.
 */
export function moduleStateDict(module: PyObject, prefix = ""): Map<string, TensorRef> {
  const out = new Map<string, TensorRef>();
  const dictOf = (key: string): Map<unknown, unknown> => {
    const d = module.get(key);
    if (d === undefined || d === null) return new Map();
    if (!(d instanceof Map)) throw new CheckpointError(`${module.className}.${key} is a ${describe(d)}, not a dict`);
    return d as Map<unknown, unknown>;
  };
  const nonPersistent = module.get("_non_persistent_buffers_set");
  const skip = nonPersistent instanceof Set ? nonPersistent : new Set();
  for (const field of ["_parameters", "_buffers"]) {
    for (const [name, t] of dictOf(field)) {
      if (t === null || (field === "_buffers" && skip.has(name))) continue;
      if (!(t instanceof TensorRef)) {
        throw new CheckpointError(`${prefix}${String(name)} in ${module.className}.${field} is a ${describe(t)}`);
      }
      out.set(`${prefix}${String(name)}`, t);
    }
  }
  for (const [name, child] of dictOf("_modules")) {
    if (child === null) continue;
    if (!(child instanceof PyObject)) {
      throw new CheckpointError(`${prefix}${String(name)} in ${module.className}._modules is a ${describe(child)}`);
    }
    for (const [k, v] of moduleStateDict(child, `${prefix}${String(name)}.`)) out.set(k, v);
  }
  return out;
}

/** Copies tensor references into libtorch (float16 → float32), all finite. Frees what was made if one fails. */
export function materialise(refs: ReadonlyMap<string, TensorRef>, source: string): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  try {
    for (const [k, r] of refs) out.set(k, r.toTensor());
    const bad = firstNonFinite(out);
    if (bad !== null) throw new CheckpointError(`tensor "${bad}" holds NaN or infinite values`);
  } catch (err) {
    for (const t of out.values()) t.dispose();
    if (err instanceof CheckpointError || err instanceof PickleError || err instanceof ZipError) {
      throw new CheckpointError(`${source}: ${err.message}`);
    }
    throw err;
  }
  return out;
}
