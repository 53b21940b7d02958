#!/usr/bin/env bash
# Builds bootrino's release files into dist/: a stripped static binary for x86_64 and one for aarch64
# (cross-compiled with Debian's g++-aarch64-linux-gnu), a .sha256 for each (and a .sig with a signing key),
# THIRD-PARTY-NOTICES.txt (packaging/third_party.sh: the licences and sources of what the binaries contain) and
# its .sha256, and install.sh with the base URL those files will be published at and the binaries' SHA-256
# pinned in it (packaging/stamp_install.sh). As a check, the aarch64 binary's --version and the aarch64 unit
# tests run under qemu-aarch64-static.
#   packaging/release.sh --base-url https://downloads.example.com/bootrino/0.1.0
#   packaging/release.sh --base-url URL --out DIR --arch aarch64      (one architecture; default both)
# Publish every file of the output directory at the base URL, over https; users then run
#   curl -fsSL URL/install.sh | sh -s -- REF --yes
# (the pins in install.sh are worth what the connection that delivers install.sh is worth: https).
# Environment: BOOTRINO_RELEASE_BASE_URL (instead of --base-url); RELEASE_BUILD_DIR (default build-release/, one
# CMake tree per architecture); BOOTRINO_SIGN_KEY: an EC P-256 private key (PEM) to also write
# bootrino-<arch>.sig, which `install.sh --key PUBLIC.pem` requires; BOOTRINO_CACHE (see deps.sh).
# The first aarch64 run builds the third-party libraries for aarch64 (packaging/deps.sh with
# BOOTRINO_TARGET=aarch64-linux-gnu, cached apart from the native ones): minutes of CPU. Run it niced on a
# shared machine. The release binaries are the RelWithDebInfo builds the tests use, stripped.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
SRC=$PWD

say() { echo "release: $*" >&2; }
die() { echo "release: ERROR: $*" >&2; exit 1; }

BASE_URL=${BOOTRINO_RELEASE_BASE_URL:-} OUT=dist ARCHES=(x86_64 aarch64)
while (($#)); do
  case $1 in
    --base-url) BASE_URL=${2:?--base-url needs a URL}; shift 2 ;;
    --out) OUT=${2:?--out needs a directory}; shift 2 ;;
    --arch)
      case ${2:-} in x86_64 | aarch64) ARCHES=("$2") ;; *) die "--arch takes x86_64 or aarch64" ;; esac
      shift 2 ;;
    -h | --help) sed -n '2,19s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done
