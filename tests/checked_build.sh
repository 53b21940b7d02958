#!/usr/bin/env bash
# Configures and builds the checked build: clang with AddressSanitizer,
# UndefinedBehaviorSanitizer (the first error aborts) and libFuzzer
# instrumentation, dynamically linked, into ${CHECKED_BUILD_DIR:-build-asan}.
# It holds the bootrino binary and unit tests the sanitize tier runs, and the
# fuzz targets (tests/fuzz). The LAST line on stdout is the build directory.
#   tests/checked_build.sh                 everything
#   tests/checked_build.sh TARGET...       only these (e.g. manifest_fuzz)
# Environment: CHECKED_BUILD_DIR, BOOTRINO_CACHE (see packaging/deps.sh);
# CHECKED_BUILD_OPT (default -O0: with the sanitizers, -O1 doubles the compile
# time, which CI pays; run-long.sh builds its own -O1 copy for speed of fuzzing).
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
dir=${CHECKED_BUILD_DIR:-build-asan}
opt=${CHECKED_BUILD_OPT:--O0}

source packaging/packages.sh
# clang 16: the oldest Debian 12 clang that compiles libstdc++ 12's <expected>
# (cmake/checked_builds.cmake); libclang-rt-16-dev holds ASan, UBSan and libFuzzer;
# llvm-16 the llvm-symbolizer that puts function names and lines in their reports; libssl-dev the OpenSSL
# libcrypto the gcm fuzz target checks mbedTLS's AES-GCM against.
ensure_packages build-essential cmake ninja-build libgtest-dev nlohmann-json3-dev libcli11-dev ca-certificates \
  clang-16 libclang-rt-16-dev llvm-16 libssl-dev
for tool in clang-16 clang++-16; do
  command -v $tool >/dev/null || { echo "checked build: ERROR: $tool is missing after install" >&2; exit 1; }
done

deps=$(packaging/deps.sh | tail -n 1)
if [[ ! -f $dir/build.ninja ]] || ! grep -q "BOOTRINO_DEPS:PATH=$deps\$" "$dir/CMakeCache.txt" ||
   ! grep -q "CMAKE_CXX_FLAGS_RELWITHDEBINFO:STRING=$opt -g\$" "$dir/CMakeCache.txt"; then
  CC=clang-16 CXX=clang++-16 cmake -S . -B "$dir" -G Ninja -DBOOTRINO_DEPS="$deps" -DBOOTRINO_STATIC=OFF \
    -DBOOTRINO_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=$opt -g" \
    "-DCMAKE_C_FLAGS_RELWITHDEBINFO=$opt -g" >&2
fi
targets=()
for t in "$@"; do targets+=(--target "$t"); done
# clang warns where g++ does not (the build that ships is g++ -Werror): the log keeps them.
echo "checked build: building in $dir (log: $dir/build.log)" >&2
if ! cmake --build "$dir" "${targets[@]}" >"$dir/build.log" 2>&1; then
  grep -E -A12 '^FAILED|error:' "$dir/build.log" | cut -c1-400 | tail -n 80 >&2
  echo "checked build: ERROR: the build failed; the whole log is $dir/build.log" >&2
  exit 1
fi
echo "$dir"
