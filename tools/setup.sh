#!/bin/sh
# Installs and builds everything sladet needs, idempotently; takes about a second when all is in place.
#   apt packages (libtorch, jemalloc) -> npm dependencies -> the native addon -> TypeScript.
# LIBTORCH=/path/to/libtorch builds against another libtorch (e.g. an official CUDA build) instead of Debian's.
# --test also installs the apt packages only the test suite needs (TEST_APT_PACKAGES below); `npm test` passes it.
set -eu
cd "$(dirname "$0")/.."

say() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

with_tests=0
for arg in "$@"; do
  case "$arg" in
    --test) with_tests=1 ;;
    *) die "unknown argument '$arg' (usage: sh tools/setup.sh [--test])" ;;
  esac
done

# --- 1. apt packages ----------------------------------------------------------------------------------------------
# Build and run: libtorch-dev (headers + libtorch1.13), libgloo-dev (the Gloo headers c10d's ProcessGroupGloo.hpp
# includes: native/dist.cc, data-parallel training; the library itself comes with libtorch1.13), libjemalloc2 (the
# allocator bin/sladet-node preloads),
# g++/make/python3 (node-gyp's toolchain), binutils (readelf, for the dependency check below), fonts-dejavu-core (the
# font of the text sharp renders from SVG: labels of sladet detect's annotated images, the synth contact sheet).
APT_PACKAGES="libgloo-dev libjemalloc2 g++ make python3 binutils fonts-dejavu-core"
[ -n "${LIBTORCH:-}" ] || APT_PACKAGES="libtorch-dev $APT_PACKAGES"
# Tests only: chromium (the tests open report.html in headless Chromium through playwright-core), python3-onnx (the
# ONNX checker run on exported models).
TEST_APT_PACKAGES="chromium python3-onnx"
[ "$with_tests" = 0 ] || APT_PACKAGES="$APT_PACKAGES $TEST_APT_PACKAGES"
# Packages allowed to provide the addon's direct shared-library dependencies (checked in step 4).
RUNTIME_PACKAGES="libtorch1.13 libc6 libstdc++6 libgcc-s1"

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
missing=""
for p in $APT_PACKAGES; do installed "$p" || missing="$missing $p"; done
if [ -n "$missing" ]; then
  [ "$(id -u)" = 0 ] || die "missing apt packages:$missing; run: sudo apt-get install$missing"
  say "installing apt packages:$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >&2
fi

# --- 2. npm dependencies --------------------------------------------------------------------------------------------
# Keyed on the lock file's content (not its mtime: a fresh checkout or a git worktree touches every file). A clone
# where `npm ci` already ran (it also built the native addon: the package's install script) has every locked
# version in node_modules: it is recorded as current instead of being installed again.
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat node_modules/.sladet-lock-hash 2>/dev/null)" != "$lock_hash" ]; then
  if ! node tools/npm-deps-current.mjs; then
    say "installing npm dependencies"
    npm ci --no-audit --no-fund >&2
  fi
  printf '%s\n' "$lock_hash" > node_modules/.sladet-lock-hash
fi

# --- 3. the native addons ------------------------------------------------------------------------------------------
# tools/build-native.sh (also the package's npm "install" script, so after a fresh `npm ci` above it is already
# current here and nothing compiles twice).
sh tools/build-native.sh
addon=build/Release/sladet.node
image_addon=build/Release/sladet_image.node

# --- 4. check the addons' shared-library dependencies --------------------------------------------------------------
# A library that resolves to nothing, or to a package this script does not install, fails here, even on a machine
# where that package happens to be present: the list above must be complete for a fresh Debian 12.
for built in "$addon" "$image_addon"; do
  ldd_out=$(ldd "$built")
  if printf '%s\n' "$ldd_out" | grep -q "not found"; then
    die "$built has unresolved shared libraries:
  $(printf '%s\n' "$ldd_out" | grep "not found")"
  fi
  if [ -z "${LIBTORCH:-}" ]; then
    for lib in $(readelf -d "$built" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
      path=$(printf '%s\n' "$ldd_out" | awk -v l="$lib" '$1 == l { print $3 } $1 ~ ("/" l "$") { print $1 }' | head -n 1)
      [ -n "$path" ] || die "cannot resolve $lib"
      real=$(readlink -f "$path")
      pkg=$(dpkg -S "$real" 2>/dev/null || dpkg -S "$path" 2>/dev/null || dpkg -S "/usr$path" 2>/dev/null \
        || dpkg -S "$(printf '%s' "$real" | sed 's#^/usr##')" 2>/dev/null || true)
      pkg=$(printf '%s' "$pkg" | head -n 1 | cut -d: -f1)
      case " $RUNTIME_PACKAGES " in
        *" $pkg "*) ;;
        *) die "$built needs $lib ($real) from package '${pkg:-unknown}', which tools/setup.sh does not install" ;;
      esac
    done
  fi
done

# --- 5. TypeScript, then the studio's browser bundle (dist/src/studio/web) --------------------------------------------
ts_stamp=dist/.build-stamp
if [ ! -f "$ts_stamp" ] || [ -n "$(find src test bench tsconfig.json package-lock.json -newer "$ts_stamp" 2>/dev/null | head -n 1)" ]; then
  say "compiling TypeScript"
  rm -rf dist
  node_modules/.bin/tsc -p tsconfig.json >&2
  say "bundling the studio's front end (esbuild)"
  node tools/build-studio.mjs >&2
  touch "$ts_stamp"
fi
