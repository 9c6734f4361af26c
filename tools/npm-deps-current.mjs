// Exits 0 when node_modules holds every package of package-lock.json at its locked version (what `npm ci` leaves),
// 1 otherwise. tools/setup.sh asks it before running `npm ci` itself, so that a clone where the user already ran
// `npm ci` (which also built the native addon, the package's install script) is not installed a second time.
// Optional packages for other platforms (e.g. sharp's and esbuild's binaries) may be absent.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

function installedVersion(path) {
  try {
    return JSON.parse(readFileSync(join(path, "package.json"), "utf8")).version;
  } catch {
    return undefined;
  }
}

const lock = JSON.parse(readFileSync("package-lock.json", "utf8"));
const stale = [];
for (const [path, entry] of Object.entries(lock.packages ?? {})) {
  if (path === "" || entry.link) continue;
  if (!existsSync(path)) {
    if (!entry.optional) stale.push(`${path} missing`);
    continue;
  }
  const version = installedVersion(path);
  if (version !== entry.version) stale.push(`${path} ${version ?? "unreadable"} (locked ${entry.version})`);
}
if (stale.length > 0) {
  if (process.argv.includes("--verbose"))
    console.error(`node_modules differs from package-lock.json: ${stale.join(", ")}`);
  process.exit(1);
}
