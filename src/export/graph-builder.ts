/**
 * Builds an ONNX graph node by node: unique value names, float32/int64 initializers (constants are deduplicated by
 * content), typed inputs and outputs, and the final ModelProto with opset and metadata.
 */
import {
  type OnnxAttribute,
  OnnxAttributeType,
  OnnxDataType,
  type OnnxDim,
  type OnnxModel,
  type OnnxNode,
  type OnnxTensor,
  type OnnxValueInfo,
  valueInfo,
} from "./onnx-proto.js";

/** Attribute values a node takes: numbers are INT when integral unless listed as floats (see {@link float}). */
export type AttrValue = number | string | readonly number[] | FloatAttr | FloatsAttr;
interface FloatAttr {
  readonly float: number;
}
interface FloatsAttr {
  readonly floats: readonly number[];
}
/** Marks a number attribute as FLOAT (ONNX is typed: `alpha` must be a float even when it is 1). */
export function float(value: number): FloatAttr {
  return { float: value };
}
/** Marks a list attribute as FLOATS. */
export function floats(values: readonly number[]): FloatsAttr {
  return { floats: values };
}

/** The ONNX IR version written (ONNX 1.12's). */
export const ONNX_IR_VERSION = 8;

function encodeAttribute(name: string, value: AttrValue): OnnxAttribute {
  if (typeof value === "string") return { name, type: OnnxAttributeType.STRING, s: new TextEncoder().encode(value) };
  if (typeof value === "number") {
    if (!Number.isInteger(value)) throw new Error(`attribute ${name}: ${value} is not an integer (use float())`);
    return { name, type: OnnxAttributeType.INT, i: value };
  }
  if ("float" in value) return { name, type: OnnxAttributeType.FLOAT, f: value.float };
  if ("floats" in value) return { name, type: OnnxAttributeType.FLOATS, floats: [...value.floats] };
  const ints = value as readonly number[];
  if (!ints.every(Number.isInteger)) throw new Error(`attribute ${name}: [${ints}] are not integers (use floats())`);
  return { name, type: OnnxAttributeType.INTS, ints: [...ints] };
}

function tensorBytes(data: Float32Array | BigInt64Array): Uint8Array {
  // little-endian on every platform Node runs on; ONNX raw_data is little-endian
  return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
}

export class GraphBuilder {
  readonly #nodes: OnnxNode[] = [];
  readonly #initializers: OnnxTensor[] = [];
  readonly #inputs: OnnxValueInfo[] = [];
  readonly #outputs: OnnxValueInfo[] = [];
  readonly #constants = new Map<string, string>();
  readonly #used = new Set<string>();
  #counter = 0;

  constructor(readonly name: string) {}

  /** A fresh value name starting with `hint`. */
  fresh(hint: string): string {
    let name = hint;
    while (this.#used.has(name)) name = `${hint}_${++this.#counter}`;
    this.#used.add(name);
    return name;
  }

  /** Declares a graph input. */
  input(name: string, elemType: OnnxDataType, dims: readonly OnnxDim[], doc?: string): string {
    if (this.#used.has(name)) throw new Error(`graph ${this.name}: value "${name}" already exists`);
    this.#used.add(name);
    this.#inputs.push(valueInfo(name, elemType, dims, doc));
    return name;
  }

  /** Declares `value` as a graph output named `name` (an Identity node renames it when needed). */
  output(value: string, name: string, elemType: OnnxDataType, dims: readonly OnnxDim[], doc?: string): void {
    let out = value;
    if (value !== name) {
      if (this.#used.has(name)) throw new Error(`graph ${this.name}: value "${name}" already exists`);
      this.#used.add(name);
      this.#nodes.push({
        name: `${name}_identity`,
        op_type: "Identity",
        input: [value],
        output: [name],
        attribute: [],
      });
      out = name;
    }
    this.#outputs.push(valueInfo(out, elemType, dims, doc));
  }

  /** A named float32 initializer (weights). */
  weight(hint: string, data: Float32Array, dims: readonly number[]): string {
    const size = dims.reduce((a, b) => a * b, 1);
    if (size !== data.length) throw new Error(`initializer ${hint}: ${data.length} values for dims [${dims}]`);
    const name = this.fresh(hint);
    this.#initializers.push({ name, dims: [...dims], data_type: OnnxDataType.FLOAT, raw_data: tensorBytes(data) });
    return name;
  }

  /** A float32 constant (deduplicated by value and shape). */
  constFloat(values: readonly number[], dims: readonly number[] = [values.length]): string {
    return this.#constant("f", values, dims, () => Float32Array.from(values), OnnxDataType.FLOAT);
  }

  /** An int64 constant (deduplicated by value and shape). */
  constInt(values: readonly number[], dims: readonly number[] = [values.length]): string {
    return this.#constant("i", values, dims, () => BigInt64Array.from(values, (v) => BigInt(v)), OnnxDataType.INT64);
  }

  #constant(
    kind: string,
    values: readonly number[],
    dims: readonly number[],
    data: () => Float32Array | BigInt64Array,
    type: OnnxDataType,
  ): string {
    const key = `${kind}:${dims.join("x")}:${values.join(",")}`;
    const known = this.#constants.get(key);
    if (known) return known;
    const name = this.fresh(`const_${kind}${this.#constants.size}`);
    this.#initializers.push({ name, dims: [...dims], data_type: type, raw_data: tensorBytes(data()) });
    this.#constants.set(key, name);
    return name;
  }

  /** Adds a node with one output; returns the output's name. */
  op(opType: string, inputs: readonly string[], attrs: Record<string, AttrValue> = {}, hint = opType): string {
    return this.opN(opType, inputs, 1, attrs, hint)[0]!;
  }

  /** Adds a node with `outputs` outputs; returns their names. */
  opN(
    opType: string,
    inputs: readonly string[],
    outputs: number,
    attrs: Record<string, AttrValue> = {},
    hint = opType,
  ): string[] {
    const base = this.fresh(hint);
    const names = Array.from({ length: outputs }, (_, i) => (i === 0 ? base : this.fresh(`${base}_${i}`)));
    this.#nodes.push({
      name: base,
      op_type: opType,
      input: [...inputs],
      output: names,
      attribute: Object.entries(attrs).map(([k, v]) => encodeAttribute(k, v)),
    });
    return names;
  }

  /** Number of nodes so far. */
  get nodeCount(): number {
    return this.#nodes.length;
  }

  /** The model: this graph, the default-domain opset, producer and metadata properties. */
  toModel(options: {
    opset: number;
    producerVersion: string;
    doc?: string;
    metadata: Record<string, string>;
  }): OnnxModel {
    return {
      ir_version: ONNX_IR_VERSION,
      opset_import: [{ domain: "", version: options.opset }],
      producer_name: "sladet",
      producer_version: options.producerVersion,
      ...(options.doc === undefined ? {} : { doc_string: options.doc }),
      graph: {
        name: this.name,
        node: this.#nodes,
        initializer: this.#initializers,
        input: this.#inputs,
        output: this.#outputs,
      },
      metadata_props: Object.entries(options.metadata).map(([key, value]) => ({ key, value })),
    };
  }
}
