#!/usr/bin/env bash
# A cloud host under UEFI Secure Boot, for test_secure_boot.sh: a GPT disk whose EFI system
# partition boots through Debian's signed shim (EFI/BOOT/BOOTX64.EFI, signed by Microsoft's UEFI CA,
# which the OVMF_VARS_4M.ms.fd NVRAM trusts) into Debian's signed GRUB (grubx64.efi beside it), which
# reads EFI/debian/grub.cfg (the prefix built into Debian's signed image) and boots the VM fixtures'
# Debian cloud kernel (signed by Debian: shim lets GRUB load it) with the host disk's initramfs. That
# kernel locks itself down (lockdown=integrity) because Secure Boot is on. Its root file system is
# the host stand-in of fixtures.sh, whose /init also mounts efivarfs (as systemd does on a cloud
# image) so that /sys/firmware/efi/efivars/SecureBoot-… is there to read. Built once and cached.
#
#   tests/vm/secure_boot_image.sh                   build (or reuse); the last line of stdout is
#                                                   its directory
#   tests/vm/secure_boot_image.sh disk BOOTRINO OUT  OUT = a private sparse copy of disk.img with
#                                                   BOOTRINO (stripped) as /bin/bootrino on its root
#   tests/vm/secure_boot_image.sh grub-cfg IMG APPEND
#                                                   rewrites EFI/debian/grub.cfg on IMG's ESP so the
#                                                   kernel boots with "console=ttyS0 panic=1
#                                                   no_timer_check root=LABEL=sb-rootfs APPEND"
#                                                   (APPEND says ro or rw: the root's mount, default rw)
#
# The directory, ${BOOTRINO_CACHE:-~/.cache/bootrino}/vm/secure-boot-KEY, holds
#   disk.img     1 GiB sparse raw disk: GPT, partition 1 = ESP (FAT, 64 MiB), partition 2 = ext4
#                root LABEL=sb-rootfs. Never boot it: copy it (the disk command) and boot the copy.
#   layout.txt   SB_ESP_OFFSET, SB_ROOT_OFFSET, SB_ROOT_LABEL, SB_DISK_BYTES as shell variables
#   versions.txt what went in
# KEY names the fixtures' directory, shim-signed's and grub-efi-amd64-signed's versions and a hash of
# this script. Progress goes to stderr.
set -euo pipefail
SELF=$(readlink -f "$0")
VM_DIR=$(dirname "$SELF")
CACHE=${BOOTRINO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bootrino}
VMCACHE=$CACHE/vm
DISK_MIB=1024
ESP_START=2048          # sectors of 512 bytes
ESP_SECTORS=131072      # 64 MiB
ROOT_LABEL=sb-rootfs

say() { echo "secure-boot-image: $*" >&2; }
die() { echo "secure-boot-image: ERROR: $*" >&2; exit 1; }

source "$VM_DIR/../../packaging/packages.sh"
source "$VM_DIR/../lib/debs.sh"
PACKAGES=(ovmf mtools dosfstools e2fsprogs fdisk cpio binutils)

resolve() {
  ensure_packages "${PACKAGES[@]}"
  FIX=$("$VM_DIR/fixtures.sh" | tail -n 1)
  [[ -f $FIX/vmlinuz && -f $FIX/host-base.cpio.gz && -f $FIX/host-disk-boot.cpio.gz ]] ||
    die "fixtures.sh gave no fixture dir"
  SHIM_VER=$(apt_candidate shim-signed)
  GRUB_VER=$(apt_candidate grub-efi-amd64-signed)
  [[ -n $SHIM_VER && -n $GRUB_VER ]] || die "apt knows no shim-signed or grub-efi-amd64-signed (Debian's signed boot chain)"
  local key
  key=$(echo "$(basename "$FIX")_shim${SHIM_VER}_grub${GRUB_VER}_$(sha256sum "$SELF" | cut -c1-12)" |
    sha256sum | cut -c1-16)
  DIR=$VMCACHE/secure-boot-$key
}

