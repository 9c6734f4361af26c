/**
 * Explicit tensor lifetimes (design.md §2 lesson 1): V8's garbage collector never runs finalizers inside a synchronous
 * training loop, so native memory must be freed deterministically. `tidy(fn)` frees every tensor created inside `fn`
 * except those it returns and those marked with `keep()`. Scopes are synchronous by contract: an async function would
 * end its scope at the first `await`, so they are refused.
 */

/** What a scope tracks: anything that can be disposed and kept. Tensor implements it. */
export interface Disposable {
  dispose(): void;
  readonly isKept: boolean;
}

const scopes: Set<Disposable>[] = [];

/** Called by every new tensor: registers it with the innermost scope (none = the caller owns it). */
export function track(t: Disposable): void {
  scopes[scopes.length - 1]?.add(t);
}

/** Removes `t` from every open scope (used by keep()). */
export function untrack(t: Disposable): void {
  for (const s of scopes) s.delete(t);
}

function isThenable(value: unknown): boolean {
  return (
    value !== null &&
    (typeof value === "object" || typeof value === "function") &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

/** Throws when `fn` is declared async: a synchronous scope would close at its first await. */
export function assertSync(fn: (...args: never[]) => unknown, scopeName: string): void {
  const kind = (fn as { constructor?: { name?: string } }).constructor?.name;
  if (kind === "AsyncFunction" || kind === "AsyncGeneratorFunction") {
    throw new TypeError(`${scopeName}() cannot run an async function: the scope would end at its first await`);
  }
}

function assertNotPromise(value: unknown, scopeName: string): void {
  if (isThenable(value)) {
    throw new TypeError(`${scopeName}() received a promise: scopes are synchronous; await outside the scope`);
  }
}

/** Collects the disposables reachable from a scope's result (a tensor, or arrays/plain objects/Maps of them). */
function collectResults(value: unknown, into: Set<Disposable>, seen = new Set<unknown>()): void {
  if (value === null || typeof value !== "object" || seen.has(value)) return;
  seen.add(value);
  if (isDisposable(value)) {
    into.add(value);
    return;
  }
  if (Array.isArray(value)) {
    for (const v of value) collectResults(v, into, seen);
  } else if (value instanceof Map) {
    for (const v of value.values()) collectResults(v, into, seen);
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collectResults(v, into, seen);
  }
}

let isDisposable: (v: object) => v is Disposable = (_v): _v is Disposable => false;
/** Set by tensor.ts: how to recognise a tensor in a scope's result. */
export function setDisposableCheck(check: (v: object) => v is Disposable): void {
  isDisposable = check;
}

/**
 * Runs `fn` in a scope: tensors created inside are disposed when it returns, except those in its result (a tensor,
 * or tensors in arrays/plain objects/Maps), which move to the enclosing scope, and those marked with `keep()`.
 * On a throw, every tensor of the scope but the kept ones is disposed.
 */
export function tidy<T>(fn: () => T): T {
  assertSync(fn, "tidy");
  const scope = new Set<Disposable>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
    assertNotPromise(result, "tidy");
  } catch (err) {
    scopes.pop();
    for (const t of scope) if (!t.isKept) t.dispose();
    throw err;
  }
  scopes.pop();
  const results = new Set<Disposable>();
  collectResults(result, results);
  const parent = scopes[scopes.length - 1];
  for (const t of scope) {
    if (results.has(t)) parent?.add(t);
    else if (!t.isKept) t.dispose();
  }
  return result;
}

/** Number of open tidy scopes (for tests and assertions). */
export function scopeDepth(): number {
  return scopes.length;
}

export { assertNotPromise };
