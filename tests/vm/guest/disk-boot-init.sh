#!/bin/sh
# bootrino VM tests: the host disk's initramfs. Loads the storage drivers, waits for the root
# device, mounts it and switch_roots into it, as a cloud image's initramfs does. Kernel parameters:
#   root=LABEL=…|UUID=…|/dev/…   (required)   rootfstype=… (default ext4)   ro|rw (default rw)
#   init=… (default /init)
# Any failure ends this init: with panic=1 the harness sees "Kernel panic" at once.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
# shellcheck source=SCRIPTDIR/init-lib.sh  # fixtures.sh installs it as /lib/init-lib.sh
. /lib/init-lib.sh
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
root= fstype=ext4 mode=rw init=/init
for w in $(cat /proc/cmdline); do
  case $w in
    root=*) root=${w#root=} ;;
    rootfstype=*) fstype=${w#rootfstype=} ;;
    ro|rw) mode=$w ;;
    init=*) init=${w#init=} ;;
  esac
done
[ -n "$root" ] || { echo "initramfs: ERROR: no root= on the kernel command line"; exit 1; }
load_modules /etc/storage-modules.txt initramfs
dev=$(wait_block "$root" 30) ||
  { echo "initramfs: ERROR: no root device $root after 30 s; block devices: $(block_devices)"; exit 1; }
mkdir -p /newroot
mount -t "$fstype" -o "$mode" "$dev" /newroot || { echo "initramfs: ERROR: cannot mount $dev ($root)"; exit 1; }
[ -x "/newroot$init" ] || { echo "initramfs: ERROR: $root has no $init"; exit 1; }
echo "initramfs: root $root is $dev ($fstype, $mode)"
mount --move /dev /newroot/dev
umount /sys /proc
exec switch_root /newroot "$init"
