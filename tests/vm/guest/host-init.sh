#!/bin/sh
# bootrino VM tests: the cloud host stand-in. Brings up the virtio NIC with DHCP, then runs
# bootrino as the kernel command line asks:
#   bootrino.ref=URL          the manifest reference (required to run anything)
#   bootrino.cmd=run|dry-run|fetch|inspect|none   (default run: `bootrino run REF --yes`)
#   bootrino.args=a,b,c       extra arguments, commas become spaces
#   bootrino.run-size=SIZE    /run's size (tmpfs size=, e.g. 10% as initramfs-tools mounts it)
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm /sys/kernel/security
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
run_size=
for word in $(cat /proc/cmdline); do
  case $word in bootrino.run-size=*) run_size=${word#bootrino.run-size=} ;; esac
done
mount -t tmpfs -o "mode=0755${run_size:+,size=$run_size}" tmpfs /run
echo "host: /run is a tmpfs of $(df -k /run | awk 'NR == 2 {print $2}') kB"
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t securityfs securityfs /sys/kernel/security 2>/dev/null
echo "host: kernel $(uname -r), $(awk '/MemTotal/ {print $2 " kB"}' /proc/meminfo), lockdown: $(cat /sys/kernel/security/lockdown 2>/dev/null || echo unknown)"
# Booted from host-disk.img, the disk's initramfs already loaded virtio_pci and friends.
while read -r m; do
  [ -d "/sys/module/$m" ] || insmod "/lib/modules/$m.ko" || echo "host: insmod $m failed"
done </etc/modules.txt
# What / is: rootfs (the initramfs) or, booted from host-disk.img, ext4 on the disk.
echo "HOST-ROOT: $(awk '$5 == "/"' /proc/self/mountinfo | tail -n 1)"
ip link set lo up
ip link set eth0 up 2>/dev/null || echo "host: no eth0"
udhcpc -i eth0 -n -q -t 10 -T 1 -s /etc/udhcpc.script >/dev/null 2>&1 || echo "host: DHCP failed"
echo "host: eth0 $(ip -4 -o addr show dev eth0 2>/dev/null | awk '{print $4}')"
echo "BOOTRINO-HOST-READY"

ref= cmd=run args=
for word in $(cat /proc/cmdline); do
  case $word in
    bootrino.ref=*) ref=${word#bootrino.ref=} ;;
    bootrino.cmd=*) cmd=${word#bootrino.cmd=} ;;
    bootrino.args=*) args=$(echo "${word#bootrino.args=}" | tr , ' ') ;;
  esac
done
if [ -n "$ref" ] && [ "$cmd" != none ]; then
  case $cmd in
    run) set -- run "$ref" --yes ;;
    dry-run) set -- run "$ref" --dry-run ;;
    fetch) mkdir -p /run/stage; set -- fetch "$ref" --stage /run/stage ;;
    inspect) set -- inspect "$ref" ;;
    *) set -- "$cmd" "$ref" ;;
  esac
  echo "host: bootrino $* $args"
  # Run from a short-lived shell, as cloud-init's runcmd script runs it: with
  # --detach bootrino waits for this caller to exit before it reboots.
  # shellcheck disable=SC2086,SC2016
  sh -c '/bin/bootrino "$@"; echo "BOOTRINO-HOST-EXIT=$?"' bootrino-caller "$@" $args
fi
echo "BOOTRINO-HOST-ALIVE"
while true; do setsid cttyhack sh; done
