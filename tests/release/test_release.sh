#!/usr/bin/env bash
# packaging/release.sh end to end (slow: not in the default run; `tests/run.sh release` or
# `ctest -L release`): both static binaries under 6 MB stripped, for the right machine, their .sha256 and .sig,
# THIRD-PARTY-NOTICES.txt and its .sha256,
# the aarch64 one's --version and unit tests under qemu-aarch64-static (release.sh itself fails otherwise),
# and the published directory used as users will: install.sh from it, with the base URL and the binaries'
# SHA-256 release.sh wrote into it, installs each binary byte for byte.
# The first run builds the libraries for aarch64 (minutes); later runs reuse them and the build trees in
# $RELEASE_BUILD_DIR (default build-release/ in the source tree).
source "$(dirname "$0")/../integration/lib.sh"
source "$BOOTRINO_SOURCE/tests/lib/release_checks.sh"
start_fault_server
dist="$WWW/dist"
export RELEASE_BUILD_DIR=${RELEASE_BUILD_DIR:-$BOOTRINO_SOURCE/build-release}
openssl ecparam -name prime256v1 -genkey -noout -out "$WORK/sign.pem" 2>/dev/null
openssl ec -in "$WORK/sign.pem" -pubout -out "$WORK/sign.pub.pem" 2>/dev/null

rc=0
BOOTRINO_SIGN_KEY="$WORK/sign.pem" nice "$BOOTRINO_SOURCE/packaging/release.sh" --base-url "$FS_URL/dist/" \
  --out "$dist" >"$WORK/out" 2>"$WORK/err" || rc=$?
[[ $rc == 0 ]] || fail "release.sh exited $rc"
[[ $(tail -n 1 "$WORK/out") == "$dist" ]] || fail "release.sh did not print the output directory"
expect_err "aarch64: bootrino [0-9.]+ \(under qemu-aarch64-static\)"
expect_err "tests passed, 0 tests failed"
ok "release.sh built both architectures; aarch64 --version and unit tests passed under QEMU"

for arch in x86_64 aarch64; do
  check_release_binary "$dist" "$arch"
  openssl dgst -sha256 -verify "$WORK/sign.pub.pem" -signature "$dist/bootrino-$arch.sig" "$dist/bootrino-$arch" \
    >/dev/null || fail "bootrino-$arch.sig does not verify"
  ok "bootrino-$arch: static, stripped, $RELEASE_SIZE bytes, .sha256 and .sig verify"
done
"$dist/bootrino-x86_64" --version | grep -q "^bootrino " || fail "bootrino-x86_64 --version"
# The third-party notices (their content in depth: tests/integration/test_third_party_notices.sh), published too.
(cd "$dist" && sha256sum -c --quiet THIRD-PARTY-NOTICES.txt.sha256) || fail "THIRD-PARTY-NOTICES.txt.sha256 does not match"
grep -q "^\[[0-9]*\] syslinux " "$dist/THIRD-PARTY-NOTICES.txt" || fail "THIRD-PARTY-NOTICES.txt does not name syslinux"
curl -fsS "$FS_URL/dist/THIRD-PARTY-NOTICES.txt" | cmp -s - "$dist/THIRD-PARTY-NOTICES.txt" ||
  fail "THIRD-PARTY-NOTICES.txt is not published next to the binaries"
grep -qx "DEFAULT_BASE_URL=\"$FS_URL/dist\"" "$dist/install.sh" || fail "install.sh does not name $FS_URL/dist"
for arch in x86_64 aarch64; do check_release_pins "$dist" "$arch"; done
ok "THIRD-PARTY-NOTICES.txt covers both binaries, its .sha256 verifies, it is published with them"
ok "install.sh names the base URL and pins both binaries' SHA-256"

# As a user would: the published install.sh, no --base-url.
rc=0
curl -fsSL "$FS_URL/dist/install.sh" | dash -s -- --install-only --dir "$WORK/i" --key "$WORK/sign.pub.pem" \
  >"$WORK/out" 2>"$WORK/err" || rc=$?
[[ $rc == 0 ]] || fail "the published install.sh exited $rc"
cmp "$dist/bootrino-x86_64" "$WORK/i/bootrino" || fail "install.sh did not install bootrino-x86_64"
expect_err "verified: sha256 pinned by install.sh and signature"
ok "the published install.sh installs bootrino-x86_64 from its own base URL, pin and signature checked"

mkdir -p "$WORK/arm"
# shellcheck disable=SC2016  # $1 belongs to the fake uname
printf '#!/bin/sh\ncase $1 in -m) echo aarch64 ;; *) echo Linux ;; esac\n' >"$WORK/arm/uname"
chmod +x "$WORK/arm/uname"
rc=0
PATH="$WORK/arm:$PATH" dash -s -- --install-only --dir "$WORK/a" <"$dist/install.sh" >"$WORK/out" 2>"$WORK/err" ||
  rc=$?
[[ $rc == 0 ]] || fail "install.sh on a (faked) aarch64 machine exited $rc"
cmp "$dist/bootrino-aarch64" "$WORK/a/bootrino" || fail "install.sh did not install bootrino-aarch64"
qemu-aarch64-static "$WORK/a/bootrino" --version | grep -q "^bootrino " || fail "the installed aarch64 binary"
ok "on aarch64 it installs bootrino-aarch64, which runs under QEMU"
