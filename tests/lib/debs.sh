# shellcheck shell=bash
# Debian packages for the VM fixtures (source it; bash). Uses the caller's say and die.
#
#   apt_candidate PACKAGE            the version apt would install now (empty if unknown)
#   fetch_deb PACKAGE VERSION DIR    DIR/PACKAGE_VERSION_ARCH.deb, downloaded with apt-get download
#                                    on a miss (the cache every VM fixture shares); prints its path.
#                                    ARCH is $DEB_ARCH (default: this machine's) or all: the cache holds
#                                    packages of several architectures under the same names and versions.
# APT_OPTS (an array, default empty): more options for apt-get and apt-cache, e.g. another
# architecture's package lists (tests/vm/fixtures.sh with VM_ARCH=aarch64).

apt_candidate() { apt-cache ${APT_OPTS[@]+"${APT_OPTS[@]}"} policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2; exit}' | grep -v '(none)' || true; }

# cached_deb PACKAGE VERSION DIR ARCH: the path of that package in DIR, if there.
cached_deb() {
  local name="${1}_${2//:/%3a}"
  find "$3" -maxdepth 1 \( -name "${name}_$4.deb" -o -name "${name}_all.deb" \) | head -1
}

fetch_deb() {
  local pkg=$1 ver=$2 dir=$3 arch=${DEB_ARCH:-$(dpkg --print-architecture)} f
  mkdir -p "$dir"
  f=$(cached_deb "$pkg" "$ver" "$dir" "$arch")
  if [[ -z $f ]]; then
    say "downloading $pkg $ver ($arch)"
    (cd "$dir" && apt-get ${APT_OPTS[@]+"${APT_OPTS[@]}"} download -q "$pkg=$ver" 2>&1 |
      grep -v -e unsandboxed -e '^Get:' >&2 || true)
    f=$(cached_deb "$pkg" "$ver" "$dir" "$arch")
    [[ -n $f ]] || die "apt-get download $pkg=$ver failed"
  fi
  echo "$f"
}
