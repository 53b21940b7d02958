#!/usr/bin/env bash
# Fetches the bootloader files bootrino writes to a disk (docs/bootloaders.md) from pinned Debian 12 packages into
# a cache outside the repo; CMake embeds them (disk/bootloader.cc). The LAST line on stdout is the absolute directory
# holding them; progress goes to stderr. A rerun with everything cached only re-checks the hashes (well under a
# second). Each architecture's binary carries only its own firmware's files.
#   packaging/bootloaders.sh [--arch x86_64|aarch64]   fetch what is missing, print the directory (default x86_64)
# Environment: BOOTRINO_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/bootrino).
#
# The x86_64 directory holds:
#   gptmbr.bin           440 bytes of MBR code that boots the GPT partition marked LegacyBIOSBootable
#   ldlinux.sys          syslinux's core image, unpatched, without the ADV (bootrino patches it per disk)
#   ldlinux.bss          syslinux's FAT boot-sector template (bootrino copies its code into the FAT boot sector)
#   ldlinux.c32          syslinux's second stage, from the same build as ldlinux.sys
#   systemd-bootx64.efi  systemd-boot for x86_64 UEFI
# The aarch64 directory holds systemd-bootaa64.efi (arm64 instances boot from UEFI only) and licences/.
# In both:
#   reference/syslinux   Debian's installer, kept only so the tests can compare bootrino's patching with it
#   licences/PKG.copyright  each .deb's /usr/share/doc/PKG/copyright, and licences/sources: a line per .deb,
#                        "package version source-package source-version" (from its Source field); what
#                        packaging/third_party.sh puts in a release's THIRD-PARTY-NOTICES.txt
# Debian ships ldlinux.sys, ldlinux.bss and the matching ldlinux.c32 only inside /usr/bin/syslinux (compiled in
# from libinstaller/*_bin.c). They are taken from there by running that installer on a scratch FAT image file
# (mtools, no mount), reading back what it wrote, and locating those bytes in the binary: the located copies are
# the pristine ones, the read-back copies carry the per-disk patches. syslinux-common's own ldlinux.c32 is NOT used:
# it comes from a different build (syslinux is a binNMU, +b1) and differs in 448 bytes.
set -euo pipefail

# Pinned Debian 12 (bookworm) binary packages: "package version sha256-of-the-.deb source-package", one array per
# architecture bootrino is built for. Debian drops superseded versions from its pool (systemd-boot-efi follows
# bookworm's point releases): when a pin stops downloading the script fails and lists the versions apt can see;
# update the version, the .deb hash and the file hashes below.
DEBS_x86_64=(
  "syslinux         3:6.04~git20190206.bf6db5b4+dfsg1-3+b1 07a34a8b09e19ef44285d45c24aefd1119cf3c1580223cbca0dc58f8dd33ee33 syslinux"
  "syslinux-common  3:6.04~git20190206.bf6db5b4+dfsg1-3    f7e4ead7fdfe5cb6117d8d2485d75e53570a8cf680c81a432f92c1774f878875 syslinux"
  "systemd-boot-efi 252.39-1~deb12u2                       8f2b81bdcfafc466882a0cae460272dbf10d8d97c6a3c1c6ea33038c155a2f5e systemd"
)
DEBS_aarch64=(
  "systemd-boot-efi 252.39-1~deb12u2                       d75fbbfa90d37d409e7e65f1149afd770bc17daa3f15f49ef651f608fe7e1dbc systemd"
)
# The extracted files: "name size sha256".
FILES_x86_64=(
  "gptmbr.bin            440 d2a9081727f91f4c38494e52cdeb86ebd9009fead17a739effbad4011c581d1f"
  "ldlinux.sys         58368 266813dd25bc548da86ac6552cb055e7e1d4a46c3727ed34f3d80cdcb4ecb3d8"
  "ldlinux.bss           512 94bb10108daeb9cc3f65141d8d1e87994f504c701e3936030e1663c01781f5a5"
  "ldlinux.c32        119532 087ab8d6fba4beb6ff0043b66c7199f31f2e4080e0ebd487798f9f5395c7794e"
  "systemd-bootx64.efi 140891 10288fece5e90ce3ba3e7160f49695b022d648f7ef41774678db8c77774db167"
)
FILES_aarch64=(
  "systemd-bootaa64.efi 123434 e11ba35ebe4f4b78d4569a63fe30b4a9d033ab92b83cda375e645ac76330b49f"
)
TOOLS=(dpkg-dev mtools dosfstools python3 curl)  # dpkg-deb, mcopy, mkfs.fat, the byte search below, other arches' .debs

