#!/usr/bin/env bash
# Proves that the bootloader files bootrino writes itself (disk/bootloader.h) boot a kernel with two initrds and
# its command line from a GPT disk image, once through SeaBIOS (gptmbr → syslinux) and once through OVMF
# (systemd-boot via the removable-media path), under QEMU TCG. The layout is docs/bootloaders.md's: partition 1 is a
# FAT32 ESP at LBA 2048 with LegacyBIOSBootable, its BPB's hidden sectors = 2048. mkfs.fat, mtools and sfdisk
# stand in for bootrino's own FAT and GPT writers; every bootloader byte comes from the bootloader_disk tool.
# Environment: BOOTLOADER_DISK (the tool; ctest sets it), BOOTRINO_SOURCE, VM_TIMEOUT (per boot, default 300),
# KEEP_WORK=1 (keep the scratch dir).
set -euo pipefail
: "${BOOTLOADER_DISK:?set by ctest: path of the bootloader_disk test tool}"
VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BOOTRINO_SOURCE=${BOOTRINO_SOURCE:-$(cd "$VM_DIR/../.." && pwd)}
source "$BOOTRINO_SOURCE/packaging/packages.sh"
source "$BOOTRINO_SOURCE/tests/lib/qemu.sh"
ensure_packages qemu-system-x86 ovmf dosfstools mtools fdisk busybox-static cpio

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bootrino-bootloader.XXXXXX")
QEMU_PID=
cleanup() {
  [[ -n $QEMU_PID ]] && kill "$QEMU_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  if [[ ${KEEP_WORK:-0} == 1 ]]; then echo "# scratch kept in $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
fail() {
  echo "FAIL (bootloader_boot): $*" >&2
  [[ -s $WORK/serial.log ]] && { echo "--- serial console (last 40 lines):" >&2; tr -d '\r' <"$WORK/serial.log" | tail -n 40 >&2; }
  exit 1
}
ok() { echo "ok - $*"; }

# The kernel: the VM tier's cached Debian cloud kernel.
FIX=$("$VM_DIR/fixtures.sh" | tail -n 1)
[[ -f $FIX/vmlinuz ]] || fail "tests/vm/fixtures.sh gave no kernel"

# Two initrds: busybox and an /init that reports; a second archive with a marker file, so the report shows
# both were loaded and in order, and the command line arrived.
mkdir -p "$WORK/i1/bin" "$WORK/i1/dev" "$WORK/i1/proc" "$WORK/i2/etc"
cp /bin/busybox "$WORK/i1/bin/busybox"
install -m 755 "$VM_DIR/guest/bootloader-test-init.sh" "$WORK/i1/init"
echo second-initrd >"$WORK/i2/etc/marker"
(cd "$WORK/i1" && find . | sort | cpio -o -H newc -R 0:0 --quiet | gzip -1) >"$WORK/initrd-0"
# Padded as bootrino pads every initrd: the EFI stub hands several initrd= files over back to back, and a
# cpio that follows a compressed archive at an offset not a multiple of 4 is lost ("invalid magic").
truncate -s %512 "$WORK/initrd-0"
(cd "$WORK/i2" && find . | sort | cpio -o -H newc -R 0:0 --quiet) >"$WORK/initrd-1"

# The FAT32 partition: ldlinux.sys first (as the writer places it: contiguous), then the rest.
export MTOOLS_SKIP_CHECK=1
PART=$WORK/part.img
truncate -s 300M "$PART"
mkfs.fat -F 32 -S 512 -s 8 -h 2048 -n BOOTRINO "$PART" >/dev/null
CMDLINE="console=ttyS0 panic=-1 bootrino.test=42"
"$BOOTLOADER_DISK" files "$WORK/esp" /bootrino/vmlinuz "$CMDLINE" /bootrino/initrd-0 /bootrino/initrd-1
mkdir -p "$WORK/esp/bootrino"
cp "$FIX/vmlinuz" "$WORK/initrd-0" "$WORK/initrd-1" "$WORK/esp/bootrino/"
mcopy -i "$PART" "$WORK/esp/ldlinux.sys" ::/ldlinux.sys
mcopy -s -i "$PART" "$WORK/esp/ldlinux.c32" "$WORK/esp/syslinux.cfg" "$WORK/esp/EFI" "$WORK/esp/loader" \
  "$WORK/esp/bootrino" ::/
"$BOOTLOADER_DISK" syslinux "$PART"
fsck.vfat -n "$PART" >"$WORK/fsck.log" 2>&1 || fail "fsck.vfat finds the patched partition damaged: $(cat "$WORK/fsck.log")"
ok "FAT32 partition with syslinux and systemd-boot passes fsck.vfat"

# The disk: GPT, partition 1 = that ESP, legacy-BIOS-bootable; gptmbr's code in the protective MBR.
DISK=$WORK/disk.img
truncate -s 320M "$DISK"
sfdisk -q "$DISK" <<'EOF' >/dev/null
label: gpt
start=2048, size=614400, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, attrs="LegacyBIOSBootable"
EOF
dd if="$PART" of="$DISK" bs=1M seek=1 conv=notrunc,sparse status=none
"$BOOTLOADER_DISK" mbr "$DISK"
sfdisk -d "$DISK" | grep -q 'attrs="LegacyBIOSBootable"' || fail "the partition lost its LegacyBIOSBootable attribute"

# boot NAME QEMU-ARGS...: boots the disk, waits for the initrd's report; fails on timeout.
boot() {
  local name=$1 rc=0
  shift
  : >"$WORK/serial.log"
  qemu_cmd tcg 512
  timeout -k 5 "${VM_TIMEOUT:-300}" "${QEMU_CMD[@]}" -nographic \
    -drive "file=$DISK,format=raw,if=virtio,snapshot=on" "$@" </dev/null >"$WORK/serial.log" 2>"$WORK/qemu.err" &
  QEMU_PID=$!
  local t0=$SECONDS
  console_wait "$WORK/serial.log" '^BOOTLOADER-TEST-UP' "${VM_TIMEOUT:-300}" "$QEMU_PID" || rc=$?
  case $rc in
    1) fail "$name: no report from the initrd after ${VM_TIMEOUT:-300}s" ;;
    2) fail "$name: QEMU exited before the initrd reported ($(tail -n 3 "$WORK/qemu.err"))" ;;
  esac
  kill "$QEMU_PID" 2>/dev/null || true
  wait "$QEMU_PID" 2>/dev/null || true
  QEMU_PID=
  local report
  report=$(tr -d '\r' <"$WORK/serial.log" | grep -m1 '^BOOTLOADER-TEST-UP')
  [[ $report == *"marker=second-initrd "* ]] || fail "$name: the second initrd did not arrive: $report"
  [[ $report == *"bootrino.test=42"* ]] || fail "$name: the command line did not arrive: $report"
  echo "# $name: kernel and both initrds up after $((SECONDS - t0))s"
}

boot seabios
tr -d '\r' <"$WORK/serial.log" | grep 'SYSLINUX 6.04' >/dev/null || fail "seabios: no syslinux banner on the console"
ok "SeaBIOS → gptmbr → syslinux boots the kernel with both initrds and the command line"

# An empty NVRAM: only the removable-media path can find the loader.
firmware_args uefi "$WORK/vars.fd" || fail "no OVMF"
boot ovmf "${FIRMWARE_ARGS[@]}"
# systemd-boot names each initrd it hands over on the command line (its path on the ESP, in DOS form).
tr -d '\r' <"$WORK/serial.log" | grep -F 'initrd=\bootrino\initrd-0 initrd=\bootrino\initrd-1' >/dev/null ||
  fail "ovmf: the kernel was not started by systemd-boot from the boot entry"
ok "OVMF → systemd-boot (\\EFI\\BOOT\\BOOTX64.EFI) boots the kernel with both initrds and the command line"
