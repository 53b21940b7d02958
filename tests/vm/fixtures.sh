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
# The fixture directory, ${BOOTRINO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bootrino}/vm/KEY, holds
#   vmlinuz              Debian's cloud kernel (LZ4 bzImage: boots fast under QEMU TCG)
#   host-base.cpio.gz    the host stand-in initramfs, without bootrino (gzip member padded to 512)
#   modules.txt          the virtio modules it loads, in order
#   host-disk.img        the host stand-in as a cloud image: a 2 GiB sparse raw disk, GPT, partition 1
#                        = ext4 root (LABEL=cloudimg-rootfs) holding what host-base.cpio.gz holds;
#                        never booted itself: tests copy it (lib.sh private_disk)
#   host-disk-boot.cpio.gz   its initramfs: loads the storage drivers, mounts root= (LABEL=, UUID=,
#                        /dev/…) and switch_roots into it, as a cloud image's initramfs does
#   storage-modules.txt  the modules that initramfs loads, in order (virtio-blk, virtio-scsi; NVMe
#                        and ext4 are built into the cloud kernel)
#   host-disk.txt        the disk's layout facts (sizes, offsets, label and UUIDs) as shell variables
#   www/alpine-like/     a sample RAM OS shaped like Alpine's netboot files + bootrino.sh
#   www/tinycore-like/   a sample RAM OS shaped like Tiny Core + bootrino.sh
#   www/broken/          alpine-like with one flipped byte in initramfs-virt (size unchanged)
#   www/huge/            a manifest whose 1 GiB initrd (a sparse file of zeros) fits in no small VM
#   www/faults/          alpine-like's files with manifests that each fail before the disk commit
#   versions.txt         what the fixtures were built from
# KEY names the kernel and busybox-static package versions plus a hash of this script, so an
# apt-get update that brings a new kernel, or an edit here, builds a fresh set. Downloaded .debs are
# kept in .../vm/debs. Progress goes to stderr.
set -euo pipefail
SELF=$(readlink -f "$0")
CACHE=${BOOTRINO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bootrino}
VMCACHE=$CACHE/vm

