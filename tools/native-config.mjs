// Build configuration for the libtorch addon, printed for binding.gyp and tools/setup.sh.
// Usage: node tools/native-config.mjs <nodedir|include|libdir|cxxabi|torch-version>
// LIBTORCH=/path/to/libtorch selects another libtorch (e.g. an official CUDA build); default: Debian's under /usr.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";

const root = process.env.LIBTORCH ?? "/usr";
const isSystem = root === "/usr";
const libdir = isSystem ? "/usr/lib/x86_64-linux-gnu" : join(root, "lib");
const include = isSystem ? "/usr/include" : join(root, "include");

function nodedir() {
  // process.execPath = <prefix>/bin/node; headers live in <prefix>/include/node.
  const prefix = dirname(dirname(process.execPath));
  if (!existsSync(join(prefix, "include", "node", "node_api.h"))) {
    throw new Error(`Node headers not found under ${prefix}/include/node (needed to build the addon offline)`);
  }
  return prefix;
}

function torchVersion() {
  const header = join(include, "torch", "csrc", "api", "include", "torch", "version.h");
  const text = readFileSync(header, "utf8");
  const m = text.match(/#define TORCH_VERSION "([^"]+)"/);
  if (!m) {
    const parts = ["MAJOR", "MINOR", "PATCH"].map((k) => text.match(new RegExp(`TORCH_VERSION_${k} (\\d+)`))?.[1]);
    if (parts.some((p) => p === undefined)) throw new Error(`cannot read the torch version from ${header}`);
    return parts.join(".");
  }
  return m[1];
}

function cxxAbi() {
  // Official pre-cxx11 builds ship libtorch with _GLIBCXX_USE_CXX11_ABI=0; Debian's uses 1.
  const cmake = join(isSystem ? libdir : join(root, "share"), "cmake", "Torch", "TorchConfig.cmake");
  if (existsSync(cmake)) {
    const m = readFileSync(cmake, "utf8").match(/_GLIBCXX_USE_CXX11_ABI=(\d)/);
    if (m) return m[1];
  }
  return "1";
}

const what = process.argv[2];
const out = {
  nodedir,
  // /usr/include is a default search dir: naming it as -isystem would break libstdc++'s #include_next.
  include: () => [...(isSystem ? [] : [include]), join(include, "torch", "csrc", "api", "include")].join(" "),
  libdir: () => libdir,
  rpath: () => (isSystem ? "" : `-Wl,-rpath,${libdir}`),
  cxxabi: cxxAbi,
  "torch-version": torchVersion,
}[what];
if (!out) {
  console.error("usage: native-config.mjs nodedir|include|libdir|rpath|cxxabi|torch-version");
  process.exit(2);
}
console.log(out());
