#!/usr/bin/env bash
# The disk takeover end to end. The host stand-in boots like a cloud image (ext4 root on /dev/vda1,
# mounted read-write); `bootrino run REF --yes` replaces that disk while it is mounted, then
# kexecs. The RAM OS finds the new data partition empty and leaves a marker on it. The written image is
# read with sfdisk, mtools and e2fsck (BIOS and UEFI boot). Then the same disk image is booted from the
# firmware, SeaBIOS and OVMF, with no -kernel: the RAM OS comes up each time (from syslinux, from
# systemd-boot) with the kexec boot's command line and reads the marker written before the reboot.
# (test_disk_takeover_arm64.sh: the same on arm64.)
source "$(dirname "$0")/lib.sh"
persist_setup kept-across-reboots
takeover_persist kept-across-reboots
check_written_disk
for fw in bios uefi; do
  boot_kept_disk "$fw" kept-across-reboots
done
