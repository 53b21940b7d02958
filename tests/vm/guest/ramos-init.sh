#!/bin/sh
# Sample RAM OS for bootrino's VM tests: reports its cmdline and bootrino's overlay, optionally reads
# and writes a marker on the data partition, then a shell.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
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

persist= label=bootrino-data marker=
for w in $(cat /proc/cmdline); do
  case $w in
    ramos.persist-test=1) persist=1 ;;
    ramos.data-label=*) label=${w#ramos.data-label=}; persist=1 ;;
    ramos.marker=*) marker=${w#ramos.marker=}; persist=1 ;;
  esac
done
# data_partition: mounts the partition labelled $label on /mnt/data, else says why.
data_partition() {
  local m dev i=0
  # NVMe and ext4 are built into the cloud kernel; virtio-blk and virtio-scsi are modules.
  while read -r m; do
    [ -d "/sys/module/$m" ] || insmod "/lib/modules/$m.ko" 2>/dev/null
  done </etc/storage-modules.txt
  while ! dev=$(findfs "LABEL=$label" 2>/dev/null); do
    i=$((i + 1))
    if [ $i -gt 100 ]; then
      echo "RAMOS-DATA-ERROR: no partition labelled $label after 10 s (block devices: $(ls /sys/class/block | tr '\n' ' '))"
      return 1
    fi
    sleep 0.1
  done
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