say() { echo "fixtures: $*" >&2; }
die() { echo "fixtures: ERROR: $*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------
# Host packages.
# e2fsprogs/fdisk build the host disk; ovmf, dosfstools, mtools, syslinux and systemd-boot-efi are
# the firmware boots (lib.sh boot_firmware, test_firmware_harness.sh).
PACKAGES=(qemu-system-x86 busybox-static cpio netcat-openbsd python3 kmod zstd xz-utils binutils util-linux
  e2fsprogs fdisk ovmf dosfstools mtools syslinux syslinux-common systemd-boot-efi)
SUDO=()
[[ $(id -u) == 0 ]] || SUDO=(sudo)
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../../packaging/packages.sh"
install_packages() { ensure_packages "${PACKAGES[@]}"; }

# candidate PACKAGE: the version apt would install now (empty if unknown).
candidate() { apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2; exit}' | grep -v '(none)' || true; }

# The versioned kernel image package: Debian's cloud kernel (LZ4, virtio as modules); on Ubuntu,
# which has no cloud-amd64 flavour, the kvm flavour, else the virtual one. BOOTRINO_VM_KERNEL_PACKAGE
# names one directly (e.g. linux-image-6.1.0-56-cloud-amd64).
KERNEL_METAPACKAGES=(linux-image-cloud-amd64 linux-image-kvm linux-image-virtual)
kernel_package() {
  if [[ -n ${BOOTRINO_VM_KERNEL_PACKAGE:-} ]]; then echo "$BOOTRINO_VM_KERNEL_PACKAGE"; return; fi
  # apt-cache prints "Depends: PKG" lines per metapackage in the order asked; take the first flavour's.
  apt-cache depends "${KERNEL_METAPACKAGES[@]}" 2>/dev/null |
    awk '$1 == "Depends:" && $2 ~ /^linux-image-(unsigned-)?[0-9]/ {print $2; exit}'
}

# candidates PACKAGE...: "PACKAGE VERSION" for each package apt knows (one apt-cache call).
candidates() {
  apt-cache policy "$@" 2>/dev/null |
    awk '/^[^ ].*:$/ {pkg = substr($1, 1, length($1) - 1)} $1 == "Candidate:" && $2 != "(none)" {print pkg, $2}'
}

# resolve_versions: sets KPKG KVER KREL MPKG MVER BBVER KEY FIX. apt-cache takes seconds here, so the
# answer is remembered until the package lists change (apt-get update) or this script does.
resolve_versions() {
  local script_hash stamp memo=$VMCACHE/.resolved
  script_hash=$(sha256sum "$SELF" | cut -c1-12)
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
  KEY=$(echo "k${KVER}${MVER:+_m$MVER}_bb${BBVER}_${script_hash}" | tr ':~/' '_-_')
  FIX=$VMCACHE/$KEY
  mkdir -p "$VMCACHE"
  { echo "$stamp"; for v in KPKG KVER KREL MPKG MVER BBVER KEY FIX; do printf '%s=%q\n' "$v" "${!v}"; done; } >"$memo.$$"
  mv "$memo.$$" "$memo"
}

# fetch_deb PACKAGE VERSION: the .deb in the download cache (apt-get download on a miss).
fetch_deb() {
  local pkg=$1 ver=$2 dir=$VMCACHE/debs f
  mkdir -p "$dir"
  f=$(find "$dir" -maxdepth 1 -name "${pkg}_${ver//:/%3a}_*.deb" | head -1)
  if [[ -z $f ]]; then
    say "downloading $pkg $ver"
    (cd "$dir" && apt-get download -q "$pkg=$ver" 2>&1 | grep -v -e unsandboxed -e '^Get:' >&2 || true)
    f=$(find "$dir" -maxdepth 1 -name "${pkg}_${ver//:/%3a}_*.deb" | head -1)
    [[ -n $f ]] || die "apt-get download $pkg=$ver failed"
  fi
  echo "$f"
}

# ---------------------------------------------------------------------------------------------
# mkcpio DIR OUT [DEV...]: a gzip'd newc archive of DIR (sorted, owner 0:0, mtime 0, so the bytes
# depend only on the content) plus device nodes DEV = PATH:c|b:MAJOR:MINOR, made without mknod
# (no root needed). PAD=N pads the gzip member with zeros to a multiple of N bytes; GZIP=0 leaves
# the archive uncompressed.
mkcpio() {
  python3 - "$@" <<'PY'
import gzip, os, stat, sys
src, out, devs = sys.argv[1], sys.argv[2], sys.argv[3:]
pad, compress = int(os.environ.get("PAD", "0")), os.environ.get("GZIP", "1") != "0"
chunks, ino = [], [1000]

def add(name, mode, data=b"", rdev=(0, 0), nlink=1):
    ino[0] += 1
    fields = [ino[0], mode, 0, 0, nlink, 0, len(data), 0, 0, rdev[0], rdev[1], len(name) + 1, 0]
    hdr = b"070701" + b"".join(b"%08X" % v for v in fields) + name.encode() + b"\0"
    chunks.append(hdr + b"\0" * (-len(hdr) % 4))
    chunks.append(data + b"\0" * (-len(data) % 4))

entries = []
for root, dirs, files in os.walk(src):
    for n in dirs + files:
        p = os.path.join(root, n)
        entries.append(os.path.relpath(p, src))
dev_entries = {}
for d in devs:
    path, kind, major, minor = d.split(":")
    dev_entries[path.lstrip("/")] = (kind, int(major), int(minor))
for rel in sorted(set(entries) | set(dev_entries)):
    if rel in dev_entries:
        kind, major, minor = dev_entries[rel]
        add(rel, (stat.S_IFCHR if kind == "c" else stat.S_IFBLK) | 0o600, rdev=(major, minor))
        continue
    p = os.path.join(src, rel)
    st = os.lstat(p)
    perm = stat.S_IMODE(st.st_mode)
    if stat.S_ISLNK(st.st_mode):
        add(rel, stat.S_IFLNK | 0o777, os.readlink(p).encode())
    elif stat.S_ISDIR(st.st_mode):
        add(rel, stat.S_IFDIR | perm, nlink=2)
    elif stat.S_ISREG(st.st_mode):
        add(rel, stat.S_IFREG | perm, open(p, "rb").read())
    else:
        sys.exit("mkcpio: unsupported file type: " + p)
add("TRAILER!!!", 0)
raw = b"".join(chunks)
data = gzip.compress(raw, compresslevel=9, mtime=0) if compress else raw
if pad:
    data += b"\0" * (-len(data) % pad)
open(out, "wb").write(data)
PY
}

# busybox_tree DIR: busybox-static at DIR/bin/busybox with every applet linked where it belongs.
busybox_tree() {
  local dir=$1 applet
  mkdir -p "$dir"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,run,tmp,etc,root}
  cp "$WORK/busybox/bin/busybox" "$dir/bin/busybox"
  for applet in $("$dir/bin/busybox" --list-full); do
    [[ $applet == bin/busybox ]] && continue
    mkdir -p "$dir/$(dirname "$applet")"
    ln -sf "/bin/busybox" "$dir/$applet"
  done
  chmod 1777 "$dir/tmp"
}

