#!/bin/busybox sh
/bin/busybox mount -t devtmpfs dev /dev
exec </dev/console >/dev/console 2>&1
/bin/busybox mount -t proc proc /proc
echo "BOOTLOADER-TEST-UP marker=$(/bin/busybox cat /etc/marker) cmdline=$(/bin/busybox cat /proc/cmdline)"
/bin/busybox poweroff -f
