/**
 * The typed face of the libtorch addon: an n-dimensional array on a device, with autograd.
 * Every method returns a new tensor (no in-place ops in the public API; parameter updates go through the no-grad
 * native calls in inplace.ts). Free tensors with dispose(), or create them inside tidy().
 */
import {
  type AnyTypedArray,
  type DType,
  dtypeOfTypedArray,
  type TypedArrayOf,
  typedArrayFromBuffer,
  typedArrayFromNumbers,
} from "./dtype.js";
import { type Handle, native } from "./native.js";
import { type Disposable, setDisposableCheck, track, untrack } from "./scope.js";

/** A device name: "cpu", "cuda" or "cuda:N". */
export type Device = string;

/** Where and as what a new tensor is created. */
export interface TensorOptions {
  /** @default "float32" (or the typed array's own type) */
  dtype?: DType;
  /** @default "cpu" */
  device?: Device;
  /** Make it a leaf that accumulates gradients. @default false */
  requiresGrad?: boolean;
}

/** A tensor or a number (a Python-style scalar: lower priority in type promotion). */
export type TensorLike = Tensor | number | boolean;

function h(x: TensorLike): Handle | number | boolean {
  return x instanceof Tensor ? x.handle : x;
}

function dimList(dims: number | number[] | undefined): number[] | undefined {
  return dims === undefined ? undefined : Array.isArray(dims) ? dims : [dims];
}

export class Tensor implements Disposable {
  /** The native handle; pass it only to the addon. */
  readonly handle: Handle;
  #shape: number[] | undefined;
  #kept = false;

  /** Wraps a native handle (owned from now on by this object). Library code uses the factory functions instead. */
  constructor(handle: Handle) {
    this.handle = handle;
    track(this);
  }

