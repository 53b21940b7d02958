#!/usr/bin/env bash
# Failures before the commit point leave the host disk byte-identical and the host running: a
# payload with a wrong hash (exit 3) and a kernel in lockdown without --fallback (exit 6). The
# host's root is mounted read-only here so that only bootrino could change the image; its sha256
# is taken before and after each run.
source "$(dirname "$0")/lib.sh"
private_disk
HOST_ROOT_MODE=ro
before=$(sha256sum <"$HOST_DISK")

serve "$FIX/www"
# check CASE EXIT EXTRA_APPEND...: boots the disk host, expects bootrino to exit EXIT, the host to
# go on, and the image to be unchanged.
check() {
  local case=$1 want=$2
  shift 2
  EXTRA_APPEND="$* bootrino.cmd=$VM_CMD $(host_args "${GUEST_FAST[@]}")"
  boot_host_disk "$HOST_DISK"
  wait_for '^BOOTRINO-HOST-READY' 120 "$case-ready"
  wait_for '^BOOTRINO-HOST-EXIT=' 300 "$case-done"
  expect_seen "^BOOTRINO-HOST-EXIT=$want\$"
  wait_for '^BOOTRINO-HOST-ALIVE' 30
  stop_vm
  [[ $(sha256sum <"$HOST_DISK") == "$before" ]] || fail "$case: the host disk changed"
  ok "$case: exit $want, the host went on, its disk is byte-identical"
}
REF=$(pinned broken/bootrino.sh)
check bad-hash 3
expect_seen '^bootrino: error: .*sha256'
REF=$(pinned alpine-like/bootrino.sh)
check lockdown 6 lockdown=integrity
expect_seen '^bootrino: error: .*lock'