# ---------------------------------------------------------------------------------------------
# The host stand-in: what a cloud instance looks like to bootrino (a kernel with serial console,
# virtio NIC, DHCP), minus systemd; booted from host-disk.img, with its root on a disk too.
write_host_init() {
  cat >"$1/init" <<'EOF'
#!/bin/sh
# bootrino VM tests: the cloud host stand-in. Brings up the virtio NIC with DHCP, then runs
# bootrino as the kernel command line asks:
#   bootrino.ref=URL          the manifest reference (required to run anything)
#   bootrino.cmd=run|dry-run|fetch|inspect|none   (default run: `bootrino run REF --yes`)
#   bootrino.args=a,b,c       extra arguments, commas become spaces
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm /sys/kernel/security
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t securityfs securityfs /sys/kernel/security 2>/dev/null
echo "host: kernel $(uname -r), $(awk '/MemTotal/ {print $2 " kB"}' /proc/meminfo), lockdown: $(cat /sys/kernel/security/lockdown 2>/dev/null || echo unknown)"
# Booted from host-disk.img, the disk's initramfs already loaded virtio_pci and friends.
while read -r m; do
  [ -d "/sys/module/$m" ] || insmod "/lib/modules/$m.ko" || echo "host: insmod $m failed"
done </etc/modules.txt
# What / is: rootfs (the initramfs) or, booted from host-disk.img, ext4 on the disk.
echo "HOST-ROOT: $(awk '$5 == "/"' /proc/self/mountinfo | tail -n 1)"
ip link set lo up
ip link set eth0 up 2>/dev/null || echo "host: no eth0"
udhcpc -i eth0 -n -q -t 10 -T 1 -s /etc/udhcpc.script >/dev/null 2>&1 || echo "host: DHCP failed"
echo "host: eth0 $(ip -4 -o addr show dev eth0 2>/dev/null | awk '{print $4}')"
echo "BOOTRINO-HOST-READY"

ref= cmd=run args=
for word in $(cat /proc/cmdline); do
  case $word in
    bootrino.ref=*) ref=${word#bootrino.ref=} ;;
    bootrino.cmd=*) cmd=${word#bootrino.cmd=} ;;
    bootrino.args=*) args=$(echo "${word#bootrino.args=}" | tr , ' ') ;;
  esac
done
if [ -n "$ref" ] && [ "$cmd" != none ]; then
  case $cmd in
    run) set -- run "$ref" --yes ;;
    dry-run) set -- run "$ref" --dry-run ;;
    fetch) mkdir -p /run/stage; set -- fetch "$ref" --stage /run/stage ;;
    inspect) set -- inspect "$ref" ;;
    *) set -- "$cmd" "$ref" ;;
  esac
  echo "host: bootrino $* $args"
  # Run from a short-lived shell, as cloud-init's runcmd script runs it: with
  # --detach bootrino waits for this caller to exit before it reboots.
  # shellcheck disable=SC2086,SC2016
  sh -c '/bin/bootrino "$@"; echo "BOOTRINO-HOST-EXIT=$?"' bootrino-caller "$@" $args
fi
echo "BOOTRINO-HOST-ALIVE"
while true; do setsid cttyhack sh; done
EOF
  chmod 755 "$1/init"
  cat >"$1/etc/udhcpc.script" <<'EOF'
