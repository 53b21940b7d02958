#!/usr/bin/env bash
# The host stand-in boots like a cloud image: from a private copy of host-disk.img, through an
# initramfs that mounts the ext4 root partition and switch_roots into it. Inside, / is ext4 on the
# disk's first partition on every bus (virtio → /dev/vda1, NVMe → /dev/nvme0n1p1, virtio-scsi →
# /dev/sda1). bootrino, put on that file system by private_disk, runs from it and kexecs into a
# sample_variant whose RAM OS writes a marker on that partition (ramos.data-label=…), read back
# from the image file afterwards. The cached master stays untouched. Needs kexec support.
source "$(dirname "$0")/lib.sh"
master_mtime=$(stat -c %Y "$FIX/host-disk.img")
private_disk
[[ $(stat -c %s "$HOST_DISK") == "$HOST_DISK_BYTES" ]] || fail "private disk has the wrong size"
(($(stat -c %b "$HOST_DISK") * 512 < 256 << 20)) || fail "the private disk copy is not sparse"
ok "private copy of host-disk.img at $HOST_DISK ($(($(stat -c %b "$HOST_DISK") / 2048)) MiB allocated)"

# root_of: the HOST-ROOT line's "- FSTYPE SOURCE" part ("ext4 /dev/vda1").
root_of() { console_value "HOST-ROOT: " | sed -nE 's/^[0-9]+ [0-9]+ [0-9:]+ [^ ]+ \/ .* - ([^ ]+) ([^ ]+) .*/\1 \2/p'; }

# bootrino on the disk host kexecs into a variant of the alpine-like sample told to use the host's
# root partition as its data partition: the RAM OS mounts it (virtio-blk, after a kexec from a
# host that never unmounted it) and leaves a marker there.
sample_variant persist "quiet ramos.data-label=$HOST_ROOT_LABEL ramos.marker=kexec-from-disk"
serve "$WORK/www"
REF=$(pinned persist/bootrino.sh)
EXTRA_APPEND="bootrino.cmd=$VM_CMD $(host_args "${GUEST_FAST[@]}" --keep-disk)"
boot_host_disk "$HOST_DISK"
wait_for '^BOOTRINO-HOST-READY' 120 ready-virtio
expect_seen "^initramfs: root LABEL=$HOST_ROOT_LABEL is /dev/vda1 \(ext4, rw\)"
[[ $(root_of) == "ext4 /dev/vda1" ]] || fail "/ is not ext4 on /dev/vda1: $(console_value "HOST-ROOT: ")"
ok "virtio: / is ext4 on /dev/vda1 ($(console_value "HOST-ROOT: "))"
expect_seen '^host: eth0 10\.0\.2\.15/'
wait_for '^BOOTRINO-RAMOS-UP|^BOOTRINO-HOST-EXIT=' 300
seen '^BOOTRINO-RAMOS-UP' || fail "bootrino returned ($(console_value BOOTRINO-HOST-EXIT=)) instead of booting the sample"
wait_for '^BOOTRINO-RAMOS-SHELL' 60 ramos-shell
ok "bootrino ran from the disk's root file system and kexec'd into the sample"
check_ramos alpine-like "ramos.marker=kexec-from-disk"
expect_not_seen '^RAMOS-DATA-ERROR'
[[ $(console_value "RAMOS-DATA-DEVICE: ") == /dev/vda1 && $(console_value "RAMOS-DATA: ") == NONE ]] ||
  fail "the RAM OS did not find an unmarked /dev/vda1: $(tr -d '\r' <"$SERIAL" | grep '^RAMOS-DATA')"
expect_seen '^RAMOS-DATA-WRITTEN: kexec-from-disk$'
stop_vm
got=$(debugfs -R "cat /marker" "$HOST_DISK?offset=$HOST_ROOT_OFFSET" 2>/dev/null)
[[ $got == kexec-from-disk ]] || fail "/marker on the image file's root partition reads '$got'"
ok "the RAM OS wrote /marker on the disk's root partition; the image file shows it"
# shellcheck disable=SC2153
mounts=$(dumpe2fs -h "$HOST_DISK?offset=$HOST_ROOT_OFFSET" 2>/dev/null | awk -F: '$1 == "Mount count" {gsub(/ /, "", $2); print $2}')
[[ ${mounts:-0} -ge 1 ]] || fail "the private disk's root was never mounted (mount count '${mounts:-}')"
ok "the guest mounted the private copy (mount count $mounts)"

REF='' EXTRA_APPEND=''
for bus_dev in nvme:/dev/nvme0n1p1 scsi:/dev/sda1; do
  bus=${bus_dev%%:*} dev=${bus_dev#*:}
  boot_host_disk "$HOST_DISK" "$bus"
  wait_for '^BOOTRINO-HOST-ALIVE' 120 "ready-$bus"
  [[ $(root_of) == "ext4 $dev" ]] || fail "$bus: / is not ext4 on $dev: $(console_value "HOST-ROOT: ")"
  ok "$bus: / is ext4 on $dev"
  stop_vm
done

[[ $(stat -c %Y "$FIX/host-disk.img") == "$master_mtime" ]] || fail "the cached master host-disk.img changed"
ok "the cached master is untouched"
