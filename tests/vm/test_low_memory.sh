#!/usr/bin/env bash
# A payload bigger than the machine's RAM (a 1 GiB initrd on a 256 MiB guest): bootrino exits 5
# after reading the manifest and before fetching any payload; the host keeps running.
# Before kexec support, `run --yes` is refused with exit 2; VM_CMD=dry-run checks this path now.
source "$(dirname "$0")/lib.sh"
serve "$FIX/www"
REF=$(pinned huge/bootrino.sh)
MEM=256
EXTRA_APPEND="bootrino.cmd=$VM_CMD $(host_args "${GUEST_FAST[@]}" --keep-disk)"
boot_host
wait_for '^BOOTRINO-HOST-READY' 120 ready
wait_for '^BOOTRINO-HOST-EXIT=' 300 bootrino-done
expect_seen '^BOOTRINO-HOST-EXIT=5$'
expect_seen '^bootrino: error: .*RAM'
ok "1 GiB payload on a 256 MiB guest: bootrino $VM_CMD exited 5"
wait_for '^BOOTRINO-HOST-ALIVE' 30
[[ -z $(requests_for /huge/initrd.img) && -z $(requests_for /huge/vmlinuz) ]] ||
  fail "bootrino fetched payload files although they cannot fit"
ok "no payload file was requested; the host is still alive"
stop_vm
