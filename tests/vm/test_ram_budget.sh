#!/usr/bin/env bash
# The RAM check counts what the whole takeover holds at once, not only the files: on a 512 MiB instance a
# payload with a 150 MiB initrd fits as files (about 160 MiB, plus bootrino's 64 MiB headroom), but not once
# the kexec boot's initrd composed in the stage and kexec_file_load's copies of kernel and initrd are counted
# (more than the instance's 512 MiB in all; the disk's initrd is composed as the disk is written). bootrino
# refuses it with exit 5, naming those lines, before it fetches any payload file; the host keeps running.
source "$(dirname "$0")/lib.sh"
mkdir -p "$WORK/www/copies"
cp "$FIX/www/huge/vmlinuz" "$WORK/www/copies/vmlinuz"
truncate -s 150M "$WORK/www/copies/initrd.img"  # sparse zeros: no disk space, never fetched
python3 "$TESTS_LIB/manifest.py" write "$WORK/www/copies/bootrino.sh" --name-entries --name copies \
  --cmdline quiet kernel:vmlinuz initrd:initrd.img || fail "cannot write the manifest"
MEM=512
boot_sample "$WORK/www" copies/bootrino.sh
expect_host_exit 5
expect_seen "the takeover needs [0-9]+ MiB of RAM at once \\([0-9]+ MiB the staged files \\+ 150 MiB the kexec boot's composed initrd .* \\+ 150 MiB the initrd's copy made by kexec_file_load \\+ 64 MiB bootrino itself and working headroom\\) but only [0-9]+ MiB is available"
available=$(grep -ao 'but only [0-9]* MiB is available' "$SERIAL" | head -n 1 | tr -dc 0-9)
files_mib=$(( ($(stat -c %s "$WORK/www/copies/vmlinuz") + (150 << 20)) >> 20 ))
[[ -n $available ]] && ((files_mib + 64 < available)) ||
  fail "the files and the headroom ($((files_mib + 64)) MiB) do not fit in $available MiB: this case cannot show the copies counted"
ok "512 MiB: $((files_mib + 64)) MiB of files and headroom would fit in $available MiB; with the composed initrd and kexec's copies it does not: exit 5"
expect_unfetched copies initrd.img vmlinuz
