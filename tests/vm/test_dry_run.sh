#!/usr/bin/env bash
# The host stand-in boots under QEMU, gets DHCP, reaches the loopback server through guestfwd, and
# `bootrino run REF --dry-run` fetches the alpine-like sample into RAM, verifies it and exits 0;
# the host keeps running. Passes without kexec support.
source "$(dirname "$0")/lib.sh"
VM_CMD=dry-run boot_sample "$FIX/www" alpine-like/bootrino.sh
expect_seen '^host: eth0 10\.0\.2\.15/'
ok "host stand-in booted, eth0 has 10.0.2.15 by DHCP"
expect_host_exit 0
expect_seen 'kernel +vmlinuz-virt .*verified'
expect_seen 'initrd +initramfs-virt .*verified'
expect_seen 'modloop-virt .*verified'
expect_seen 'cmdline modules=loop,squashfs modloop=/boot/modloop-virt quiet'
expect_seen 'nothing was changed'
ok "run --dry-run verified the alpine-like payload over guestfwd and exited 0"
wait_for '^BOOTRINO-HOST-ALIVE' 30
for f in vmlinuz-virt initramfs-virt modloop-virt; do
  requests_for "/alpine-like/$f" | grep '"status": 200' >/dev/null || fail "the server never served $f"
done
ok "host still alive after the dry run; the server served every payload file"
stop_vm