[[ -n $BASE_URL ]] || die "give --base-url URL: the directory the release files will be published in
(install.sh downloads bootrino-<arch> from there)"
# It lands in install.sh between double quotes, through sed: plain URL characters only.
if [[ ! $BASE_URL =~ ^https?://. || $BASE_URL == *[[:space:]\"\'\$\`\\\|\&]* ]]; then
  die "--base-url must be an http(s) URL without spaces, quotes, \$, \`, \\, | or &: $BASE_URL"
fi
BASE_URL=${BASE_URL%/}
[[ $BASE_URL == https://* ]] || say "WARNING: $BASE_URL is plain http: install.sh pins the binaries, but an \
install.sh fetched over plain http can be altered on the way. Publish over https."
# Absolute: the aarch64 configure hands paths under it (GTest_DIR) to CMake, which would read a relative
# one from inside its own build tree and not find GoogleTest.
BUILD_ROOT=$(realpath -m -- "${RELEASE_BUILD_DIR:-build-release}")
[[ -z ${BOOTRINO_SIGN_KEY:-} || -r $BOOTRINO_SIGN_KEY ]] || die "BOOTRINO_SIGN_KEY=$BOOTRINO_SIGN_KEY is not readable"

source packaging/packages.sh
PKGS=(build-essential cmake ninja-build libgtest-dev nlohmann-json3-dev libcli11-dev ca-certificates file dash)
[[ " ${ARCHES[*]} " == *" aarch64 "* ]] && PKGS+=(g++-aarch64-linux-gnu binutils-aarch64-linux-gnu qemu-user-static)
[[ -n ${BOOTRINO_SIGN_KEY:-} ]] && PKGS+=(openssl)
ensure_packages "${PKGS[@]}"

# GoogleTest for aarch64, from the sources libgtest-dev ships (Debian has no cross package of it). Prints
# the GTest_DIR to configure with.
cross_gtest() {
  local dir=$1 toolchain=$2
  if [[ ! -f $dir/prefix/lib/cmake/GTest/GTestConfig.cmake ]]; then
    say "building GoogleTest for aarch64 from /usr/src/googletest"
    cmake -S /usr/src/googletest -B "$dir/build" -G Ninja -DCMAKE_TOOLCHAIN_FILE="$toolchain" \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX="$dir/prefix" -DBUILD_GMOCK=OFF >&2
    cmake --build "$dir/build" >&2
    cmake --install "$dir/build" >&2
  fi
  echo "$dir/prefix/lib/cmake/GTest"
}

# build ARCH: configures and builds bootrino for ARCH in $BUILD_ROOT/ARCH (the unit tests too when
# cross-compiling, to run them under QEMU); sets BIN to the built binary.
build() {
  local arch=$1 dir=$BUILD_ROOT/$1 deps cmake_args=()
  if [[ $arch == "$(uname -m)" ]]; then
    deps=$(packaging/deps.sh | tail -n 1)
  else
    [[ $arch == aarch64 && $(uname -m) == x86_64 ]] || die "cross builds go from x86_64 to aarch64 only"
    local toolchain=$SRC/packaging/aarch64-linux-gnu.cmake
    deps=$(BOOTRINO_TARGET=aarch64-linux-gnu packaging/deps.sh | tail -n 1)
    cmake_args=(-DCMAKE_TOOLCHAIN_FILE="$toolchain" -DGTest_DIR="$(cross_gtest "$BUILD_ROOT/gtest-$arch" "$toolchain")")
  fi
  say "$arch: dependencies in $deps"
  if [[ ! -f $dir/build.ninja ]] || ! grep -q "BOOTRINO_DEPS:PATH=$deps\$" "$dir/CMakeCache.txt"; then
    cmake -S . -B "$dir" -G Ninja -DBOOTRINO_DEPS="$deps" "${cmake_args[@]}" >&2
  fi
  if ((${#cmake_args[@]})); then cmake --build "$dir" >&2; else cmake --build "$dir" --target bootrino >&2; fi
  BIN=$dir/agent/bootrino
}

# check_elf FILE ARCH: a static executable for ARCH.
check_elf() {
  local what
  what=$(file -b "$1")
  [[ $what == *"statically linked"* ]] || die "$1 is not statically linked: $what"
  case $2 in
    x86_64) [[ $what == *x86-64* ]] || die "$1 is not an x86-64 executable: $what" ;;
    aarch64) [[ $what == *"ARM aarch64"* ]] || die "$1 is not an aarch64 executable: $what" ;;
  esac
}

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
version=""
for arch in "${ARCHES[@]}"; do
  say "$arch: building"
  build "$arch"
  check_elf "$BIN" "$arch"
  rm -f "$OUT/bootrino-$arch" "$OUT/bootrino-$arch".*
  if [[ $arch == "$(uname -m)" ]]; then strip=strip run=(); else strip=$arch-linux-gnu-strip run=("qemu-$arch-static"); fi
  "$strip" -o "$OUT/bootrino-$arch" "$BIN"
  check_elf "$OUT/bootrino-$arch" "$arch"
  v=$("${run[@]}" "$OUT/bootrino-$arch" --version) || die "bootrino-$arch --version failed${run:+ under ${run[*]}}"
  [[ $v == "bootrino "* && ( -z $version || $v == "$version" ) ]] ||
    die "bootrino-$arch --version says '$v' (expected ${version:-bootrino VERSION})"
  version=$v
  say "$arch: $v${run:+ (under ${run[*]})}"
  if ((${#run[@]})); then
    say "$arch: unit tests under ${run[*]}"
    (cd "$BUILD_ROOT/$arch" && ctest --output-on-failure --no-tests=error -L '^unit$') >&2 ||
      die "the $arch unit tests failed under QEMU (output above)"
  fi
  (cd "$OUT" && sha256sum "bootrino-$arch" >"bootrino-$arch.sha256")
  if [[ -n ${BOOTRINO_SIGN_KEY:-} ]]; then
    openssl dgst -sha256 -sign "$BOOTRINO_SIGN_KEY" -out "$OUT/bootrino-$arch.sig" "$OUT/bootrino-$arch" ||
      die "could not sign bootrino-$arch with $BOOTRINO_SIGN_KEY (an EC P-256 private key in PEM)"
  fi
done

# What the binaries contain of others' software: components, versions, licences, sources, the texts and the
# source offer (packaging/third_party.sh), with a .sha256 like the binaries'.
say "THIRD-PARTY-NOTICES.txt for ${ARCHES[*]}"
notice_args=()
for arch in "${ARCHES[@]}"; do notice_args+=(--arch "$arch"); done
packaging/third_party.sh "${notice_args[@]}" --base-url "$BASE_URL" >"$OUT/THIRD-PARTY-NOTICES.txt.tmp" ||
  die "packaging/third_party.sh could not write the third-party notices (its messages are above)"
mv -f "$OUT/THIRD-PARTY-NOTICES.txt.tmp" "$OUT/THIRD-PARTY-NOTICES.txt"
(cd "$OUT" && sha256sum THIRD-PARTY-NOTICES.txt >THIRD-PARTY-NOTICES.txt.sha256)

# install.sh with this release's base URL in place of the placeholder and the binaries' SHA-256 pinned in it:
# whoever fetches it over https gets exactly these binaries, wherever they download them from.
arch_args=()
for arch in "${ARCHES[@]}"; do arch_args+=(--arch "$arch"); done
packaging/stamp_install.sh --base-url "$BASE_URL" "${arch_args[@]}" "$OUT" ||
  die "could not write install.sh with the base URL and the binaries' SHA-256 (packaging/stamp_install.sh, above)"

say "$version in $OUT, to publish at $BASE_URL:"
for arch in "${ARCHES[@]}"; do
  say "  bootrino-$arch  $(stat -c %s "$OUT/bootrino-$arch") bytes  sha256 $(cut -d' ' -f1 "$OUT/bootrino-$arch.sha256")"
done
say "  THIRD-PARTY-NOTICES.txt  $(grep -c '^    Contained: ' "$OUT/THIRD-PARTY-NOTICES.txt") components"
echo "$OUT"
