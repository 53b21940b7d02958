#!/usr/bin/env bash
# Writes a release's THIRD-PARTY-NOTICES.txt to stdout (progress goes to stderr): every third-party component
# the bootrino binaries contain, with its exact version, licence, Debian source package and where that source
# is, the full copyright and licence text of each, the licence texts they refer to, and the offer of the
# corresponding source (with how to relink the statically linked LGPL libraries). packaging/release.sh runs it.
#   packaging/third_party.sh [--arch x86_64|aarch64]... [--base-url URL] [--bootloaders [ARCH=]DIR]...
# --arch      a binary the notices cover (repeatable; default this machine's): adds that toolchain's C library
#             and C++ runtime, which are linked in statically, and that architecture's bootloaders
# --base-url  where the release is published, named in the source offer
# --bootloaders  the directory `packaging/bootloaders.sh --arch ARCH` printed (ARCH: default this machine's;
#             default: run it, and a cache hit is instant)
# No version is written in this file. They come from the pins: LIBS in deps.sh (the copyright text is
# debian/copyright in the source package deps.sh downloaded into $BOOTRINO_CACHE/sources; a missing one is
# downloaded the way deps.sh does, with deps.sh's own functions), DEBS_ARCH in bootloaders.sh (and the copyright
# files and source names it keeps), and for what the build machine supplies (the toolchain's static runtime,
# the header-only libraries, the CA list) from dpkg. What this file adds is which parts of each component
# bootrino contains and under which licence (packaging/third_party.txt); a pin without a line there is an error.
set -euo pipefail

HERE="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
CACHE="${BOOTRINO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bootrino}"
SRCDIR="$CACHE/sources"
LICENSES=/usr/share/common-licenses

say() { echo "third-party: $*" >&2; }
die() { echo "third-party: ERROR: $*" >&2; exit 1; }

# What bootrino contains of each component and under which licence, keyed by component: "parts|licence|texts"
# (packaging/third_party.txt, one line each).
declare -A PARTS=()
lineno=0
while IFS= read -r line; do
  lineno=$((lineno + 1))
  [[ -z $line || $line == \#* ]] && continue
  [[ $line == *\|*\|*\|* ]] || die "$HERE/third_party.txt line $lineno: '$line' is not KEY|PARTS|LICENCE|TEXTS"
  PARTS[${line%%|*}]=${line#*|}
done <"$HERE/third_party.txt"

ARCHES=() BASE_URL=""
declare -A BOOTLOADERS=()
while (($#)); do
  case $1 in
    --arch) case ${2:-} in x86_64 | aarch64) ARCHES+=("$2") ;; *) die "--arch takes x86_64 or aarch64" ;; esac
            shift 2 ;;
    --base-url) BASE_URL=${2:?--base-url needs a URL}; shift 2 ;;
    --bootloaders)
      [[ ${2:-} == *=* ]] && BOOTLOADERS[${2%%=*}]=${2#*=} || BOOTLOADERS[$(uname -m)]=${2:?--bootloaders needs a directory}
      shift 2 ;;
    -h | --help) sed -n '2,18s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done