#!/bin/sh
case $1 in
  deconfig) ip -4 addr flush dev "$interface" ;;
  bound|renew)
    ip -4 addr flush dev "$interface"
    ip addr add "$ip/${mask:-24}" dev "$interface"
    [ -n "$router" ] && ip route add default via "${router%% *}" dev "$interface" 2>/dev/null
    : >/etc/resolv.conf
    for s in $dns; do echo "nameserver $s" >>/etc/resolv.conf; done ;;
esac
exit 0
EOF
  chmod 755 "$1/etc/udhcpc.script"
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

write_disk_boot_init() {
  cat >"$1/init" <<'EOF'
#!/bin/sh
# bootrino VM tests: the host disk's initramfs. Loads the storage drivers, waits for the root
# device, mounts it and switch_roots into it, as a cloud image's initramfs does. Kernel parameters:
#   root=LABEL=…|UUID=…|/dev/…   (required)   rootfstype=… (default ext4)   ro|rw (default rw)
#   init=… (default /init)
# Any failure ends this init: with panic=1 the harness sees "Kernel panic" at once.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
root= fstype=ext4 mode=rw init=/init
for w in $(cat /proc/cmdline); do
  case $w in
    root=*) root=${w#root=} ;;
    rootfstype=*) fstype=${w#rootfstype=} ;;
    ro|rw) mode=$w ;;
    init=*) init=${w#init=} ;;
  esac
done
[ -n "$root" ] || { echo "initramfs: ERROR: no root= on the kernel command line"; exit 1; }
while read -r m; do
  [ -d "/sys/module/$m" ] || insmod "/lib/modules/$m.ko" || echo "initramfs: insmod $m failed"
done </etc/storage-modules.txt
i=0
while :; do
  case $root in
    LABEL=*|UUID=*) dev=$(findfs "$root" 2>/dev/null) ;;
    *) dev=$root ;;
  esac
  [ -n "$dev" ] && [ -b "$dev" ] && break
  i=$((i + 1))
  if [ $i -gt 300 ]; then
    echo "initramfs: ERROR: no root device $root after 30 s; block devices: $(ls /sys/class/block | tr '\n' ' ')"
    exit 1
  fi
  sleep 0.1
done
mkdir -p /newroot
mount -t "$fstype" -o "$mode" "$dev" /newroot || { echo "initramfs: ERROR: cannot mount $dev ($root)"; exit 1; }
[ -x "/newroot$init" ] || { echo "initramfs: ERROR: $root has no $init"; exit 1; }
echo "initramfs: root $root is $dev ($fstype, $mode)"
mount --move /dev /newroot/dev
umount /sys /proc
exec switch_root /newroot "$init"
EOF
  chmod 755 "$1/init"
}

