#!/usr/bin/env bash
# A payload bigger than the machine's RAM (a 1 GiB initrd on a 256 MiB guest): bootrino exits 5
# after reading the manifest and before fetching any payload; the host keeps running.
# Before kexec support, `run --yes` is refused with exit 2; VM_CMD=dry-run checks this path now.
source "$(dirname "$0")/lib.sh"
MEM=256
boot_sample "$FIX/www" huge/bootrino.sh
expect_host_exit 5
expect_seen '^bootrino: error: .*RAM'
ok "1 GiB payload on a 256 MiB guest: bootrino $VM_CMD exited 5"
expect_unfetched huge initrd.img vmlinuz
