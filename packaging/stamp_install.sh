#!/usr/bin/env bash
# Writes DIR/install.sh: packaging/install.sh with the base URL a release is published at and the SHA-256 of
# each DIR/bootrino-<arch> written into it, so that install.sh, fetched over https, pins the binaries it
# installs. packaging/release.sh calls it; the tests and the demo make their releases with it too.
#   packaging/stamp_install.sh --base-url URL [--arch A]... DIR
# --arch (x86_64 or aarch64, repeatable) pins only those architectures' binaries (default: each
# DIR/bootrino-<arch> there is). An architecture without a pin is refused by install.sh unless it is given
# --sha256, --key or --trust-server.
set -euo pipefail
SRC=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)

die() { echo "stamp_install: ERROR: $*" >&2; exit 1; }

BASE_URL='' DIR='' ARCHES=()
while (($#)); do
  case $1 in
    --base-url) BASE_URL=${2:?--base-url needs a URL}; shift 2 ;;
    --arch)
      case ${2:-} in x86_64 | aarch64) ARCHES+=("$2") ;; *) die "--arch takes x86_64 or aarch64" ;; esac
      shift 2 ;;
    -h | --help) sed -n '2,10s/^# \{0,1\}//p' "$0"; exit 0 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) [[ -z $DIR ]] || die "one DIR only (see --help)"; DIR=$1; shift ;;
  esac
done
[[ -n $BASE_URL && -n $DIR ]] || die "usage: stamp_install.sh --base-url URL DIR"
[[ -d $DIR ]] || die "$DIR is not a directory"
((${#ARCHES[@]})) || for arch in x86_64 aarch64; do [[ -f $DIR/bootrino-$arch ]] && ARCHES+=("$arch"); done
((${#ARCHES[@]})) || die "$DIR holds neither bootrino-x86_64 nor bootrino-aarch64"
# It lands in install.sh between double quotes, through sed: plain URL characters only.
if [[ ! $BASE_URL =~ ^https?://. || $BASE_URL == *[[:space:]\"\'\$\`\\\|\&]* ]]; then
  die "--base-url must be an http(s) URL without spaces, quotes, \$, \`, \\, | or &: $BASE_URL"
fi
BASE_URL=${BASE_URL%/}

sed_args=(-e "s|^DEFAULT_BASE_URL=.*|DEFAULT_BASE_URL=\"$BASE_URL\"|")
declare -A pin=()
for arch in x86_64 aarch64; do
  pin[$arch]=''
  if [[ " ${ARCHES[*]} " == *" $arch "* ]]; then
    [[ -f $DIR/bootrino-$arch ]] || die "$DIR has no bootrino-$arch to pin"
    pin[$arch]=$(sha256sum "$DIR/bootrino-$arch" | cut -d' ' -f1)
  fi
  var=PINNED_SHA256_${arch^^}
  sed_args+=(-e "s|^$var=.*|$var=\"${pin[$arch]}\"|")
done

out=$DIR/install.sh
sed "${sed_args[@]}" "$SRC/packaging/install.sh" >"$out.tmp"
# Each line exactly once, as written: install.sh has not changed shape under the sed.
[[ $(grep -c "^DEFAULT_BASE_URL=\"$BASE_URL\"\$" "$out.tmp") == 1 ]] ||
  die "could not set DEFAULT_BASE_URL in install.sh"
for arch in x86_64 aarch64; do
  var=PINNED_SHA256_${arch^^}
  [[ $(grep -c "^$var=\"${pin[$arch]}\"\$" "$out.tmp") == 1 ]] || die "could not set $var in install.sh"
done
if command -v dash >/dev/null; then dash -n "$out.tmp"; else sh -n "$out.tmp"; fi ||
  die "install.sh with the base URL and hashes set does not parse"
chmod 755 "$out.tmp" && mv -f "$out.tmp" "$out"
