#!/usr/bin/env bash
# A golden image's first boot without cloud-init: nobody mounts the NoCloud seed. The host stand-in (no
# cloud-init in it) has a second disk holding a seed as cloud-localds makes one, a FAT volume labelled CIDATA
# (tests/vm/cloud_image.sh seed) with a #cloud-config user-data naming a manifest of this run, and meta-data.
# `bootrino userdata --json` must report that user-data, from the volume bootrino mounted read-only itself;
# afterwards the volume must not be mounted and bootrino's directory for it must be gone. The guest has no
# network at all: no metadata service could answer instead.
source "$(dirname "$0")/lib.sh"
TOKEN=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
MANIFEST="http://10.0.2.100/seed-$TOKEN/bootrino.sh"
printf '#cloud-config\nbootrino:\n  manifest: %s\n' "$MANIFEST" >"$WORK/user-data"
printf 'instance-id: iid-seed-%s\nlocal-hostname: seeded\n' "$TOKEN" >"$WORK/meta-data"
"$VM_DIR/cloud_image.sh" seed "$WORK/seed.img" "$WORK/user-data" "$WORK/meta-data" || fail "could not make the seed"
# Read-only for QEMU too: whatever the guest does, the seed image stays as made.
QEMU_EXTRA=(-drive "file=$WORK/seed.img,if=none,id=seed,format=raw,readonly=on" -device virtio-blk-pci,drive=seed)
EXTRA_APPEND="bootrino.cmd=userdata"
boot_host
wait_for '^BOOTRINO-HOST-READY' 120 ready
wait_for '^HOST-USERDATA: ' 60 userdata
expect_seen '^BOOTRINO-HOST-EXIT=0'
console_value "HOST-USERDATA: " >"$WORK/userdata.json"
python3 - "$WORK/userdata.json" "$MANIFEST" <<'PY' || fail "bootrino userdata --json did not report the seed"
import json, sys
config = json.load(open(sys.argv[1]))
want = {"source": "user-data on the cidata volume /dev/vda, mounted read-only by bootrino", "manifest": sys.argv[2]}
got = {k: config.get(k) for k in want}
notes = config.get("notes", [])
mounted = [n for n in notes if n.startswith("the cidata volume /dev/vda (vfat) was not mounted: bootrino mounted it")]
if got != want or not mounted:
    sys.exit("want %s and a note that bootrino mounted /dev/vda; got %s, notes %s" % (want, got, notes))
PY
ok "bootrino userdata --json: the manifest from user-data on the unmounted CIDATA volume /dev/vda, which it mounted"
tr -d '\r' <"$SERIAL" | grep '^HOST-MOUNT: ' >"$WORK/mounts" || true
grep -q ' /proc rw' "$WORK/mounts" || fail "the guest printed no mountinfo after bootrino"
! grep -E 'bootrino-seed| - vfat |/dev/vda' "$WORK/mounts" ||
  fail "the seed volume is still mounted after bootrino exited"
! tr -d '\r' <"$SERIAL" | grep -E '^HOST-LEFT: .*bootrino-seed' || fail "bootrino left its seed directory behind"
ok "afterwards the volume is not mounted, and no bootrino-seed directory is left in /run or /tmp"
stop_vm