# build_host_disk TREE OUT: OUT/host-disk.img with TREE as its root file system, made without loop
# devices or mounts (mkfs.ext4 -d at the partition's offset), OUT/host-disk-boot.cpio.gz and
# OUT/host-disk.txt.
build_host_disk() {
  local tree=$1 out=$2 boot=$WORK/disk-boot img=$2/host-disk.img
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
  cp -r "$WORK/storage/lib/modules/." "$boot/lib/modules/"
  cp "$WORK/storage/etc/storage-modules.txt" "$boot/etc/storage-modules.txt"
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
# Printed when bootrino gave them: "RAMOS-SSH-KEY: <authorized_keys line>" (each), "RAMOS-HOSTNAME: NAME".
# Always printed: "RAMOS-FIRMWARE: uefi|bios" (EFI runtime services present or not: a kexec from a
# BIOS host says bios too).
write_ramos_init() {
  sed "s/@NAME@/$2/" >"$1/init" <<'EOF'
#!/bin/sh
# Sample RAM OS for bootrino's VM tests: reports its cmdline and bootrino's overlay, optionally reads
# and writes a marker on the data partition, then a shell.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
# Kernel messages share the serial port and would split this report's lines
# (seen: a late driver message inside "overlay-file: …"); keep them in dmesg.
dmesg -n 1
echo "BOOTRINO-RAMOS-UP name=@NAME@"
echo "cmdline: $(cat /proc/cmdline)"
if [ -d /etc/bootrino ]; then
  for f in $(find /etc/bootrino -type f | sort); do
    echo "overlay-file: $f ($(wc -c <"$f") bytes)"
    cat "$f"
    echo
    echo "overlay-file-end: $f"
  done
else
  echo "overlay: none"
fi
# What an operator would log in with: root's SSH keys and the hostname bootrino gave this OS.
if [ -f /root/.ssh/authorized_keys ]; then
  while read -r key; do [ -n "$key" ] && echo "RAMOS-SSH-KEY: $key"; done </root/.ssh/authorized_keys
fi
[ -f /etc/hostname ] && echo "RAMOS-HOSTNAME: $(cat /etc/hostname)"
if [ -d /sys/firmware/efi ]; then echo "RAMOS-FIRMWARE: uefi"; else echo "RAMOS-FIRMWARE: bios"; fi

persist= label=bootrino-data marker=
for w in $(cat /proc/cmdline); do
  case $w in
    ramos.persist-test=1) persist=1 ;;
    ramos.data-label=*) label=${w#ramos.data-label=}; persist=1 ;;
    ramos.marker=*) marker=${w#ramos.marker=}; persist=1 ;;
  esac
done
# data_partition: mounts the partition labelled $label on /mnt/data, else says why.
data_partition() {
  local m dev i=0
  # NVMe and ext4 are built into the cloud kernel; virtio-blk and virtio-scsi are modules.
  while read -r m; do
    [ -d "/sys/module/$m" ] || insmod "/lib/modules/$m.ko" 2>/dev/null
  done </etc/storage-modules.txt
  while ! dev=$(findfs "LABEL=$label" 2>/dev/null); do
    i=$((i + 1))
    if [ $i -gt 100 ]; then
      echo "RAMOS-DATA-ERROR: no partition labelled $label after 10 s (block devices: $(ls /sys/class/block | tr '\n' ' '))"
      return 1
    fi
    sleep 0.1
  done
  mkdir -p /mnt/data
  mount "$dev" /mnt/data || { echo "RAMOS-DATA-ERROR: cannot mount $dev (LABEL=$label)"; return 1; }
  echo "RAMOS-DATA-DEVICE: $dev"
}
if [ -n "$persist" ] && data_partition; then
  if [ -f /mnt/data/marker ]; then
    echo "RAMOS-DATA: $(tr -d '\n' </mnt/data/marker)"
  else
    echo "RAMOS-DATA: NONE"
  fi
  if [ -n "$marker" ]; then
    if echo "$marker" >/mnt/data/marker && sync; then
      echo "RAMOS-DATA-WRITTEN: $marker"
    else
      echo "RAMOS-DATA-ERROR: cannot write /marker"
    fi
  fi
  umount /mnt/data || echo "RAMOS-DATA-ERROR: cannot unmount the data partition"
fi
echo "BOOTRINO-RAMOS-SHELL"
while true; do setsid cttyhack sh; done
EOF
  chmod 755 "$1/init"
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
  printf 'NAME="%s (bootrino VM test sample)"\nID=%s\n' "$name" "$name" >"$tree/etc/os-release"
  while :; do
    head -c "$n" /dev/zero | tr '\0' x >"$tree/etc/padding"
    mkcpio "$tree" "$out" /dev/console:c:5:1
    (($(stat -c %s "$out") % 4)) && break
    n=$((n + 1))
  done
}

