#!/usr/bin/env bash
# The kexec path on arm64, in an emulated arm64 machine (QEMU virt, TCG): the host stand-in, on an arm64 kernel
# with kexec_file_load (tests/vm/arm64-host-kernel.config), runs the aarch64 release binary against the
# alpine-like sample, whose kernel is Debian's arm64 cloud Image gzip'd (as Alpine's and Ubuntu's arm64 kernels
# are shipped), with a NoCloud seed in /var/lib/cloud that gives the RAM OS an SSH key and a hostname.
#  1. `bootrino run REF --dry-run --keep-disk`: the plan decompresses the gzip'd kernel into an arm64 Image before
#     loading it, and nothing is changed. (--keep-disk: this host runs from its initramfs, with no disk to take
#     over; test_disk_takeover_arm64.sh has one.)
#  2. `bootrino run REF --yes --keep-disk`: bootrino decompresses the kernel, kexec_file_loads it and kexecs; the
#     RAM OS comes up on Debian's kernel (not the host's) with the host's console=ttyAMA0, bootrino.id= matching
#     its /etc/bootrino/boot-id, and the seed's SSH key and hostname; the machine is still described to it by the
#     host's device tree.
#  3. The same with the host booted through UEFI firmware (AAVMF, ACPI): the RAM OS also has UEFI.
VM_ARCH=aarch64
source "$(dirname "$0")/lib.sh"

key="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPq3Jp0cCkPj6sBz3GdV3WvN8lO4mPzA0CqHqK2fLx9R arm64@bootrino-test"
printf '#cloud-config\nhostname: ram-arm64\nssh_authorized_keys:\n  - %s\n' "$key" >"$WORK/user-data"
host_files "$WORK/user-data:var/lib/cloud/seed/nocloud/user-data"
serve "$FIX/www"
REF=$(pinned alpine-like/bootrino.sh)
cmdline="modules=loop,squashfs modloop=/boot/modloop-virt quiet"

# 1. The dry run.
EXTRA_APPEND="bootrino.cmd=dry-run $(host_args "${GUEST_FAST[@]}" --keep-disk)"
boot_host
wait_for '^BOOTRINO-HOST-READY' 180 ready
expect_seen '^host: eth0 10\.0\.2\.15/'
expect_seen '^host: kernel [^ ]*-bootrino-vm-host, '
wait_for '^BOOTRINO-HOST-EXIT=' 300 dry-run-done
expect_seen '^BOOTRINO-HOST-EXIT=0'
expect_seen 'kernel +vmlinuz-virt .*verified'
expect_seen '^  1\. decompress the gzip kernel into the arm64 Image kexec_file_load takes, in RAM '
expect_seen '^  [0-9]\. kexec_file_load the kernel, '
expect_seen 'personal overlay: 1 SSH key\(s\), hostname ram-arm64 in the initrd overlay'
expect_seen 'nothing was changed'
ok "run --dry-run on arm64: the gzip'd kernel is decompressed before kexec_file_load; nothing was changed"
stop_vm

# kexec_checks HOW: after kexec_sample, what bootrino said and what the RAM OS shows beyond check_ramos's.
kexec_checks() {
  expect_seen '^bootrino: decompressed the kernel: [0-9.]+ MiB arm64 Image'
  # The RAM OS runs the sample's kernel (Debian's), not the host's.
  local want
  want=$(awk '$1 == "kernel" {sub(/^linux-image-/, "", $2); print $2}' "$FIX/versions.txt")
  [[ -n $want && $(console_value "RAMOS-KERNEL: ") == "$want aarch64" ]] ||
    fail "$1: the RAM OS runs kernel '$(console_value "RAMOS-KERNEL: ")', not the sample's $want (aarch64)"
  ok "$1: the RAM OS runs Debian's arm64 cloud kernel $want, which bootrino decompressed and kexec'd"
  tr -d '\r' <"$SERIAL" | grep -Fx -- "RAMOS-SSH-KEY: $key" >/dev/null ||
    fail "$1: the RAM OS does not have the seed's SSH key: $(tr -d '\r' <"$SERIAL" | grep '^RAMOS-SSH-KEY' || echo none)"
  expect_seen '^RAMOS-HOSTNAME: ram-arm64$'
  ok "$1: the RAM OS has the host's SSH key and hostname (from its NoCloud seed)"
}

# 2. The kexec, the host booted with its kernel and initrd given to QEMU (a device tree describes the machine).
kexec_sample alpine-like "$cmdline"
kexec_checks "device tree"
expect_seen '^RAMOS-FIRMWARE: devicetree$'

# 3. The same, the host booted through UEFI (AAVMF): the firmware describes the machine with ACPI only, as an arm64
# cloud instance's does, and the RAM OS still has the firmware's runtime services after the kexec.
VM_FIRMWARE=uefi kexec_sample alpine-like "$cmdline"
expect_seen 'EFI stub: Booting Linux Kernel'
expect_seen '^host: kernel .*-bootrino-vm-host, '
expect_seen '^RAMOS-FIRMWARE: uefi$'
kexec_checks "UEFI"
