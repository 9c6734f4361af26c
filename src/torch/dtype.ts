/** Tensor element types, named as in PyTorch (torch.float32 → "float32"). */
export const DTYPES = [
  "float32",
  "float64",
  "float16",
  "bfloat16",
  "int64",
  "int32",
  "int16",
  "int8",
  "uint8",
  "bool",
] as const;
export type DType = (typeof DTYPES)[number];

/** The typed array that holds a dtype's elements (float16/bfloat16 as raw 16-bit patterns, bool as 0/1 bytes). */
export interface TypedArrayOf {
  float32: Float32Array;
  float64: Float64Array;
  float16: Uint16Array;
  bfloat16: Uint16Array;
  int64: BigInt64Array;
  int32: Int32Array;
  int16: Int16Array;
  int8: Int8Array;
  uint8: Uint8Array;
  bool: Uint8Array;
}

export type AnyTypedArray = TypedArrayOf[DType];

type TypedArrayCtor = { new (buffer: ArrayBuffer): AnyTypedArray; BYTES_PER_ELEMENT: number };

const CTORS: Record<DType, TypedArrayCtor> = {
  float32: Float32Array,
  float64: Float64Array,
  float16: Uint16Array,
  bfloat16: Uint16Array,
  int64: BigInt64Array,
  int32: Int32Array,
  int16: Int16Array,
  int8: Int8Array,
  uint8: Uint8Array,
  bool: Uint8Array,
};

/** Views `buffer` as the typed array of `dtype`. */
export function typedArrayFromBuffer<D extends DType>(dtype: D, buffer: ArrayBuffer): TypedArrayOf[D] {
  return new CTORS[dtype](buffer) as TypedArrayOf[D];
}

/** Bytes per element of `dtype`. */
export function elementSize(dtype: DType): number {
  return CTORS[dtype].BYTES_PER_ELEMENT;
}

/** The dtype a typed array holds by nature (Uint16Array is ambiguous: float16 must be asked for explicitly). */
export function dtypeOfTypedArray(data: ArrayBufferView): DType {
  if (data instanceof Float32Array) return "float32";
  if (data instanceof Float64Array) return "float64";
  if (data instanceof BigInt64Array) return "int64";
  if (data instanceof Int32Array) return "int32";
  if (data instanceof Int16Array) return "int16";
  if (data instanceof Int8Array) return "int8";
  if (data instanceof Uint8Array || data instanceof Uint8ClampedArray) return "uint8";
  throw new TypeError(`cannot infer a dtype from ${data.constructor.name}; pass { dtype } explicitly`);
}

/** Converts plain numbers to the typed array of `dtype` (values rounded toward zero for integer types, as torch does). */
export function typedArrayFromNumbers(dtype: DType, values: ArrayLike<number | boolean>): AnyTypedArray {
  const n = values.length;
  switch (dtype) {
    case "int64": {
      const out = new BigInt64Array(n);
      for (let i = 0; i < n; i++) out[i] = BigInt(Math.trunc(Number(values[i])));
      return out;
    }
    case "float16":
    case "bfloat16":
      throw new TypeError(`${dtype} tensors from numbers: create float32 and convert with .to("${dtype}")`);
    case "bool": {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = values[i] ? 1 : 0;
      return out;
    }
    default: {
      const Ctor = CTORS[dtype] as unknown as { new (n: number): Exclude<AnyTypedArray, BigInt64Array> };
      const out = new Ctor(n);
      for (let i = 0; i < n; i++) out[i] = Number(values[i]);
      return out;
    }
  }
}

export function isFloatingDtype(dtype: DType): boolean {
  return dtype === "float32" || dtype === "float64" || dtype === "float16" || dtype === "bfloat16";
}
