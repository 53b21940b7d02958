#!/usr/bin/env bash
# Builds the fully static bootrino binary (and its tests) into build/.
# Installs what it needs with apt-get, builds third-party libraries once from
# Debian sources (packaging/deps.sh, cached), then runs CMake. A rebuild after
# a code change takes seconds.
#   packaging/build.sh            → build/agent/bootrino
# Environment: BUILD_DIR (default build), BOOTRINO_CACHE (see deps.sh).
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
BUILD_DIR=${BUILD_DIR:-build}

source packaging/packages.sh
ensure_packages build-essential cmake ninja-build libgtest-dev nlohmann-json3-dev libcli11-dev ca-certificates file

deps=$(packaging/deps.sh | tail -n 1)
echo "build: dependencies in $deps" >&2
if [[ ! -f $BUILD_DIR/build.ninja ]] || ! grep -q "BOOTRINO_DEPS:PATH=$deps\$" "$BUILD_DIR/CMakeCache.txt"; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DBOOTRINO_DEPS="$deps" >&2
fi
cmake --build "$BUILD_DIR" >&2
file "$BUILD_DIR/agent/bootrino" | grep -q 'statically linked' ||
  { echo "build: ERROR: $BUILD_DIR/agent/bootrino is not statically linked" >&2; exit 1; }
echo "$BUILD_DIR/agent/bootrino"
