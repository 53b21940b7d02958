#!/usr/bin/env bash
# Fixtures for bootrino's VM tests and demo, built from Debian packages and cached.
#
#   tests/vm/fixtures.sh                          build (or reuse) the fixtures; the last line of
#                                                 stdout is their directory
#   tests/vm/fixtures.sh host-initrd BOOTRINO OUT [FILE:GUEST_PATH...]
#                                                 OUT = the "cloud host stand-in" initrd with
#                                                 BOOTRINO (a static binary, stripped on the way)
#                                                 as /bin/bootrino, plus any more FILEs
#   tests/vm/fixtures.sh host-disk BOOTRINO|- OUT [FILE:GUEST_PATH...]
#                                                 OUT = a private sparse copy of host-disk.img with
#                                                 BOOTRINO (stripped) as /bin/bootrino on its root
#                                                 file system, plus any more FILEs (- : none)
#   tests/vm/fixtures.sh packages                 only install the host packages the VM tier needs
#
# VM_ARCH=aarch64 (default x86_64) makes the arm64 set instead, for tests/vm/test_*_arm64.sh: Debian's
# arm64 packages (read from a private copy of this machine's package lists for arm64: no foreign
# architecture is added to dpkg), a host stand-in kernel built from Debian's linux-source (see
# tests/vm/arm64-host-kernel.config for why), the host stand-in initrd and the alpine-like sample only.
#
# The fixture directory, ${BOOTRINO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bootrino}/vm/KEY, holds
#   vmlinuz              Debian's cloud kernel (LZ4 bzImage: boots fast under QEMU TCG); on aarch64 the
#                        host stand-in's own kernel (an arm64 Image with kexec_file_load)
#   host-base.cpio.gz    the host stand-in initramfs, without bootrino (gzip member padded to 512)
#   modules.txt          the modules it loads, in order: virtio's, and vfat's (a NoCloud seed volume)
#   host-disk.img        the host stand-in as a cloud image: a 2 GiB sparse raw disk, GPT, partition 1
#                        = ext4 root (LABEL=cloudimg-rootfs) holding what host-base.cpio.gz holds;
#                        never booted itself: tests copy it (lib.sh private_disk)
#   host-disk-boot.cpio.gz   its initramfs: loads the storage drivers (none on aarch64: the host stand-in's
#                        kernel has them built in), mounts root= (LABEL=, UUID=, /dev/…) and switch_roots
#                        into it, as a cloud image's initramfs does
#   storage-modules.txt  the modules that initramfs (on aarch64 only the sample RAM OS) loads, in order
#                        (virtio-blk, virtio-scsi; NVMe and ext4 are built into the cloud kernel)
#   host-disk.txt        the disk's layout facts (sizes, offsets, label and UUIDs) as shell variables
#   www/alpine-like/     a sample RAM OS shaped like Alpine's netboot files + bootrino.sh; on aarch64
#                        its vmlinuz-virt is Debian's arm64 cloud Image gzip'd, as Alpine's and Ubuntu's
#                        arm64 kernels are (Debian's own is not compressed)
#   www/tinycore-like/   a sample RAM OS shaped like Tiny Core + bootrino.sh
#   www/broken/          alpine-like with one flipped byte in initramfs-virt (size unchanged)
#   www/huge/            a manifest whose 1 GiB initrd (a sparse file of zeros) fits in no small VM
#   www/faults/          alpine-like's files with manifests that each fail before the disk commit
#   versions.txt         what the fixtures were built from
# (on aarch64 only vmlinuz, host-base.cpio.gz, modules.txt, the host disk's three files, storage-modules.txt,
# www/alpine-like and versions.txt.)
# KEY names the kernel and busybox-static package versions plus a hash of this script and the files
# it builds from (RECIPE below: the guests' scripts in tests/vm/guest/, the tools in tests/lib/), so
# an apt-get update that brings a new kernel, or an edit to any of them, builds a fresh set.
# Downloaded .debs are kept in .../vm/debs. Progress goes to stderr.
set -euo pipefail
SELF=$(readlink -f "$0")
VM_DIR=$(dirname "$SELF")
LIB=$VM_DIR/../lib
GUEST=$VM_DIR/guest
# What the fixtures are made of besides this script: an edit to any of these builds a fresh set.
RECIPE=("$GUEST/host-init.sh" "$GUEST/udhcpc.script" "$GUEST/disk-boot-init.sh" "$GUEST/ramos-init.sh"
  "$GUEST/init-lib.sh" "$LIB/mkcpio.py" "$LIB/manifest.py" "$LIB/debs.sh")
CACHE=${BOOTRINO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bootrino}
VMCACHE=$CACHE/vm
VM_ARCH=${VM_ARCH:-x86_64}

say() { echo "fixtures: $*" >&2; }
die() { echo "fixtures: ERROR: $*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------
# Host packages.
# e2fsprogs/fdisk build the host disk; ovmf, dosfstools, mtools, syslinux and systemd-boot-efi are
# the firmware boots (lib.sh boot_firmware, test_firmware_harness.sh).
PACKAGES=(qemu-system-x86 busybox-static cpio netcat-openbsd python3 kmod zstd xz-utils binutils util-linux
  e2fsprogs fdisk ovmf dosfstools mtools syslinux syslinux-common systemd-boot-efi)
# Per guest architecture: the kernel packages to look for, Debian's name for the architecture, and for
# aarch64 the emulators (qemu-aarch64-static lists the arm64 busybox's applets), AAVMF and what builds the
# host stand-in's kernel.
case $VM_ARCH in
  x86_64)
    DEB_ARCH=$(dpkg --print-architecture)
    STRIP="strip"
    # Debian's cloud kernel (LZ4, virtio as modules); on Ubuntu, which has no cloud-amd64 flavour, the
    # kvm flavour, else the virtual one.
    KERNEL_METAPACKAGES=(linux-image-cloud-amd64 linux-image-kvm linux-image-virtual)
    BUSYBOX_RUN=()
    ;;
  aarch64)
    DEB_ARCH=arm64
    KERNEL_METAPACKAGES=(linux-image-cloud-arm64)
    BUSYBOX_RUN=(qemu-aarch64-static)
    STRIP=aarch64-linux-gnu-strip
    PACKAGES=(qemu-system-arm qemu-efi-aarch64 qemu-user-static busybox-static cpio netcat-openbsd python3 kmod
      zstd xz-utils binutils binutils-aarch64-linux-gnu util-linux gcc-aarch64-linux-gnu make flex bison bc)
    RECIPE+=("$VM_DIR/arm64-host-kernel.config")
    ;;
  *) die "VM_ARCH must be x86_64 or aarch64, not '$VM_ARCH'" ;;
