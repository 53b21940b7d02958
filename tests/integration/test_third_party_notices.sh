#!/usr/bin/env bash
# packaging/third_party.sh, which writes a release's THIRD-PARTY-NOTICES.txt (packaging/release.sh ships it;
# the release tier is not in CI, this test is): every component pinned in packaging/deps.sh and
# packaging/bootloaders.sh, and this machine's C library and C++ runtime, named with its exact version, licence
# and source, each with a non-empty copyright text; the GPL-2 and LGPL-2.1 texts and the source offer; the same
# bytes on a second run. And it refuses what would make the notices incomplete: a pin it has no licence entry
# for, an empty copyright file, a source package whose files fail their checksums. Reads only the caches
# deps.sh and bootloaders.sh made (no network).
source "$(dirname "$0")/lib.sh"
PKG=$BOOTRINO_SOURCE/packaging
arch=$(uname -m)
notices=$WORK/notices.txt

rc=0
"$PKG/third_party.sh" --arch "$arch" --base-url https://downloads.example.com/bootrino >"$notices" 2>"$WORK/err" ||
  rc=$?
[[ $rc == 0 ]] || fail "third_party.sh exited $rc"

# The pins, read as third_party.sh reads them (from the scripts themselves), and each one's entry.
eval "$(sed -n '/^LIBS=($/,/^)$/p' "$PKG/deps.sh")"
eval "$(sed -n "/^DEBS_$arch=(\$/,/^)\$/p" "$PKG/bootloaders.sh")"
declare -n DEBS=DEBS_$arch
((${#LIBS[@]} >= 9 && ${#DEBS[@]} >= 3)) || fail "read ${#LIBS[@]} LIBS and ${#DEBS[@]} DEBS_$arch pins"
sed -n 's/^\[[0-9]*\] //p' "$notices" >"$WORK/entries"
expected=()
for line in "${LIBS[@]}"; do read -r _ pkg ver <<<"$line"; expected+=("$pkg $ver"); done
for line in "${DEBS[@]}"; do read -r pkg ver _ <<<"$line"; expected+=("$pkg $ver"); done
glibc=$(dpkg-query -W -f='${Version}' \
  "$(dpkg -S "$(readlink -f "$("$arch-linux-gnu-g++" -print-file-name=libc.a)")" | cut -d: -f1)")
expected+=("GNU C Library ($arch) $glibc")
for entry in "${expected[@]}"; do
  grep -qxF "$entry" "$WORK/entries" || fail "the notices have no entry '[N] $entry'"
done
ok "every pinned component (${#LIBS[@]} libraries, ${#DEBS[@]} bootloader packages) and glibc $glibc has an entry"

# Each entry: a licence, a snapshot.debian.org source, and a copyright text of its own (or a pointer to an
# identical one above).
awk '
  function check() {
    if (name == "") return
    if (!licence) bad = bad name ": no licence\n"
    if (!source) bad = bad name ": no snapshot.debian.org source\n"
    if (!same && text < 5) bad = bad name ": copyright text of " text " lines\n"
  }
  BEGIN { rule = sprintf("%110s", ""); entries = rule; gsub(/ /, "-", entries); gsub(/ /, "=", rule) }
  /^\[[0-9]+\] / { check(); name = $0; licence = source = same = text = body = 0; next }
  $0 == rule { check(); name = ""; next }
  name == "" || $0 == entries { next }
  /^    Licence:  +[^ ]/ { licence = 1 }
  /^    Source code:  +https:\/\/snapshot\.debian\.org\/package\/[^ ]+\/$/ { source = 1 }
  /^    Origin:/ { body = 1; next }
  body && /^Copyright and licence: the same text as under \[[0-9]+\] above\.$/ { same = 1 }
  body && /[^[:space:]]/ { text++ }
  END { check(); printf "%s", bad; exit bad != "" }
' "$notices" >"$WORK/bad" || fail "incomplete entries: $(cat "$WORK/bad")"
ok "every entry has a licence, a snapshot.debian.org source and a copyright text"

{ grep -qx 'Version 2, June 1991' <(sed 's/^ *//' "$notices") && grep -q 'GNU GENERAL PUBLIC LICENSE' "$notices"; } ||
  fail "no GPL-2 text"
{ grep -qx 'Version 2.1, February 1999' <(sed 's/^ *//' "$notices") &&
  grep -q 'GNU LESSER GENERAL PUBLIC LICENSE' "$notices"; } || fail "no LGPL-2.1 text"
grep -q 'Written offer: .*(the release published at https://downloads.example.com/bootrino)' <(tr '\n' ' ' <"$notices") ||
  fail "no written offer naming the base URL"
grep -q '^Relinking the LGPL libraries:' "$notices" || fail "no relinking paragraph"
ok "the GPL-2 and LGPL-2.1 texts, the source offer and how to relink are there"

"$PKG/third_party.sh" --arch "$arch" --base-url https://downloads.example.com/bootrino >"$WORK/again" 2>"$WORK/err" ||
  fail "the second run failed"
cmp -s "$notices" "$WORK/again" || fail "a second run writes different notices: $(diff "$notices" "$WORK/again" | head)"
ok "a second run writes the same bytes ($(stat -c %s "$notices") bytes)"

# refuses NAME EXPECTED-MESSAGE CMD...: CMD fails, saying EXPECTED-MESSAGE.
refuses() {
  local what=$1 message=$2 rc=0
  shift 2
  "$@" >"$WORK/out" 2>"$WORK/err" || rc=$?
  ((rc != 0)) || fail "$what: third_party.sh exited 0"
  grep -qE "$message" "$WORK/err" || fail "$what: no message matching '$message'"
  ok "refused: $what"
}
bootloaders=$(bash "$PKG/bootloaders.sh" 2>/dev/null | tail -n 1)
mkdir -p "$WORK/pkg"
cp "$PKG/third_party.sh" "$PKG/third_party.txt" "$PKG/deps.sh" "$PKG/bootloaders.sh" "$WORK/pkg/"
sed -i 's/^LIBS=($/&\n  "newlib     newlib     1.0-1"/' "$WORK/pkg/deps.sh"
refuses "a library pinned in deps.sh without a line in third_party.txt" \
  "newlib is pinned but has no line in $WORK/pkg/third_party.txt" "$WORK/pkg/third_party.sh" --bootloaders "$bootloaders"
cp "$PKG/deps.sh" "$WORK/pkg/"
echo 'zlib|libz.a' >>"$WORK/pkg/third_party.txt"
refuses "a line of third_party.txt without its four fields" \
  "third_party.txt line [0-9]+: 'zlib\|libz.a' is not KEY\|PARTS\|LICENCE\|TEXTS" \
  "$WORK/pkg/third_party.sh" --bootloaders "$bootloaders"

cp -r "$bootloaders" "$WORK/bootloaders"
: >"$WORK/bootloaders/licences/systemd-boot-efi.copyright"
refuses "an empty copyright file" "systemd-boot-efi: its copyright file .* is empty" \
  "$PKG/third_party.sh" --bootloaders "$WORK/bootloaders"

# A cache whose zlib debian tarball is not the one its .dsc names: no text is taken from it.
cache=${BOOTRINO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bootrino}
mkdir -p "$WORK/cache/sources"
for f in "$cache"/sources/*; do ln -s "$f" "$WORK/cache/sources/"; done
read -r _ pkg ver <<<"${LIBS[0]}"
tarball=$(ls "$WORK/cache/sources/${pkg}_${ver#*:}".debian.tar.*)
cp --remove-destination "$(readlink "$tarball")" "$tarball"
echo tampered >>"$tarball"
refuses "a source package that fails its checksums" "the sources of $pkg=.* fail their checksums" \
  env BOOTRINO_CACHE="$WORK/cache" "$PKG/third_party.sh" --bootloaders "$bootloaders"
