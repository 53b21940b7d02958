#!/usr/bin/env bash
# `bootrino image` on arm64, booted: the aarch64 release binary, run on this machine under qemu-aarch64-static
# (it writes nothing but an image file in the test's scratch directory), writes the disk `run` would write for the
# alpine-like sample into an image file, and AAVMF boots that file in an emulated arm64 machine (QEMU virt, no
# -kernel) into the RAM OS. An image is made for no machine in particular, so on arm64 its command line names no
# console (x86's console=ttyS0 would leave /dev/console on the screen of a PL011 machine such as this one): the
# RAM OS's output reaches the serial console the firmware names, ttyAMA0 here, by ACPI's SPCR table.
VM_ARCH=aarch64
source "$(dirname "$0")/lib.sh"
serve "$FIX/www"
cmdline="modules=loop,squashfs modloop=/boot/modloop-virt quiet"
ref=$(pinned_ref "http://127.0.0.1:$SERVER_PORT" "$SERVER_DIR" alpine-like/bootrino.sh)
BOOTRINO_IMDS_URL=http://127.0.0.1:9/ qemu-aarch64-static "$BOOTRINO" image "$ref" "$WORK/image.img" --size 2G \
  "${GUEST_FAST[@]}" >"$WORK/image.out" 2>"$WORK/image.err" ||
  fail "bootrino image failed: $(tail -n 5 "$WORK/image.err")"
grep -q ': alpine-like 1\.0 for aarch64, bootable from UEFI only (no BIOS boot on aarch64: its firmware is UEFI)$' \
  "$WORK/image.out" || fail "bootrino image did not say what it wrote: $(cat "$WORK/image.out")"
grep -qx "  cmdline $cmdline" "$WORK/image.out" ||
  fail "the image's command line is not the manifest's alone: $(grep '^  cmdline ' "$WORK/image.out")"
ok "bootrino image wrote a UEFI-only arm64 disk whose command line is the manifest's, no console named"

boot_firmware uefi "$WORK/image.img"
wait_for 'BOOTRINO-RAMOS-UP' 120 uefi-ramos-up  # firmware output may precede it on the line
wait_for '^BOOTRINO-RAMOS-SHELL' 60
expect_seen '^RAMOS-FIRMWARE: uefi$'
[[ $(console_value "cmdline: " | sed -E 's/^initrd=\\bootrino-initrd\.img //') == "$cmdline" ]] ||
  fail "the RAM OS's command line is '$(console_value "cmdline: ")', not the manifest's"
expect_seen '^overlay-file: /etc/bootrino/manifest.json '
expect_not_seen '^overlay-file: /etc/bootrino/boot-id '
ok "AAVMF booted the image into alpine-like, whose /dev/console is the serial console the firmware named"
