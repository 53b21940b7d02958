#!/usr/bin/env bash
# The disk takeover end to end. The host stand-in boots like a cloud image (ext4 root on /dev/vda1,
# mounted read-write); `bootrino run REF --yes` replaces that disk while it is mounted, then
# kexecs. The RAM OS finds the new data partition empty and leaves a marker on it. Then the same
# disk image is booted from the firmware, SeaBIOS and OVMF, with no -kernel: the RAM OS comes up
# each time (from syslinux, from systemd-boot) and reads the marker written before the reboot.
source "$(dirname "$0")/lib.sh"
private_disk
sample_variant persist "quiet ramos.marker=kept-across-reboots"
serve "$WORK/www"
REF=$(pinned persist/bootrino.sh)
EXTRA_APPEND="bootrino.cmd=$VM_CMD $(host_args "${GUEST_FAST[@]}")"
boot_host_disk "$HOST_DISK"
wait_for '^BOOTRINO-HOST-READY' 120 ready
wait_for '^BOOTRINO-RAMOS-UP|^BOOTRINO-HOST-EXIT=' 400
seen '^BOOTRINO-RAMOS-UP' || fail "bootrino returned ($(console_value BOOTRINO-HOST-EXIT=)) instead of booting the sample"
expect_seen '^bootrino: replacing /dev/vda \(2048\.0 MiB\)'
expect_seen '^bootrino: wrote [0-9.]+ MiB to /dev/vda in [0-9.]+ s'
ok "bootrino replaced the mounted root disk: $(tr -d '\r' <"$SERIAL" | grep -om1 'wrote .* s$')"
wait_for '^BOOTRINO-RAMOS-SHELL' 60 ramos-shell
expect_not_seen '^RAMOS-DATA-ERROR'
[[ $(console_value "RAMOS-DATA: ") == NONE ]] || fail "the new data partition was not empty: $(console_value "RAMOS-DATA: ")"
expect_seen '^RAMOS-DATA-WRITTEN: kept-across-reboots$'
ok "after the kexec the RAM OS mounted the new data partition ($(console_value "RAMOS-DATA-DEVICE: ")) and wrote a marker"
stop_vm

# The disk as written, read with the reference tools on the image file.
sfdisk -d "$HOST_DISK" >"$WORK/table"
grep -q 'name="bootrino-boot", attrs="LegacyBIOSBootable"' "$WORK/table" &&
  grep -q 'name="bootrino-data"' "$WORK/table" || fail "unexpected partition table: $(cat "$WORK/table")"
data=$(sfdisk -J "$HOST_DISK" | python3 "$TESTS_LIB/jsonq.py" - 'd["partitiontable"]["partitions"][1]["start"]*512')
e2fsck -fn "$HOST_DISK?offset=$data" >"$WORK/e2fsck" 2>&1 || { cat "$WORK/e2fsck"; fail "e2fsck on the data partition"; }
ok "the image holds the new GPT; its data partition checks clean"

for fw in bios uefi; do
  boot_firmware "$fw" "$HOST_DISK"
  wait_for 'BOOTRINO-RAMOS-UP' 300 "$fw-ramos-up"  # firmware output may precede it on the line
  wait_for '^BOOTRINO-RAMOS-SHELL' 60
  [[ $(console_value "RAMOS-FIRMWARE: ") == "$fw" ]] || fail "booted by '$(console_value "RAMOS-FIRMWARE: ")', not $fw"
  [[ $(console_value "RAMOS-DATA: ") == kept-across-reboots ]] ||
    fail "$fw: the marker written before the reboot is gone: RAMOS-DATA: $(console_value "RAMOS-DATA: ")"
  line=$(console_value "cmdline: ")
  [[ $line == *"ramos.marker=kept-across-reboots"* && $line == *"console=ttyS0"* ]] ||
    fail "$fw: the firmware boot's cmdline '$line' is not the kexec boot's"
  [[ $line != *bootrino.id=* ]] || fail "$fw: the one-time bootrino.id reached a firmware boot: $line"
  overlay_content /etc/bootrino/manifest.json | grep '"alpine-like"' >/dev/null || fail "$fw: no persistent overlay"
  ok "$fw: the firmware booted the RAM OS from the disk; the data partition kept the marker"
  stop_vm
done
