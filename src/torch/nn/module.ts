/**
 * Module / Parameter / Buffer, as in torch.nn: named parameters and buffers in registration order, child modules,
 * state dicts with PyTorch's key names, train/eval, device moves, and explicit disposal.
 */

import { pushAll } from "../../util/arrays.js";
import type { DType } from "../dtype.js";
import { noGrad } from "../grad-mode.js";
import { native } from "../native.js";
import type { Device, Tensor } from "../tensor.js";

/** A named slot holding a tensor that the module owns (kept outside every tidy scope). */
abstract class Slot {
  #data: Tensor;
  constructor(data: Tensor) {
    this.#data = data.keep();
  }
  get data(): Tensor {
    return this.#data;
  }
  /** Replaces the tensor (the old one is disposed unless it is the same). */
  set data(t: Tensor) {
    if (t === this.#data) return;
    this.#data.dispose();
    this.#data = t.keep();
  }
  dispose(): void {
    this.#data.dispose();
  }
}

/** A trainable tensor: a leaf that requires grad. */
export class Parameter extends Slot {
  constructor(
    data: Tensor,
    readonly requiresGrad = true,
  ) {
    super(data);
    if (requiresGrad) data.requiresGrad_(true);
  }
  override set data(t: Tensor) {
    super.data = t;
    if (this.requiresGrad && !t.requiresGrad) t.requiresGrad_(true);
  }
  override get data(): Tensor {
    return super.data;
  }
  /** The gradient (a new handle: dispose it), or null. */
  get grad(): Tensor | null {
    return this.data.grad;
  }
}

/** A non-trainable tensor saved in the state dict (e.g. BatchNorm running statistics). */
export class Buffer extends Slot {}

/** What loadStateDict() found. */
export interface LoadReport {
  /** Keys the module has but the state dict lacks. */
  missing: string[];
  /** Keys the state dict has but the module lacks. */
  unexpected: string[];
  /** Keys present on both sides with different shapes (not loaded). */
  shapeMismatch: Array<{ key: string; expected: readonly number[]; found: readonly number[] }>;
  /**
   * Keys of the right shape but another dtype (not loaded: a copy would convert the values, and a file that calls
   * float32 bytes int32 would load garbage).
   */
  dtypeMismatch: Array<{ key: string; expected: DType; found: DType }>;
  /** Keys loaded. */
  loaded: string[];
}

export interface LoadStateDictOptions {
  /** Throw when anything is missing, unexpected or of another shape. @default true */
  strict?: boolean;
}

export abstract class Module {
  /** Training mode (dropout active, BatchNorm uses batch statistics). */
  training = true;
  readonly #parameters = new Map<string, Parameter | null>();
  readonly #buffers = new Map<string, Buffer | null>();
  readonly #modules = new Map<string, Module>();

  /** Registers a parameter under `name` (null = a declared but absent parameter, e.g. a conv without bias). */
  protected registerParameter<P extends Parameter | null>(name: string, p: P): P {
    this.#checkName(name);
    this.#parameters.set(name, p);
    return p;
  }
  protected registerBuffer<B extends Buffer | null>(name: string, b: B): B {
    this.#checkName(name);
    this.#buffers.set(name, b);
    return b;
  }
  /** Registers a child module; its entries appear as `name.<key>` in the state dict. */
  registerModule<M extends Module>(name: string, m: M): M {
    this.#checkName(name);
    this.#modules.set(name, m);
    return m;
  }
  #checkName(name: string): void {
    if (name === "" || name.includes(".")) throw new Error(`invalid module entry name "${name}"`);
    if (this.#parameters.has(name) || this.#buffers.has(name) || this.#modules.has(name)) {
      throw new Error(`"${name}" is already registered in ${this.constructor.name}`);
    }
  }