esac
SUDO=()
[[ $(id -u) == 0 ]] || SUDO=(sudo)
source "$VM_DIR/../../packaging/packages.sh"
source "$LIB/debs.sh"
install_packages() { ensure_packages "${PACKAGES[@]}"; }

# recipe_hash: 12 hex digits of SHA-256 over this script and RECIPE, in that order.
recipe_hash() { cat "$SELF" "${RECIPE[@]}" | sha256sum | cut -c1-12; }

# APT_OPTS: apt-get's and apt-cache's options for the guest architecture's packages (debs.sh's fetch_deb
# reads it too): none for x86_64, which is this machine's; for aarch64 a private copy of this machine's
# package lists for arm64 (its sources and keys), refreshed when missing or older than the machine's own
# (after an apt-get update), so that dpkg never gets a foreign architecture.
APT_OPTS=()
foreign_apt() {
  [[ $VM_ARCH != x86_64 ]] || return 0
  local dir=$VMCACHE/apt-$DEB_ARCH
  APT_OPTS=(-o "APT::Architecture=$DEB_ARCH" -o "APT::Architectures::=$DEB_ARCH" -o "Dir::State=$dir/state"
    -o "Dir::State::status=$dir/status" -o "Dir::Cache=$dir/cache"
    -o Acquire::IndexTargets::deb-src::Sources::DefaultEnabled=false)
  [[ ! -f $dir/updated || /var/lib/apt/lists -nt $dir/updated ]] || return 0
  mkdir -p "$dir/state/lists/partial" "$dir/cache/archives/partial"
  exec 8>"$dir/.lock"
  flock 8
  if [[ ! -f $dir/updated || /var/lib/apt/lists -nt $dir/updated ]]; then
    say "reading the $DEB_ARCH package lists of this machine's sources into $dir"
    [[ -f $dir/status ]] || : >"$dir/status"
    apt-get "${APT_OPTS[@]}" update -q >"$dir/update.log" 2>&1 ||
      die "apt-get update for $DEB_ARCH failed: $(tail -n 5 "$dir/update.log")"
    touch "$dir/updated"
  fi
  flock -u 8
}

# The versioned kernel image package behind KERNEL_METAPACKAGES. BOOTRINO_VM_KERNEL_PACKAGE names one
# directly (e.g. linux-image-6.1.0-56-cloud-amd64).
kernel_package() {
  if [[ -n ${BOOTRINO_VM_KERNEL_PACKAGE:-} ]]; then echo "$BOOTRINO_VM_KERNEL_PACKAGE"; return; fi
  # apt-cache prints "Depends: PKG" lines per metapackage in the order asked; take the first flavour's.
  apt-cache "${APT_OPTS[@]}" depends "${KERNEL_METAPACKAGES[@]}" 2>/dev/null |
    awk '$1 == "Depends:" && $2 ~ /^linux-image-(unsigned-)?[0-9]/ {print $2; exit}'
}

# candidates PACKAGE...: "PACKAGE VERSION" for each package apt knows (one apt-cache call).
candidates() {
  apt-cache "${APT_OPTS[@]}" policy "$@" 2>/dev/null |
    awk '/^[^ ].*:$/ {pkg = substr($1, 1, length($1) - 1)} $1 == "Candidate:" && $2 != "(none)" {print pkg, $2}'
}

