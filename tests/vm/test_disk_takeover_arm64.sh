#!/usr/bin/env bash
# The disk takeover on arm64, in an emulated arm64 machine (QEMU virt, TCG), as test_disk_takeover.sh does it on
# x86_64: the host stand-in (its kernel has kexec_file_load: tests/vm/arm64-host-kernel.config) boots like a cloud
# image, its ext4 root on /dev/vda1, and runs the aarch64 release binary from that disk against a variant of the
# alpine-like sample, whose kernel is Debian's arm64 cloud Image gzip'd.
#  1. `bootrino run REF --dry-run` (root mounted read-only) names /dev/vda, the disk holding /, and shows the
#     UEFI-only layout an aarch64 build writes; the image is byte-identical afterwards.
#  2. `bootrino run REF --yes` replaces the mounted root disk and kexecs into the RAM OS, which finds the new data
#     partition empty and writes a marker there; the host was booted with a device tree, and so is the RAM OS.
#  3. The written image, read with sfdisk, mtools and e2fsck: no BIOS boot, systemd-bootaa64.efi as
#     EFI/BOOT/BOOTAA64.EFI, the kernel decompressed into an arm64 Image with its EFI stub, no syslinux.
#  4. The same disk booted through UEFI firmware (AAVMF, no -kernel): systemd-boot starts that Image, and the RAM
#     OS comes up with the kexec boot's command line (less bootrino.id) and the marker kept.
VM_ARCH=aarch64
source "$(dirname "$0")/lib.sh"
source "$VM_DIR/untouched.sh"  # image_digest
marker=kept-across-arm64-reboots
persist_setup "$marker"

# 1. The dry run.
digest=$(image_digest "$HOST_DISK")
EXTRA_APPEND="bootrino.cmd=dry-run $(host_args "${GUEST_FAST[@]}")"
HOST_ROOT_MODE=ro boot_host_disk "$HOST_DISK"
wait_for '^BOOTRINO-HOST-READY' 120 dry-run-ready
expect_seen "^initramfs: root LABEL=$HOST_ROOT_LABEL is /dev/vda1 \\(ext4, ro\\)"
wait_for '^BOOTRINO-HOST-EXIT=' 300 dry-run-done
expect_seen '^BOOTRINO-HOST-EXIT=0$'
expect_seen "^  disk    replace /dev/vda \\($((HOST_DISK_BYTES >> 20))\\.0 MiB, holds /\\):$"
expect_seen '^          GPT, 512-byte sectors, [0-9.]+ MiB, disk '
expect_seen '^            1 boot  FAT32 .*  UEFI \(systemd-boot\); no BIOS boot on aarch64: its firmware is UEFI$'
expect_seen '^            2 data  ext4 +bootrino-data '
expect_seen 'nothing was changed$'
stop_vm
[[ $(image_digest "$HOST_DISK") == "$digest" ]] || fail "the dry run changed the host disk"
ok "run --dry-run from the disk: would replace /dev/vda (holds /) with a UEFI-only layout; the disk is byte-identical"

# 2. The takeover and the kexec, from a host described by a device tree.
takeover_persist "$marker"
expect_seen '^bootrino: decompressed the kernel: [0-9.]+ MiB arm64 Image'
expect_seen '^RAMOS-FIRMWARE: devicetree$'
check_ramos alpine-like "ramos.marker=$marker"

# 3. The disk as written.
check_written_disk

# 4. The firmware boot of that disk.
boot_kept_disk uefi "$marker"
