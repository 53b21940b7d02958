#!/usr/bin/env bash
# Failures before the commit point leave the host disk byte-identical and the host running: the
# payload's checks (a wrong hash, a wrong length: exit 3), a kernel in lockdown without --fallback
# (exit 6), the manifest's hook failing or hanging (exit 8), too little RAM (exit 5) and a disk too
# small for the manifest's layout (exit 9). bootrino runs without --keep-disk on a host booted from
# that disk (untouched.sh); after the last case the disk boots once more. The network's faults are
# test_faults_untouched.sh's.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/untouched.sh"
untouched_setup

REF=$(pinned broken/bootrino.sh)
untouched bad-hash 3 'initramfs-virt: .*sha256 mismatch'

initrd_bytes=$(stat -c %s "$FIX/www/faults/initramfs-virt")
REF=$(pinned faults/wrong-length.sh)
untouched wrong-length 3 "initramfs-virt: .*the server sent $initrd_bytes bytes but the manifest says $((initrd_bytes + 1)) bytes"

: >"$SERVER_LOG"
REF=$(pinned alpine-like/bootrino.sh)
untouched lockdown 6 "lockdown: kernel lockdown is 'integrity'" lockdown=integrity
[[ ! -s $SERVER_LOG ]] || fail "lockdown: bootrino fetched something although preflight refused: $(head -n 3 "$SERVER_LOG")"

REF=$(pinned faults/hook-fails.sh)
untouched hook-fails 8 'hook bootrino_after_stage exited with status 3$'
expect_seen '^fault sample: the hook refuses this stage'

REF=$(pinned faults/hook-hangs.sh)
untouched hook-hangs 8 'hook bootrino_after_stage did not finish within its 2 s limit; killed$'

# Too little RAM: refused from the manifest alone, before any payload is fetched.
: >"$SERVER_LOG"
REF=$(pinned faults/min-ram.sh)
MEM=256 untouched min-ram 5 'this OS needs at least 4096 MiB of RAM; this machine has [0-9]+ MiB'
REF=$(pinned huge/bootrino.sh)
MEM=256 untouched too-big-for-ram 5 'the takeover needs [0-9]+ MiB of RAM at once .* but only [0-9]+ MiB is available'
payload=$(grep -v -e '/faults/min-ram.sh"' -e '/huge/bootrino.sh"' "$SERVER_LOG" || true)
[[ -z $payload ]] || fail "bootrino fetched payload files although they cannot fit: $payload"
ok "min-ram, too-big-for-ram: only the manifests were fetched"

REF=$(pinned faults/disk-too-small.sh)
untouched disk-too-small 9 'the disk holds 2048 MiB, the layout needs [0-9]+ MiB \(boot 4096 MiB'

untouched_final_boot