HERE="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
CACHE="${BOOTRINO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bootrino}"
exec 3>&1 1>&2  # everything but the final directory line goes to stderr

say() { echo "bootloaders: $*"; }
die() { echo "bootloaders: ERROR: $*"; exit 1; }

ARCH=x86_64
case "${1:-}" in
  "") ;;
  --arch) case ${2:-} in x86_64 | aarch64) ARCH=$2 ;; *) die "--arch takes x86_64 or aarch64, not '${2:-}'" ;; esac ;;
  *) die "unknown argument '$1'; usage: packaging/bootloaders.sh [--arch x86_64|aarch64]" ;;
esac
declare -n DEBS=DEBS_$ARCH FILES=FILES_$ARCH
DEB_ARCH=$([[ $ARCH == aarch64 ]] && echo arm64 || echo amd64)
KEY=$(sha256sum <"$HERE/bootloaders.sh" | cut -c1-16)  # the pins are in this script
OUT="$CACHE/bootloaders/$KEY-$ARCH"

# Checks every file in $1 against FILES; prints each mismatch (with the file's actual size and hash, to pin
# after an update) and fails if there was one.
verify_files() {
  local dir=$1 entry name size sum actual_size actual_sum bad=0
  for entry in "${FILES[@]}"; do
    read -r name size sum <<<"$entry"
    [[ -f $dir/$name ]] || { echo "$name is missing"; bad=1; continue; }
    actual_size=$(stat -c %s "$dir/$name")
    actual_sum=$(sha256sum <"$dir/$name" | cut -d' ' -f1)
    [[ $actual_size == "$size" && $actual_sum == "$sum" ]] && continue
    echo "$name is $actual_size bytes with sha256 $actual_sum; pinned: $size bytes, $sum"
    bad=1
  done
  for entry in "${DEBS[@]}"; do
    read -r name _ <<<"$entry"
    [[ -s $dir/licences/$name.copyright ]] || { echo "licences/$name.copyright is missing"; bad=1; }
    grep -q "^$name " "$dir/licences/sources" 2>/dev/null || { echo "licences/sources does not name $name"; bad=1; }
  done
  return $bad
}