# host_tree OUT: the fixtures' host stand-in (host-base.cpio.gz) with efivarfs mounted by its /init,
# the module too when the kernel has it as one (Debian's cloud kernel does; signed, so lockdown lets
# it load).
host_tree() {
  local out=$1 kdeb kpkg
  mkdir -p "$out"
  # host-base.cpio.gz is padded with zeros after its gzip member: gzip says so and exits 2. Not as
  # root, cpio cannot make its /dev/console (and says so): the disk's initramfs moves its devtmpfs
  # onto the root's /dev anyway.
  (cd "$out" && { gzip -dc 2>/dev/null || true; } <"$FIX/host-base.cpio.gz" | cpio -id --quiet 2>/dev/null) || true
  [[ -x $out/init && -x $out/bin/busybox ]] || die "cannot unpack host-base.cpio.gz (no /init or busybox)"
  grep -q '^mount -t sysfs sysfs /sys$' "$out/init" || die "the host stand-in's /init no longer mounts sysfs as expected"
  sed -i 's|^mount -t sysfs sysfs /sys$|&\n[ -d /sys/module/efivarfs ] \|\| insmod /lib/modules/efivarfs.ko 2>/dev/null\nmount -t efivarfs efivarfs /sys/firmware/efi/efivars 2>/dev/null|' \
    "$out/init"
  grep -q '^mount -t efivarfs' "$out/init" || die "could not add the efivarfs mount to /init"
  kpkg=$(awk '$1 == "kernel" {print $2}' "$FIX/versions.txt")
  kdeb=$(find "$VMCACHE/debs" -maxdepth 1 -name "${kpkg}_*.deb" | head -1)
  [[ -n $kpkg && -n $kdeb ]] || die "no kernel .deb for '$kpkg' in $VMCACHE/debs (fixtures.sh downloads it)"
  dpkg-deb --fsys-tarfile "$kdeb" | tar -x -C "$WORK" --wildcards '*/efivarfs.ko*' 2>/dev/null || true
  local ko
  ko=$(find "$WORK" -name 'efivarfs.ko*' | head -1)
  if [[ -n $ko ]]; then
    case $ko in
      *.ko) cp "$ko" "$out/lib/modules/efivarfs.ko" ;;
      *.ko.xz) xz -dc "$ko" >"$out/lib/modules/efivarfs.ko" ;;
      *.ko.zst) zstd -qdc "$ko" >"$out/lib/modules/efivarfs.ko" ;;
    esac
  fi
}

build() {
  resolve
  if [[ -f $DIR/versions.txt ]]; then
    echo "$DIR"
    return
  fi
  mkdir -p "$VMCACHE"
  exec 9>"$VMCACHE/.secure-boot.lock"
  flock 9
  if [[ -f $DIR/versions.txt ]]; then
    echo "$DIR"
    return
  fi
  local t0=$SECONDS shim grub
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/bootrino-sbimage.XXXXXX")
  trap 'rm -rf "$WORK"' EXIT
  shim=$(fetch_deb shim-signed "$SHIM_VER" "$VMCACHE/debs")
  grub=$(fetch_deb grub-efi-amd64-signed "$GRUB_VER" "$VMCACHE/debs")
  dpkg-deb -x "$shim" "$WORK/shim"
  dpkg-deb -x "$grub" "$WORK/grub"
  [[ -f $WORK/shim/usr/lib/shim/shimx64.efi.signed ]] || die "shim-signed has no shimx64.efi.signed"
  [[ -f $WORK/grub/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed ]] || die "grub-efi-amd64-signed has no grubx64.efi.signed"
  # Debian's signed GRUB looks for its configuration under the prefix built into it.
  grep -aq '/EFI/debian' "$WORK/grub/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed" ||
    die "the signed GRUB has no /EFI/debian prefix: where does it read grub.cfg now?"

  say "building the Secure Boot host disk from $(basename "$FIX"), shim-signed $SHIM_VER, grub-efi-amd64-signed $GRUB_VER"
  # The ESP: no fbx64.efi beside shim, so shim starts grubx64.efi at once instead of the fallback.
  local esp=$WORK/esp.img out=$WORK/out
  mkdir -p "$out"
  mkfs.vfat -C -n ESP "$esp" $((ESP_SECTORS / 2)) >/dev/null
  mmd -i "$esp" ::EFI ::EFI/BOOT ::EFI/debian
  mcopy -i "$esp" "$WORK/shim/usr/lib/shim/shimx64.efi.signed" ::EFI/BOOT/BOOTX64.EFI
  mcopy -i "$esp" "$WORK/grub/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed" ::EFI/BOOT/grubx64.efi
  mcopy -i "$esp" "$FIX/vmlinuz" ::vmlinuz
  mcopy -i "$esp" "$FIX/host-disk-boot.cpio.gz" ::initrd.img
  grub_cfg rw >"$WORK/grub.cfg"
  mcopy -i "$esp" "$WORK/grub.cfg" ::EFI/debian/grub.cfg

  host_tree "$WORK/root"
  local img=$out/disk.img sectors=$((DISK_MIB * 2048)) root_start root_sectors
  root_start=$((ESP_START + ESP_SECTORS))
  root_sectors=$((sectors - root_start - 2048))
  truncate -s "${DISK_MIB}M" "$img"
  sfdisk -q "$img" <<EOF
label: gpt
start=$ESP_START, size=$ESP_SECTORS, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="EFI system partition"
start=$root_start, size=$root_sectors, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="$ROOT_LABEL"
EOF
  dd if="$esp" of="$img" bs=512 seek=$ESP_START conv=notrunc,sparse status=none
  mkfs.ext4 -q -F -L "$ROOT_LABEL" -E "offset=$((root_start * 512)),root_owner=0:0" -d "$WORK/root" "$img" \
    "$((root_sectors / 2))k" || die "mkfs.ext4 -d failed on $img"
  cat >"$out/layout.txt" <<EOF
SB_DISK_BYTES=$((DISK_MIB * 1048576))
SB_ESP_OFFSET=$((ESP_START * 512))
SB_ROOT_OFFSET=$((root_start * 512))
SB_ROOT_LABEL=$ROOT_LABEL
EOF
  { echo "fixtures $(basename "$FIX")"; echo "shim-signed $SHIM_VER"; echo "grub-efi-amd64-signed $GRUB_VER"
    echo "efivarfs module $([[ -f $WORK/root/lib/modules/efivarfs.ko ]] && echo yes || echo built-in)"
    echo "built $(date -u +%FT%TZ)"; } >"$out/versions.txt"
  rm -rf "$DIR"
  mv "$out" "$DIR"
  say "built in $((SECONDS - t0)) s: $DIR"
  echo "$DIR"
}

