#!/usr/bin/env bash
# The disk holding / on NVMe and virtio-scsi: the host stand-in boots its disk image on each bus
# (/ is ext4 on /dev/nvme0n1p1, /dev/sda1), and `bootrino run REF --dry-run` (never --yes) must name
# the whole disk that holds / (/dev/nvme0n1, /dev/sda) and print the layout it would write there.
# virtio (/dev/vda) is every other disk test's; Xen's xvda has no QEMU bus here and is covered by
# tests/unit/root_disk_test.cc on a fake sysfs tree. The dry run writes nothing; the image is a
# private sparse copy all the same.
source "$(dirname "$0")/lib.sh"
private_disk
serve "$FIX/www"
REF=$(pinned alpine-like/bootrino.sh)
EXTRA_APPEND="bootrino.cmd=dry-run $(host_args "${GUEST_FAST[@]}")"
for bus_dev in nvme:/dev/nvme0n1p1:/dev/nvme0n1 scsi:/dev/sda1:/dev/sda; do
  IFS=: read -r bus dev disk <<<"$bus_dev"
  boot_host_disk "$HOST_DISK" "$bus"
  wait_for '^BOOTRINO-HOST-READY' 120 "ready-$bus"
  root=$(console_value "HOST-ROOT: " | sed -nE 's/^[0-9]+ [0-9]+ [0-9:]+ [^ ]+ \/ .* - ([^ ]+) ([^ ]+) .*/\1 \2/p')
  [[ $root == "ext4 $dev" ]] || fail "$bus: / is not ext4 on $dev: $(console_value "HOST-ROOT: ")"
  wait_for '^BOOTRINO-HOST-EXIT=' 120 "dry-run-$bus"
  expect_seen '^BOOTRINO-HOST-EXIT=0$'
  expect_seen "^  disk    replace $disk \\([0-9.]+ MiB, holds /\\):$"
  expect_seen '^          GPT, 512-byte sectors, [0-9.]+ MiB, disk '
  expect_seen '^            1 boot  FAT32 '
  expect_seen '^            2 data  '
  expect_seen 'nothing was changed$'
  ok "$bus: / is ext4 on $dev; the dry run would replace $disk, the disk holding /, with a boot and a data partition"
  stop_vm
done