((${#ARCHES[@]})) || ARCHES=("$(uname -m)")

# pins FILE ARRAY: defines ARRAY as FILE's own `ARRAY=(` … `)` block does: the pins are read, never copied.
pins() {
  local block
  block=$(sed -n "/^$2=(\$/,/^)\$/p" "$1")
  [[ -n $block ]] || die "$1 has no $2=( … ) block: update pins() in $0"
  eval "$block"
}

# deps.sh's own download functions (fetch, download, check_sources, add_src_entries, apt_update), so a source
# missing from the cache is downloaded and checked exactly as deps.sh does it.
deps_functions() {
  local f body
  for f in apt_update add_src_entries check_sources download fetch; do
    body=$(sed -n "/^$f() {/,/^}/p" "$HERE/deps.sh")
    [[ -n $body ]] || die "$HERE/deps.sh has no function $f any more: update deps_functions() in $0"
    eval "$body"
  done
  # shellcheck disable=SC2034  # read by those functions
  APT_UPDATED=0 LOG="$CACHE/deps/apt.log" SUDO=$( ((EUID == 0)) || echo sudo)
  mkdir -p "$CACHE/deps" "$SRCDIR"
}

# snapshot URL of SOURCE-PACKAGE VERSION, in the form docs/bootloaders.md uses (the epoch's colon escaped).
snapshot() { echo "https://snapshot.debian.org/package/$1/${2//:/%3A}/"; }

# The components, in order: parallel arrays, the copyright text of component i in $TMP/i.copyright.
NAMES=() VERSIONS=() KEYS=() IN=() SRCPKGS=() SRCVERS=() ORIGINS=()
TMP=$(mktemp -d "${TMPDIR:-/tmp}/third-party.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

# add NAME VERSION KEY IN SOURCE-PACKAGE SOURCE-VERSION ORIGIN COPYRIGHT-FILE
add() {
  local i=${#NAMES[@]}
  [[ -n ${PARTS[$3]:-} ]] ||
    die "$1: no line for '$3' in $HERE/third_party.txt: say what bootrino contains of it and its licence"
  [[ -n $2 && -n $5 && -n $6 ]] || die "$1: version or source package unknown"
  [[ -f $8 ]] || die "$1: its copyright file $8 is missing"
  grep -q '[^[:space:]]' "$8" || die "$1: its copyright file $8 is empty"
  cp "$8" "$TMP/$i.copyright"
  NAMES+=("$1") VERSIONS+=("$2") KEYS+=("$3") IN+=("$4") SRCPKGS+=("$5") SRCVERS+=("$6") ORIGINS+=("$7")
}

# debian/copyright of the source package PKG=VER from deps.sh's cache, into $3 (downloaded if missing).
deps_copyright() {
  local pkg=$1 ver=$2 out=$3 dsc="$SRCDIR/${1}_${2#*:}.dsc" debtar
  if [[ ! -f $dsc ]]; then
    say "the source of $pkg=$ver is not in $SRCDIR: downloading it as packaging/deps.sh does"
    rm -f "$SRCDIR/.ok_${pkg}_${ver#*:}"
    fetch "$pkg" "$ver"
  fi
  check_sources "$dsc" >&2 ||
    die "the sources of $pkg=$ver in $SRCDIR fail their checksums: delete its files there and run this again"
  debtar=$(awk '/^Checksums-Sha256:/ {f = 1; next} /^[^ ]/ {f = 0} f && $3 ~ /\.debian\.tar\.[a-z0-9]+$/ {print $3}' "$dsc")
  if [[ -n $debtar ]]; then
    tar -xOf "$SRCDIR/$debtar" debian/copyright >"$out" 2>/dev/null ||
      die "$SRCDIR/$debtar has no debian/copyright"
  else  # a source format without a separate debian tarball: unpack it
    dpkg-source --no-check -x "$dsc" "$TMP/src" >/dev/null 2>&1 || die "dpkg-source -x $dsc failed"
    cp "$TMP/src/debian/copyright" "$out" || die "$pkg=$ver has no debian/copyright"
    rm -rf "$TMP/src"
  fi
}

# pkg_of FILE: the installed Debian package that owns FILE.
pkg_of() {
  local owner
  owner=$(dpkg -S "$1" 2>/dev/null || dpkg -S "$(readlink -f "$1")" 2>/dev/null) ||
    die "no installed Debian package owns $1: the notices name only what dpkg knows"
  owner=${owner%%: *}
  echo "${owner%%:*}"
}

# add_installed NAME KEY IN PKG: a component the build machine supplies, as dpkg describes its package.
add_installed() {
  local info status ver srcpkg srcver
  info=$(dpkg-query -W -f='${db:Status-Abbrev}\t${Version}\t${source:Package}\t${source:Version}' "$4" 2>/dev/null) ||
    die "$4 is not installed"
  IFS=$'\t' read -r status ver srcpkg srcver <<<"$info"
  [[ $status == ii* ]] || die "$4 is not fully installed (dpkg status '$status'): reinstall it"
  add "$1" "$ver" "$2" "$3" "$srcpkg" "$srcver" \
    "Debian package $4 $ver, installed on the build machine; text: its /usr/share/doc/$4/copyright" \
    "/usr/share/doc/$4/copyright"
}

# header_pkg HEADER: the package of the header the compiler includes for <HEADER>.
header_pkg() {
  local path
  path=$(c++ -x c++ -std=c++20 -E -H - <<<"#include <$1>" 2>&1 >/dev/null | sed -n '1s/^\. //p')
  [[ -n $path ]] || die "the compiler finds no <$1>: install the build packages (packaging/build.sh)"
  pkg_of "$path"
}

main() {
  local LIBS=() line name pkg ver entry all arch cxx
  pins "$HERE/deps.sh" LIBS
  for arch in "${ARCHES[@]}"; do pins "$HERE/bootloaders.sh" "DEBS_$arch"; done
  local names=()
  for line in "${LIBS[@]}"; do read -r name _ <<<"$line"; names+=("$name"); done
  for arch in "${ARCHES[@]}"; do
    local -n debs=DEBS_$arch
    for line in "${debs[@]}"; do read -r name _ <<<"$line"; names+=("$name"); done
  done
  ((${#LIBS[@]} && ${#names[@]} > ${#LIBS[@]})) || die "no pins read from deps.sh or bootloaders.sh"
  for name in "${names[@]}"; do  # before any download: a new pin needs its line in third_party.txt
    [[ -n ${PARTS[$name]:-} ]] ||
      die "$name is pinned but has no line in $HERE/third_party.txt: say what bootrino contains of it and its licence"
  done
  all=$(printf 'bootrino-%s, ' "${ARCHES[@]}"); all=${all%, }

  deps_functions
  say "the libraries of packaging/deps.sh (debian/copyright from their source packages)"
  for line in "${LIBS[@]}"; do
    read -r name pkg ver <<<"$line"
    deps_copyright "$pkg" "$ver" "$TMP/in.copyright"
    add "$pkg" "$ver" "$name" "$all" "$pkg" "$ver" \
      "built by packaging/deps.sh (build_$name) from the Debian source package with Debian's patches; text: its debian/copyright" \
      "$TMP/in.copyright"
  done

  # Each binary carries its own architecture's bootloaders; a package pinned at one version for several
  # architectures is one entry that names each binary.
  local srcpkg srcver bver dir i
  declare -A entry_of=()
  for arch in "${ARCHES[@]}"; do
    dir=${BOOTLOADERS[$arch]:-}
    [[ -n $dir ]] || dir=$(bash "$HERE/bootloaders.sh" --arch "$arch" | tail -n 1) ||
      die "packaging/bootloaders.sh --arch $arch failed (its messages are above)"
    say "the $arch bootloader files of packaging/bootloaders.sh ($dir)"
    local -n debs=DEBS_$arch
    for entry in "${debs[@]}"; do
      read -r pkg ver _ <<<"$entry"
      read -r _ bver srcpkg srcver < <(grep "^$pkg " "$dir/licences/sources" 2>/dev/null) ||
        die "$dir/licences/sources does not name $pkg: run packaging/bootloaders.sh --arch $arch"
      [[ $bver == "$ver" ]] ||
        die "$dir holds $pkg $bver, not the pinned $ver: run packaging/bootloaders.sh --arch $arch"
      if [[ -n ${entry_of["$pkg $ver"]:-} ]]; then
        i=${entry_of["$pkg $ver"]}
        IN[i]+=", bootrino-$arch"
        continue
      fi
      entry_of["$pkg $ver"]=${#NAMES[@]}
      add "$pkg" "$ver" "$pkg" "bootrino-$arch" "$srcpkg" "$srcver" \
        "taken unmodified from the Debian package $pkg $ver by packaging/bootloaders.sh; text: its /usr/share/doc/$pkg/copyright" \
        "$dir/licences/$pkg.copyright"
    done
  done

  say "the toolchain's static runtime and the build machine's packages (dpkg)"
  for arch in "${ARCHES[@]}"; do
    cxx=$arch-linux-gnu-g++
    command -v "$cxx" >/dev/null || die "$cxx is missing: install g++-$arch-linux-gnu (packaging/release.sh does)"
    pkg=$(pkg_of "$("$cxx" -print-file-name=libc.a)")
    add_installed "GNU C Library ($arch)" glibc "bootrino-$arch" "$pkg"
    pkg=$(pkg_of "$("$cxx" -print-file-name=libstdc++.a)")
    add_installed "GCC runtime libraries ($arch)" gcc-runtime "bootrino-$arch" "$pkg"
  done
  pkg=$(header_pkg nlohmann/json.hpp)
  add_installed "nlohmann-json" nlohmann-json "$all" "$pkg"
  pkg=$(header_pkg CLI/CLI.hpp)
  add_installed "CLI11" cli11 "$all" "$pkg"
  add_installed "ca-certificates" ca-certificates "$all" ca-certificates

  write_notices
}

write_notices() {
  local i n=${#NAMES[@]} parts licence texts version="" rev="" sum text_of t seen=""
  declare -A text_of=()
  version=$(sed -n 's/^project(bootrino VERSION \([^ )]*\).*/\1/p' "$HERE/../CMakeLists.txt")
  if rev=$(git -C "$HERE/.." rev-parse HEAD 2>/dev/null); then
    git -C "$HERE/.." diff --quiet HEAD -- 2>/dev/null || rev+=" (with uncommitted changes)"
  fi
  cat <<EOF
bootrino ${version:-(version unknown)}: third-party notices
$(printf '=%.0s' {1..60})

The bootrino release binaries ($all) are statically linked. Besides bootrino's own
code they contain the third-party components listed below, and bootrino writes the bootloader files among them to
the disk it takes over. Each comes from a Debian package, named with its exact version and its source package.
${rev:+Built from the bootrino source at commit $rev.
}
EOF
  echo "Components"
  echo "----------"
  for ((i = 0; i < n; i++)); do
    IFS='|' read -r parts licence texts <<<"${PARTS[${KEYS[i]}]}"
    printf '%2d. %s %s: %s (in %s)\n' $((i + 1)) "${NAMES[i]}" "${VERSIONS[i]}" "$licence" "${IN[i]}"
  done
  cat <<EOF

Corresponding source
--------------------
Each component is built from, or taken unmodified out of a package built from, the Debian source package named
in its entry, with Debian's patches. Debian keeps every source package it has published at the
snapshot.debian.org address given in its entry; \`apt-get source PACKAGE=VERSION\` fetches it while the Debian
archive carries it.

Written offer: for at least three years from the date of this release, whoever distributes these binaries
${BASE_URL:+(the release published at $BASE_URL) }gives anyone who asks, for no more than the cost of physically
performing the distribution, a complete machine-readable copy of the corresponding source of every component
listed here, together with the bootrino source the binaries were built from.

Relinking the LGPL libraries: libnettle, libblkid, libfdisk (util-linux), libext2fs, libe2p (e2fsprogs) and the
GNU C Library are linked statically into bootrino. bootrino's source together with its build scripts reproduces the
binaries: packaging/deps.sh builds each library from its Debian source package (change its pin in LIBS or its
build_NAME function there, or pass your own prefix with -DBOOTRINO_DEPS=PREFIX), and packaging/build.sh (one
architecture) or packaging/release.sh (the release files) links bootrino against them, so a modified library
can be linked into an otherwise identical bootrino.

EOF
  for ((i = 0; i < n; i++)); do
    IFS='|' read -r parts licence texts <<<"${PARTS[${KEYS[i]}]}"
    printf '%s\n' "$(printf -- '-%.0s' {1..110})"
    printf '[%d] %s %s\n' $((i + 1)) "${NAMES[i]}" "${VERSIONS[i]}"
    printf '    Contained:      %s\n' "$parts"
    printf '    In:             %s\n' "${IN[i]}"
    printf '    Licence:        %s\n' "$licence"
    printf '    Debian source:  %s %s\n' "${SRCPKGS[i]}" "${SRCVERS[i]}"
    printf '    Source code:    %s\n' "$(snapshot "${SRCPKGS[i]}" "${SRCVERS[i]}")"
    printf '                    apt-get source %s=%s\n' "${SRCPKGS[i]}" "${SRCVERS[i]}"
    printf '    Origin:         %s\n\n' "${ORIGINS[i]}"
    sum=$(sha256sum <"$TMP/$i.copyright" | cut -c1-64)
    if [[ -n ${text_of[$sum]:-} ]]; then
      printf 'Copyright and licence: the same text as under [%s] above.\n\n' "${text_of[$sum]}"
    else
      text_of[$sum]=$((i + 1))
      cat "$TMP/$i.copyright"
      echo
    fi
    for t in $texts; do [[ " $seen " == *" $t "* ]] || seen+=" $t"; done
  done

  printf '%s\n' "$(printf -- '=%.0s' {1..110})"
  echo "Licence texts the entries above refer to (from /usr/share/common-licenses of the build machine)"
  for t in $seen; do
    [[ -s $LICENSES/$t ]] || die "$LICENSES/$t is missing: it comes with Debian's base-files"
    printf '%s\n' "$(printf -- '=%.0s' {1..110})"
    printf '%s (%s)\n\n' "$t" "$LICENSES/$t"
    cat "$LICENSES/$t"
    echo
  done
}

main "$@"
