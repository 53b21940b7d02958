#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (.ci/run calls this).
# On a fresh Debian/Ubuntu machine it installs what it needs, builds the
# static binary (dependencies cached in ~/.cache/bootrino), then runs every
# ctest tier. A tier that cannot run fails loudly; nothing is skipped silently.
#   tests/run.sh              every tier but release
#   tests/run.sh unit         one tier (unit, integration, vm, memcheck, aarch64)
#   tests/run.sh aarch64      packaging/release.sh --arch aarch64: the cross build, its --version and unit
#                             tests under qemu-aarch64-static (aarch64 libraries cached apart from the native ones),
#                             then that binary's kexec, disk takeover and the README's one-liner on a Debian
#                             12 arm64 cloud instance in an emulated arm64 machine (tests/vm/test_*_arm64.sh)
#   tests/run.sh release      packaging/release.sh end to end, both architectures (slow: not in the full run)
#   tests/run.sh sanitize     unit and integration in the checked build (ASan+UBSan)
#   tests/run.sh fuzz         a short run of every fuzz target (tests/fuzz/README.md)
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
BUILD_DIR=${BUILD_DIR:-build}
export BUILD_DIR
tier=${1:-}

source packaging/packages.sh
ensure_packages openssl python3 nginx curl cpio bsdutils
ensure_packages dash busybox-static wget  # install.sh runs under both shells, with curl or wget
ensure_packages dosfstools mtools fdisk ovmf  # bootloader tests: FAT images, GPT, UEFI firmware
ensure_packages e2fsprogs util-linux  # ext4 tests: e2fsck, dumpe2fs, debugfs, mke2fs, blkid
ensure_packages iproute2  # the metadata trust test: ip, in a network namespace of its own (unshare is util-linux)
tests/vm/fixtures.sh packages  # QEMU and the tools that build VM fixtures
VM_ARCH=aarch64 tests/vm/fixtures.sh packages  # the same for the arm64 guests (and their host kernel's build)
VM_ARCH=aarch64 tests/vm/cloud_image.sh packages  # the arm64 cloud instance's build (qemu-user for its chroot)
ensure_packages valgrind  # the memcheck tier
command -v valgrind >/dev/null || { echo "tests: ERROR: valgrind is missing after install" >&2; exit 1; }

# The checked build (clang, ASan+UBSan, libFuzzer; tests/checked_build.sh) runs
# the sanitize and fuzz tiers; a sanitizer error exits 86, an exit code bootrino never uses.
export ASAN_OPTIONS=${ASAN_OPTIONS:-exitcode=86:detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-exitcode=86:print_stacktrace=1}
export ASAN_SYMBOLIZER_PATH=${ASAN_SYMBOLIZER_PATH:-/usr/lib/llvm-16/bin/llvm-symbolizer}  # from llvm-16
run_checked() {  # run_checked TIER CTEST_ARGS...
  local dir
  dir=$(tests/checked_build.sh | tail -n 1) || return 1
  echo "tests: running the $1 tier in $dir"
  (cd "$dir" && ctest --output-on-failure --no-tests=error "${@:2}")
}
# integration.static checks that the binary is static, which a sanitizer build cannot be; integration.install
# serves the binary as a release, and a sanitizer build is larger than install.sh's 32 MiB cap on one (the
# script is the test's subject there, and the main tier runs it with the real binary).
sanitize_tier() { run_checked sanitize -L '^(unit|integration)$' -E '^integration\.(static|install)$'; }
fuzz_tier() { run_checked fuzz -L '^fuzz$' -j2; }
case $tier in
  sanitize) sanitize_tier; exit ;;
  fuzz) fuzz_tier; exit ;;
esac

echo "tests: building"
packaging/build.sh >/dev/null
aarch64_prerequisites() {  # built outside the aarch64 tests' time limits (cached afterwards)
  echo "tests: the aarch64 libraries and VM fixtures (minutes the first time, then cached)"
  BOOTRINO_TARGET=aarch64-linux-gnu packaging/deps.sh >/dev/null
  VM_ARCH=aarch64 tests/vm/fixtures.sh >/dev/null
  VM_ARCH=aarch64 tests/vm/cloud_image.sh >/dev/null
}
aarch64_job=
if [[ -z $tier ]]; then
  # The aarch64 tier is mostly compiling (its QEMU tests take about five minutes together; its fixtures' kernel
  # is compiled too, and the arm64 instance built, once), and the VM fixtures and tests keep one core busy with
  # one QEMU at a time: run them side by side, the cross build niced so the VM tests keep their pace. Its output
  # is printed when it is done; its result counts like every other tier's.
  aarch64_log=$(mktemp "${TMPDIR:-/tmp}/bootrino-aarch64-tier.XXXXXX")
  echo "tests: the aarch64 tier runs in the background (log: $aarch64_log)"
  # A process group of its own (set -m), so that the suite stopping for any reason stops all of it.
  set -m
  ( renice -n 10 -p "$BASHPID" >/dev/null
    aarch64_prerequisites && cd "$BUILD_DIR" && ctest --output-on-failure --no-tests=error -L '^aarch64$' ) \
    >"$aarch64_log" 2>&1 &
  aarch64_job=$!
  set +m
  trap 'kill -- -"$aarch64_job" 2>/dev/null || true; rm -f "$aarch64_log"' EXIT
elif [[ $tier == aarch64 ]]; then
  aarch64_prerequisites
fi
if [[ -z $tier || $tier == vm ]]; then
  # Built here, with progress, so that no vm test spends its time limit on them (cached afterwards).
  echo "tests: VM fixtures and the Debian cloud-init image (minutes the first time, then cached)"
  tests/vm/fixtures.sh >/dev/null
  tests/vm/secure_boot_image.sh >/dev/null
  # debootstrap needs root: with sudo when not root, into the same cache.
  if [[ $EUID -eq 0 ]]; then
    tests/vm/cloud_image.sh >/dev/null
  else
    sudo env "BOOTRINO_CACHE=${BOOTRINO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bootrino}" tests/vm/cloud_image.sh >/dev/null
  fi
fi
echo "tests: running ${tier:-every} tier"
if [[ -n $tier ]]; then
  cd "$BUILD_DIR"
  exec ctest --output-on-failure --no-tests=error -L "^${tier}\$"
fi
rc=0
# release (packaging/release.sh for both architectures) runs only as `tests/run.sh release`; its aarch64 half
# is the aarch64 tier, already running in the background.
(cd "$BUILD_DIR" && ctest --output-on-failure --no-tests=error -LE '^(release|aarch64)$') || rc=1
# The checked tiers next, while the aarch64 tier (the longest part of a run on an empty cache: its libraries,
# its host kernel, the arm64 instance's image and the cross build) still runs beside them.
sanitize_tier || rc=1
fuzz_tier || rc=1
echo "tests: waiting for the aarch64 tier"
aarch64_rc=0
wait "$aarch64_job" || aarch64_rc=$?
trap - EXIT
cat "$aarch64_log"
rm -f "$aarch64_log"
if ((aarch64_rc != 0)); then
  echo "tests: ERROR: the aarch64 tier failed (exit $aarch64_rc; its output is above)" >&2
  rc=1
fi
exit $rc