# Downloads the pinned .debs of another architecture than this machine's into $1: apt knows only its own
# architecture's packages (without dpkg --add-architecture, which this script does not do to the machine), so
# each comes from the pool of the Debian mirrors apt uses, by the name Debian gives it there.
download_foreign() {
  local dir=$1 entry pkg ver src mirror url mirrors
  mirrors=$(awk '$1 == "URIs:" {for (i = 2; i <= NF; i++) print $i} $1 == "deb" {print $2}' \
    /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null | sort -u || true)
  for entry in "${DEBS[@]}"; do
    read -r pkg ver _ src <<<"$entry"
    for mirror in ${mirrors:-http://deb.debian.org/debian}; do
      url="${mirror%/}/pool/main/${src:0:1}/$src/${pkg}_${ver#*:}_${DEB_ARCH}.deb"
      curl -fsSL --retry 3 -o "$dir/${pkg}_${ver#*:}_${DEB_ARCH}.deb" "$url" 2>>"$dir/apt.log" && continue 2
    done
    die "$pkg=$ver ($DEB_ARCH) is on none of the mirrors apt uses (${mirrors//$'\n'/ }); Debian may have dropped it: pick the version bookworm has now (https://packages.debian.org/bookworm/$pkg) and update DEBS_$ARCH and FILES_$ARCH in $HERE/bootloaders.sh"
  done
}

# Downloads this machine's architecture's pinned .debs into $1 with apt; refreshes the package lists once if apt
# cannot.
download_native() {
  local dir=$1 entry pkg ver specs=()
  for entry in "${DEBS[@]}"; do read -r pkg ver _ <<<"$entry"; specs+=("$pkg=$ver"); done
  # apt-get download needs no root; as root it warns that _apt cannot write here, which is harmless.
  (cd "$dir" && apt-get download -q "${specs[@]}") >"$dir/apt.log" 2>&1 || {
    say "apt-get download failed; refreshing the package lists"
    local sudo=""; [[ $EUID -eq 0 ]] || sudo=sudo
    $sudo apt-get update -q -o DPkg::Lock::Timeout=600 >>"$dir/apt.log" 2>&1 || true
    (cd "$dir" && apt-get download -q "${specs[@]}") >>"$dir/apt.log" 2>&1
  } || {
    local known=""
    for entry in "${DEBS[@]}"; do
      read -r pkg _ <<<"$entry"
      known+=" $pkg: $(apt-cache madison "$pkg" 2>/dev/null | awk -F'|' '{gsub(/ /,"",$2); printf "%s ", $2}')"
    done
    die "the pinned packages cannot be downloaded ($(tail -n 3 "$dir/apt.log" | tr '\n' ' ')). Versions apt knows:$known- update DEBS_$ARCH and FILES_$ARCH in $HERE/bootloaders.sh"
  }
}

# Downloads the pinned .debs into $1 and checks their hashes.
download() {
  local dir=$1 entry pkg ver sum deb
  if [[ $DEB_ARCH == "$(dpkg --print-architecture)" ]]; then download_native "$dir"; else download_foreign "$dir"; fi
  for entry in "${DEBS[@]}"; do
    read -r pkg ver sum _ <<<"$entry"
    deb=$(ls "$dir/${pkg}_"*.deb)
    [[ $(sha256sum <"$deb" | cut -d' ' -f1) == "$sum" ]] ||
      die "$deb does not match its pinned sha256 $sum: the mirror serves different bytes for $pkg=$ver; do not trust it"
    mkdir -p "$dir/deb/$pkg"
    dpkg-deb -x "$deb" "$dir/deb/$pkg"
    keep_licence "$dir" "$pkg" "$ver" "$deb"
  done
}

# Keeps PKG's copyright file and names its source package in $1/licences (see top). The Source field is
# "name", "name (version)" for a binNMU such as syslinux's +b1, or absent when both equal the binary's.
keep_licence() {
  local dir=$1 pkg=$2 ver=$3 deb=$4 copyright=$1/deb/$2/usr/share/doc/$2/copyright src srcver=$3
  [[ -f $copyright && ! -L $copyright && ! -L ${copyright%/*} ]] ||
    die "$pkg=$ver has no copyright file of its own at /usr/share/doc/$pkg/copyright"
  mkdir -p "$dir/licences"
  cp "$copyright" "$dir/licences/$pkg.copyright"
  src=$(dpkg-deb -f "$deb" Source)
  if [[ $src =~ ^([^ ]+)\ \((.+)\)$ ]]; then src=${BASH_REMATCH[1]} srcver=${BASH_REMATCH[2]}; fi
  echo "$pkg $ver ${src:-$pkg} $srcver" >>"$dir/licences/sources"
}

# Runs Debian's installer on a scratch FAT32 image file and takes the pristine and patched copies out (see top).
extract_syslinux() {
  local dir=$1 bin=$1/deb/syslinux/usr/bin/syslinux img=$1/scratch.img
  truncate -s 64M "$img"
  mkfs.fat -F 32 -S 512 -s 1 "$img" >/dev/null
  "$bin" --install "$img" || die "Debian's syslinux installer failed on a scratch image ($img)"
  export MTOOLS_SKIP_CHECK=1
  mcopy -n -i "$img" ::/ldlinux.sys "$dir/readback.sys"
  mcopy -n -i "$img" ::/ldlinux.c32 "$dir/readback.c32"
  dd if="$img" of="$dir/readback.bss" bs=512 count=1 status=none
  python3 - "$bin" "$dir" <<'PY'
import sys
binary, out = open(sys.argv[1], "rb").read(), sys.argv[2]
def read(name): return open(f"{out}/{name}", "rb").read()
def locate(what, needle, before):
    # needle must occur exactly once; the file starts `before` bytes earlier.
    if binary.count(needle) != 1: sys.exit(f"{what}: found {binary.count(needle)} times in the installer, not once")
    return binary.find(needle) - before
sys_, c32, bss = read("readback.sys"), read("readback.c32"), read("readback.bss")
core_len = len(sys_) - 1024  # the installer appends a 1,024-byte ADV
core_start = locate("ldlinux.sys", sys_[core_len - 4096:core_len], core_len - 4096)
core = binary[core_start:core_start + core_len]
# The per-disk patches live in the first sectors (patch area, extents) and the ADV pointers; nothing else differs.
diffs = [i for i in range(core_len) if core[i] != sys_[i]]
if not diffs or len(diffs) > 128 or max(diffs) >= 0x2000:
    sys.exit(f"ldlinux.sys: the located core differs from what the installer wrote at {len(diffs)} places")
bss_start = locate("ldlinux.bss", bss[0x5A:0x11A], 0x5A)  # the code before the patched sector pointer
template = binary[bss_start:bss_start + 512]
if template[:11] != bss[:11] or template[0x124:0x1FE] != bss[0x124:0x1FE] or template[0x1FE:] != b"\x55\xaa":
    sys.exit("ldlinux.bss: the located template does not match the boot sector the installer wrote")
locate("ldlinux.c32", c32, 0)
open(f"{out}/ldlinux.sys", "wb").write(core)
open(f"{out}/ldlinux.bss", "wb").write(template)
open(f"{out}/ldlinux.c32", "wb").write(c32)
PY
}

build() {
  local work=$1
  download "$work"
  if [[ $ARCH == x86_64 ]]; then
    cp "$work/deb/syslinux-common/usr/lib/syslinux/mbr/gptmbr.bin" "$work/"
    cp "$work/deb/systemd-boot-efi/usr/lib/systemd/boot/efi/systemd-bootx64.efi" "$work/"
    extract_syslinux "$work"
    mkdir -p "$work/reference"
    cp "$work/deb/syslinux/usr/bin/syslinux" "$work/reference/syslinux"
  else
    cp "$work/deb/systemd-boot-efi/usr/lib/systemd/boot/efi/systemd-bootaa64.efi" "$work/"
  fi
  local why
  why=$(verify_files "$work") || die "extracted files do not match their pins: $why"
  rm -rf "$work/deb" "$work"/*.deb "$work/scratch.img" "$work"/readback.* "$work/apt.log"
}

main() {
  local why
  if ! why=$(verify_files "$OUT" 2>&1); then
    source "$HERE/packages.sh"
    ensure_packages "${TOOLS[@]}"
    mkdir -p "$CACHE/bootloaders"
    exec 4>"$CACHE/bootloaders/.lock"
    flock 4  # parallel configures share the cache: one builds, the others wait and reuse
    if ! verify_files "$OUT" >/dev/null 2>&1; then
      [[ -d $OUT ]] && say "rebuilding $OUT: $why"
      say "fetching the $ARCH bootloaders (Debian 12) into $OUT"
      work=$(mktemp -d "$CACHE/bootloaders/.work.XXXXXX")  # global: the EXIT trap reads it
      trap 'rm -rf "$work"' EXIT  # a failed attempt leaves nothing behind
      chmod 755 "$work"
      build "$work"
      rm -rf "$OUT"
      mv "$work" "$OUT"
      trap - EXIT
    fi
  fi
  echo "$OUT" >&3
}

main "$@"
