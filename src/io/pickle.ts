/**
 * A pickle reader that executes nothing. It interprets the opcodes PyTorch checkpoints use (protocol 2) and builds
 * plain JS values; a GLOBAL is resolved only through the caller's allow-list, and anything else (another global, an
 * opcode outside the list) is refused by name. Values: None → null, bool, int → number (bigint beyond 2^53),
 * float → number, str → string, bytes → Uint8Array, list and tuple → arrays, dict → Map, set → Set, an allowed class
 * instance → {@link PyObject} (its `__dict__` as a Map), an allowed function → whatever its handler returns.
 */
import { pushAll } from "../util/arrays.js";

/** A refused or damaged pickle: the message names the file, the byte offset and the cause. */
export class PickleError extends Error {
  override name = "PickleError";
}

/** What an allowed global does when called by REDUCE or instantiated by NEWOBJ. */
export type GlobalHandler =
  /** A class whose instances are read as plain objects (NEWOBJ/REDUCE make a PyObject, BUILD fills its dict). */
  | { kind: "object" }
  /** A function (or class) with a JS implementation of its call. */
  | { kind: "call"; call: (args: unknown[]) => unknown }
  /** A name that is only ever passed around as a value (e.g. a storage type in a persistent id). */
  | { kind: "value" };

/** A resolved global on the stack. */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
    readonly handler: GlobalHandler,
  ) {}
  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}

/** An instance of an allowed class, read as data: its class name and its `__dict__`. */
export class PyObject {
  readonly dict = new Map<string, unknown>();
  constructor(
    readonly className: string,
    readonly args: readonly unknown[] = [],
  ) {}
  get(key: string): unknown {
    return this.dict.get(key);
  }
}

/** A value that accepts BUILD's state (Python's __setstate__), e.g. a numpy array. */
export interface Settable {
  setState(state: unknown): void;
}
const isSettable = (v: unknown): v is Settable =>
  typeof v === "object" && v !== null && typeof (v as Settable).setState === "function";

export interface UnpickleOptions {
  /** File name for error messages. @default "<pickle>" */
  source?: string;
  /** Allowed globals, by "module.name". */
  globals: ReadonlyMap<string, GlobalHandler>;
  /** Resolves BINPERSID's persistent id. Without it, BINPERSID is refused. */
  persistentLoad?: (pid: unknown) => unknown;
}

const OP = {
  PROTO: 0x80,
  STOP: 0x2e,
  GLOBAL: 0x63,
  BINPERSID: 0x51,
  REDUCE: 0x52,
  NEWOBJ: 0x81,
  BUILD: 0x62,
  MARK: 0x28,
  TUPLE: 0x74,
  TUPLE1: 0x85,
  TUPLE2: 0x86,
  TUPLE3: 0x87,
  EMPTY_TUPLE: 0x29,
  EMPTY_LIST: 0x5d,
  EMPTY_DICT: 0x7d,
  EMPTY_SET: 0x8f,
  APPEND: 0x61,
  APPENDS: 0x65,
  SETITEM: 0x73,
  SETITEMS: 0x75,
  BINGET: 0x68,
  LONG_BINGET: 0x6a,
  BINPUT: 0x71,
  LONG_BINPUT: 0x72,
  BININT: 0x4a,
  BININT1: 0x4b,
  BININT2: 0x4d,
  LONG1: 0x8a,
  BINFLOAT: 0x47,
  BINUNICODE: 0x58,
  NONE: 0x4e,
  NEWTRUE: 0x88,
  NEWFALSE: 0x89,
} as const;

/** Names of the opcodes this reader refuses, for the error message. */
const REFUSED_NAMES: Record<number, string> = {
  105: "INST",
  111: "OBJ",
  147: "STACK_GLOBAL",
  130: "EXT1",
  131: "EXT2",
  132: "EXT4",
  80: "PERSID",
  73: "INT",
  76: "LONG",
  139: "LONG4",
  83: "STRING",
  84: "BINSTRING",
  85: "SHORT_BINSTRING",
  86: "UNICODE",
  140: "SHORT_BINUNICODE",
  141: "BINUNICODE8",
  66: "BINBYTES",
  67: "SHORT_BINBYTES",
  142: "BINBYTES8",
  150: "BYTEARRAY8",
  151: "NEXT_BUFFER",
  152: "READONLY_BUFFER",
  144: "ADDITEMS",
  145: "FROZENSET",
  146: "NEWOBJ_EX",
  148: "MEMOIZE",
  149: "FRAME",
  70: "FLOAT",
  103: "GET",
  112: "PUT",
  48: "POP",
  49: "POP_MARK",
  50: "DUP",
  108: "LIST",
  100: "DICT",
};

