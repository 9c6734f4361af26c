/** Where the package is installed, for the files it ships (model YAMLs, hyps) and the native addon's build. */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The package's root folder (this file is dist/src/util/package-root.js once compiled). */
export const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
