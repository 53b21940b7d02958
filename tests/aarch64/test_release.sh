#!/usr/bin/env bash
# The aarch64 release binary, on every full run: `packaging/release.sh --arch aarch64` run as README shows it
# (from the repository root, the default RELEASE_BUILD_DIR), which cross-compiles bootrino and its unit tests,
# runs its --version and every unit test under qemu-aarch64-static, and writes the release files. Every aarch64
# user's binary comes from this path. The x86_64 release binary needs no tier of its own: release.sh builds it
# exactly as packaging/build.sh builds the binary every other tier tests, and only strips it.
# The first run builds the libraries for aarch64 (tests/run.sh does it beforehand, with progress); later runs
# reuse them, the cross GoogleTest and the build tree in build-release/aarch64 (shared with the release tier).
source "$(dirname "$0")/../integration/lib.sh"
source "$BOOTRINO_SOURCE/tests/lib/release_checks.sh"
dist="$WORK/dist"
native_build=${BOOTRINO%/agent/bootrino}
[[ -f $native_build/CTestTestfile.cmake ]] || fail "no ctest tree at $native_build (BOOTRINO=$BOOTRINO)"
version=$("$BOOTRINO" --version)

# Relative and unset on purpose: a relative GTest_DIR once broke the aarch64 configure (release.sh makes its
# build root absolute); this is the path README's command takes.
rc=0
(cd "$BOOTRINO_SOURCE" && env -u RELEASE_BUILD_DIR nice packaging/release.sh --arch aarch64 \
  --base-url http://127.0.0.1:1/x --out "$dist") >"$WORK/out" 2>"$WORK/err" || rc=$?
[[ $rc == 0 ]] || fail "release.sh --arch aarch64 exited $rc"
[[ $(tail -n 1 "$WORK/out") == "$dist" ]] || fail "release.sh did not print the output directory"
expect_err "aarch64: ${version//./\\.} \(under qemu-aarch64-static\)"
ok "release.sh --arch aarch64 from the repository root; its --version under QEMU says '$version', as x86_64's"

# Every unit test the native build has ran under QEMU, and passed: none left out of the cross build.
unit_tests() { (cd "$1" && ctest -N -L '^unit$' | sed -n 's/^ *Test *#[0-9]*: //p' | sort); }
native=$(unit_tests "$native_build")
cross=$(unit_tests "$BOOTRINO_SOURCE/build-release/aarch64")
[[ -n $native && $cross == "$native" ]] || fail "aarch64 unit tests: '${cross//$'\n'/ }', native: '${native//$'\n'/ }'"
n=$(wc -l <<<"$native")
expect_err "100% tests passed, 0 tests failed out of $n\$"
ok "all $n unit test binaries (${native//$'\n'/, }) passed under qemu-aarch64-static"

check_release_binary "$dist" aarch64
check_release_pins "$dist" aarch64
ok "bootrino-aarch64: static, stripped, $RELEASE_SIZE bytes; its .sha256, install.sh's pin and the notices agree"