# write_manifest OUT NAME PERSONALISATION MINRAM CMDLINE KERNEL INITRD [FILE:NAME...] [hook]
# Every path is relative to OUT's directory; sizes and hashes are taken from the files.
write_manifest() {
  python3 - "$@" <<'PY'
import hashlib, json, os, sys
out, name, pers, minram, cmdline, kernel, initrd, *rest = sys.argv[1:]
base = os.path.dirname(out)
hook = "hook" in rest
rest = [r for r in rest if r != "hook"]
def entry(url, target=None):
    data = open(os.path.join(base, url), "rb")
    h, size = hashlib.sha256(), 0
    for chunk in iter(lambda: data.read(1 << 20), b""):
        h.update(chunk)
        size += len(chunk)
    e = {"url": url, "size": size, "sha256": h.hexdigest()}
    if target: e["name"] = target
    return e
arch = {"kernel": entry(kernel), "initrds": [entry(initrd)],
        "files": [entry(*spec.split(":", 1)) for spec in rest], "cmdline": cmdline}
boot = {"schema": 1, "minRamMiB": int(minram), "personalisation": pers, "architectures": {"x86_64": arch}}
if hook:
    boot["hooks"] = {"afterStage": {"function": "bootrino_after_stage", "timeoutSeconds": 30}}
meta = {"name": name, "version": "1.0", "description": "bootrino VM test sample RAM OS (" + name + ")",
        "tags": ["test", "runfromram"], "boot": boot}
text = "#!/bin/sh\n# bootrino VM test sample: " + name + "\n"
text += 'read BOOTRINOJSON <<"BOOTRINOJSONMARKER"\n' + json.dumps(meta, indent=2) + "\nBOOTRINOJSONMARKER\n"
if hook:
    text += '\nbootrino_after_stage() {\n    test -s "$BOOTRINO_STAGE_DIR/boot/modloop-virt"\n}\n'
open(out, "w").write(text)
PY
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
  local www=$1
  mkdir -p "$www/faults"
  ln "$www"/alpine-like/{vmlinuz-virt,initramfs-virt,modloop-virt} "$www/faults/"
  python3 - "$www/alpine-like/bootrino.sh" "$www/faults" <<'PY'
import copy, json, os, sys
src, out = sys.argv[1:]
head, rest = open(src).read().split('read BOOTRINOJSON <<"BOOTRINOJSONMARKER"\n', 1)
body, tail = rest.split("\nBOOTRINOJSONMARKER\n", 1)
base = json.loads(body)

def variant(name, change, hook_body=None):
    meta = copy.deepcopy(base)
    meta["name"] = "fault-" + name
    boot = meta["boot"]
    change(boot, boot["architectures"]["x86_64"])
    text = "#!/bin/sh\n# bootrino VM test sample: fails before the commit point (" + name + ")\n"
    text += 'read BOOTRINOJSON <<"BOOTRINOJSONMARKER"\n' + json.dumps(meta, indent=2) + "\nBOOTRINOJSONMARKER\n"
    text += tail if hook_body is None else "\nbootrino_after_stage() {\n" + hook_body + "}\n"
    open(os.path.join(out, name + ".sh"), "w").write(text)

def hook(timeout):
    def change(boot, arch):
        boot["hooks"] = {"afterStage": {"function": "bootrino_after_stage", "timeoutSeconds": timeout}}
    return change

def initrd_url(url):
    def change(boot, arch):
        arch["initrds"][0]["url"] = url
    return change

def set_boot(key, value):
    def change(boot, arch):
        boot[key] = value
    return change

def longer(boot, arch):
    arch["initrds"][0]["size"] += 1

variant("hook-fails", hook(30), '    echo "fault sample: the hook refuses this stage"\n    exit 3\n')
variant("hook-hangs", hook(2), "    sleep 600\n")
variant("min-ram", set_boot("minRamMiB", 4096))
variant("disk-too-small", set_boot("disk", {"bootPartitionMiB": 4096}))
variant("wrong-length", longer)
variant("http-404", initrd_url("/_f/status=404/faults/initramfs-virt"))
variant("http-503", initrd_url("/_f/status=503/faults/initramfs-virt"))
variant("reset-mid-file", initrd_url("/_f/drop=50%25,rst/faults/initramfs-virt"))
variant("stall-mid-file", initrd_url("/_f/stall=30@400000/faults/initramfs-virt"))
PY
}

