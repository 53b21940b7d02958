#!/bin/sh
# bootrino VM tests: the cloud host stand-in. Brings up the virtio NIC with DHCP (or a static network:
# host.ip=), then runs bootrino as the kernel command line asks:
#   bootrino.ref=URL          the manifest reference (required to run anything but userdata)
#   bootrino.cmd=run|dry-run|fetch|inspect|userdata|none   (default run: `bootrino run REF --yes`;
#                             userdata: `bootrino userdata --json` on one HOST-USERDATA: line, then what is
#                             mounted (HOST-MOUNT: mountinfo lines) and what is in /run and /tmp (HOST-LEFT:))
#   bootrino.args=a,b,c       extra arguments, commas become spaces
#   bootrino.run-size=SIZE    /run's size (tmpfs size=, e.g. 10% as initramfs-tools mounts it)
#   host.ip=a,b,c             `ip a b c` (commas become spaces), each in the order given, after every NIC
#                             is up, instead of DHCP: a static network, as a cloud without DHCP on the
#                             link gives its instances (e.g. host.ip=route,add,default,via,192.0.2.1)
#   host.replug=NAME          before that, NAME's device is unbound from its driver and bound again: it
#                             comes back as NAME with the highest ifindex, as a NIC attached after boot
#                             has, so the order of the host's ifindexes is not the order the next
#                             kernel finds the NICs in
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
# shellcheck source=SCRIPTDIR/init-lib.sh  # fixtures.sh installs it as /lib/init-lib.sh
. /lib/init-lib.sh
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
load_modules /etc/modules.txt host
# What / is: rootfs (the initramfs) or, booted from host-disk.img, ext4 on the disk.
echo "HOST-ROOT: $(awk '$5 == "/"' /proc/self/mountinfo | tail -n 1)"
ip link set lo up
# replug NAME: NAME's device unbound from its driver and bound again (host.replug=).
replug() {
  local dev drv
  dev=$(basename "$(readlink "/sys/class/net/$1/device")")
  drv=$(readlink -f "/sys/class/net/$1/device/driver")
  echo "$dev" >"$drv/unbind" && echo "$dev" >"$drv/bind" || echo "host: cannot replug $1 ($dev, $drv)"
  echo "host: replugged $1: ifindex $(cat "/sys/class/net/$1/ifindex" 2>/dev/null || echo 'none: it did not come back')"
}
static=
for word in $(cat /proc/cmdline); do
  case $word in host.ip=*) static=1 ;; esac
done
if [ -n "$static" ]; then
  for word in $(cat /proc/cmdline); do
    case $word in host.replug=*) replug "${word#host.replug=}" ;; esac
  done
  for d in /sys/class/net/eth*; do ip link set "${d##*/}" up; done
  for word in $(cat /proc/cmdline); do
    case $word in
      host.ip=*)
        # shellcheck disable=SC2046  # the words are ip's arguments
        set -- $(echo "${word#host.ip=}" | tr , ' ')
        ip "$@" || echo "host: ip $* failed"
        ;;
    esac
  done
  for d in /sys/class/net/eth*; do
    echo "host: ${d##*/} $(cat "$d/address") ifindex $(cat "$d/ifindex") $(ip -o addr show dev "${d##*/}" | awk '{printf "%s ", $4}')"
  done
else
  ip link set eth0 up 2>/dev/null || echo "host: no eth0"
  udhcpc -i eth0 -n -q -t 10 -T 1 -s /etc/udhcpc.script >/dev/null 2>&1 || echo "host: DHCP failed"
  echo "host: eth0 $(ip -4 -o addr show dev eth0 2>/dev/null | awk '{print $4}')"
fi
echo "BOOTRINO-HOST-READY"

ref= cmd=run args=
for word in $(cat /proc/cmdline); do
  case $word in
    bootrino.ref=*) ref=${word#bootrino.ref=} ;;
    bootrino.cmd=*) cmd=${word#bootrino.cmd=} ;;
    bootrino.args=*) args=$(echo "${word#bootrino.args=}" | tr , ' ') ;;
  esac
done
if [ "$cmd" = userdata ]; then
  echo "host: bootrino userdata --json $args"
  # shellcheck disable=SC2086
  json=$(/bin/bootrino userdata --json $args)
  echo "BOOTRINO-HOST-EXIT=$?"
  echo "HOST-USERDATA: $(echo "$json" | tr -d '\n')"
  sed 's/^/HOST-MOUNT: /' /proc/self/mountinfo
  for f in /run/* /tmp/*; do [ ! -e "$f" ] || echo "HOST-LEFT: $f"; done
elif [ -n "$ref" ] && [ "$cmd" != none ]; then
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
