#!/usr/bin/env bash
# boot_firmware, proven before bootrino writes bootable disks itself: a disk made here with Debian's
# tools only (sfdisk, mkfs.fat, mtools, syslinux, systemd-boot, mkfs.ext4; no loop device, no mount)
# in the layout of docs/bootloaders.md — GPT, partition 1 a FAT32 ESP marked LegacyBIOSBootable
# holding the cloud kernel and the sample RAM OS initrd with syslinux (gptmbr.bin in the MBR) and
# systemd-boot as \EFI\BOOT\BOOTX64.EFI, partition 2 ext4 labelled bootrino-data — boots through
# SeaBIOS (virtio disk) and then through OVMF (NVMe disk) into the RAM OS, whose marker written on
# the first boot is read back on the second and, after it, from the image file.
source "$(dirname "$0")/lib.sh"

DISK=$WORK/fw-disk.img
ESP_START=2048 ESP_SECTORS=$((64 * 2048))   # 64 MiB of 512-byte clusters: FAT32 (>= 65,525 clusters)
DATA_START=$((ESP_START + ESP_SECTORS)) DATA_SECTORS=$((64 * 2048))
ESP="$DISK@@$((ESP_START * 512))"           # the ESP for mtools
truncate -s $(((DATA_START + DATA_SECTORS + 2048) * 512)) "$DISK"
sfdisk -q "$DISK" <<EOF || fail "sfdisk could not partition $DISK"
label: gpt
start=$ESP_START, size=$ESP_SECTORS, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="ESP", attrs="LegacyBIOSBootable"
start=$DATA_START, size=$DATA_SECTORS, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="bootrino-data"
EOF
# (mkfs.fat warns that the file is longer than the size given: it is, by the data partition.)
out=$(mkfs.fat -F 32 -S 512 -s 1 -h "$ESP_START" --offset "$ESP_START" -n ESP "$DISK" $((ESP_SECTORS / 2)) 2>&1) ||
  fail "mkfs.fat failed: $out"
mkfs.ext4 -q -F -L bootrino-data -E "offset=$((DATA_START * 512))" "$DISK" $((DATA_SECTORS / 2))k || fail "mkfs.ext4 failed"

# The boot files: the same kernel and RAM OS initrd for both loaders; each loader's entry carries
# its own marker, so the console shows which one booted.
cat >"$WORK/syslinux.cfg" <<EOF
SERIAL 0 115200
DEFAULT ramos
PROMPT 0
TIMEOUT 0
LABEL ramos
  LINUX /vmlinuz
  INITRD /initrd
  APPEND console=ttyS0 panic=1 ramos.marker=from-bios
EOF
printf 'timeout 0\ndefault ramos.conf\n' >"$WORK/loader.conf"
printf 'title sample RAM OS\nlinux /vmlinuz\ninitrd /initrd\noptions console=ttyS0 panic=1 ramos.marker=from-uefi\n' \
  >"$WORK/ramos.conf"
mmd -i "$ESP" ::EFI ::EFI/BOOT ::loader ::loader/entries
mcopy -i "$ESP" "$FIX/vmlinuz" ::vmlinuz
mcopy -i "$ESP" "$FIX/www/alpine-like/initramfs-virt" ::initrd
mcopy -i "$ESP" /usr/lib/systemd/boot/efi/systemd-bootx64.efi ::EFI/BOOT/BOOTX64.EFI
mcopy -i "$ESP" "$WORK/loader.conf" ::loader/loader.conf
mcopy -i "$ESP" "$WORK/ramos.conf" ::loader/entries/ramos.conf
mcopy -i "$ESP" "$WORK/syslinux.cfg" ::syslinux.cfg
syslinux --install --offset $((ESP_START * 512)) "$DISK" || fail "syslinux --install failed"
dd if=/usr/lib/syslinux/mbr/gptmbr.bin of="$DISK" bs=440 count=1 conv=notrunc status=none
mdir -i "$ESP" -a -b ::/ | grep -x '::/ldlinux.sys' >/dev/null || fail "syslinux left no ldlinux.sys on the ESP"
ok "hand-made GPT disk: FAT32 ESP (syslinux + systemd-boot) and ext4 bootrino-data ($(($(stat -c %b "$DISK") / 2048)) MiB allocated)"