# grub_cfg APPEND: the configuration the signed GRUB reads: the signed kernel and the host disk's
# initramfs from the ESP, at once (OVMF copies GRUB's console to the serial port). no_timer_check:
# under TCG on a busy machine the kernel's IO-APIC timer check fails and panics.
grub_cfg() {
  cat <<EOF
set timeout=0
echo 'grub: booting the signed kernel'
linux /vmlinuz console=ttyS0 panic=1 no_timer_check root=LABEL=$ROOT_LABEL $1
initrd /initrd.img
boot
EOF
}

# disk BOOTRINO OUT: a sparse copy of disk.img with BOOTRINO (stripped) as /bin/bootrino.
disk() {
  local bin=$1 out=$2 tmp
  [[ -f $bin ]] || die "no such binary: $bin"
  build >/dev/null
  # shellcheck disable=SC1091
  source "$DIR/layout.txt"
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/bootrino-sbdisk.XXXXXX")
  strip -o "$tmp/bootrino" "$bin" 2>/dev/null || cp "$bin" "$tmp/bootrino"
  chmod 755 "$tmp/bootrino"
  cp --sparse=always "$DIR/disk.img" "$out.tmp"
  printf 'rm /bin/bootrino\nwrite %s /bin/bootrino\nsif /bin/bootrino mode 0100755\nsif /bin/bootrino uid 0\nsif /bin/bootrino gid 0\n' \
    "$tmp/bootrino" >"$tmp/cmds"
  debugfs -w -f "$tmp/cmds" "$out.tmp?offset=$SB_ROOT_OFFSET" >/dev/null 2>&1 || die "debugfs could not write into $out.tmp"
  cmp -s "$tmp/bootrino" <(debugfs -R "cat /bin/bootrino" "$out.tmp?offset=$SB_ROOT_OFFSET" 2>/dev/null) ||
    die "/bin/bootrino on $out.tmp does not read back"
  mv "$out.tmp" "$out"
  rm -rf "$tmp"
  echo "$out"
}

# grub_cfg_on IMG APPEND: IMG's EFI/debian/grub.cfg, booting with APPEND.
grub_cfg_on() {
  local img=$1 cfg
  cfg=$(mktemp "${TMPDIR:-/tmp}/bootrino-grubcfg.XXXXXX")
  grub_cfg "$2" >"$cfg"
  mcopy -o -i "$img@@$((ESP_START * 512))" "$cfg" ::EFI/debian/grub.cfg || die "cannot write grub.cfg on $img"
  rm -f "$cfg"
}

case ${1:-} in
  "") build ;;
  disk) shift; [[ $# == 2 ]] || die "usage: secure_boot_image.sh disk BOOTRINO OUT"; disk "$@" ;;
  grub-cfg) shift; [[ $# == 2 ]] || die "usage: secure_boot_image.sh grub-cfg IMG APPEND"; grub_cfg_on "$@" ;;
  *) die "unknown command '$1' (none, disk or grub-cfg)" ;;
esac