/** Reads one pickle from `bytes` and returns its value. */
export function unpickle(bytes: Uint8Array, options: UnpickleOptions): unknown {
  const source = options.source ?? "<pickle>";
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  let pos = 0;
  let opAt = 0;

  const fail = (message: string): never => {
    throw new PickleError(`${source}: ${message} (at byte ${opAt})`);
  };
  const need = (n: number): number => {
    if (pos + n > bytes.byteLength) fail(`truncated pickle: expected ${n} more bytes`);
    const at = pos;
    pos += n;
    return at;
  };
  const pop = (): unknown => {
    if (stack.length === 0 || (marks.length > 0 && stack.length <= marks[marks.length - 1]!)) {
      fail("stack underflow");
    }
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) fail("stack underflow");
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const m = marks.pop();
    if (m === undefined) fail("no MARK to pop to");
    return stack.splice(m!);
  };
  const readLine = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) fail("truncated pickle: expected a newline-terminated name");
    const s = new TextDecoder().decode(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const setItems = (target: unknown, items: unknown[]): void => {
    if (!(target instanceof Map)) fail(`SETITEM(S) on a ${describe(target)}, expected a dict`);
    if (items.length % 2) fail("SETITEMS with an odd number of items");
    for (let k = 0; k < items.length; k += 2) (target as Map<unknown, unknown>).set(items[k], items[k + 1]);
  };
  const append = (target: unknown, items: unknown[]): void => {
    if (!Array.isArray(target)) fail(`APPEND(S) on a ${describe(target)}, expected a list`);
    pushAll(target as unknown[], items);
  };
  const call = (fn: unknown, args: unknown, how: string): unknown => {
    if (!(fn instanceof PyGlobal)) fail(`${how} of a ${describe(fn)}, expected an allowed global`);
    if (!Array.isArray(args)) fail(`${how} arguments must be a tuple, found a ${describe(args)}`);
    const g = fn as PyGlobal;
    if (g.handler.kind === "object") return new PyObject(g.qualifiedName, args as unknown[]);
    if (g.handler.kind === "call") {
      try {
        return g.handler.call(args as unknown[]);
      } catch (err) {
        if (err instanceof PickleError) throw err;
        fail(`${g.qualifiedName}: ${(err as Error).message}`);
      }
    }
    return fail(`${g.qualifiedName} cannot be called`);
  };

  const header = bytes[0];
  if (header !== OP.PROTO) fail(`not a pickle (expected a PROTO opcode, found 0x${(header ?? 0).toString(16)})`);
  for (;;) {
    opAt = pos;
    const op = bytes[need(1)]!;
    switch (op) {
      case OP.PROTO: {
        const v = bytes[need(1)]!;
        if (v < 2 || v > 5) fail(`unsupported pickle protocol ${v}`);
        break;
      }
      case OP.STOP: {
        if (stack.length !== 1 || marks.length) fail(`STOP with ${stack.length} values on the stack`);
        return stack[0];
      }
      case OP.GLOBAL: {
        const module = readLine();
        const name = readLine();
        const handler = options.globals.get(`${module}.${name}`);
        if (!handler) fail(`refused to load the global "${module}.${name}" (not on the allow-list)`);
        stack.push(new PyGlobal(module, name, handler!));
        break;
      }
      case OP.BINPERSID: {
        if (!options.persistentLoad) fail("refused BINPERSID (no persistent storage in this file)");
        const pid = pop();
        try {
          stack.push(options.persistentLoad!(pid));
        } catch (err) {
          if (err instanceof PickleError) throw err;
          fail(`persistent id: ${(err as Error).message}`);
        }
        break;
      }
      case OP.REDUCE: {
        const args = pop();
        const fn = pop();
        stack.push(call(fn, args, "REDUCE"));
        break;
      }
      case OP.NEWOBJ: {
        const args = pop();
        const cls = pop();
        stack.push(call(cls, args, "NEWOBJ"));
        break;
      }
      case OP.BUILD: {
        const state = pop();
        const obj = top();
        if (obj instanceof PyObject) {
          // state is a dict, or a (dict, slots dict) pair
          const parts = Array.isArray(state) && state.length === 2 ? state : [state];
          for (const part of parts) {
            if (part === null) continue;
            if (!(part instanceof Map)) fail(`BUILD of ${obj.className} with a ${describe(part)} state`);
            for (const [k, v] of part as Map<unknown, unknown>) obj.dict.set(String(k), v);
          }
        } else if (obj instanceof Map) {
          // a dict subclass's instance attributes (e.g. a state dict's _metadata): not needed, dropped
        } else if (isSettable(obj)) {
          try {
            obj.setState(state);
          } catch (err) {
            fail(`BUILD: ${(err as Error).message}`);
          }
        } else {
          fail(`BUILD of a ${describe(obj)}`);
        }
        break;
      }
      case OP.MARK:
        marks.push(stack.length);
        break;
      case OP.TUPLE:
        stack.push(popMark());
        break;
      case OP.TUPLE1:
        stack.push([pop()]);
        break;
      case OP.TUPLE2: {
        const b = pop();
        stack.push([pop(), b]);
        break;
      }
      case OP.TUPLE3: {
        const c = pop();
        const b = pop();
        stack.push([pop(), b, c]);
        break;
      }
      case OP.EMPTY_TUPLE:
      case OP.EMPTY_LIST:
        stack.push([]);
        break;
      case OP.EMPTY_DICT:
        stack.push(new Map());
        break;
      case OP.EMPTY_SET:
        stack.push(new Set());
        break;
      case OP.APPEND: {
        const v = pop();
        append(top(), [v]);
        break;
      }
      case OP.APPENDS: {
        const items = popMark();
        append(top(), items);
        break;
      }
      case OP.SETITEM: {
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case OP.SETITEMS: {
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case OP.BINGET:
      case OP.LONG_BINGET: {
        const key = op === OP.BINGET ? bytes[need(1)]! : view.getUint32(need(4), true);
        if (!memo.has(key)) fail(`memo entry ${key} was never stored`);
        stack.push(memo.get(key));
        break;
      }
      case OP.BINPUT:
      case OP.LONG_BINPUT: {
        const key = op === OP.BINPUT ? bytes[need(1)]! : view.getUint32(need(4), true);
        memo.set(key, top());
        break;
      }
      case OP.BININT:
        stack.push(view.getInt32(need(4), true));
        break;
      case OP.BININT1:
        stack.push(bytes[need(1)]!);
        break;
      case OP.BININT2:
        stack.push(view.getUint16(need(2), true));
        break;
      case OP.LONG1: {
        const n = bytes[need(1)]!;
        const at = need(n);
        let v = 0n;
        for (let k = n - 1; k >= 0; k--) v = (v << 8n) | BigInt(bytes[at + k]!);
        if (n > 0 && bytes[at + n - 1]! & 0x80) v -= 1n << BigInt(8 * n);
        stack.push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
        break;
      }
      case OP.BINFLOAT:
        stack.push(view.getFloat64(need(8), false));
        break;
      case OP.BINUNICODE: {
        const n = view.getUint32(need(4), true);
        const at = need(n);
        stack.push(new TextDecoder().decode(bytes.subarray(at, at + n)));
        break;
      }
      case OP.NONE:
        stack.push(null);
        break;
      case OP.NEWTRUE:
        stack.push(true);
        break;
      case OP.NEWFALSE:
        stack.push(false);
        break;
      default:
        fail(`refused the pickle opcode ${REFUSED_NAMES[op] ?? "0x" + op.toString(16)} (not on the allow-list)`);
    }
  }
}

/** A short description of a value's type, for error messages. */
export function describe(v: unknown): string {
  if (v === null) return "None";
  if (Array.isArray(v)) return "tuple/list";
  if (v instanceof Map) return "dict";
  if (v instanceof Set) return "set";
  if (v instanceof PyObject) return v.className;
  if (v instanceof PyGlobal) return v.qualifiedName;
  if (v instanceof Uint8Array) return "bytes";
  return typeof v === "object" ? (v.constructor?.name ?? "object") : typeof v;
}