  // ---- metadata ----------------------------------------------------------------------------------------------------
  get shape(): readonly number[] {
    if (this.#shape === undefined) this.#shape = native.shape(this.handle);
    return this.#shape;
  }
  get ndim(): number {
    return this.shape.length;
  }
  get numel(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
  get dtype(): DType {
    return native.dtype(this.handle) as DType;
  }
  get device(): Device {
    return native.device(this.handle);
  }
  /** Size of dimension `dim` (negative counts from the end). */
  size(dim: number): number {
    const s = this.shape[dim < 0 ? this.ndim + dim : dim];
    if (s === undefined) throw new RangeError(`dimension ${dim} out of range for a ${this.ndim}-d tensor`);
    return s;
  }

  // ---- lifetime ----------------------------------------------------------------------------------------------------
  /** Frees the native tensor now. Using it afterwards throws. Idempotent. */
  dispose(): void {
    native.dispose(this.handle);
  }
  get isDisposed(): boolean {
    return native.isDisposed(this.handle);
  }
  /** Exempts this tensor from every tidy() scope: the caller disposes it. Returns this. */
  keep(): this {
    this.#kept = true;
    untrack(this);
    return this;
  }
  get isKept(): boolean {
    return this.#kept;
  }

  // ---- conversion --------------------------------------------------------------------------------------------------
  /** A copy of the elements as the dtype's typed array (row-major). */
  toTypedArray<D extends DType = DType>(): TypedArrayOf[D] {
    return typedArrayFromBuffer(this.dtype, native.toBuffer(this.handle)) as TypedArrayOf[D];
  }
  /** A copy of the elements as plain numbers (row-major; int64 beyond 2^53 loses precision; bool as 0/1). */
  toArray(): number[] {
    const data =
      this.dtype === "float16" || this.dtype === "bfloat16" ? this.to("float32").#take() : this.toTypedArray();
    return Array.from(data as ArrayLike<number | bigint>, Number);
  }
  #take(): AnyTypedArray {
    try {
      return this.toTypedArray();
    } finally {
      this.dispose();
    }
  }
  /** The value of a one-element tensor. */
  item(): number {
    return Number(native.item(this.handle));
  }
  /** Converts to another dtype and/or device (a new tensor even when nothing changes). */
  to(dtypeOrDevice: DType | Device, device?: Device): Tensor {
    const isDtype = (s: string) => !s.startsWith("cpu") && !s.startsWith("cuda");
    if (device !== undefined) return new Tensor(native.to(this.handle, dtypeOrDevice, device));
    return isDtype(dtypeOrDevice)
      ? new Tensor(native.to(this.handle, dtypeOrDevice, null))
      : new Tensor(native.to(this.handle, null, dtypeOrDevice));
  }
  float(): Tensor {
    return this.to("float32");
  }
  long(): Tensor {
    return this.to("int64");
  }
  bool(): Tensor {
    return this.to("bool");
  }

  // ---- elementwise -------------------------------------------------------------------------------------------------
  add(other: TensorLike, alpha?: number): Tensor {
    return new Tensor(native.add(this.handle, h(other), alpha));
  }
  sub(other: TensorLike, alpha?: number): Tensor {
    return new Tensor(native.sub(this.handle, h(other), alpha));
  }
  /** other − this (for "1 − x"). */
  rsub(other: TensorLike): Tensor {
    return new Tensor(native.rsub(this.handle, h(other)));
  }
  mul(other: TensorLike): Tensor {
    return new Tensor(native.mul(this.handle, h(other)));
  }
  div(other: TensorLike): Tensor {
    return new Tensor(native.div(this.handle, h(other)));
  }
  pow(exponent: TensorLike): Tensor {
    return new Tensor(native.pow(this.handle, h(exponent)));
  }
  atan2(other: TensorLike): Tensor {
    return new Tensor(native.atan2(this.handle, h(other)));
  }
  maximum(other: TensorLike): Tensor {
    return new Tensor(native.maximum(this.handle, h(other)));
  }
  minimum(other: TensorLike): Tensor {
    return new Tensor(native.minimum(this.handle, h(other)));
  }
  remainder(other: TensorLike): Tensor {
    return new Tensor(native.remainder(this.handle, h(other)));
  }
  floorDivide(other: TensorLike): Tensor {
    return new Tensor(native.floorDivide(this.handle, h(other)));
  }
  neg(): Tensor {
    return new Tensor(native.neg(this.handle));
  }
  exp(): Tensor {
    return new Tensor(native.exp(this.handle));
  }
  log(): Tensor {
    return new Tensor(native.log(this.handle));
  }
  sqrt(): Tensor {
    return new Tensor(native.sqrt(this.handle));
  }
  atan(): Tensor {
    return new Tensor(native.atan(this.handle));
  }
  abs(): Tensor {
    return new Tensor(native.abs(this.handle));
  }
  sign(): Tensor {
    return new Tensor(native.sign(this.handle));
  }
  floor(): Tensor {
    return new Tensor(native.floor(this.handle));
  }
  ceil(): Tensor {
    return new Tensor(native.ceil(this.handle));
  }
  round(): Tensor {
    return new Tensor(native.round(this.handle));
  }
  trunc(): Tensor {
    return new Tensor(native.trunc(this.handle));
  }
  reciprocal(): Tensor {
    return new Tensor(native.reciprocal(this.handle));
  }
  /** Clamps to [min, max]; either bound may be omitted (null/undefined). */
  clamp(min?: number | null, max?: number | null): Tensor {
    return new Tensor(native.clamp(this.handle, min ?? null, max ?? null));
  }
  sigmoid(): Tensor {
    return new Tensor(native.sigmoid(this.handle));
  }
  silu(): Tensor {
    return new Tensor(native.silu(this.handle));
  }
  relu(): Tensor {
    return new Tensor(native.relu(this.handle));
  }
  tanh(): Tensor {
    return new Tensor(native.tanh(this.handle));
  }
  /** @param negativeSlope @default 0.01 */
  leakyRelu(negativeSlope = 0.01): Tensor {
    return new Tensor(native.leakyRelu(this.handle, negativeSlope));
  }
  softmax(dim: number): Tensor {
    return new Tensor(native.softmax(this.handle, dim));
  }
  logSoftmax(dim: number): Tensor {
    return new Tensor(native.logSoftmax(this.handle, dim));
  }

  // ---- comparisons and logic (bool results) ------------------------------------------------------------------------
  eq(other: TensorLike): Tensor {
    return new Tensor(native.eq(this.handle, h(other)));
  }
  ne(other: TensorLike): Tensor {
    return new Tensor(native.ne(this.handle, h(other)));
  }
  lt(other: TensorLike): Tensor {
    return new Tensor(native.lt(this.handle, h(other)));
  }
  le(other: TensorLike): Tensor {
    return new Tensor(native.le(this.handle, h(other)));
  }
  gt(other: TensorLike): Tensor {
    return new Tensor(native.gt(this.handle, h(other)));
  }
  ge(other: TensorLike): Tensor {
    return new Tensor(native.ge(this.handle, h(other)));
  }
  logicalAnd(other: TensorLike): Tensor {
    return new Tensor(native.logicalAnd(this.handle, h(other)));
  }
  logicalOr(other: TensorLike): Tensor {
    return new Tensor(native.logicalOr(this.handle, h(other)));
  }
  logicalXor(other: TensorLike): Tensor {
    return new Tensor(native.logicalXor(this.handle, h(other)));
  }
  logicalNot(): Tensor {
    return new Tensor(native.logicalNot(this.handle));
  }
  isfinite(): Tensor {
    return new Tensor(native.isfinite(this.handle));
  }
  isnan(): Tensor {
    return new Tensor(native.isnan(this.handle));
  }
  /** Where `mask` is true, `value`; elsewhere this. */
  maskedFill(mask: Tensor, value: TensorLike): Tensor {
    return new Tensor(native.maskedFill(this.handle, mask.handle, h(value)));
  }

  // ---- reductions --------------------------------------------------------------------------------------------------
  /** Sum over `dims` (all elements when omitted). */
  sum(dims?: number | number[], keepdim = false, dtype?: DType): Tensor {
    return new Tensor(native.sum(this.handle, dimList(dims) ?? null, keepdim, dtype ?? null));
  }
  mean(dims?: number | number[], keepdim = false): Tensor {
    return new Tensor(native.mean(this.handle, dimList(dims) ?? null, keepdim));
  }
  prod(dim?: number, keepdim = false): Tensor {
    return new Tensor(native.prod(this.handle, dim ?? null, keepdim));
  }
  /** The largest element (a 0-d tensor). For values and indices along a dimension use maxDim(). */
  max(): Tensor {
    return new Tensor(native.max(this.handle));
  }
  /** Largest values along `dim` and their indices. */
  maxDim(dim: number, keepdim = false): [Tensor, Tensor] {
    const [v, i] = native.max(this.handle, dim, keepdim);
    return [new Tensor(v), new Tensor(i)];
  }
  min(): Tensor {
    return new Tensor(native.min(this.handle));
  }
  minDim(dim: number, keepdim = false): [Tensor, Tensor] {
    const [v, i] = native.min(this.handle, dim, keepdim);
    return [new Tensor(v), new Tensor(i)];
  }
  amax(dims?: number | number[], keepdim = false): Tensor {
    return new Tensor(native.amax(this.handle, dimList(dims) ?? [], keepdim));
  }
  amin(dims?: number | number[], keepdim = false): Tensor {
    return new Tensor(native.amin(this.handle, dimList(dims) ?? [], keepdim));
  }
  argmax(dim?: number, keepdim = false): Tensor {
    return new Tensor(native.argmax(this.handle, dim ?? null, keepdim));
  }
  argmin(dim?: number, keepdim = false): Tensor {
    return new Tensor(native.argmin(this.handle, dim ?? null, keepdim));
  }
  any(dim?: number, keepdim = false): Tensor {
    return new Tensor(native.any(this.handle, dim ?? null, keepdim));
  }
  all(dim?: number, keepdim = false): Tensor {
    return new Tensor(native.all(this.handle, dim ?? null, keepdim));
  }
  cumsum(dim: number): Tensor {
    return new Tensor(native.cumsum(this.handle, dim));
  }

  // ---- shape -------------------------------------------------------------------------------------------------------
  reshape(...shape: number[]): Tensor {
    return new Tensor(native.reshape(this.handle, shape));
  }
  view(...shape: number[]): Tensor {
    return new Tensor(native.view(this.handle, shape));
  }
  permute(...dims: number[]): Tensor {
    return new Tensor(native.permute(this.handle, dims));
  }
  transpose(dim0: number, dim1: number): Tensor {
    return new Tensor(native.transpose(this.handle, dim0, dim1));
  }
  contiguous(): Tensor {
    return new Tensor(native.contiguous(this.handle));
  }
  /**
   * The same values with a 4-d tensor's channels stored last in memory (NHWC strides; the shape stays [N, C, H, W]).
   * Convolutions and pooling of such an input run oneDNN's NHWC kernels and return the same layout: on the CPU a
   * YOLOv5 forward and the attribute head run 1.4–2× faster (BENCHMARKS.md, issue 27). Readers see the same values.
   */
  channelsLast(): Tensor {
    return new Tensor(native.channelsLast(this.handle));
  }
  expand(...shape: number[]): Tensor {
    return new Tensor(native.expand(this.handle, shape));
  }
  repeat(...repeats: number[]): Tensor {
    return new Tensor(native.repeat(this.handle, repeats));
  }
  squeeze(dim?: number): Tensor {
    return new Tensor(native.squeeze(this.handle, dim ?? null));
  }
  unsqueeze(dim: number): Tensor {
    return new Tensor(native.unsqueeze(this.handle, dim));
  }
  flatten(startDim = 0, endDim = -1): Tensor {
    return new Tensor(native.flatten(this.handle, startDim, endDim));
  }
  flip(...dims: number[]): Tensor {
    return new Tensor(native.flip(this.handle, dims));
  }
  clone(): Tensor {
    return new Tensor(native.clone(this.handle));
  }
  /** The same data, cut from the autograd graph. */
  detach(): Tensor {
    return new Tensor(native.detach(this.handle));
  }
  /** x[..., start:end:step, ...] on dimension `dim` (a view). */
  slice(dim: number, start?: number | null, end?: number | null, step = 1): Tensor {
    return new Tensor(native.slice(this.handle, dim, start ?? null, end ?? null, step));
  }
  /** x[..., index, ...] on dimension `dim` (drops the dimension). */
  select(dim: number, index: number): Tensor {
    return new Tensor(native.select(this.handle, dim, index));
  }
  narrow(dim: number, start: number, length: number): Tensor {
    return new Tensor(native.narrow(this.handle, dim, start, length));
  }
  indexSelect(dim: number, index: Tensor): Tensor {
    return new Tensor(native.indexSelect(this.handle, dim, index.handle));
  }
  gather(dim: number, index: Tensor): Tensor {
    return new Tensor(native.gather(this.handle, dim, index.handle));
  }
  /** Advanced indexing x[i0, i1, ...]: integer or boolean tensors; null keeps a dimension whole. */
  index(...indices: Array<Tensor | null>): Tensor {
    return new Tensor(
      native.index(
        this.handle,
        indices.map((t) => (t === null ? null : t.handle)),
      ),
    );
  }
  /** The slices along `dim` (each drops the dimension), as torch.unbind. */
  unbind(dim = 0): Tensor[] {
    return Array.from({ length: this.size(dim) }, (_, i) => this.select(dim, i));
  }
  /** Indices of non-zero elements, [n, ndim] int64. */
  nonzero(): Tensor {
    return new Tensor(native.nonzero(this.handle));
  }
  /** Splits along `dim` into pieces of `size` (last may be smaller) or of the given sizes. */
  split(sizeOrSizes: number | number[], dim = 0): Tensor[] {
    return native.split(this.handle, sizeOrSizes, dim).map((x) => new Tensor(x));
  }
  chunk(chunks: number, dim = 0): Tensor[] {
    return native.chunk(this.handle, chunks, dim).map((x) => new Tensor(x));
  }
  matmul(other: Tensor): Tensor {
    return new Tensor(native.matmul(this.handle, other.handle));
  }

  /** The k largest (or smallest) elements along `dim` and their indices. */
  topk(k: number, dim = -1, largest = true, sorted = true): [Tensor, Tensor] {
    const [v, i] = native.topk(this.handle, k, dim, largest, sorted);
    return [new Tensor(v), new Tensor(i)];
  }
  /** Sorted values along `dim` and the permutation indices. */
  sort(dim = -1, descending = false, stable = false): [Tensor, Tensor] {
    const [v, i] = native.sort(this.handle, dim, descending, stable);
    return [new Tensor(v), new Tensor(i)];
  }
  argsort(dim = -1, descending = false, stable = false): Tensor {
    const [v, i] = native.sort(this.handle, dim, descending, stable);
    native.dispose(v);
    return new Tensor(i);
  }
  /** Out-of-place scatter: a copy of this with out[index[i][j]][j] = src[i][j] (for dim 0). */
  scatter(dim: number, index: Tensor, src: TensorLike): Tensor {
    return new Tensor(native.scatter(this.handle, dim, index.handle, h(src)));
  }
  scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor {
    return new Tensor(native.scatterAdd(this.handle, dim, index.handle, src.handle));
  }
  /** Out-of-place x[indices] = values (accumulate: +=, summing duplicates). null keeps a dimension whole. */
  indexPut(indices: Array<Tensor | null>, values: TensorLike, accumulate = false): Tensor {
    const idx = indices.map((t) => (t === null ? null : t.handle));
    return new Tensor(native.indexPut(this.handle, idx, h(values), accumulate));
  }
  /** Unique values (sorted), with the inverse indices and counts (empty tensors unless asked for). */
  unique(options: { sorted?: boolean; returnInverse?: boolean; returnCounts?: boolean; dim?: number } = {}): {
    values: Tensor;
    inverse: Tensor;
    counts: Tensor;
  } {
    const { sorted = true, returnInverse = false, returnCounts = false, dim } = options;
    const [v, i, c] = native.unique(this.handle, sorted, returnInverse, returnCounts, dim ?? null);
    return { values: new Tensor(v), inverse: new Tensor(i), counts: new Tensor(c) };
  }
  /** Vector norm of order `ord` over `dims` (all elements when omitted). */
  norm(ord = 2, dims?: number | number[], keepdim = false): Tensor {
    return new Tensor(native.norm(this.handle, ord, dimList(dims) ?? null, keepdim));
  }

  // ---- autograd ----------------------------------------------------------------------------------------------------
  get requiresGrad(): boolean {
    return native.requiresGrad(this.handle);
  }
  /** Marks a leaf as requiring gradients (returns this). */
  requiresGrad_(requires = true): this {
    native.setRequiresGrad(this.handle, requires);
    return this;
  }
  get isLeaf(): boolean {
    return native.isLeaf(this.handle);
  }
  /** The accumulated gradient (a new handle sharing its storage; dispose it when done), or null. */
  get grad(): Tensor | null {
    const g = native.grad(this.handle);
    return g === null ? null : new Tensor(g);
  }
  /** Replaces the gradient (null clears it). */
  setGrad(grad: Tensor | null): void {
    native.setGrad(this.handle, grad === null ? null : grad.handle);
  }
  retainGrad(): void {
    native.retainGrad(this.handle);
  }
  /** Backpropagates from this tensor (a scalar, or give `gradient`). */
  backward(gradient?: Tensor | null, options: { retainGraph?: boolean } = {}): void {
    native.backward(this.handle, gradient?.handle ?? null, options.retainGraph ?? false);
  }

  toString(): string {
    return this.isDisposed
      ? "Tensor(disposed)"
      : `Tensor(shape=[${this.shape}], dtype=${this.dtype}, device=${this.device})`;
  }
}

setDisposableCheck((v): v is Tensor => v instanceof Tensor);

// ---- factories -------------------------------------------------------------------------------------------------------

function flatten(data: unknown, out: Array<number | boolean>, shape: number[], depth: number): void {
  if (Array.isArray(data)) {
    if (shape.length === depth) shape.push(data.length);
    else if (shape[depth] !== data.length) throw new TypeError(`ragged nested array at depth ${depth}`);
    for (const d of data) flatten(d, out, shape, depth + 1);
  } else {
    if (shape.length !== depth) throw new TypeError(`ragged nested array at depth ${depth}`);
    out.push(data as number | boolean);
  }
}

function finish(t: Tensor, options: TensorOptions): Tensor {
  if (options.requiresGrad) t.requiresGrad_(true);
  return t;
}

/**
 * Creates a tensor from numbers (nested arrays give the shape) or a typed array (with `shape`; 1-d when omitted).
 * The data is copied. dtype defaults to float32 for numbers and to the typed array's own type otherwise.
 */
export function tensor(
  data: number | boolean | unknown[] | ArrayBufferView,
  shape?: readonly number[],
  options: TensorOptions = {},
): Tensor {
  const device = options.device ?? "cpu";
  if (ArrayBuffer.isView(data)) {
    const natural =
      options.dtype === "float16" || options.dtype === "bfloat16" ? options.dtype : dtypeOfTypedArray(data);
    const elements = data.byteLength / (data as AnyTypedArray).BYTES_PER_ELEMENT;
    const raw = new Tensor(native.fromBuffer(data, [...(shape ?? [elements])], natural, device));
    if (options.dtype === undefined || options.dtype === natural) return finish(raw, options);
    const converted = raw.to(options.dtype);
    raw.dispose();
    return finish(converted, options);
  }
  const flat: Array<number | boolean> = [];
  const inferred: number[] = [];
  flatten(data, flat, inferred, 0);
  const dtype = options.dtype ?? "float32";
  if (dtype === "float16" || dtype === "bfloat16") {
    const f32 = tensor(data, shape, { dtype: "float32", device });
    const converted = f32.to(dtype);
    f32.dispose();
    return finish(converted, options);
  }
  const typed = typedArrayFromNumbers(dtype, flat);
  return finish(new Tensor(native.fromBuffer(typed, [...(shape ?? inferred)], dtype, device)), options);
}

/**
 * Creates a tensor from raw little-endian bytes holding `shape`'s elements of `dtype` in C order (what a file format
 * such as safetensors or a PyTorch archive stores). The bytes are copied; the tensor never aliases JS memory.
 */
export function tensorFromBytes(
  bytes: Uint8Array,
  shape: readonly number[],
  dtype: DType,
  options: Pick<TensorOptions, "device"> = {},
): Tensor {
  return new Tensor(native.fromBuffer(bytes, [...shape], dtype, options.device));
}

export function zeros(shape: readonly number[], options: TensorOptions = {}): Tensor {
  return finish(new Tensor(native.zeros([...shape], options.dtype ?? "float32", options.device)), options);
}

export function ones(shape: readonly number[], options: TensorOptions = {}): Tensor {
  return finish(new Tensor(native.ones([...shape], options.dtype ?? "float32", options.device)), options);
}

export function full(shape: readonly number[], value: number | boolean, options: TensorOptions = {}): Tensor {
  return finish(new Tensor(native.full([...shape], value, options.dtype ?? "float32", options.device)), options);
}

export function empty(shape: readonly number[], options: TensorOptions = {}): Tensor {
  return finish(new Tensor(native.empty([...shape], options.dtype ?? "float32", options.device)), options);
}

/** [start, end) by step. dtype defaults to int64 when all arguments are integers, else float32 (as torch.arange). */
export function arange(start: number, end?: number, step = 1, options: TensorOptions = {}): Tensor {
  const [lo, hi] = end === undefined ? [0, start] : [start, end];
  const integral = [lo, hi, step].every(Number.isInteger);
  const dtype = options.dtype ?? (integral ? "int64" : "float32");
  return finish(new Tensor(native.arange(lo, hi, step, dtype, options.device)), options);
}

export function linspace(start: number, end: number, steps: number, options: TensorOptions = {}): Tensor {
  return finish(new Tensor(native.linspace(start, end, steps, options.dtype ?? "float32", options.device)), options);
}

export function zerosLike(x: Tensor, options: TensorOptions = {}): Tensor {
  return zeros(x.shape, { dtype: x.dtype, device: x.device, ...options });
}

export function onesLike(x: Tensor, options: TensorOptions = {}): Tensor {
  return ones(x.shape, { dtype: x.dtype, device: x.device, ...options });
}

export function fullLike(x: Tensor, value: number | boolean, options: TensorOptions = {}): Tensor {
  return full(x.shape, value, { dtype: x.dtype, device: x.device, ...options });
}

/** Concatenates along an existing dimension. */
export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  return new Tensor(
    native.cat(
      tensors.map((t) => t.handle),
      dim,
    ),
  );
}

/** Stacks along a new dimension. */
export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  return new Tensor(
    native.stack(
      tensors.map((t) => t.handle),
      dim,
    ),
  );
}

/** Elementwise choice: `a` where `condition`, else `b`. */
export function where(condition: Tensor, a: TensorLike, b: TensorLike): Tensor {
  return new Tensor(native.where(condition.handle, h(a), h(b)));
}

/** Coordinate grids from 1-d tensors ("ij": matrix indexing, as torch.meshgrid(indexing="ij")). */
export function meshgrid(tensors: readonly Tensor[], indexing: "ij" | "xy" = "ij"): Tensor[] {
  return native
    .meshgrid(
      tensors.map((t) => t.handle),
      indexing,
    )
    .map((x) => new Tensor(x));
}
