#!/usr/bin/env bash
# Self-test of the VM harness, independent of bootrino: runs the vm tests against a stand-in agent
# (a busybox shell script plus a 20-line static C program calling kexec_file_load and
# reboot(LINUX_REBOOT_CMD_KEXEC)) that follows bootrino's kexec contract for the fixture
# manifests: preflight (lockdown), pinned manifest, RAM check, fetch + sha256, initrd = manifest
# initrds + zero padding to 4 bytes + an overlay cpio with /etc/bootrino/{manifest.json,boot-id},
# cmdline = manifest cmdline + host consoles + bootrino.id=ID, same exit codes.
#
#   tests/vm/selftest.sh [TEST...]      default: every tests/vm/test_*.sh but those the stand-in cannot model (below)
#   SELFTEST_NOPAD=1 tests/vm/selftest.sh test_kexec_alpine.sh
#                                        the stand-in forgets the padding: the test must FAIL
#                                        (the kernel drops the overlay: "invalid magic")
# Needs gcc (build-essential) for the static helper.
set -euo pipefail
VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/bootrino-vm-selftest.XXXXXX")
trap '[[ ${KEEP_WORK:-0} == 1 ]] || rm -rf "$WORK"' EXIT
command -v gcc >/dev/null || { echo "selftest: needs gcc (apt-get install build-essential)" >&2; exit 1; }

cat >"$WORK/kexec-file.c" <<'EOF'
/* kexec-file KERNEL INITRD CMDLINE: load with kexec_file_load, then reboot into it. */
#include <fcntl.h>
#include <linux/reboot.h>
#include <stdio.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(int argc, char **argv) {
  if (argc != 4) return 2;
  int k = open(argv[1], O_RDONLY | O_CLOEXEC), i = open(argv[2], O_RDONLY | O_CLOEXEC);
  if (k < 0 || i < 0) { perror("open"); return 1; }
  if (syscall(SYS_kexec_file_load, k, i, strlen(argv[3]) + 1, argv[3], 0UL) != 0) {
    perror("kexec_file_load");
    return 1;
  }
  sync();
  reboot(LINUX_REBOOT_CMD_KEXEC);
  perror("reboot");
  return 1;
}
EOF
gcc -static -O2 -o "$WORK/kexec-file" "$WORK/kexec-file.c"

cat >"$WORK/bootrino" <<'EOF'
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
[ "$total" -lt "$avail" ] || die 5 "the payload needs $total bytes of RAM but only $avail are available"
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
EOF
chmod 755 "$WORK/bootrino"
[[ -n ${SELFTEST_NOPAD:-} ]] && sed -i 's/^cmd=\$1 ref=\$2$/SELFTEST_NOPAD=1; &/' "$WORK/bootrino"

BOOTRINO_VM_FIXTURES=$("$VM_DIR/fixtures.sh" | tail -n 1) "$VM_DIR/fixtures.sh" host-initrd "$WORK/bootrino" "$WORK/host.cpio.gz" "$WORK/kexec-file:bin/kexec-file" >/dev/null

tests=("$@")
# The stand-in models kexec, not bootrino's --detach (return first, reboot
# after the caller exits), the disk takeover (test_disk_*, test_fallback_reboot),
# its refusals with a disk (test_faults_untouched), its disk plans (test_disk_names)
# nor a release that install.sh runs under cloud-init (test_cloud_init, and the
# demo that does the same, test_demo), nor the Secure Boot refusal, whose disk
# it would have to put itself on (test_secure_boot): those are bootrino's own to pass.
if ((${#tests[@]} == 0)); then
  for t in "$VM_DIR"/test_*.sh; do
    case $(basename "$t") in
      test_detach.sh | test_disk_*.sh | test_fallback_reboot.sh | test_faults_untouched.sh | test_cloud_init.sh | \
        test_demo.sh | test_secure_boot.sh) ;;
      *) tests+=("$t") ;;
    esac
  done
fi
failed=()
for t in "${tests[@]}"; do
  [[ -f $t ]] || t=$VM_DIR/$t
  echo "# selftest: $(basename "$t")"
  VM_HOST_INITRD=$WORK/host.cpio.gz VM_HOST_FILES="$WORK/bootrino:bin/bootrino $WORK/kexec-file:bin/kexec-file" \
    BOOTRINO=/nonexistent bash "$t" || failed+=("$(basename "$t")")
done
if ((${#failed[@]})); then
  echo "selftest: FAILED: ${failed[*]}"
  exit 1
fi
echo "selftest: every VM test passed against the stand-in agent"