  /** Direct children in registration order. */
  children(): Module[] {
    return [...this.#modules.values()];
  }
  namedChildren(): Array<[string, Module]> {
    return [...this.#modules.entries()];
  }
  /** This module and all descendants with dotted names ("" for this one). */
  namedModules(prefix = ""): Array<[string, Module]> {
    const out: Array<[string, Module]> = [[prefix, this]];
    for (const [name, m] of this.#modules) pushAll(out, m.namedModules(prefix ? `${prefix}.${name}` : name));
    return out;
  }
  namedParameters(): Array<[string, Parameter]> {
    const out: Array<[string, Parameter]> = [];
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, p] of m.#parameters) if (p) out.push([prefix ? `${prefix}.${name}` : name, p]);
    }
    return out;
  }
  parameters(): Parameter[] {
    return this.namedParameters().map(([, p]) => p);
  }
  namedBuffers(): Array<[string, Buffer]> {
    const out: Array<[string, Buffer]> = [];
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, b] of m.#buffers) if (b) out.push([prefix ? `${prefix}.${name}` : name, b]);
    }
    return out;
  }
  /** Parameters and buffers of each module, in PyTorch's state-dict order (per module: parameters, then buffers). */
  namedSlots(): Array<[string, Parameter | Buffer]> {
    const out: Array<[string, Parameter | Buffer]> = [];
    for (const [prefix, m] of this.namedModules()) {
      const key = (name: string) => (prefix ? `${prefix}.${name}` : name);
      for (const [name, p] of m.#parameters) if (p) out.push([key(name), p]);
      for (const [name, b] of m.#buffers) if (b) out.push([key(name), b]);
    }
    return out;
  }
  /** Total number of parameter elements. */
  numParameters(): number {
    return this.parameters().reduce((n, p) => n + p.data.numel, 0);
  }

  /** Name → tensor (the module's own tensors, not copies: do not dispose them), in PyTorch's order. */
  stateDict(): Map<string, Tensor> {
    return new Map(this.namedSlots().map(([k, s]) => [k, s.data]));
  }

  /**
   * Copies values from `state` into this module's tensors (dtype and device converted). Non-strict loading skips
   * problems and reports them; strict loading throws naming every missing, unexpected and mismatched key.
   */
  loadStateDict(state: Map<string, Tensor> | Record<string, Tensor>, options: LoadStateDictOptions = {}): LoadReport {
    const entries = state instanceof Map ? state : new Map(Object.entries(state));
    const slots = new Map(this.namedSlots());
    const report: LoadReport = { missing: [], unexpected: [], shapeMismatch: [], dtypeMismatch: [], loaded: [] };
    const dst: Tensor[] = [];
    const src: Tensor[] = [];
    for (const [key, slot] of slots) {
      const t = entries.get(key);
      if (t === undefined) {
        report.missing.push(key);
      } else if (!sameShape(t.shape, slot.data.shape)) {
        report.shapeMismatch.push({ key, expected: slot.data.shape, found: t.shape });
      } else if (t.dtype !== slot.data.dtype) {
        report.dtypeMismatch.push({ key, expected: slot.data.dtype, found: t.dtype });
      } else {
        dst.push(slot.data);
        src.push(t);
        report.loaded.push(key);
      }
    }
    for (const key of entries.keys()) if (!slots.has(key)) report.unexpected.push(key);
    if (
      (options.strict ?? true) &&
      (report.missing.length || report.unexpected.length || report.shapeMismatch.length || report.dtypeMismatch.length)
    ) {
      throw new Error(describeLoadProblems(this.constructor.name, report));
    }
    native.copyAll(
      dst.map((t) => t.handle),
      src.map((t) => t.handle),
    );
    return report;
  }

  /** Sets training mode on this module and all descendants. Returns this. */
  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }
  eval(): this {
    return this.train(false);
  }

  /** Moves every parameter and buffer to `device` (in place: the same Parameter objects, new tensors). */
  to(device: Device): this {
    noGrad(() => {
      for (const [, slot] of this.namedSlots()) {
        if (slot.data.device === device) continue;
        const moved = slot.data.to(device).detach();
        if (slot instanceof Parameter && slot.requiresGrad) moved.requiresGrad_(true);
        slot.data = moved;
      }
    });
    return this;
  }

  /** Frees every parameter and buffer of this module and its descendants. */
  dispose(): void {
    for (const [, slot] of this.namedSlots()) slot.dispose();
  }
}

/** Same number of dimensions and same sizes. */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** A readable multi-line description of a load report's problems. */
export function describeLoadProblems(what: string, report: LoadReport): string {
  const lines = [`cannot load the state dict into ${what}:`];
  if (report.missing.length) lines.push(`  missing keys (${report.missing.length}): ${report.missing.join(", ")}`);
  if (report.unexpected.length)
    lines.push(`  unexpected keys (${report.unexpected.length}): ${report.unexpected.join(", ")}`);
  for (const m of report.shapeMismatch)
    lines.push(`  shape mismatch for ${m.key}: expected [${m.expected}], found [${m.found}]`);
  for (const m of report.dtypeMismatch)
    lines.push(`  dtype mismatch for ${m.key}: expected ${m.expected}, found ${m.found}`);
  return lines.join("\n");
}
