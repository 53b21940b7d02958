#!/bin/sh
# Sample RAM OS for bootrino's VM tests: reports its cmdline and bootrino's overlay, optionally reads
# and writes a marker on the data partition and fetches URLs over the network bootrino gave it, then a
# shell.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
# shellcheck source=SCRIPTDIR/init-lib.sh  # fixtures.sh installs it as /lib/init-lib.sh
. /lib/init-lib.sh
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
# Kernel messages share the serial port and would split this report's lines
# (seen: a late driver message inside "overlay-file: …"); keep them in dmesg.
dmesg -n 1
echo "BOOTRINO-RAMOS-UP name=@NAME@"
echo "cmdline: $(cat /proc/cmdline)"
# Which kernel runs: after a kexec, the sample's own, not the host's (its banner may be hidden by quiet).
echo "RAMOS-KERNEL: $(uname -r) $(uname -m)"
if [ -d /etc/bootrino ]; then
  for f in $(find /etc/bootrino -type f | sort); do
    echo "overlay-file: $f ($(wc -c <"$f") bytes)"
    cat "$f"
    echo
    echo "overlay-file-end: $f"
  done
else
  echo "overlay: none"
fi
# What an operator would log in with: root's SSH keys and the hostname bootrino gave this OS.
if [ -f /root/.ssh/authorized_keys ]; then
  while read -r key; do [ -n "$key" ] && echo "RAMOS-SSH-KEY: $key"; done </root/.ssh/authorized_keys
fi
[ -f /etc/hostname ] && echo "RAMOS-HOSTNAME: $(cat /etc/hostname)"
# What described the machine to this kernel: UEFI (its runtime services, kept across a kexec from a UEFI
# host), else a device tree (an arm64 kernel started without UEFI, e.g. QEMU's -kernel on the virt machine;
# its root names the machine, which the empty tree newer kernels make for overlays does not), else a PC BIOS.
if [ -d /sys/firmware/efi ]; then
  echo "RAMOS-FIRMWARE: uefi"
elif [ -f /sys/firmware/devicetree/base/compatible ]; then
  echo "RAMOS-FIRMWARE: devicetree"
else
  echo "RAMOS-FIRMWARE: bios"
fi

persist= label=bootrino-data marker= fetch=
for w in $(cat /proc/cmdline); do
  case $w in
    ramos.persist-test=1) persist=1 ;;
    ramos.data-label=*) label=${w#ramos.data-label=}; persist=1 ;;
    ramos.marker=*) marker=${w#ramos.marker=}; persist=1 ;;
    ramos.fetch=*) fetch="$fetch ${w#ramos.fetch=}" ;;
  esac
done

# network_up: the NIC's driver, then the network as an OS with ifupdown brings it up at boot: `ifup -a` on
# the /etc/network/interfaces bootrino wrote (static: the host's addresses and routes). Each NIC's name
# as this kernel found it goes to the console as "RAMOS-NIC: eth1 52:54:00:…", and afterwards its name,
# MAC and addresses (not link-local) as "RAMOS-NET: eth1 52:54:00:… 192.0.2.10/32 …".
network_up() {
  local d i
  load_modules /etc/net-modules.txt ramos
  for d in /sys/class/net/*; do
    [ "${d##*/}" = lo ] || echo "RAMOS-NIC: ${d##*/} $(cat "$d/address")"
  done
  [ -f /etc/network/interfaces ] || { echo "RAMOS-NET-ERROR: no /etc/network/interfaces"; return 1; }
  # busybox's ifup runs /etc/network/if-*.d and keeps its state in /var/run.
  mkdir -p /var/run /etc/network/if-pre-up.d /etc/network/if-up.d /etc/network/if-down.d /etc/network/if-post-down.d
  ifup -a || echo "RAMOS-NET-ERROR: ifup -a exited $?"
  # ifup returns before duplicate address detection is done: until then (a second or so) an IPv6 address
  # is no connection's source.
  i=0
  while ip -6 addr | grep -q tentative && [ $i -lt 50 ]; do
    sleep 0.1
    i=$((i + 1))
  done
  for d in /sys/class/net/*; do
    [ "${d##*/}" = lo ] && continue
    echo "RAMOS-NET: ${d##*/} $(cat "$d/address") $(ip -o addr show dev "${d##*/}" | awk '$4 !~ /^fe80:/ {printf "%s ", $4}')"
  done
}

# fetch_all: each ramos.fetch= URL, printed as "RAMOS-FETCHED: URL BODY" (the body's first line) or
# "RAMOS-FETCH-FAILED: URL", all tried again until they answer or 30 s have passed.
fetch_all() {
  local url body left=$fetch end=$(($(date +%s) + 30)) next
  while [ -n "$left" ] && [ "$(date +%s)" -lt $end ]; do
    next=
    for url in $left; do
      # (timeout, not wget -T: busybox 1.35's wget dies of a segmentation fault with -T)
      if body=$(timeout 5 wget -q -O - "$url" 2>/dev/null); then
        echo "RAMOS-FETCHED: $url $(echo "$body" | head -n 1)"
      else
        next="$next $url"
      fi
    done
    left=$next
    [ -z "$left" ] || sleep 1
  done
  for url in $left; do echo "RAMOS-FETCH-FAILED: $url"; done
}
[ -z "$fetch" ] || { network_up; fetch_all; }

# data_partition: mounts the partition labelled $label on /mnt/data, else says why.
data_partition() {
  local dev
  # NVMe and ext4 are built into the cloud kernel; virtio-blk and virtio-scsi are modules.
  load_modules /etc/storage-modules.txt ramos
  dev=$(wait_block "LABEL=$label" 10) || {
    echo "RAMOS-DATA-ERROR: no partition labelled $label after 10 s (block devices: $(block_devices))"
    return 1
  }
  mkdir -p /mnt/data
  mount "$dev" /mnt/data || { echo "RAMOS-DATA-ERROR: cannot mount $dev (LABEL=$label)"; return 1; }
  echo "RAMOS-DATA-DEVICE: $dev"
}
if [ -n "$persist" ] && data_partition; then
  if [ -f /mnt/data/marker ]; then
    echo "RAMOS-DATA: $(tr -d '\n' </mnt/data/marker)"
  else
    echo "RAMOS-DATA: NONE"
  fi
  if [ -n "$marker" ]; then
    if echo "$marker" >/mnt/data/marker && sync; then
      echo "RAMOS-DATA-WRITTEN: $marker"
    else
      echo "RAMOS-DATA-ERROR: cannot write /marker"
    fi
  fi
  umount /mnt/data || echo "RAMOS-DATA-ERROR: cannot unmount the data partition"
fi
echo "BOOTRINO-RAMOS-SHELL"
while true; do setsid cttyhack sh; done
