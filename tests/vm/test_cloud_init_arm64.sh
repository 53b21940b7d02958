#!/usr/bin/env bash
# test_cloud_init.sh on arm64: a Debian 12 arm64 instance with Debian's cloud-init, in QEMU's emulated virt
# machine booted through AAVMF, runs README.md's one-liner; install.sh fetches the aarch64 release binary, which
# takes the disk over and kexecs into the arm64 sample RAM OS; then the kept disk boots through the firmware
# alone into the same RAM OS (test_cloud_init.sh says what is checked).
VM_ARCH=aarch64
source "$(dirname "$0")/test_cloud_init.sh"
