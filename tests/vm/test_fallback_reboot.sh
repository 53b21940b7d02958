#!/usr/bin/env bash
# --fallback=reboot: the host kernel is in lockdown (lockdown=integrity, as under Secure Boot), so
# kexec is refused; bootrino writes the disk anyway and reboots through the firmware, which boots
# the RAM OS from the new disk, with SeaBIOS and with OVMF.
source "$(dirname "$0")/lib.sh"
private_disk
serve "$FIX/www"
REF=$(pinned alpine-like/bootrino.sh)
EXTRA_APPEND="lockdown=integrity bootrino.cmd=$VM_CMD $(host_args "${GUEST_FAST[@]}" --fallback=reboot)"
boot_host_disk "$HOST_DISK"
wait_for '^BOOTRINO-HOST-READY' 120 ready
wait_for '^bootrino: rebooting through the firmware|^BOOTRINO-HOST-EXIT=' 400
expect_seen '^bootrino: rebooting through the firmware into alpine-like on /dev/vda'
expect_seen '^bootrino: warning: kexec is not possible here .*--fallback=reboot'
expect_not_seen 'Starting new kernel'
ok "kexec refused under lockdown; bootrino wrote the disk and rebooted through the firmware"
# QEMU runs with -no-reboot: the guest's reboot ends it.
for _ in $(seq 60); do kill -0 "$QEMU_PID" 2>/dev/null || break; sleep 1; done
kill -0 "$QEMU_PID" 2>/dev/null && fail "the host did not reboot"
stop_vm
for fw in bios uefi; do
  boot_firmware "$fw" "$HOST_DISK"
  wait_for 'BOOTRINO-RAMOS-UP name=alpine-like' 300 "$fw-ramos-up"  # after firmware output on the line
  wait_for '^BOOTRINO-RAMOS-SHELL' 60
  [[ $(console_value "RAMOS-FIRMWARE: ") == "$fw" ]] || fail "booted by '$(console_value "RAMOS-FIRMWARE: ")', not $fw"
  ok "$fw: the firmware booted the RAM OS from the disk bootrino wrote"
  stop_vm
done
