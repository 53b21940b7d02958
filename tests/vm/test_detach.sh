#!/usr/bin/env bash
# `bootrino run REF --yes --detach`: bootrino verifies and loads, returns 0 to
# its caller (a shell, as cloud-init's runcmd), and reboots into the RAM OS
# only after that caller has exited.
source "$(dirname "$0")/lib.sh"
boot_sample "$FIX/www" alpine-like/bootrino.sh --detach
expect_host_exit 0 caller-done
expect_seen '^bootrino: the reboot into .* happens in the background once the calling process'
ok "--detach: bootrino returned 0 to its caller after loading"
wait_for "^BOOTRINO-RAMOS-UP name=alpine-like" 120 ramos-up
ok "--detach: the reboot into the RAM OS followed once the caller had exited"
check_ramos alpine-like "modules=loop,squashfs modloop=/boot/modloop-virt quiet"
stop_vm
