# shellcheck shell=bash
# Debian packages for the VM fixtures (source it; bash). Uses the caller's say and die.
#
#   apt_candidate PACKAGE            the version apt would install now (empty if unknown)
#   fetch_deb PACKAGE VERSION DIR    DIR/PACKAGE_VERSION_ARCH.deb, downloaded with apt-get download
#                                    on a miss (the cache every VM fixture shares); prints its path

apt_candidate() { apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2; exit}' | grep -v '(none)' || true; }

fetch_deb() {
  local pkg=$1 ver=$2 dir=$3 f
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
