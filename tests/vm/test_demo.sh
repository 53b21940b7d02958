#!/usr/bin/env bash
# README's demo, run the way a newcomer runs it, scripted: packaging/demo.sh with its default Debian
# 12 cloud-init instance, --disk-image to keep the instance's disk and --expect instead of an
# attached console; then `demo.sh --disk-image … --firmware bios` and `… uefi` boot the kept disk
# through SeaBIOS and OVMF, with no -kernel. vm.cloud_init covers the takeover itself in depth;
# this test guards what only the demo runs: its options, the cached images it finds, the user-data
# and SSH key it gives the instance (a newcomer's ~/.ssh/id_ed25519.pub, here a scratch $HOME's),
# its non-interactive --expect loop (run with no terminal: setsid, stdin /dev/null) and the claim
# that the kept disk boots back into the RAM OS. Assertions are on the console logs demo.sh writes
# (--log). The binary under test goes in with --bootrino, so nothing is rebuilt.
# About 2.5 minutes under TCG (measured): the takeover ~2, the SeaBIOS boot ~10 s, OVMF ~20 s.
# VM_ARCH=aarch64 (test_demo_arm64.sh): `demo.sh --arch aarch64`, the arm64 Debian instance (booted through
# AAVMF), the aarch64 binary; the kept disk boots through AAVMF only.
source "$(dirname "$0")/lib.sh"
DEMO=$BOOTRINO_SOURCE/packaging/demo.sh
DISK=$WORK/demo.img
KEY="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHq7sG1c0cWjSg2Xb0Tb3mJ8xQ2n7Wc3d1pVvXk5Jd8a newcomer@demo"
# The demo picks the caller's key from ~/.ssh; the caches stay where they are.
export BOOTRINO_CACHE=${BOOTRINO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bootrino}
mkdir -p "$WORK/home/.ssh"
echo "$KEY" >"$WORK/home/.ssh/id_ed25519.pub"

# demo NAME ARG...: packaging/demo.sh ARG... with the binary under test, no terminal and its console
# log in $WORK/NAME.log, which becomes $SERIAL (for expect_seen and fail's console tail). Fails
# with demo.sh's own messages when it exits non-zero. Records NAME=Ns (the whole demo.sh run).
demo() {
  local name=$1 rc=0 t0=$SECONDS pid
  shift
  SERIAL=$WORK/$name.log
  echo "# packaging/demo.sh $*" >&2
  HOME=$WORK/home setsid "$DEMO" --arch "$VM_ARCH" "$@" --bootrino "$BOOTRINO" --accel "${VM_ACCEL:-auto}" --log "$SERIAL" \
    </dev/null >"$WORK/$name.out" 2>"$WORK/$name.err" &
  pid=$!
  PIDS+=("$pid")  # killed (demo.sh then stops its QEMU) if this test is
  wait "$pid" || rc=$?
  TIMINGS+=("$name=$((SECONDS - t0))s")
  if ((rc != 0)); then
    echo "--- demo.sh's messages:" >&2
    sed 's/^/    /' "$WORK/$name.err" >&2
    fail "packaging/demo.sh $* exited $rc"
  fi
  grep -q "^demo: the console showed /" "$WORK/$name.err" || fail "demo.sh exited 0 without reporting the match"
}

# 1. The takeover, as README's demo line runs it.
demo takeover --disk-image "$DISK" --expect 'BOOTRINO-RAMOS-SHELL' --timeout 600
grep -q "^demo: disk image kept: $DISK " "$WORK/takeover.err" || fail "demo.sh did not say it kept $DISK"
expect_seen 'Cloud-init v\. [0-9.]+ running .modules:final'
expect_seen 'bootrino: the disk takeover and the reboot into alpine-like happen in the background once cloud-init'
ok "cloud-init ran README's one-liner; bootrino loaded the kernel and waited for cloud-init"
expect_seen '^bootrino: replacing /dev/vda '
expect_seen '^bootrino: wrote [0-9.]+ MiB to /dev/vda in [0-9.]+ s'
expect_not_seen 'failed part way'
ok "bootrino $(tr -d '\r' <"$SERIAL" | grep -om1 'wrote [0-9.]* MiB to /dev/vda in [0-9.]* s')"
expect_seen '^BOOTRINO-RAMOS-UP name=alpine-like$'
tr -d '\r' <"$SERIAL" | grep -Fx -- "RAMOS-SSH-KEY: $KEY" >/dev/null ||
  fail "the RAM OS does not have the newcomer's key from ~/.ssh/id_ed25519.pub: $(grep -a '^RAMOS-SSH-KEY' "$SERIAL" || echo none)"
ok "the RAM OS alpine-like came up with the key from ~/.ssh as root's"
[[ -f $DISK ]] || fail "$DISK is gone after the demo"
sfdisk -d "$DISK" >"$WORK/table" 2>&1 || fail "sfdisk cannot read the kept disk: $(cat "$WORK/table")"
grep -q 'name="bootrino-boot"' "$WORK/table" && grep -q 'name="bootrino-data"' "$WORK/table" ||
  fail "the kept disk does not hold bootrino's layout: $(cat "$WORK/table")"
ok "the kept disk $DISK holds bootrino's GPT (bootrino-boot, bootrino-data)"

# 2. The kept disk through the firmware, as README says: no -kernel, straight back into the RAM OS.
firmwares=(bios uefi)
[[ $VM_ARCH == x86_64 ]] || firmwares=(uefi)
for fw in "${firmwares[@]}"; do
  demo "$fw" --disk-image "$DISK" --firmware "$fw" --expect 'BOOTRINO-RAMOS-SHELL' --timeout 240
  expect_seen 'BOOTRINO-RAMOS-UP name=alpine-like'  # firmware output may precede it on the line
  [[ $(console_value "RAMOS-FIRMWARE: ") == "$fw" ]] ||
    fail "$fw: the RAM OS says it was booted by '$(console_value "RAMOS-FIRMWARE: ")'"
  line=$(console_value "cmdline: ")
  [[ $line == *console=$VM_CONSOLE* && $line != *bootrino.id=* ]] ||
    fail "$fw: the firmware boot's cmdline '$line' lacks the console or carries the one-time bootrino.id"
  tr -d '\r' <"$SERIAL" | grep -Fx -- "RAMOS-SSH-KEY: $KEY" >/dev/null || fail "$fw: the key did not survive the reboot"
  ok "$fw: the firmware booted the kept disk into alpine-like (RAMOS-FIRMWARE: $fw), the key still root's"
done
