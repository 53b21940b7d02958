#!/usr/bin/env bash
# A payload file whose bytes do not match the manifest's sha256 (same size, one byte flipped):
# bootrino exits 3 before loading anything, and the host keeps running. Today (before kexec
# support) `run --yes` is refused with exit 2; VM_CMD=dry-run checks the same path now.
source "$(dirname "$0")/lib.sh"
boot_sample "$FIX/www" broken/bootrino.sh
expect_host_exit 3
expect_seen '^bootrino: error: .*(sha256|SHA-256|hash)'
expect_seen '^bootrino: what to do:'
ok "tampered initramfs-virt: bootrino $VM_CMD exited 3 with a hash error"
wait_for '^BOOTRINO-HOST-ALIVE' 30
expect_not_seen '^BOOTRINO-RAMOS-UP'
expect_not_seen 'Starting new kernel'
ok "no kexec; the host is still alive"
stop_vm
