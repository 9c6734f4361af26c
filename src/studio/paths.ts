/**
 * The studio's path rule: every file it reads or writes lies inside one of its roots (the dataset root, or the run
 * folder), after symbolic links are resolved. A path from a request is relative to a root, with `/` separators; an
 * absolute path, a `..` segment, a NUL byte, or a link that leads out of the root is refused.
 */
import { existsSync, realpathSync } from "node:fs";
import { dirname, isAbsolute, relative, resolve, sep } from "node:path";

/** A request named a path the studio will not touch; the HTTP status is 403. */
export class PathRefusedError extends Error {
  override name = "PathRefusedError";
}

/** True when `child` (a real, absolute path) is `root` or lies under it. */
export function isInside(root: string, child: string): boolean {
  const rel = relative(root, child);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

/** The real path of `path`, or of its nearest existing ancestor joined with the rest (for files not yet written). */
export function realPathOrAncestor(path: string): string {
  if (existsSync(path)) return realpathSync(path);
  const parent = dirname(path);
  if (parent === path) return path;
  return resolve(realPathOrAncestor(parent), path.slice(parent.length + 1));
}

/**
 * Checks that the absolute `path` lies inside the real root `root` once links are resolved; returns `path`.
 * Throws a {@link PathRefusedError} otherwise.
 */
export function assertInside(root: string, path: string): string {
  if (!isInside(root, realPathOrAncestor(path))) throw new PathRefusedError(`${path} lies outside ${root}`);
  return path;
}

/**
 * Resolves `rel` (relative to `root`, `/`-separated, as the API uses) to an absolute path inside `root`, refusing
 * absolute paths, `..` segments, NUL bytes and links out of the root. `root` must be a real path.
 */
export function resolveInside(root: string, rel: string): string {
  if (rel === "" || rel.includes("\0")) throw new PathRefusedError("an empty path or one with a NUL byte");
  if (isAbsolute(rel) || /^[a-zA-Z]:/.test(rel) || rel.startsWith("\\"))
    throw new PathRefusedError(`${JSON.stringify(rel)} is absolute: paths are relative to the root`);
  if (rel.split(/[\\/]/).includes("..")) throw new PathRefusedError(`${JSON.stringify(rel)} has a ".." segment`);
  return assertInside(root, resolve(root, rel));
}

/** The API form of an absolute path under `root`: relative, `/`-separated. */
export function toApiPath(root: string, path: string): string {
  return relative(root, path).split(sep).join("/");
}
