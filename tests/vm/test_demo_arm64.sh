#!/usr/bin/env bash
# test_demo.sh for `packaging/demo.sh --arch aarch64`: README's demo on an emulated arm64 Debian instance, then
# its kept disk booted through AAVMF (test_demo.sh says what is checked).
VM_ARCH=aarch64
source "$(dirname "$0")/test_demo.sh"
