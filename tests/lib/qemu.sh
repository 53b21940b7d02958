# shellcheck shell=bash disable=SC2034,SC2054  # sets variables its callers read; commas are QEMU's
# QEMU for the VM tests and the demo (source it; bash): the command line every guest gets, its only
# network, the firmware, and waits on its serial console.
#
#   qemu_cmd ACCEL MIB               sets QEMU_CMD: qemu-system-x86_64 with ACCEL (tcg, kvm), MIB of
#                                    memory, one CPU, no default NIC and -no-reboot (a reboot ends
#                                    QEMU: tests see it). The caller adds the console and devices.
#                                    VM_ARCH=aarch64: qemu-system-aarch64 with -cpu $VM_CPU (default
#                                    cortex-a72; the caller adds -machine virt).
#   qemu_net PORT [IMDS_PORT]        sets QEMU_NET: user-mode networking with restrict=on, whose only
#                                    ways out are guestfwd rules to 127.0.0.1: the guest's
#                                    http://10.0.2.100/ is 127.0.0.1:PORT (serve.sh's file server)
#                                    and, with IMDS_PORT, http://10.0.2.101/ is 127.0.0.1:IMDS_PORT;
#                                    on a virtio NIC without option ROM.
#   firmware_args bios|uefi|uefi-secure-boot VARS
#                                    sets FIRMWARE_ARGS (and FIRMWARE_MACHINE, the -machine it
#                                    needs): bios is SeaBIOS, QEMU's default (no arguments); uefi is
#                                    OVMF from pflash, its code read-only and its NVRAM the writable
#                                    file VARS, copied from the empty template when VARS does not
#                                    exist yet (so a second boot keeps the first's NVRAM);
#                                    uefi-secure-boot is OVMF that enforces Secure Boot with
#                                    Microsoft's keys enrolled (q35 with SMM). OVMF_CODE and
#                                    OVMF_VARS name other uefi files. Returns 1, saying what is
#                                    missing, when the firmware is not installed. VM_ARCH=aarch64:
#                                    uefi only, AAVMF (Debian's qemu-efi-aarch64) on the virt machine.
#   console_seen LOG REGEX           whether the console log LOG has a line matching REGEX (ERE;
#                                    carriage returns dropped first)
#   console_wait LOG REGEX SECONDS PID [CHECK]
#                                    polls LOG every 0.2 s until it shows REGEX: 0. CHECK, a command
#                                    run each round, ends the wait when it succeeds: 3. PID (QEMU)
#                                    gone: 2, after a last look half a second later (its console
#                                    may still be flushing). SECONDS passed: 1.

qemu_cmd() {
  case ${VM_ARCH:-x86_64} in
    x86_64) QEMU_CMD=(qemu-system-x86_64 -accel "$1" -m "$2" -smp 1 -no-reboot -nic none) ;;
    aarch64) QEMU_CMD=(qemu-system-aarch64 -accel "$1" -cpu "${VM_CPU:-cortex-a72}" -m "$2" -smp 1 -no-reboot -nic none) ;;
    *) echo "qemu_cmd: VM_ARCH must be x86_64 or aarch64, not '$VM_ARCH'" >&2; return 1 ;;
  esac
}

qemu_net() {
  local fwd="guestfwd=tcp:10.0.2.100:80-cmd:nc 127.0.0.1 $1"
  [[ -z ${2:-} ]] || fwd+=",guestfwd=tcp:10.0.2.101:80-cmd:nc 127.0.0.1 $2"
  QEMU_NET=(-netdev "user,id=n0,restrict=on,$fwd" -device virtio-net-pci,netdev=n0,romfile=)
}

# ovmf_files [secure-boot]: sets OVMF_CODE_FILE and OVMF_VARS_FILE: $OVMF_CODE / $OVMF_VARS when
# set, else Debian's 4 MiB build, else the older 2 MiB one (secure-boot: the Secure Boot code and
# the NVRAM template with Microsoft's keys).
ovmf_files() {
  local d=/usr/share/OVMF
  if [[ ${VM_ARCH:-x86_64} == aarch64 ]]; then
    OVMF_CODE_FILE=${OVMF_CODE:-/usr/share/AAVMF/AAVMF_CODE.fd} OVMF_VARS_FILE=${OVMF_VARS:-/usr/share/AAVMF/AAVMF_VARS.fd}
  elif [[ ${1:-} == secure-boot ]]; then
    OVMF_CODE_FILE=$d/OVMF_CODE_4M.secboot.fd OVMF_VARS_FILE=$d/OVMF_VARS_4M.ms.fd
  elif [[ -n ${OVMF_CODE:-} ]]; then
    OVMF_CODE_FILE=$OVMF_CODE OVMF_VARS_FILE=${OVMF_VARS:-$d/OVMF_VARS_4M.fd}
  elif [[ -f $d/OVMF_CODE_4M.fd ]]; then
    OVMF_CODE_FILE=$d/OVMF_CODE_4M.fd OVMF_VARS_FILE=${OVMF_VARS:-$d/OVMF_VARS_4M.fd}
  else
    OVMF_CODE_FILE=$d/OVMF_CODE.fd OVMF_VARS_FILE=${OVMF_VARS:-$d/OVMF_VARS.fd}
  fi
  [[ -f $OVMF_CODE_FILE && -f $OVMF_VARS_FILE ]] && return 0
  echo "no OVMF firmware at $OVMF_CODE_FILE / $OVMF_VARS_FILE (install Debian's ovmf, or qemu-efi-aarch64 for" \
    "aarch64: tests/vm/fixtures.sh packages)" >&2
  return 1
}

firmware_args() {
  local fw=$1 vars=$2
  FIRMWARE_ARGS=() FIRMWARE_MACHINE=pc
  if [[ ${VM_ARCH:-x86_64} == aarch64 ]]; then
    FIRMWARE_MACHINE=virt
    [[ $fw == uefi ]] || { echo "firmware_args: an aarch64 guest boots through uefi (AAVMF) only, not '$fw'" >&2; return 1; }
  fi
  case $fw in
    bios) return 0 ;;
    uefi) ovmf_files || return 1 ;;
    uefi-secure-boot)
      ovmf_files secure-boot || return 1
      FIRMWARE_MACHINE=q35,smm=on
      FIRMWARE_ARGS=(-global driver=cfi.pflash01,property=secure,value=on)
      ;;
    *) echo "firmware_args: firmware must be bios, uefi or uefi-secure-boot, not '$fw'" >&2; return 1 ;;
  esac
  [[ -f $vars ]] || cp "$OVMF_VARS_FILE" "$vars"
  FIRMWARE_ARGS+=(-drive "if=pflash,format=raw,unit=0,readonly=on,file=$OVMF_CODE_FILE"
    -drive "if=pflash,format=raw,unit=1,file=$vars")
}

# (grep reads to the end, not -q: under pipefail an early exit would SIGPIPE tr and read as no match.)
console_seen() { tr -d '\r' <"$1" | grep -E -- "$2" >/dev/null; }

console_wait() {
  local log=$1 re=$2 deadline=$((SECONDS + $3)) pid=$4 check=${5:-}
  while ! console_seen "$log" "$re"; do
    if [[ -n $check ]] && $check; then return 3; fi
    if [[ -z $pid ]] || ! kill -0 "$pid" 2>/dev/null; then
      sleep 0.5
      console_seen "$log" "$re" && return 0
      return 2
    fi
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}