# resolve_versions: sets KPKG KVER KREL MPKG MVER BBVER KEY FIX, and on aarch64 SRCPKG SRCVER (the
# linux-source package of the same kernel series, for the host stand-in's kernel). apt-cache takes
# seconds here, so the answer is remembered until the package lists change (apt-get update) or this
# script does.
resolve_versions() {
  local script_hash stamp memo=$VMCACHE/.resolved vars=(KPKG KVER KREL MPKG MVER BBVER KEY FIX)
  [[ $VM_ARCH == x86_64 ]] || memo+=-$VM_ARCH vars+=(SRCPKG SRCVER)
  mkdir -p "$VMCACHE"
  foreign_apt
  script_hash=$(recipe_hash)
  stamp="$script_hash $({ stat -c %Y /var/lib/apt/lists /etc/apt/sources.list /etc/apt/sources.list.d \
    /etc/apt/preferences.d 2>/dev/null || true; } | tr '\n' .) ${BOOTRINO_VM_KERNEL_PACKAGE:-}"
  if [[ -f $memo && $(head -n 1 "$memo") == "$stamp" ]]; then
    eval "$(tail -n +2 "$memo")"
    return
  fi
  KPKG=$(kernel_package)
  if [[ -z $KPKG ]]; then
    say "apt knows none of ${KERNEL_METAPACKAGES[*]}; running apt-get update"
    "${SUDO[@]}" apt-get update -q >&2
    foreign_apt
    KPKG=$(kernel_package)
  fi
  [[ -n $KPKG ]] || die "cannot find a kernel package behind ${KERNEL_METAPACKAGES[*]}"
  KREL=${KPKG#linux-image-}
  KREL=${KREL#unsigned-}
  KREL=${KREL%-unsigned}
  local c v
  c=$(candidates "$KPKG" busybox-static "linux-modules-$KREL")
  KVER=$(awk -v p="$KPKG" '$1 == p {print $2}' <<<"$c")
  BBVER=$(awk '$1 == "busybox-static" {print $2}' <<<"$c")
  # Ubuntu ships the modules in a package of their own.
  MVER=$(awk -v p="linux-modules-$KREL" '$1 == p {print $2}' <<<"$c")
  MPKG=""
  [[ -z $MVER ]] || MPKG=linux-modules-$KREL
  [[ -n $KVER && -n $BBVER ]] || die "no candidate version for $KPKG or busybox-static"
  KEY=k${KVER}${MVER:+_m$MVER}_bb${BBVER}
  if [[ $VM_ARCH == aarch64 ]]; then
    SRCPKG=linux-source-$(cut -d. -f1,2 <<<"$KREL")
    SRCVER=$(candidates "$SRCPKG" | awk '{print $2}')
    [[ -n $SRCVER ]] || die "no candidate version for $SRCPKG (the source of the $KPKG series)"
    KEY="aarch64_${KEY}_src$SRCVER"
  fi
  KEY=$(echo "${KEY}_${script_hash}" | tr ':~/' '_-_')
  FIX=$VMCACHE/$KEY
  { echo "$stamp"; for v in "${vars[@]}"; do printf '%s=%q\n' "$v" "${!v}"; done; } >"$memo.$$"
  mv "$memo.$$" "$memo"
}

# ---------------------------------------------------------------------------------------------
# mkcpio DIR OUT [DEV...]: a gzip'd newc archive of DIR (sorted, owner 0:0, mtime 0, so the bytes
# depend only on the content) plus device nodes DEV = PATH:c|b:MAJOR:MINOR, made without mknod
# (no root needed). PAD=N pads the gzip member with zeros to a multiple of N bytes; GZIP=0 leaves
# the archive uncompressed.
mkcpio() { python3 "$LIB/mkcpio.py" "$@"; }

# busybox_tree DIR: busybox-static at DIR/bin/busybox with every applet linked where it belongs (the
# list from the binary itself: under BUSYBOX_RUN, an emulator, for another architecture's).
busybox_tree() {
  local dir=$1 applet
  mkdir -p "$dir"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,run,tmp,etc,root}
  cp "$WORK/busybox/bin/busybox" "$dir/bin/busybox"
  for applet in $("${BUSYBOX_RUN[@]}" "$dir/bin/busybox" --list-full); do
    [[ $applet == bin/busybox ]] && continue
    mkdir -p "$dir/$(dirname "$applet")"
    ln -sf "/bin/busybox" "$dir/$applet"
  done
  chmod 1777 "$dir/tmp"
}

# write_init_lib TREE: tests/vm/guest/init-lib.sh as TREE/lib/init-lib.sh, which each guest /init sources.
write_init_lib() { install -D -m 644 "$GUEST/init-lib.sh" "$1/lib/init-lib.sh"; }

# ---------------------------------------------------------------------------------------------
# The host stand-in: what a cloud instance looks like to bootrino (a kernel with serial console,
# virtio NIC, DHCP), minus systemd; booted from host-disk.img, with its root on a disk too.
# (tests/vm/guest/host-init.sh says what it does.)
write_host_init() {
  install -m 755 "$GUEST/host-init.sh" "$1/init"
  write_init_lib "$1"
  install -m 755 "$GUEST/udhcpc.script" "$1/etc/udhcpc.script"
}

# ---------------------------------------------------------------------------------------------
# The host stand-in as a cloud image: the same tree on an ext4 root partition of a GPT disk, booted
# through a small initramfs that mounts it, as Debian's and Ubuntu's cloud images boot. Fixed
# identifiers, so the image's bytes depend on its content only (and tests may name them).
HOST_DISK_MIB=2048
HOST_ROOT_START=2048                       # sectors of 512 bytes
HOST_ROOT_LABEL=cloudimg-rootfs            # what Ubuntu's cloud images call their root
HOST_DISK_GUID=2F0C1E5A-6B7D-4E21-9C3A-8D4B5E6F7A01
HOST_ROOT_PARTUUID=9A3B1C2D-4E5F-4061-8273-94A5B6C7D8E9
HOST_ROOT_FSUUID=1f2e3d4c-5b6a-4798-8a9b-0c1d2e3f4a5b

# (tests/vm/guest/disk-boot-init.sh says what it does.)
write_disk_boot_init() {
  install -m 755 "$GUEST/disk-boot-init.sh" "$1/init"
  write_init_lib "$1"
}

# build_host_disk TREE OUT [STORAGE]: OUT/host-disk.img with TREE as its root file system, made without loop
# devices or mounts (mkfs.ext4 -d at the partition's offset), OUT/host-disk-boot.cpio.gz and
# OUT/host-disk.txt. STORAGE (default $WORK/storage, storage_modules's) holds the drivers that initramfs
# loads before it looks for root=, in lib/modules, listed in etc/storage-modules.txt; "-": none, for a host
# kernel that has them built in (aarch64's).
build_host_disk() {
  local tree=$1 out=$2 storage=${3:-$WORK/storage} boot=$WORK/disk-boot img=$2/host-disk.img
  local sectors=$((HOST_DISK_MIB * 2048)) root_sectors
  root_sectors=$((sectors - HOST_ROOT_START - 2048))  # 1 MiB free at the end, as partitioners leave
  truncate -s "${HOST_DISK_MIB}M" "$img"
  sfdisk -q "$img" <<EOF
label: gpt
label-id: $HOST_DISK_GUID
start=$HOST_ROOT_START, size=$root_sectors, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=$HOST_ROOT_PARTUUID, name="$HOST_ROOT_LABEL"
EOF
  mkfs.ext4 -q -F -L "$HOST_ROOT_LABEL" -U "$HOST_ROOT_FSUUID" -E "offset=$((HOST_ROOT_START * 512)),root_owner=0:0" \
    -d "$tree" "$img" "$((root_sectors / 2))k" || die "mkfs.ext4 -d failed on $img"
  e2fsck -fn "$img?offset=$((HOST_ROOT_START * 512))" >/dev/null 2>&1 || die "e2fsck finds the fresh host disk's root broken"

  busybox_tree "$boot"
  mkdir -p "$boot/lib/modules"
  if [[ $storage == - ]]; then
    : >"$boot/etc/storage-modules.txt"
  else
    cp -r "$storage/lib/modules/." "$boot/lib/modules/"
    cp "$storage/etc/storage-modules.txt" "$boot/etc/storage-modules.txt"
  fi
  mkdir -p "$boot/newroot"
  write_disk_boot_init "$boot"
  mkcpio "$boot" "$out/host-disk-boot.cpio.gz" /dev/console:c:5:1

  cat >"$out/host-disk.txt" <<EOF
HOST_DISK_BYTES=$((HOST_DISK_MIB * 1048576))
HOST_ROOT_OFFSET=$((HOST_ROOT_START * 512))
HOST_ROOT_BYTES=$((root_sectors * 512))
HOST_ROOT_LABEL=$HOST_ROOT_LABEL
HOST_ROOT_FSUUID=$HOST_ROOT_FSUUID
HOST_ROOT_PARTUUID=$HOST_ROOT_PARTUUID
HOST_DISK_GUID=$HOST_DISK_GUID
EOF
}

# disk_files DISK FILE:GUEST_PATH...: copies each FILE into the root file system of DISK (a copy of
# host-disk.img) as GUEST_PATH, replacing what is there, owner root, FILE's mode; creates parent
# directories. debugfs at the partition's offset: no loop device, no mount. Reads every file back.
disk_files() {
  local img=$1 spec src dst dir part cmds fs
  shift
  # shellcheck disable=SC1091
  source "$FIX/host-disk.txt"
  fs="$img?offset=$HOST_ROOT_OFFSET"
  cmds=$(mktemp "${TMPDIR:-/tmp}/bootrino-diskfiles.XXXXXX")
  for spec in "$@"; do
    src=${spec%%:*} dst=/${spec#*:}
    dst=/${dst##/}
    [[ -f $src ]] || die "no such file: $src"
    dir=
    for part in $(dirname "$dst" | tr / ' '); do
      dir+=/$part
      echo "mkdir $dir"
    done
    echo "rm $dst"
    echo "write $src $dst"
    printf 'sif %s mode 0%o\nsif %s uid 0\nsif %s gid 0\n' "$dst" $((0100000 | 0$(stat -c %a "$src"))) "$dst" "$dst"
  done >"$cmds"
  debugfs -w -f "$cmds" "$fs" >/dev/null 2>&1 || die "debugfs could not write into $fs"
  rm -f "$cmds"
  for spec in "$@"; do
    src=${spec%%:*} dst=/${spec#*:}
    dst=/${dst##/}
    cmp -s "$src" <(debugfs -R "cat $dst" "$fs" 2>/dev/null) || die "$dst on $img does not read back as $src"
  done
}

# ---------------------------------------------------------------------------------------------
# Sample RAM OSes: a busybox initramfs whose /init reports what it was booted with.
# Kernel parameters it acts on (the manifest's cmdline, or a boot loader entry, carries them; not
# bootrino.*, which bootrino reserves and drops from manifests):
#   ramos.persist-test=1     find the data partition, print "RAMOS-DATA-DEVICE: /dev/…" and
#                            "RAMOS-DATA: <content of /marker or NONE>", unmount it
#   ramos.data-label=LABEL   the data partition's file system label (default bootrino-data)
#   ramos.marker=TEXT        after printing, write TEXT to /marker on it, sync, and print
#                            "RAMOS-DATA-WRITTEN: TEXT"
# Either of the last two implies the first. Failures print "RAMOS-DATA-ERROR: …" and the OS goes on.
#   ramos.fetch=URL          (any number) load the NIC's driver, `ifup -a` with bootrino's
#                            /etc/network/interfaces, print "RAMOS-NET: NAME MAC ADDRESS…" for each NIC,
#                            then fetch each URL: "RAMOS-FETCHED: URL BODY" or "RAMOS-FETCH-FAILED: URL"
# Printed when bootrino gave them: "RAMOS-SSH-KEY: <authorized_keys line>" (each), "RAMOS-HOSTNAME: NAME".
# Always printed: "RAMOS-KERNEL: <uname -r> <uname -m>", "RAMOS-FIRMWARE: uefi|devicetree|bios" (EFI runtime
# services present; else a device tree, as an arm64 kernel booted without UEFI has; else neither: a kexec from a
# BIOS host says bios too).
# write_ramos_init TREE NAME: tests/vm/guest/ramos-init.sh as TREE/init, reporting itself as NAME.
write_ramos_init() {
  sed "s/@NAME@/$2/" "$GUEST/ramos-init.sh" >"$1/init"
  chmod 755 "$1/init"
  write_init_lib "$1"
}

# ramos_initrd NAME OUT: the sample OS's initramfs, gzip'd; its length is deliberately NOT a multiple
# of 4, like real Alpine/Tiny Core initrds, so an overlay appended without padding gets lost.
ramos_initrd() {
  local name=$1 out=$2 tree=$WORK/ramos-$1 n=0
  busybox_tree "$tree"
  write_ramos_init "$tree" "$name"
  mkdir -p "$tree/lib/modules"
  cp -r "$WORK/storage/lib/modules/." "$tree/lib/modules/"
  cp "$WORK/storage/etc/storage-modules.txt" "$tree/etc/storage-modules.txt"
  collect_modules "$tree" "$tree/etc/net-modules.txt" virtio_pci virtio_net
  printf 'NAME="%s (bootrino VM test sample)"\nID=%s\n' "$name" "$name" >"$tree/etc/os-release"
  while :; do
    head -c "$n" /dev/zero | tr '\0' x >"$tree/etc/padding"
    mkcpio "$tree" "$out" /dev/console:c:5:1
    (($(stat -c %s "$out") % 4)) && break
    n=$((n + 1))
  done
}

# write_manifest OUT NAME PERSONALISATION MINRAM CMDLINE KERNEL INITRD [FILE[:NAME]...] [hook]
# A sample's bootrino.sh (tests/lib/manifest.py): every path is relative to OUT's directory; sizes and
# hashes are taken from the files. hook: an afterStage hook that checks the staged boot/modloop-virt.
write_manifest() {
  local out=$1 name=$2 pers=$3 minram=$4 cmdline=$5 kernel=$6 initrd=$7 spec hook=() files=()
  shift 7
  for spec in "$@"; do
    if [[ $spec == hook ]]; then
      hook=(--boot '{"hooks": {"afterStage": {"function": "bootrino_after_stage", "timeoutSeconds": 30}}}'
        --tail $'\nbootrino_after_stage() {\n    test -s "$BOOTRINO_STAGE_DIR/boot/modloop-virt"\n}\n')
    elif [[ $spec == *:* ]]; then
      files+=("file:${spec%%:*}=${spec#*:}")
    else
      files+=("file:$spec")
    fi
  done
  python3 "$LIB/manifest.py" write "$out" --arch "$VM_ARCH" --header "bootrino VM test sample: $name" --name "$name" \
    --description "bootrino VM test sample RAM OS ($name)" --tag test --tag runfromram --min-ram "$minram" \
    --personalisation "$pers" --cmdline "$cmdline" "${hook[@]}" "kernel:$kernel" "initrd:$initrd" "${files[@]}"
}

# ---------------------------------------------------------------------------------------------
# collect_modules TREE LIST MODULE...: MODULEs and their dependencies from the unpacked kernel
# ($WORK/kernel), in load order, as plain TREE/lib/modules/NAME.ko files (busybox insmod reads no
# .xz/.zst); their names, one a line, in LIST. Built-in modules are skipped (none listed).
collect_modules() {
  local tree=$1 list=$2 m deps verb path name mods=() seen=" "
  shift 2
  mkdir -p "$tree/lib/modules"
  for m in "$@"; do
    deps=$(modprobe -d "$WORK/kernel" -S "$KREL" --show-depends "$m") || die "modprobe --show-depends $m failed"
    while read -r verb path _; do
      [[ $verb == insmod ]] || continue
      name=$(basename "$path")
      name=${name%%.ko*}
      [[ $seen == *" $name "* ]] && continue
      seen+="$name "
      mods+=("$name")
      case $path in
        *.ko) cp "$path" "$tree/lib/modules/$name.ko" ;;
        *.ko.xz) xz -dc "$path" >"$tree/lib/modules/$name.ko" ;;
        *.ko.zst) zstd -qdc "$path" >"$tree/lib/modules/$name.ko" ;;
        *.ko.gz) gzip -dc "$path" >"$tree/lib/modules/$name.ko" ;;
        *) die "unexpected module file $path" ;;
      esac
    done <<<"$deps"
  done
  : >"$list"
  ((${#mods[@]} == 0)) || printf '%s\n' "${mods[@]}" >"$list"
}

# fault_samples WWW: WWW/faults/, alpine-like's files (hard links) and manifests derived from its
# manifest that each make `bootrino run` fail in one way before the commit point (the VM tests
# test_disk_untouched.sh and test_faults_untouched.sh run them against a disk-booted host):
#   hook-fails.sh       the afterStage hook prints a line and exits 3
#   hook-hangs.sh       the hook sleeps far past its 2 s timeoutSeconds
#   min-ram.sh          minRamMiB 4096
#   disk-too-small.sh   disk.bootPartitionMiB 4096: more than the whole 2 GiB host disk
#   wrong-length.sh     the initrd's declared size is one byte more than the file's
#   http-404.sh, http-503.sh, reset-mid-file.sh, stall-mid-file.sh   the initrd through a fault
#                       URL of tests/integration/fault_server.py, on every try: status=404,
#                       status=503, drop=50%,rst (a TCP reset half way through what is asked),
#                       stall=30@400000 (400000 bytes of what is asked, then 30 s of silence)
fault_samples() {
  local www=$1 initrd=boot.architectures.x86_64.initrds.0 size
  local hooks='boot.hooks={"afterStage": {"function": "bootrino_after_stage", "timeoutSeconds": %d}}'
  mkdir -p "$www/faults"
  ln "$www"/alpine-like/{vmlinuz-virt,initramfs-virt,modloop-virt} "$www/faults/"
  size=$(stat -c %s "$www/alpine-like/initramfs-virt")
  # printf: the hooks' timeouts; $'…': the hooks' own shell functions, in place of alpine-like's.
  # shellcheck disable=SC2059
  fault_variant "$www" hook-fails --set "$(printf "$hooks" 30)" \
    --tail $'\nbootrino_after_stage() {\n    echo "fault sample: the hook refuses this stage"\n    exit 3\n}\n'
  # shellcheck disable=SC2059
  fault_variant "$www" hook-hangs --set "$(printf "$hooks" 2)" --tail $'\nbootrino_after_stage() {\n    sleep 600\n}\n'
  fault_variant "$www" min-ram --set boot.minRamMiB=4096
  fault_variant "$www" disk-too-small --set 'boot.disk={"bootPartitionMiB": 4096}'
  fault_variant "$www" wrong-length --set "$initrd.size=$((size + 1))"
  fault_variant "$www" http-404 --set-string "$initrd.url=/_f/status=404/faults/initramfs-virt"
  fault_variant "$www" http-503 --set-string "$initrd.url=/_f/status=503/faults/initramfs-virt"
  fault_variant "$www" reset-mid-file --set-string "$initrd.url=/_f/drop=50%25,rst/faults/initramfs-virt"
  fault_variant "$www" stall-mid-file --set-string "$initrd.url=/_f/stall=30@400000/faults/initramfs-virt"
}

# fault_variant WWW NAME MANIFEST_OPTION...: WWW/faults/NAME.sh, alpine-like's manifest named
# fault-NAME and changed by the options of tests/lib/manifest.py edit.
fault_variant() {
  local www=$1 name=$2
  shift 2
  python3 "$LIB/manifest.py" edit "$www/alpine-like/bootrino.sh" "$www/faults/$name.sh" \
    --header "bootrino VM test sample: fails before the commit point ($name)" --set-string "name=fault-$name" "$@"
}

# unpack_packages: the kernel package (and its modules) into $WORK/kernel, with the modules' modules.dep,
# and busybox-static into $WORK/busybox.
unpack_packages() {
  local kdeb bbdeb
  kdeb=$(fetch_deb "$KPKG" "$KVER" "$VMCACHE/debs")
  bbdeb=$(fetch_deb busybox-static "$BBVER" "$VMCACHE/debs")
  say "unpacking $(basename "$kdeb") and $(basename "$bbdeb")"
  dpkg-deb -x "$kdeb" "$WORK/kernel"
  if [[ -n $MPKG ]]; then
    dpkg-deb -x "$(fetch_deb "$MPKG" "$MVER" "$VMCACHE/debs")" "$WORK/kernel"
  fi
  dpkg-deb -x "$bbdeb" "$WORK/busybox"
  if [[ ! -d $WORK/kernel/lib/modules && -d $WORK/kernel/usr/lib/modules ]]; then
    ln -s usr/lib "$WORK/kernel/lib"  # merged-/usr packages (newer Ubuntu and Debian)
  fi
  depmod -b "$WORK/kernel" "$KREL"
}

# storage_modules OUT: the disks' drivers, for the host disk's initramfs and the sample RAM OSes:
# virtio-blk, virtio-scsi (+ sd), into $WORK/storage and listed in OUT/storage-modules.txt. NVMe and
# ext4 are built into Debian's cloud kernels, modules elsewhere.
storage_modules() {
  local out=$1 storage=(virtio_pci virtio_blk virtio_scsi sd_mod) m
  for m in nvme ext4; do
    if grep -q "/$m\.ko" "$WORK/kernel/lib/modules/$KREL/modules.dep"; then storage+=("$m"); fi
  done
  mkdir -p "$WORK/storage/etc"
  collect_modules "$WORK/storage" "$WORK/storage/etc/storage-modules.txt" "${storage[@]}"
  cp "$WORK/storage/etc/storage-modules.txt" "$out/storage-modules.txt"
  say "storage modules: $(tr '\n' ' ' <"$out/storage-modules.txt")"
}

# host_base OUT: OUT/host-base.cpio.gz, the host stand-in's tree ($WORK/host, where the modules of
# OUT/modules.txt already are) with busybox and its init.
host_base() {
  local out=$1
  busybox_tree "$WORK/host"
  cp "$out/modules.txt" "$WORK/host/etc/modules.txt"
  write_host_init "$WORK/host"
  printf 'NAME="bootrino VM host stand-in"\nID=bootrino-host\n' >"$WORK/host/etc/os-release"
  PAD=512 mkcpio "$WORK/host" "$out/host-base.cpio.gz" /dev/console:c:5:1
}

# alpine_like DIR: the alpine-like sample in DIR around the kernel already at DIR/vmlinuz-virt.
alpine_like() {
  local a=$1
  ramos_initrd alpine-like "$a/initramfs-virt"
  python3 -c 'import hashlib,sys; sys.stdout.buffer.write(b"".join(hashlib.sha256(b"modloop%d" % i).digest() for i in range(8192)))' \
    >"$a/modloop-virt"
  write_manifest "$a/bootrino.sh" alpine-like overlay 128 "modules=loop,squashfs modloop=/boot/modloop-virt quiet" \
    vmlinuz-virt initramfs-virt modloop-virt:boot/modloop-virt hook
}

build_fixtures() {
  local out=$1
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/bootrino-fixtures.XXXXXX")
  trap 'rm -rf "$WORK"' EXIT
  mkdir -p "$out"
  unpack_packages
  storage_modules "$out"
  "build_$VM_ARCH" "$out"
  {
    echo "kernel $KPKG $KVER"
    [[ -z $MPKG ]] || echo "modules $MPKG $MVER"
    [[ -z ${HOST_KERNEL:-} ]] || echo "host kernel $HOST_KERNEL"
    echo "busybox-static $BBVER"
    echo "script and recipe $(recipe_hash)"
    echo "built $(date -u +%FT%TZ)"
  } >"$out/versions.txt"
}

# build_x86_64 OUT: the x86_64 set: the cloud kernel boots both the host stand-in and the samples.
build_x86_64() {
  local out=$1
  cp "$WORK/kernel/boot/vmlinuz-$KREL" "$out/vmlinuz"
  chmod 644 "$out/vmlinuz"

  # virtio NIC (and disk, for the disk tiers and the demo's --disk-image) with their dependencies; vfat with
  # the code pages it mounts with by default, for a NoCloud seed volume bootrino mounts (the stand-in has no
  # modprobe to load them when the mount asks).
  collect_modules "$WORK/host" "$out/modules.txt" virtio_pci virtio_net virtio_blk vfat nls_cp437 nls_ascii
  say "host modules: $(tr '\n' ' ' <"$out/modules.txt")"
  host_base "$out"

  say "building the host disk"
  build_host_disk "$WORK/host" "$out"

  say "building sample RAM OSes"
  local a=$out/www/alpine-like t=$out/www/tinycore-like b=$out/www/broken h=$out/www/huge
  mkdir -p "$a" "$t" "$b" "$h"
  ln "$out/vmlinuz" "$a/vmlinuz-virt"
  alpine_like "$a"

  ln "$out/vmlinuz" "$t/vmlinuz64"
  ramos_initrd tinycore-like "$t/core.gz"
  write_manifest "$t/bootrino.sh" tinycore-like tinycore-mydata 128 "tce=LABEL=tce quiet" vmlinuz64 core.gz

  # broken: the alpine-like manifest, but one byte of the initrd differs (same size).
  ln "$a"/{vmlinuz-virt,modloop-virt,bootrino.sh} "$b/"
  python3 - "$a/initramfs-virt" "$b/initramfs-virt" <<'PY'
import sys
data = bytearray(open(sys.argv[1], "rb").read())
data[len(data) // 2] ^= 0xFF
open(sys.argv[2], "wb").write(data)
PY

  # huge: a 1 GiB initrd (sparse zeros: no disk space) beside the real kernel.
  ln "$out/vmlinuz" "$h/vmlinuz"
  truncate -s 1G "$h/initrd.img"
  write_manifest "$h/bootrino.sh" huge overlay 64 "quiet" vmlinuz initrd.img

  fault_samples "$out/www"
}

# build_aarch64 OUT: the arm64 set: the host stand-in on a kernel of its own (host_kernel_aarch64), with
# everything it needs built in; the alpine-like sample on Debian's arm64 cloud kernel, gzip'd.
build_aarch64() {
  local out=$1 image a=$1/www/alpine-like
  image=$(host_kernel_aarch64)
  HOST_KERNEL="$SRCPKG $SRCVER with arm64-host-kernel.config ($(dirname "$image"))"
  cp "$image" "$out/vmlinuz"
  dirname "$image" >"$out/host-kernel-dir"
  : >"$out/modules.txt"
  host_base "$out"

  say "building the host disk"
  build_host_disk "$WORK/host" "$out" -

  say "building the alpine-like sample"
  mkdir -p "$a"
  image=$WORK/kernel/boot/vmlinuz-$KREL
  # An arm64 Image has "ARM\x64" at 56. Debian's is not compressed; should it come gzip'd one day, as it is.
  if [[ $(od -An -c -j56 -N4 "$image" | tr -d ' ') == ARMd ]]; then
    gzip -9n <"$image" >"$a/vmlinuz-virt"
  elif [[ $(od -An -tx1 -N2 "$image" | tr -d ' ') == 1f8b ]]; then
    cp "$image" "$a/vmlinuz-virt"
  else
    die "$image is neither an arm64 Image nor gzip'd: $(file -b "$image" 2>/dev/null)"
  fi
  alpine_like "$a"
}

# host_kernel_aarch64: prints the path of the arm64 host stand-in's kernel Image, built by
# build_host_kernel on the first call and cached apart from the fixture sets (an edit of this script
# need not rebuild it): $VMCACHE/aarch64-host-kernel_SRCVER_HASH/Image, HASH over the configuration's options
# (not its comments) and build_host_kernel itself.
host_kernel_aarch64() {
  local cfg=$VM_DIR/arm64-host-kernel.config hash dir t0=$SECONDS
  hash=$({ grep '^CONFIG_' "$cfg"; declare -f build_host_kernel; } | sha256sum | cut -c1-12)
  dir=$VMCACHE/aarch64-host-kernel_$(tr ':~' '_-' <<<"$SRCVER")_$hash
  if [[ ! -f $dir/Image ]]; then
    rm -rf "$dir.tmp"
    mkdir -p "$dir.tmp"
    build_host_kernel "$cfg" "$dir.tmp"
    rm -rf "$dir"
    mv "$dir.tmp" "$dir"
    say "host kernel built in $((SECONDS - t0)) s"
  fi
  touch "$dir/.used"
  echo "$dir/Image"
}

# build_host_kernel CONFIG OUT: OUT/Image, OUT/config and OUT/build.log: the arm64 kernel of $SRCPKG
# $SRCVER, allnoconfig plus CONFIG (tests/vm/arm64-host-kernel.config), cross-compiled. Fails when an
# option of CONFIG does not hold in the result (a dependency missing from CONFIG).
build_host_kernel() {
  local cfg=$1 out=$2 deb src=$WORK/linux obj=$WORK/linux-obj log=$2/build.log opt
  deb=$(fetch_deb "$SRCPKG" "$SRCVER" "$VMCACHE/debs")
  say "building the arm64 host stand-in's kernel from $SRCPKG $SRCVER (minutes; cached afterwards)"
  mkdir -p "$src" "$obj"
  dpkg-deb --fsys-tarfile "$deb" | tar -xO --wildcards './usr/src/linux-source-*.tar.xz' | xz -dc |
    tar -x -C "$src" --strip-components=1 || die "cannot unpack the kernel source of $deb"
  local make=(nice -n 5 make -C "$src" O="$obj" ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- -j"$(nproc)")
  "${make[@]}" KCONFIG_ALLCONFIG="$cfg" allnoconfig >"$log" 2>&1 || die "allnoconfig failed: $(tail -n 20 "$log")"
  while read -r opt; do
    grep -qxF -- "$opt" "$obj/.config" || die "$opt (in $cfg) does not hold in the kernel's configuration: an option it depends on is missing there"
  done < <(grep '^CONFIG_' "$cfg")
  "${make[@]}" Image >>"$log" 2>&1 || die "the arm64 host kernel did not build: $(tail -n 20 "$log")"
  cp "$obj/arch/arm64/boot/Image" "$out/Image"
  cp "$obj/.config" "$out/config"
  rm -rf "$src" "$obj"
}

ensure_fixtures() {
  install_packages
  resolve_versions
  if [[ ! -f $FIX/versions.txt ]]; then
    mkdir -p "$VMCACHE"
    # One lock per architecture: the arm64 set's kernel build takes minutes, and tests/run.sh builds it
    # beside the x86_64 set.
    if [[ $VM_ARCH == x86_64 ]]; then exec 9>"$VMCACHE/.lock"; else exec 9>"$VMCACHE/.lock-$VM_ARCH"; fi
    flock 9
    if [[ ! -f $FIX/versions.txt ]]; then
      local t0=$SECONDS tmp=$FIX.tmp.$$
      say "building fixtures $KEY"
      rm -rf "$tmp"
      build_fixtures "$tmp"
      mv "$tmp" "$FIX"
      say "fixtures built in $((SECONDS - t0)) s"
      # Fixture sets nobody used for 30 days (an older kernel or script) go.
      find "$VMCACHE" -mindepth 2 -maxdepth 2 -name .used -mtime +30 -printf '%h\n' | while read -r old; do
        say "removing unused fixtures $old"
        rm -rf "$old"
      done
    fi
    flock -u 9
  fi
  touch "$FIX/.used"
  # The host kernel the arm64 set was made with stays as long as the set does.
  [[ ! -f $FIX/host-kernel-dir ]] || touch "$(cat "$FIX/host-kernel-dir")/.used" 2>/dev/null || true
}

# check_binary_arch BIN: an ELF file for another architecture than VM_ARCH's would only fail inside the
# guest ("Exec format error" on its console): say so here.
check_binary_arch() {
  local what want=x86-64
  command -v file >/dev/null || return 0
  what=$(file -bL "$1")
  [[ $what == ELF* ]] || return 0
  [[ $VM_ARCH == x86_64 ]] || want="ARM aarch64"
  [[ $what == *"$want"* ]] || die "$1 is not built for $VM_ARCH ($what): VM_ARCH=$VM_ARCH guests need a $VM_ARCH binary (for aarch64: packaging/release.sh --arch aarch64)"
}

# guest_binary BOOTRINO OUT: BOOTRINO as the guest runs it, stripped, mode 755, at OUT; refused when built for
# another architecture than VM_ARCH's, a warning when it does not look static (the guest has no libraries).
guest_binary() {
  local bin=$1 out=$2
  [[ -f $bin ]] || die "no such binary: $bin"
  if command -v file >/dev/null && file -L "$bin" | grep -q ELF && ! file -L "$bin" | grep -q 'statically linked'; then
    say "warning: $bin does not look statically linked"
  fi
  check_binary_arch "$bin"
  "$STRIP" -o "$out" "$bin" 2>/dev/null || cp "$bin" "$out"
  chmod 755 "$out"
}

# host_initrd BOOTRINO OUT: host-base (already padded to 512) + a gzip'd cpio with /bin/bootrino.
host_initrd() {
  local bin=$1 out=$2 tmp
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/bootrino-hostinitrd.XXXXXX")
  mkdir -p "$tmp/tree/bin"
  guest_binary "$bin" "$tmp/tree/bin/bootrino"
  local spec
  for spec in "${@:3}"; do
    mkdir -p "$tmp/tree/$(dirname "${spec#*:}")"
    cp "${spec%%:*}" "$tmp/tree/${spec#*:}"
  done
  find "$tmp/tree" -type d -exec chmod 755 {} +
  PAD=4 mkcpio "$tmp/tree" "$tmp/bootrino.cpio.gz"
  cat "$FIX/host-base.cpio.gz" "$tmp/bootrino.cpio.gz" >"$out.tmp"
  mv "$out.tmp" "$out"
  rm -rf "$tmp"
}

# host_disk BOOTRINO|- OUT [FILE:GUEST_PATH...]: a sparse copy of host-disk.img with BOOTRINO (stripped)
# as /bin/bootrino and the FILEs on its root file system.
host_disk() {
  local bin=$1 out=$2 tmp files=()
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/bootrino-hostdisk.XXXXXX")
  if [[ $bin != - ]]; then
    guest_binary "$bin" "$tmp/bootrino"
    files+=("$tmp/bootrino:bin/bootrino")
  fi
  cp --sparse=always "$FIX/host-disk.img" "$out.tmp"
  (($# < 3)) || files+=("${@:3}")
  ((${#files[@]} == 0)) || disk_files "$out.tmp" "${files[@]}"
  mv "$out.tmp" "$out"
  rm -rf "$tmp"
}

case ${1:-} in
  "")
    ensure_fixtures
    echo "$FIX"
    ;;
  host-initrd)
    [[ $# -ge 3 ]] || die "usage: $0 host-initrd BOOTRINO_BIN OUT [FILE:GUEST_PATH...]"
    # BOOTRINO_VM_FIXTURES: the directory a previous call printed (skips the checks).
    if [[ -f ${BOOTRINO_VM_FIXTURES:-}/host-base.cpio.gz ]]; then
      FIX=$BOOTRINO_VM_FIXTURES
    else
      ensure_fixtures
    fi
    host_initrd "${@:2}"
    echo "$3"
    ;;
  host-disk)
    [[ $# -ge 3 ]] || die "usage: $0 host-disk BOOTRINO_BIN|- OUT [FILE:GUEST_PATH...]"
    if [[ -f ${BOOTRINO_VM_FIXTURES:-}/host-disk.img ]]; then
      FIX=$BOOTRINO_VM_FIXTURES
    else
      ensure_fixtures
    fi
    host_disk "${@:2}"
    echo "$3"
    ;;
  packages)
    install_packages
    ;;
  -h|--help)
    sed -n '2,/^set -euo/p' "$SELF" | sed '$d; s/^# \{0,1\}//'
    ;;
  *)
    die "unknown command $1 (try --help)"
    ;;
esac
