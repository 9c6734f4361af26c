// Builds the studio's front end (src/studio/web) into dist/src/studio/web: type-checks it with its own tsconfig
// (DOM types), bundles main.ts with esbuild into app.js (no CDN, nothing fetched at run time), copies index.html and
// app.css. Run by tools/setup.sh after tsc, and by `npm run build:web`.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const src = join(root, "src", "studio", "web");
const out = join(root, "dist", "src", "studio", "web");

try {
  execFileSync(join(root, "node_modules", ".bin", "tsc"), ["-p", join(src, "tsconfig.json")], { stdio: "inherit" });
} catch {
  console.error("build-studio: the front end (src/studio/web) has type errors (above)");
  process.exit(1);
}
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(src, "main.ts")],
  outfile: join(out, "app.js"),
  bundle: true,
  format: "esm",
  target: "es2022",
  platform: "browser",
  minify: true,
  sourcemap: false,
  legalComments: "none",
  logLevel: "warning",
});
for (const name of ["index.html", "app.css"]) copyFileSync(join(src, name), join(out, name));
