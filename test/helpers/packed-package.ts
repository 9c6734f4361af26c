/**
 * The package as a user gets it: `npm pack`, then `npm install` of the tarball into an empty project in the temp
 * folder, so tests import "sladet" through the published `exports` and files list, not through the source tree.
 *
 * Offline and without a second native build:
 * - npm's cache holds the dependencies' tarballs but not their registry metadata, so an offline install of the
 *   tarball alone fails (ENOTCACHED). The consumer's node_modules is first given a link to each of the package's
 *   declared `dependencies` as this checkout installed them (`npm ci`): npm sees them satisfied and fetches nothing
 *   (`--offline` makes any fetch an error). A dependency the code imports but package.json does not declare is not
 *   linked, so the examples fail on it as they would for a user.
 * - `--ignore-scripts`: the package's binding.gyp would make npm run node-gyp (3 minutes of compiling) and
 *   onnxruntime-node's postinstall would download; instead the addon this checkout built is copied to where the
 *   loader looks (node_modules/sladet/build/Release, what node-gyp would have written), with its libtorch stamp.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "../helpers.js";

/** Files of the native build the installed package needs. */
const ADDON_FILES = ["sladet.node", "sladet_image.node", "sladet.stamp"] as const;

/** An empty project with the packed package installed. */
export interface PackedProject {
  /** The project folder (its node_modules/sladet is the installed package). */
  dir: string;
  /** The installed package's launcher (node with jemalloc preloaded), as `npx sladet-node` runs it. */
  launcher: string;
}

function npm(args: readonly string[], cwd: string): string {
  return execFileSync("npm", [...args, "--no-audit", "--no-fund", "--loglevel=error"], { cwd, encoding: "utf8" });
}

/** Packs the checkout (dist/ must be built) and installs the tarball into a new temporary project. */
export function installPackedPackage(): PackedProject {
  const dir = mkdtempSync(join(tmpdir(), "sladet-consumer-"));
  const tarball = npm(["pack", "--pack-destination", dir, "--silent"], REPO_ROOT).trim().split("\n").pop()!;
  writeFileSync(join(dir, "package.json"), `${JSON.stringify({ name: "consumer", private: true, type: "module" })}\n`);
  const manifest = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as {
    dependencies: Record<string, string>;
  };
  for (const name of Object.keys(manifest.dependencies)) {
    mkdirSync(join(dir, "node_modules", name, ".."), { recursive: true });
    symlinkSync(join(REPO_ROOT, "node_modules", name), join(dir, "node_modules", name), "dir");
  }
  npm(["install", "--offline", "--ignore-scripts", "--no-package-lock", `./${tarball}`], dir);
  const release = join(dir, "node_modules", "sladet", "build", "Release");
  mkdirSync(release, { recursive: true });
  for (const f of ADDON_FILES) copyFileSync(join(REPO_ROOT, "build", "Release", f), join(release, f));
  return { dir, launcher: join(dir, "node_modules", ".bin", "sladet-node") };
}

/** The example scripts of the repository (examples/*.mjs), copied into the project; returns their names. */
export function copyExamples(project: PackedProject): string[] {
  const names = readdirSync(join(REPO_ROOT, "examples")).filter((f) => f.endsWith(".mjs"));
  for (const name of names) copyFileSync(join(REPO_ROOT, "examples", name), join(project.dir, name));
  return names;
}