build_fixtures() {
  local out=$1 kdeb bbdeb
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/bootrino-fixtures.XXXXXX")
  trap 'rm -rf "$WORK"' EXIT
  mkdir -p "$out"
  kdeb=$(fetch_deb "$KPKG" "$KVER")
  bbdeb=$(fetch_deb busybox-static "$BBVER")
  say "unpacking $(basename "$kdeb") and $(basename "$bbdeb")"
  dpkg-deb -x "$kdeb" "$WORK/kernel"
  if [[ -n $MPKG ]]; then
    dpkg-deb -x "$(fetch_deb "$MPKG" "$MVER")" "$WORK/kernel"
  fi
  dpkg-deb -x "$bbdeb" "$WORK/busybox"
  cp "$WORK/kernel/boot/vmlinuz-$KREL" "$out/vmlinuz"
  chmod 644 "$out/vmlinuz"

  # virtio NIC (and disk, for the disk tiers and the demo's --disk-image) with their dependencies.
  if [[ ! -d $WORK/kernel/lib/modules && -d $WORK/kernel/usr/lib/modules ]]; then
    ln -s usr/lib "$WORK/kernel/lib"  # merged-/usr packages (newer Ubuntu and Debian)
  fi
  depmod -b "$WORK/kernel" "$KREL"
  collect_modules "$WORK/host" "$out/modules.txt" virtio_pci virtio_net virtio_blk
  say "host modules: $(tr '\n' ' ' <"$out/modules.txt")"
  # The disks' drivers, for the host disk's initramfs and the sample RAM OSes: virtio-blk,
  # virtio-scsi (+ sd). NVMe and ext4 are built into Debian's cloud kernel, modules elsewhere.
  local storage=(virtio_pci virtio_blk virtio_scsi sd_mod) m
  for m in nvme ext4; do
    if grep -q "/$m\.ko" "$WORK/kernel/lib/modules/$KREL/modules.dep"; then storage+=("$m"); fi
  done
  mkdir -p "$WORK/storage/etc"
  collect_modules "$WORK/storage" "$WORK/storage/etc/storage-modules.txt" "${storage[@]}"
  cp "$WORK/storage/etc/storage-modules.txt" "$out/storage-modules.txt"
  say "storage modules: $(tr '\n' ' ' <"$out/storage-modules.txt")"

  busybox_tree "$WORK/host"
  cp "$out/modules.txt" "$WORK/host/etc/modules.txt"
  write_host_init "$WORK/host"
  printf 'NAME="bootrino VM host stand-in"\nID=bootrino-host\n' >"$WORK/host/etc/os-release"
  PAD=512 mkcpio "$WORK/host" "$out/host-base.cpio.gz" /dev/console:c:5:1

  say "building the host disk"
  build_host_disk "$WORK/host" "$out"

  say "building sample RAM OSes"
  local a=$out/www/alpine-like t=$out/www/tinycore-like b=$out/www/broken h=$out/www/huge
  mkdir -p "$a" "$t" "$b" "$h"
  ln "$out/vmlinuz" "$a/vmlinuz-virt"
  ramos_initrd alpine-like "$a/initramfs-virt"
  python3 -c 'import hashlib,sys; sys.stdout.buffer.write(b"".join(hashlib.sha256(b"modloop%d" % i).digest() for i in range(8192)))' \
    >"$a/modloop-virt"
  write_manifest "$a/bootrino.sh" alpine-like overlay 128 "modules=loop,squashfs modloop=/boot/modloop-virt quiet" \
    vmlinuz-virt initramfs-virt modloop-virt:boot/modloop-virt hook

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

  {
    echo "kernel $KPKG $KVER"
    [[ -z $MPKG ]] || echo "modules $MPKG $MVER"
    echo "busybox-static $BBVER"
    echo "script $(sha256sum "$SELF" | cut -d' ' -f1)"
    echo "built $(date -u +%FT%TZ)"
  } >"$out/versions.txt"
}

ensure_fixtures() {
  install_packages
  resolve_versions
  if [[ ! -f $FIX/versions.txt ]]; then
    mkdir -p "$VMCACHE"
    exec 9>"$VMCACHE/.lock"
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
}

# host_initrd BOOTRINO OUT: host-base (already padded to 512) + a gzip'd cpio with /bin/bootrino.
host_initrd() {
  local bin=$1 out=$2 tmp
  [[ -f $bin ]] || die "no such binary: $bin"
  if command -v file >/dev/null && file -L "$bin" | grep -q ELF && ! file -L "$bin" | grep -q 'statically linked'; then
    say "warning: $bin does not look statically linked"
  fi
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/bootrino-hostinitrd.XXXXXX")
  mkdir -p "$tmp/tree/bin"
  strip -o "$tmp/tree/bin/bootrino" "$bin" 2>/dev/null || cp "$bin" "$tmp/tree/bin/bootrino"
  chmod 755 "$tmp/tree/bin/bootrino"
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
    [[ -f $bin ]] || die "no such binary: $bin"
    strip -o "$tmp/bootrino" "$bin" 2>/dev/null || cp "$bin" "$tmp/bootrino"
    chmod 755 "$tmp/bootrino"
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
