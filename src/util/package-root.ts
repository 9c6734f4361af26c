/** Where the package is installed, for the files it ships (model YAMLs, hyps) and the native addon's build. */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The package's root folder (this file is dist/src/util/package-root.js once compiled). */
export const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

/** The installed sladet version (package.json). */
export function sladetVersion(): string {
  const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, "package.json"), "utf8")) as { version?: string };
  return pkg.version ?? "unknown";
}
