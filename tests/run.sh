#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (.ci/run calls this).
# On a fresh Debian/Ubuntu machine it installs what it needs, builds the
# static binary (dependencies cached in ~/.cache/bootrino), then runs every
# ctest tier. A tier that cannot run fails loudly; nothing is skipped silently.
#   tests/run.sh              every tier
#   tests/run.sh unit         one tier (unit, integration, vm)
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
tests/vm/fixtures.sh packages  # QEMU and the tools that build VM fixtures

echo "tests: building"
packaging/build.sh >/dev/null
echo "tests: running ${tier:-every} tier"
cd "$BUILD_DIR"
if [[ -n $tier ]]; then
  exec ctest --output-on-failure --no-tests=error -L "^${tier}\$"
fi
# release (packaging/release.sh, tens of minutes the first time) runs only as `tests/run.sh release`.
exec ctest --output-on-failure --no-tests=error -LE '^release$'
