#!/bin/sh
# Builds the native addons when missing or stale, once: the package's npm "install" script (so `npm ci` in a clone and
# `npm install sladet` in a project build them) and step 3 of tools/setup.sh (which then finds them current).
#   sladet.node        the libtorch engine
#   sladet_image.node  OpenCV-identical pixel kernels (resize, HSV) without libtorch, for the data-loader workers
# One node-gyp build makes both. Prerequisites (apt): libtorch-dev, libgloo-dev, g++, make, python3; LIBTORCH=/path/to/libtorch
# builds against another libtorch (e.g. an official CUDA build) instead of Debian's.
set -eu
cd "$(dirname "$0")/.."

say() { printf 'sladet: %s\n' "$*" >&2; }
die() { printf 'sladet: error: %s\n' "$*" >&2; exit 1; }

torch_include=${LIBTORCH:-/usr}/include/torch
[ -d "$torch_include" ] || die "libtorch headers not found ($torch_include): install them with \
'apt-get install libtorch-dev libgloo-dev libjemalloc2 g++ make python3', or set LIBTORCH to a libtorch folder"

# node-gyp: the project's own (a clone with its devDependencies), else the one npm puts on PATH for install scripts
if [ -x node_modules/.bin/node-gyp ]; then gyp=node_modules/.bin/node-gyp
elif command -v node-gyp >/dev/null 2>&1; then gyp=node-gyp
else die "node-gyp not found: run 'npm ci' first (it is a devDependency)"
fi

addon=build/Release/sladet.node
image_addon=build/Release/sladet_image.node
stamp_file=build/Release/sladet.stamp
stamp="torch=$(node tools/native-config.mjs torch-version) libtorch=${LIBTORCH:-/usr} node=$(node -p process.versions.modules)"
stale() { [ ! -f "$1" ] || [ -n "$(find native binding.gyp tools/native-config.mjs -newer "$1" 2>/dev/null | head -n 1)" ]; }
if [ "$(cat "$stamp_file" 2>/dev/null)" = "$stamp" ] && ! stale "$addon" && ! stale "$image_addon"; then
  exit 0
fi
say "building the native addons against libtorch ($stamp); takes a few minutes"
nodedir=$(node tools/native-config.mjs nodedir)
# Start from scratch when the build settings change; configure again when binding.gyp or its helper changed (make
# then rebuilds only what changed); otherwise make rebuilds only what changed.
if [ "$(cat "$stamp_file" 2>/dev/null)" != "$stamp" ] || [ ! -f build/Makefile ]; then
  rm -rf build
  "$gyp" configure --loglevel=warn --nodedir="$nodedir" >&2
elif [ binding.gyp -nt build/Makefile ] || [ tools/native-config.mjs -nt build/Makefile ]; then
  "$gyp" configure --loglevel=warn --nodedir="$nodedir" >&2
fi
"$gyp" build -j 2 --loglevel=warn --nodedir="$nodedir" >&2
# make leaves an addon whose sources did not change untouched: mark both as current for the check above
touch "$addon" "$image_addon"
printf '%s\n' "$stamp" > "$stamp_file"
