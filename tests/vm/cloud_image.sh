#!/usr/bin/env bash
# A real Debian 12 cloud instance for bootrino's end-to-end VM test and the demo: a root file system
# made by debootstrap with Debian's own cloud-init, systemd, kernel (the cloud flavour) and
# initramfs-tools initrd, on a GPT raw disk laid out like a cloud image. Built once and cached.
# VM_ARCH=aarch64: the same for arm64 (debootstrap --arch arm64; the chroot steps run under qemu-user, through
# a binfmt_misc entry for qemu-aarch64-static that this script registers when the machine has none), without a
# kernel: Debian builds its arm64 kernels without kexec_file_load, so the instance boots the arm64 host
# stand-in's kernel (tests/vm/arm64-host-kernel.config, from tests/vm/fixtures.sh), which has everything built in.
#
#   tests/vm/cloud_image.sh                      build (or reuse) the image; the last line of stdout
#                                                is its directory
#   tests/vm/cloud_image.sh seed OUT USER_DATA META_DATA [NETWORK_CONFIG]
#                                                OUT = a NoCloud seed: a small FAT volume labelled
#                                                CIDATA holding the files (user-data, meta-data,
#                                                network-config), as cloud-localds makes
#   tests/vm/cloud_image.sh release BOOTRINO DIR  DIR/release/ = the files packaging/release.sh
#                                                publishes, for the binary BOOTRINO: bootrino-$VM_ARCH
#                                                (stripped), its .sha256, and install.sh with
#                                                DEFAULT_BASE_URL=$GUEST_URL/release and the
#                                                binary's SHA-256 pinned (packaging/stamp_install.sh)
#   tests/vm/cloud_image.sh runcmd REF [ARG...]  prints README.md's #cloud-config runcmd line (the
#                                                one-liner users paste) for that release and REF,
#                                                with ARGs in place of its --yes when given
# GUEST_URL: the test's file server as the guest reaches it (default http://10.0.2.100, QEMU's guestfwd).
#   tests/vm/cloud_image.sh packages             only install the host packages it needs
#
# The directory, ${BOOTRINO_CACHE:-~/.cache/bootrino}/vm/debian-KEY (debian-arm64-KEY for arm64), holds
#   disk.img      2 GiB sparse raw disk: GPT, partition 1 = ext4 root, LABEL=cloudimg-rootfs.
#                 Never boot it: copy it (cp --sparse=always) and boot the copy.
#   vmlinuz       the image's kernel, initrd.img its initramfs (for QEMU -kernel/-initrd: this
#                 disk has no bootloader, the test boots it the way lib.sh boots host-disk.img);
#                 not on arm64, where the test boots the host stand-in's kernel, without an initramfs
#   cmdline.txt   the kernel command line that boots it (root=LABEL=cloudimg-rootfs …; on arm64
#                 root=/dev/vda1, as the kernel finds it without an initramfs)
#   versions.txt  what went in (debootstrap suite and mirror, kernel, cloud-init)
# Building needs root (debootstrap, chroot, and mounts of /proc and the .deb cache inside the new root).
# cloud-init is Debian's, configured only to look for a NoCloud seed (no cloud here to probe) and
# otherwise as shipped. KEY names the suite, the kernel and cloud-init versions and a hash of the
# functions that build the image. The .debs are kept in .../vm/debootstrap-debs/ARCH, the last build's log in
# .../vm/debian-ARCH-build.log.
# Progress goes to stderr.
set -euo pipefail
SELF=$(readlink -f "$0")
CACHE=${BOOTRINO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bootrino}
VMCACHE=$CACHE/vm
SUITE=bookworm
ROOT_LABEL=cloudimg-rootfs
DISK_MIB=2048
VM_ARCH=${VM_ARCH:-x86_64}

say() { echo "cloud-image: $*" >&2; }
die() { echo "cloud-image: ERROR: $*" >&2; exit 1; }

