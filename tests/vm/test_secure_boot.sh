#!/usr/bin/env bash
# UEFI Secure Boot never bricks a host. OVMF with Secure Boot enforced (Microsoft's keys enrolled)
# boots a disk through Debian's signed shim and GRUB into Debian's signed kernel, which locks itself
# down (lockdown=integrity) because Secure Boot is on (tests/vm/secure_boot_image.sh). bootrino, on
# that disk's root, is asked for the sample RAM OS, whose kernel is not signed, with --fallback=reboot.
# kexec is refused (lockdown: only kernels signed by a key the host trusts), and so must be the
# fallback, whose disk (syslinux / systemd-boot and an unsigned kernel) the firmware would refuse
# forever after: exit 6 before anything is fetched or written, a message that says so and what to do,
# the host goes on, and its disk is byte-identical.
source "$(dirname "$0")/lib.sh"
source "$VM_DIR/untouched.sh"  # image_digest
SB=$("$VM_DIR/secure_boot_image.sh" | tail -n 1)
[[ -f $SB/disk.img ]] || fail "secure_boot_image.sh gave no image"
# OVMF enforcing Secure Boot, Microsoft's keys enrolled in a fresh NVRAM (q35 with SMM).
firmware_args uefi-secure-boot "$WORK/OVMF_VARS.fd" || fail "no Secure Boot OVMF (Debian's ovmf)"
DISK=$WORK/sb-disk.img
"$VM_DIR/secure_boot_image.sh" disk "$BOOTRINO" "$DISK" >/dev/null || fail "could not make the private disk"
serve "$FIX/www"
REF=$(pinned alpine-like/bootrino.sh)
# The root read-only, as in untouched.sh: a read-write mount alone changes the image's bytes.
"$VM_DIR/secure_boot_image.sh" grub-cfg "$DISK" \
  "ro bootrino.ref=$REF bootrino.cmd=$VM_CMD $(host_args "${GUEST_FAST[@]}" --fallback=reboot)"
digest=$(image_digest "$DISK")
[[ -n $digest ]] || fail "could not digest $DISK"

# shellcheck disable=SC2034  # lib.sh's start_qemu reads them
VM_MACHINE=$FIRMWARE_MACHINE QEMU_EXTRA=("${FIRMWARE_ARGS[@]}")
disk_args "$DISK"
echo "# boot OVMF (Secure Boot) → shim → GRUB → Debian's signed kernel, from $DISK" >&2
start_qemu "${DISK_ARGS[@]}"
# OVMF with SMM, shim's and GRUB's hashing of a 14 MB kernel: minutes under TCG on a busy machine.
# (GRUB's line starts with the colour escapes OVMF's console sends.)
wait_for 'grub: booting the signed kernel' 400 grub
wait_for '^BOOTRINO-HOST-READY' 400 ready
expect_seen 'EFI stub: UEFI Secure Boot is enabled'
expect_seen 'Kernel is locked down from EFI Secure Boot'
expect_seen '^host: .*lockdown: none \[integrity\]'
ok "the firmware booted shim, GRUB and the signed kernel under Secure Boot; the kernel locked itself down"
wait_for '^BOOTRINO-HOST-EXIT=' 120 bootrino-done
[[ $(console_value BOOTRINO-HOST-EXIT=) == 6 ]] || fail "bootrino exited $(console_value BOOTRINO-HOST-EXIT=), expected 6"
expect_seen '^bootrino: error: --fallback=reboot refused: UEFI Secure Boot is on, .*would never boot again'
expect_seen "^bootrino: error: .*lockdown: kernel lockdown is 'integrity' \(UEFI Secure Boot is on\).*kexecs only kernels signed by a key it trusts"
expect_seen '^bootrino: what to do: .*turn Secure Boot off'
expect_not_seen '^bootrino: replacing '
expect_not_seen 'rebooting through the firmware'
ok "bootrino refused kexec and the fallback (exit 6): $(tr -d '\r' <"$SERIAL" | grep -m1 '^bootrino: error: ' | cut -c18-)"
wait_for '^BOOTRINO-HOST-ALIVE' 30
[[ ! -s $SERVER_LOG ]] || fail "bootrino fetched something although it refused at the preflight: $(head -n 3 "$SERVER_LOG")"
stop_vm
[[ $(image_digest "$DISK") == "$digest" ]] || fail "the disk changed"
ok "nothing was fetched; the host went on; its disk is byte-identical"
