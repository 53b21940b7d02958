# shellcheck shell=bash disable=SC2034  # sets RELEASE_SIZE, which its callers read
# What a release directory (packaging/release.sh --out DIST) must hold for each binary, checked alike by
# tests/release/test_release.sh (both architectures) and tests/aarch64/test_release.sh (aarch64 alone). The
# test that sources this defines fail (tests/integration/lib.sh).

# check_release_binary DIST ARCH: DIST/bootrino-ARCH is a static, stripped binary for ARCH's machine under
# the 6 MB target, and DIST/bootrino-ARCH.sha256 matches it. Sets RELEASE_SIZE to its size in bytes.
check_release_binary() {
  local dist=$1 arch=$2 machine what
  case $arch in
    x86_64) machine=x86-64 ;;
    aarch64) machine="ARM aarch64" ;;
    *) fail "check_release_binary: '$arch' is no release architecture (x86_64 or aarch64)" ;;
  esac
  what=$(file -b "$dist/bootrino-$arch")
  [[ $what == *"$machine"* && $what == *"statically linked"* && $what == *", stripped"* ]] ||
    fail "bootrino-$arch: $what"
  RELEASE_SIZE=$(stat -c %s "$dist/bootrino-$arch")
  ((RELEASE_SIZE < 6000000)) || fail "bootrino-$arch is $RELEASE_SIZE bytes stripped, over the 6 MB target"
  (cd "$dist" && sha256sum -c --quiet "bootrino-$arch.sha256") || fail "bootrino-$arch.sha256 does not match"
}

# check_release_pins DIST ARCH: DIST/install.sh pins bootrino-ARCH's SHA-256 (from its .sha256), and
# DIST/THIRD-PARTY-NOTICES.txt has an entry for the C library linked into it.
check_release_pins() {
  local dist=$1 arch=$2
  grep -qx "PINNED_SHA256_${arch^^}=\"$(cut -d' ' -f1 "$dist/bootrino-$arch.sha256")\"" "$dist/install.sh" ||
    fail "install.sh does not pin bootrino-$arch's SHA-256"
  grep -q "^\[[0-9]*\] GNU C Library ($arch) " "$dist/THIRD-PARTY-NOTICES.txt" ||
    fail "THIRD-PARTY-NOTICES.txt has no entry for bootrino-$arch's C library"
}