PACKAGES=(debootstrap e2fsprogs fdisk dosfstools mtools)
# What goes into the image beyond debootstrap's minbase: an init, udev, the network as Debian's
# cloud images bring it up (ifupdown + dhclient, which cloud-init configures), curl for the
# README's one-liner, and (x86_64) the kernel with an initramfs that finds root by label.
INCLUDE=(systemd-sysv udev dbus cloud-init curl ca-certificates ifupdown isc-dhcp-client iproute2 netbase
  procps kmod e2fsprogs)
case $VM_ARCH in
  x86_64) DEB_ARCH=amd64 INCLUDE+=(linux-image-cloud-amd64 initramfs-tools) CONSOLE=ttyS0 ;;
  aarch64) DEB_ARCH=arm64 PACKAGES+=(qemu-user-static binutils-aarch64-linux-gnu) CONSOLE=ttyAMA0 ;;
  *) die "VM_ARCH must be x86_64 or aarch64, not '$VM_ARCH'" ;;
esac
source "$(dirname "$SELF")/../../packaging/packages.sh"
# The .debs, one directory per architecture (the tests build both images side by side).
DEBS=$VMCACHE/debootstrap-debs/$DEB_ARCH

# mirror: the Debian mirror this host's apt uses (deb822 or one-line sources), else deb.debian.org.
mirror() {
  local m
  m=$(awk '$1 == "URIs:" && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  [[ -n $m ]] || m=$(awk '$1 == "deb" && $3 == "'"$SUITE"'" {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
  echo "${m:-http://deb.debian.org/debian}"
}

# resolve_key: KEY and DIR, from the versions apt would give the image now (the kernel's on x86_64 only:
# the arm64 image has none; cloud-init is an "all" package, the same version for both).
resolve_key() {
  local kernel=none cloudinit recipe
  [[ $VM_ARCH != x86_64 ]] ||
    kernel=$(apt-cache policy linux-image-cloud-amd64 2>/dev/null | awk '/Candidate:/ {print $2; exit}')
  cloudinit=$(apt-cache policy cloud-init 2>/dev/null | awk '/Candidate:/ {print $2; exit}')
  [[ -n $kernel && $kernel != "(none)" && -n $cloudinit && $cloudinit != "(none)" ]] ||
    die "apt knows no linux-image-cloud-amd64 or cloud-init: this needs a Debian 12 host (or run apt-get update)"
  # Only what shapes the image is in the hash: editing the seed or release helpers rebuilds nothing.
  recipe=$({ declare -f mirror configure make_disk in_root build; echo "${INCLUDE[*]} $SUITE $DISK_MIB $ROOT_LABEL"; } |
    sha256sum | cut -c1-12)
  if [[ $VM_ARCH == x86_64 ]]; then
    KEY=$(echo "${SUITE}_k${kernel}_ci${cloudinit}_$recipe" | tr ':~/+' '__-_')
    DIR=$VMCACHE/debian-$KEY
    VERSIONS="suite=$SUITE mirror=$(mirror) linux-image-cloud-amd64=$kernel cloud-init=$cloudinit"
  else
    KEY=$(echo "${SUITE}_ci${cloudinit}_$recipe" | tr ':~/+' '__-_')
    DIR=$VMCACHE/debian-$DEB_ARCH-$KEY
    VERSIONS="suite=$SUITE architecture=$DEB_ARCH mirror=$(mirror) cloud-init=$cloudinit (no kernel)"
  fi
}

# ensure_binfmt ROOT: this machine runs ROOT's arm64 programs through qemu-aarch64-static, in a chroot too (the F flag: the
# kernel opens the interpreter when the entry is registered). Registers Debian's entry for it
# (/usr/lib/binfmt.d/qemu-aarch64.conf, as systemd-binfmt would at boot) when there is none.
ensure_binfmt() {
  local dir=/proc/sys/fs/binfmt_misc conf=/usr/lib/binfmt.d/qemu-aarch64.conf
  mountpoint -q "$dir" || mount -t binfmt_misc binfmt_misc "$dir" ||
    die "cannot mount binfmt_misc at $dir, which running arm64 programs in the image's chroot needs"
  if [[ ! -e $dir/qemu-aarch64 ]]; then
    [[ -f $conf ]] || die "no $conf: install qemu-user-static"
    say "registering qemu-aarch64-static with binfmt_misc ($conf)"
    cat "$conf" >"$dir/register" || die "cannot register $conf with binfmt_misc"
  fi
  grep -qx 'enabled' "$dir/qemu-aarch64" && grep -q '^flags: .*F' "$dir/qemu-aarch64" ||
    die "binfmt_misc's qemu-aarch64 entry is disabled or lacks the F flag (a chroot cannot reach its interpreter):" \
      "$(tr '\n' ' ' <"$dir/qemu-aarch64"); remove it (echo -1 >$dir/qemu-aarch64) and run this again"
  chroot "$1" /bin/true 2>/dev/null ||
    die "an arm64 program does not run in the image's chroot, through $dir/qemu-aarch64"
}

# configure ROOT: what a cloud image's build does after installing packages.
configure() {
  local root=$1
  echo debian >"$root/etc/hostname"
  printf '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
  echo "LABEL=$ROOT_LABEL / ext4 rw,discard,errors=remount-ro 0 1" >"$root/etc/fstab"
  # First boot makes its own machine id, as on a cloud image.
  : >"$root/etc/machine-id"
  rm -f "$root/var/lib/dbus/machine-id"
  # No cloud to probe here: only NoCloud (the CIDATA seed), as `ds=nocloud` would say.
  mkdir -p "$root/etc/cloud/cloud.cfg.d"
  cat >"$root/etc/cloud/cloud.cfg.d/90-bootrino-test.cfg" <<'EOF'
# bootrino's VM test image: the seed is a CIDATA volume; no metadata service to wait for.
datasource_list: [NoCloud, None]
EOF
  # The console shows cloud-init's and the user-data's output (cloud-final.service: journal+console).
  rm -f "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*_Packages 2>/dev/null || true
}

# make_disk ROOT IMG: a GPT disk with one ext4 partition holding ROOT (no loop device, no mount).
make_disk() {
  local root=$1 img=$2 start=2048 sectors root_sectors
  sectors=$((DISK_MIB * 2048))
  root_sectors=$((sectors - start - 2048))
  rm -f "$img"
  truncate -s "${DISK_MIB}M" "$img"
  printf 'label: gpt\nstart=%s, size=%s, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="%s"\n' \
    "$start" "$root_sectors" "$ROOT_LABEL" | sfdisk -q "$img"
  mkfs.ext4 -q -F -L "$ROOT_LABEL" -E "offset=$((start * 512)),root_owner=0:0" -d "$root" "$img" \
    "$((root_sectors / 2))k" || die "mkfs.ext4 -d failed on $img"
  e2fsck -fn "$img?offset=$((start * 512))" >/dev/null 2>&1 || die "e2fsck finds the fresh image's root broken"
}

# in_root ROOT CMD...: CMD in a chroot of ROOT with /proc mounted and apt's downloads kept in the
# cache (bind mount); daemons are kept from starting (policy-rc.d), as in any image build.
in_root() {
  local root=$1 rc=0
  shift
  mkdir -p "$DEBS/apt" "$root/var/cache/apt/archives"
  mount -t proc proc "$root/proc"
  mount --bind "$DEBS/apt" "$root/var/cache/apt/archives"
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod +x "$root/usr/sbin/policy-rc.d"
  chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LC_ALL=C "$@" || rc=$?
  rm -f "$root/usr/sbin/policy-rc.d"
  umount "$root/var/cache/apt/archives"
  umount "$root/proc"
  return $rc
}

build() {
  ensure_packages "${PACKAGES[@]}"
  resolve_key
  if [[ -f $DIR/versions.txt ]]; then
    echo "$DIR"
    return
  fi
  [[ $(id -u) == 0 ]] || die "debootstrap needs root: run this as root (or with sudo)"
  mkdir -p "$DEBS"
  local work log=$VMCACHE/debian-$DEB_ARCH-build.log t0=$SECONDS
  work=$(mktemp -d "$VMCACHE/.debian-build.XXXXXX")
  # shellcheck disable=SC2064
  # Never rm -rf through a mount that is still there (the bind mount is the .deb cache).
  # (|| true: under set -e a failing command in the EXIT trap becomes the script's exit status.)
  trap "umount -q '$work/root/var/cache/apt/archives' '$work/root/proc' 2>/dev/null || true
    grep -qF '$work' /proc/mounts || rm -rf '$work'" EXIT
  : >"$log"
  say "debootstrap $SUITE (minbase, $DEB_ARCH) from $(mirror); log: $log (a few minutes the first time, more for" \
    "arm64, whose package scripts run under qemu-user; .debs cached)"
  if [[ $VM_ARCH != x86_64 ]]; then
    # Unpack natively, then check that the machine runs the image's programs before the second stage does.
    debootstrap --arch="$DEB_ARCH" --foreign --variant=minbase --cache-dir="$DEBS" "$SUITE" \
      "$work/root" "$(mirror)" >>"$log" 2>&1 || die "debootstrap failed; see $log, which ends: $(tail -n 5 "$log")"
    ensure_binfmt "$work/root"
    chroot "$work/root" /debootstrap/debootstrap --second-stage >>"$log" 2>&1 ||
      die "debootstrap's second stage failed; see $log, which ends: $(tail -n 5 "$log")"
  else
    debootstrap --arch="$DEB_ARCH" --variant=minbase --cache-dir="$DEBS" "$SUITE" \
      "$work/root" "$(mirror)" >>"$log" 2>&1 || die "debootstrap failed; see $log, which ends: $(tail -n 5 "$log")"
  fi
  # debootstrap's own resolver does not handle what cloud-init needs (alternatives, virtual packages):
  # apt installs the rest inside the new root, as image builders do.
  say "apt-get install ${INCLUDE[*]} in the new root ($((SECONDS - t0)) s so far)"
  in_root "$work/root" apt-get -y -q -o APT::Install-Recommends=false install "${INCLUDE[@]}" >>"$log" 2>&1 ||
    die "apt-get install in the new root failed; see $log, which ends: $(tail -n 5 "$log")"
  in_root "$work/root" apt-get clean >>"$log" 2>&1 || true
  say "root file system ready in $((SECONDS - t0)) s"
  configure "$work/root"
  mkdir -p "$work/out"
  if [[ $VM_ARCH == x86_64 ]]; then
    cp "$(readlink -f "$work/root/vmlinuz")" "$work/out/vmlinuz"
    cp "$(readlink -f "$work/root/initrd.img")" "$work/out/initrd.img"
    [[ -s $work/out/vmlinuz && -s $work/out/initrd.img ]] || die "the image has no /vmlinuz or /initrd.img"
    echo "console=$CONSOLE root=LABEL=$ROOT_LABEL rw" >"$work/out/cmdline.txt"
  else
    echo "console=$CONSOLE root=/dev/vda1 rw" >"$work/out/cmdline.txt"
  fi
  say "writing the 2 GiB disk image"
  make_disk "$work/root" "$work/out/disk.img"
  { echo "$VERSIONS (the key's versions, from this host's apt)"
    echo "installed: $(chroot "$work/root" dpkg-query -W -f='${Package}=${Version} ' linux-image-cloud-amd64 \
      'linux-image-*-cloud-amd64' cloud-init systemd 2>/dev/null)"; } >"$work/out/versions.txt"
  rm -rf "$DIR"
  mv "$work/out" "$DIR"
  say "image ready in $DIR ($(du -sh "$DIR/disk.img" | cut -f1) used of 2 GiB)"
  echo "$DIR"
}

# seed OUT USER_DATA META_DATA [NETWORK_CONFIG]: a NoCloud seed volume.
seed() {
  local out=$1 user_data=$2 meta_data=$3 network_config=${4:-}
  [[ -f $user_data && -f $meta_data ]] || die "seed: no $user_data or $meta_data"
  [[ -z $network_config || -f $network_config ]] || die "seed: no $network_config"
  rm -f "$out"
  mkfs.vfat -n CIDATA -C "$out" 2048 >/dev/null || die "mkfs.vfat failed on $out"
  mcopy -i "$out" "$user_data" ::user-data
  mcopy -i "$out" "$meta_data" ::meta-data
  [[ -z $network_config ]] || mcopy -i "$out" "$network_config" ::network-config
}

GUEST_URL=${GUEST_URL:-http://10.0.2.100}

# release BOOTRINO DIR: as packaging/release.sh publishes one architecture, at $GUEST_URL/release.
release() {
  local bin=$1 out=$2/release
  [[ -x $bin ]] || die "release: $bin is not an executable"
  local strip=strip name=bootrino-$VM_ARCH
  [[ $VM_ARCH == x86_64 ]] || strip=$VM_ARCH-linux-gnu-strip
  mkdir -p "$out"
  "$strip" -o "$out/$name" "$bin" || die "release: $strip could not strip $bin (is it an $VM_ARCH binary?)"
  (cd "$out" && sha256sum "$name" >"$name.sha256")
  # install.sh exactly as release.sh writes it: base URL and the binary's SHA-256 pinned.
  "$(dirname "$SELF")/../../packaging/stamp_install.sh" --base-url "$GUEST_URL/release" --arch "$VM_ARCH" "$out" ||
    die "release: packaging/stamp_install.sh could not write install.sh"
}

# runcmd REF [ARG...]: README.md's runcmd line, so that what is tested is what users copy.
runcmd() {
  local ref=$1 line
  shift
  line=$(grep -m1 -F -- '- "curl -fsSL https://RELEASE-URL/install.sh | sh -s --' "$(dirname "$SELF")/../../README.md") ||
    die "README.md has no #cloud-config runcmd one-liner"
  line=${line//https:\/\/RELEASE-URL/$GUEST_URL\/release}
  line=${line//https:\/\/HOST\/PATH\/bootrino.sh#sha256=HEX/$ref}
  [[ $line == *"$ref"* && $line == *"$GUEST_URL/release/install.sh"* && $line == *' --yes"' ]] ||
    die "README's runcmd line is not 'curl … install.sh | sh -s -- REF --yes' any more: $line"
  (($# == 0)) || line="${line% --yes\"} $*\""
  echo "$line"
}

# One build per architecture at a time: runs that share the cache (say two clones tested on one machine) wait for
# the one building and then reuse its image, instead of debootstrapping into the same .deb cache and log. Not in
# build(), whose text is part of KEY: how the build is serialised does not change the image.
locked_build() {
  mkdir -p "$VMCACHE"
  exec 9>"$VMCACHE/.lock-debian-$DEB_ARCH"
  flock -n 9 || { say "another run is building or checking the $DEB_ARCH image: waiting for it"; flock 9; }
  build
}

case ${1:-} in
  "") locked_build ;;
  seed) shift; [[ $# == 3 || $# == 4 ]] || die "usage: cloud_image.sh seed OUT USER_DATA META_DATA [NETWORK_CONFIG]"; seed "$@" ;;
  release) shift; [[ $# == 2 ]] || die "usage: cloud_image.sh release BOOTRINO DIR"; release "$@" ;;
  runcmd) shift; (($# >= 1)) || die "usage: cloud_image.sh runcmd REF [ARG...]"; runcmd "$@" ;;
  packages) ensure_packages "${PACKAGES[@]}" ;;
  *) die "unknown command '$1' (none, seed, release, runcmd or packages)" ;;
esac