# check_boot FIRMWARE EXPECT_DATA MARKER: the RAM OS came up through FIRMWARE's loader entry, read
# EXPECT_DATA from the data partition and wrote MARKER.
check_boot() {
  local fw=$1 data=$2 marker=$3 line
  line=$(console_value "cmdline: ")
  [[ " $line " == *" ramos.marker=$marker "* ]] || fail "$fw: the RAM OS cmdline '$line' is not the $fw loader entry's"
  [[ $(console_value "RAMOS-FIRMWARE: ") == "$fw" ]] || fail "$fw: the RAM OS says firmware '$(console_value "RAMOS-FIRMWARE: ")'"
  expect_not_seen '^RAMOS-DATA-ERROR'
  [[ $(console_value "RAMOS-DATA: ") == "$data" ]] || fail "$fw: RAMOS-DATA is '$(console_value "RAMOS-DATA: ")', not '$data'"
  expect_seen "^RAMOS-DATA-WRITTEN: $marker\$"
}

# The harness sees a firmware that finds nothing: without the LegacyBIOSBootable attribute
# gptmbr has no partition to boot (docs/bootloaders.md), and SeaBIOS ends with no bootable device.
cp --sparse=always "$DISK" "$WORK/no-attr.img"
sfdisk -q --part-attrs "$WORK/no-attr.img" 1 "" || fail "sfdisk could not clear the attributes"
boot_firmware bios "$WORK/no-attr.img" virtio
VM_FAIL_RE='' wait_for '^Missing OS' 60
# A wait for the RAM OS must now end early and say why (a subshell: fail exits).
if (wait_for '^BOOTRINO-RAMOS-UP' 60) 2>"$WORK/wait.err"; then
  fail "the RAM OS came up without a LegacyBIOSBootable partition"
fi
grep -q 'the firmware found nothing to boot.*No bootable device' "$WORK/wait.err" ||
  fail "wait_for did not stop on the firmware's failure: $(head -n 3 "$WORK/wait.err")"
ok "no LegacyBIOSBootable partition: gptmbr says Missing OS, wait_for stops at 'No bootable device.'"

boot_firmware bios "$DISK" virtio
wait_for '^BOOTRINO-RAMOS-UP' 120 bios-ramos-up
wait_for '^BOOTRINO-RAMOS-SHELL' 60
check_boot bios NONE from-bios
ok "bios: SeaBIOS → gptmbr → syslinux → RAM OS on virtio ($(console_value "RAMOS-DATA-DEVICE: ")); data NONE, wrote from-bios"
stop_vm

boot_firmware uefi "$DISK" nvme
wait_for '^BOOTRINO-RAMOS-UP' 180 uefi-ramos-up
wait_for '^BOOTRINO-RAMOS-SHELL' 60
check_boot uefi from-bios from-uefi
[[ -s $WORK/OVMF_VARS.fd ]] || fail "no private NVRAM copy at $WORK/OVMF_VARS.fd"
ok "uefi: OVMF → systemd-boot → RAM OS on NVMe ($(console_value "RAMOS-DATA-DEVICE: ")); read from-bios, wrote from-uefi"
stop_vm

got=$(debugfs -R "cat /marker" "$DISK?offset=$((DATA_START * 512))" 2>/dev/null)
[[ $got == from-uefi ]] || fail "the data partition's /marker reads '$got' from the image, not from-uefi"
e2fsck -fn "$DISK?offset=$((DATA_START * 512))" >/dev/null 2>&1 || fail "the data partition is not clean after the RAM OS unmounted it"
ok "the image file's data partition holds /marker = from-uefi and is clean"
