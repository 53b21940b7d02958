#!/bin/sh
# Stand-in for bootrino in the VM harness self-test (busybox sh). Knows just enough of the
# manifest format to read the fixture manifests (pretty-printed JSON, one field per line).
cmd=$1 ref=$2
shift 2
dry=
for a in "$@"; do [ "$a" = --dry-run ] && dry=1; done
die() { echo "bootrino: error: $2" >&2; echo "bootrino: what to do: (stand-in)" >&2; exit "$1"; }
[ "$cmd" = run ] || die 2 "stand-in only knows run"
if grep -q '\[integrity\]\|\[confidentiality\]' /sys/kernel/security/lockdown 2>/dev/null; then
  die 6 "the kernel is in lockdown ($(cat /sys/kernel/security/lockdown)): it refuses kexec"
fi
url=${ref%%#*} pin=${ref#*#sha256=} base=${url%/*}
st=/run/stage
rm -rf $st; mkdir -p $st/ov/etc/bootrino
timeout 60 wget -q -O $st/bootrino.sh "$url" || die 4 "cannot fetch $url"
echo "$pin  $st/bootrino.sh" | sha256sum -c -s || die 3 "manifest sha256 does not match the pin"
# role url size sha256 [name], one file a line; then the cmdline.
awk '
  /"kernel": \{/ { role = "kernel" } /"initrds": \[/ { role = "initrd" } /"files": \[/ { role = "file" }
  /"url":/ { gsub(/[",]/, "", $2); u = $2 } /"size":/ { gsub(/,/, "", $2); s = $2 }
  /"sha256":/ { gsub(/[",]/, "", $2); print role, u, s, $2 }' $st/bootrino.sh >$st/files
cmdline=$(sed -n 's/^ *"cmdline": "\(.*\)",\{0,1\}$/\1/p' $st/bootrino.sh)
total=$(awk '{ t += $3 } END { print t }' $st/files)
avail=$(awk '/MemAvailable/ { print $2 * 1024 }' /proc/meminfo)
[ "$total" -lt "$avail" ] || die 5 "the takeover needs $total bytes of RAM at once (the staged files) but only $avail are available"
while read -r role u size sha; do
  timeout 120 wget -q -O "$st/$u" "$base/$u" || die 4 "cannot fetch $u"
  echo "$sha  $st/$u" | sha256sum -c -s || die 3 "$u: sha256 does not match the manifest"
  echo "bootrino: $role $u verified"
done <$st/files
[ -n "$dry" ] && { echo "  cmdline $cmdline"; echo "dry run: nothing was changed"; exit 0; }
: >$st/initrd
while read -r role u _; do
  [ "$role" = initrd ] || continue
  cat "$st/$u" >>$st/initrd
  if [ -z "$SELFTEST_NOPAD" ]; then
    n=$(( (4 - $(wc -c <$st/initrd) % 4) % 4 ))
    head -c $n /dev/zero >>$st/initrd
  fi
done <$st/files
id=$(cut -c1-8 /proc/sys/kernel/random/uuid)
sed -n '/^read BOOTRINOJSON/,/^BOOTRINOJSONMARKER$/p' $st/bootrino.sh | sed '1d;$d' >$st/ov/etc/bootrino/manifest.json
echo "$id" >$st/ov/etc/bootrino/boot-id
(cd $st/ov && find . | cpio -o -H newc 2>/dev/null) >>$st/initrd
consoles=
for w in $(cat /proc/cmdline); do case $w in console=*) consoles="$consoles $w" ;; esac; done
kernel=$(awk '$1 == "kernel" { print $2 }' $st/files)
echo "bootrino: kexec $kernel, cmdline: $cmdline$consoles bootrino.id=$id"
/bin/kexec-file "$st/$kernel" $st/initrd "$cmdline$consoles bootrino.id=$id" || die 6 "kexec failed"
