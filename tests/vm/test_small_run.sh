#!/usr/bin/env bash
# A host whose /run is a tenth of its RAM (initramfs-tools' default, as on Debian cloud images): the
# payload fits in the RAM but not in /run. bootrino stages in a tmpfs of its own, sized for the payload,
# and kexecs into the RAM OS. Here a 256 MiB host stand-in with a /run of 10 % (about 25 MiB) fetches
# the alpine-like sample with a 32 MiB file added (47 MiB in all). Staged in /run, as before, it
# stopped with "No space left on device" reported as a bug in bootrino.
source "$(dirname "$0")/lib.sh"
MEM=256
cmdline="modules=loop,squashfs modloop=/boot/modloop-virt quiet"
sample_variant padded "$cmdline"
head -c $((32 << 20)) /dev/urandom >"$WORK/www/padded/pad.img"
files=$(python3 - "$WORK/www/padded" <<'PY'
import hashlib, json, os, sys
d = sys.argv[1]
pad = os.path.join(d, "pad.img")
print(json.dumps([
    {"url": "modloop-virt", "name": "boot/modloop-virt", "size": os.path.getsize(os.path.join(d, "modloop-virt")),
     "sha256": hashlib.sha256(open(os.path.join(d, "modloop-virt"), "rb").read()).hexdigest()},
    {"url": "pad.img", "name": "pad.img", "size": os.path.getsize(pad),
     "sha256": hashlib.sha256(open(pad, "rb").read()).hexdigest()}]))
PY
)
python3 "$TESTS_LIB/manifest.py" edit "$WORK/www/padded/bootrino.sh" "$WORK/padded.sh" \
  --set "boot.architectures.*.files=$files" || fail "cannot add the padding file to the manifest"
mv "$WORK/padded.sh" "$WORK/www/padded/bootrino.sh"
serve "$WORK/www"
REF=$(pinned padded/bootrino.sh)
EXTRA_APPEND="bootrino.run-size=10% bootrino.cmd=$VM_CMD $(host_args "${GUEST_FAST[@]}" --keep-disk)"
boot_host
wait_for '^BOOTRINO-HOST-READY' 120 ready
run_kib=$(console_value "host: /run is a tmpfs of " | tr -dc 0-9)
[[ -n $run_kib ]] && ((run_kib < 47 * 1024)) || fail "the host's /run ($run_kib kB) is not smaller than the payload"
ok "the host's /run is a tmpfs of $run_kib kB, smaller than the 47 MiB payload"
wait_for '^BOOTRINO-RAMOS-UP|^BOOTRINO-HOST-EXIT=' 300
if seen '^BOOTRINO-HOST-EXIT='; then
  fail "bootrino returned ($(console_value BOOTRINO-HOST-EXIT=)) instead of booting the padded sample"
fi
# The payload's size as bootrino says it (MiB, one decimal), from the files: the sample's initrd may grow.
mib=$(cd "$WORK/www/padded" && stat -c %s vmlinuz-virt initramfs-virt modloop-virt pad.img |
  awk '{ t += $1 } END { printf "%.1f", t / 1048576 }')
expect_seen "^bootrino: fetching 4 files \\(${mib/./\\.} MiB\\) into /run/bootrino-stage\\.[0-9]+\\.[A-Za-z0-9]{6}"
expect_not_seen 'cannot (make a mount namespace|mount a tmpfs)'
ok "bootrino staged 47 MiB in a tmpfs of its own and kexec'd"
# What the takeover held at once, measured at the load (MemAvailable against the RAM check's), within what the
# check counted: the budget is not an underestimate.
read -r in_use budget < <(tr -d '\r' <"$SERIAL" |
  sed -nE 's/^bootrino: RAM in use by the takeover at the load: ([0-9.]+) MiB \(the check counted ([0-9.]+) MiB\)$/\1 \2/p' |
  head -n 1) || true
[[ -n ${budget:-} ]] || fail "bootrino did not say how much RAM the takeover held at the load"
python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) <= float(sys.argv[2]) else 1)' "$in_use" "$budget" ||
  fail "the takeover held $in_use MiB at the load, more than the $budget MiB the RAM check counted"
ok "at the load the takeover held $in_use MiB of RAM, within the $budget MiB the check counted"
wait_for '^BOOTRINO-RAMOS-UP name=alpine-like' 10 ramos-up
wait_for '^BOOTRINO-RAMOS-SHELL' 60
check_ramos alpine-like "$cmdline"
stop_vm
