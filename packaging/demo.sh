#!/usr/bin/env bash
# bootrino demo: watch bootrino take over a (local, emulated) cloud instance.
#
# On a fresh Debian 12 or Ubuntu machine, as root or as a user with sudo:
#
#   packaging/demo.sh
#
# installs what it needs (apt-get), builds the static bootrino binary (packaging/build.sh; the first
# build compiles its libraries from Debian sources, ~10 minutes, cached afterwards), builds and
# caches the VM fixtures (tests/vm/fixtures.sh: sample RAM OSes; tests/vm/cloud_image.sh: a Debian 12
# cloud instance with Debian's own cloud-init, made by debootstrap, ~5 minutes the first time),
# serves the "alpine-like" sample OS and a bootrino release (this binary, and install.sh pinning its
# SHA-256 as packaging/release.sh writes it: packaging/stamp_install.sh) on 127.0.0.1,
# and boots the instance in QEMU as a cloud would: from its own disk, with a NoCloud seed whose
# user-data is README.md's #cloud-config one-liner:
#     runcmd:
#       - "curl -fsSL http://10.0.2.100/release/install.sh | sh -s -- 'http://10.0.2.100/alpine-like/bootrino.sh#sha256=…' --yes"
# Its console is your terminal: systemd boots, cloud-init runs the one-liner, install.sh fetches and
# checks bootrino, bootrino fetches and verifies the OS, loads its kernel and waits for cloud-init
# to finish; then it replaces /dev/vda with the RAM OS's boot disk and kexecs into the RAM OS,
# which shows the kernel command line, the files and SSH keys bootrino gave it, then its shell.
# Under software emulation that takes 2-4 minutes. Ctrl-A X quits QEMU (Ctrl-A H: help).
#
# Options:
#   --arch x86_64|aarch64
#                      the instance's architecture (default x86_64). aarch64: an emulated arm64 instance
#                      (QEMU's virt machine, booted through AAVMF, the arm64 UEFI firmware) running Debian 12
#                      arm64 on a kernel with kexec_file_load (Debian's arm64 kernels have none: the VM
#                      tests' arm64 host kernel, built once from Debian's linux-source); bootrino is the
#                      aarch64 release binary (packaging/release.sh --arch aarch64: cross-compiled, its unit
#                      tests run under qemu-user; ~30 minutes the first time, about a minute later). Slower
#                      under emulation: 5-10 minutes to the RAM OS. This machine must be x86_64 either way.
#   --instance debian|stand-in
#                      debian (default): the Debian cloud-init instance above. stand-in: a small
#                      busybox instance (boots in seconds) that runs bootrino from its kernel
#                      command line instead of cloud-init; --cmd fetch|inspect need it.
#   --manifest REF     boot REF instead of the sample. The VM has no internet: its only way out is
#                      http://10.0.2.100/ → a file server on this machine's 127.0.0.1. To rehearse
#                      your own OS, put bootrino.sh and its files in a directory and pass
#                      --serve DIR; REF then defaults to http://10.0.2.100/bootrino.sh#sha256=<its
#                      hash> (or give --manifest http://10.0.2.100/PATH#sha256=… for another file in
#                      DIR). File URLs in the manifest must be relative, or point at 10.0.2.100.
#                      Without --serve, the samples are served: http://10.0.2.100/{alpine-like,
#                      tinycore-like,broken,huge}/bootrino.sh.
#   --serve DIR        serve DIR (instead of the samples) at http://10.0.2.100/.
#   --cmd CMD          what the VM runs: run (default: `run REF --yes`), dry-run (`run REF
#                      --dry-run`: fetch and verify, change nothing), fetch, inspect.
#   --args A,B,...     more arguments for bootrino in the VM (e.g. --insecure,--retries,5).
#   --ssh-key FILE     an SSH public key for the instance's user-data (default: your ~/.ssh/id_*.pub,
#                      if any); the RAM OS shows it as root's authorized key.
#   --memory MIB       VM memory (default 1024).
#   --expect REGEX     non-interactive: the console is printed, not attached; exit 0 as soon as a
#                      console line matches REGEX (extended regex), 1 if --timeout passes first or
#                      the VM stops. E.g. --expect 'BOOTRINO-RAMOS-UP'.
#   --timeout S        limit in seconds (default: 600 with --expect, none otherwise).
#   --log FILE         also write everything the console shows to FILE.
#   --disk-image PATH  the instance's disk (raw, /dev/vda in the VM), kept after the run: a new
#                      PATH is made as a copy of the cloud-image-like fixture disk. After the
#                      takeover it holds the RAM OS: boot it again through the firmware with
#                      --firmware (default: a throw-away disk in a temp dir). A block device is refused.
#   --firmware bios|uefi  boot the existing --disk-image through SeaBIOS or OVMF, with no -kernel:
#                      shows that the disk bootrino wrote comes back into the RAM OS (aarch64: uefi, AAVMF).
#   --bootrino BIN     use this static binary instead of building one.
#   --accel auto|kvm|tcg   auto (default): KVM if /dev/kvm boots a guest, else software emulation.
#   -h, --help         this text.
#
# Console markers: BOOTRINO-RAMOS-UP name=… (the new OS is running), RAMOS-SSH-KEY: … (its root's
# keys). The stand-in also prints BOOTRINO-HOST-READY (network up, bootrino starts),
# BOOTRINO-HOST-EXIT=N (bootrino returned N: it failed before the kexec, see README's exit codes;
# the host lives on) and BOOTRINO-HOST-ALIVE.
# Environment: BOOTRINO_CACHE (default ~/.cache/bootrino) holds build dependencies and fixtures.
set -euo pipefail
ROOT=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
say() { echo "demo: $*" >&2; }
die() { echo "demo: ERROR: $*" >&2; exit 2; }
usage() { sed -n '2,/^set -euo/p' "$ROOT/packaging/demo.sh" | sed '$d; s/^# \{0,1\}//'; }
# The loopback file server and QEMU's command line, network, firmware and console wait: the same as
# the VM tests'.
source "$ROOT/tests/lib/serve.sh"
source "$ROOT/tests/lib/qemu.sh"

MANIFEST='' SERVE='' CMD=run ARGS='' MEMORY=1024 EXPECT='' TIMEOUT='' LOG='' DISK='' BIN='' ACCEL_OPT=auto FIRMWARE=
INSTANCE=debian SSH_KEY='' VM_ARCH=x86_64
# Every option takes one value: the variable it sets.
declare -A OPTION_VAR=([--manifest]=MANIFEST [--arch]=VM_ARCH [--instance]=INSTANCE [--ssh-key]=SSH_KEY
  [--serve]=SERVE [--cmd]=CMD [--args]=ARGS [--memory]=MEMORY [--expect]=EXPECT [--timeout]=TIMEOUT [--log]=LOG
  [--disk-image]=DISK [--firmware]=FIRMWARE [--bootrino]=BIN [--accel]=ACCEL_OPT)
while (($#)); do
  case $1 in
    -h|--help) usage; exit 0 ;;
    --*) [[ -n ${OPTION_VAR[$1]:-} ]] || die "unknown option '$1' (see --help)"
      [[ $# -ge 2 && -n $2 ]] || die "$1 needs a value (see --help)"
      printf -v "${OPTION_VAR[$1]}" '%s' "$2"
      shift 2 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
[[ $MEMORY =~ ^[1-9][0-9]*$ ]] || die "--memory takes MiB, e.g. 1024"
[[ -z $TIMEOUT || $TIMEOUT =~ ^[1-9][0-9]*$ ]] || die "--timeout takes seconds"
[[ -n $EXPECT && -z $TIMEOUT ]] && TIMEOUT=900
case $INSTANCE in debian|stand-in) ;; *) die "--instance is debian or stand-in" ;; esac
case $CMD in run|dry-run) ;; fetch|inspect) [[ $INSTANCE == stand-in ]] || die "--cmd $CMD needs --instance stand-in" ;;
  *) die "--cmd is run, dry-run, fetch or inspect" ;; esac
[[ -z $SSH_KEY || -f $SSH_KEY ]] || die "--ssh-key $SSH_KEY: no such file"
case $ACCEL_OPT in auto|kvm|tcg) ;; *) die "--accel is auto, kvm or tcg" ;; esac
[[ $ARGS != *[[:space:]]* ]] || die "--args takes comma-separated arguments without spaces"
[[ $MANIFEST != *[[:space:]]* ]] || die "--manifest must not contain spaces"
[[ -z $SERVE || -d $SERVE ]] || die "--serve $SERVE: no such directory"
if [[ -n $DISK ]]; then
  # Safety: only ever a regular file. Never a device node, never a path under /dev.
  [[ ! -e $DISK || -f $DISK ]] || die "--disk-image $DISK exists and is not a regular file (block devices are refused)"
  [[ $(readlink -m "$DISK") != /dev/* ]] || die "--disk-image must be an image file, not under /dev"
fi
[[ -z $BIN || -x $BIN ]] || die "--bootrino $BIN is not an executable"
case $FIRMWARE in '') ;; bios|uefi) [[ -f $DISK ]] || die "--firmware boots an existing --disk-image" ;;
  *) die "--firmware is bios or uefi" ;; esac
[[ -n $FIRMWARE || -z $DISK || ! -e $DISK ]] ||
  die "--disk-image $DISK exists: pass --firmware bios|uefi to boot it, or name a new file for a new instance"
case $VM_ARCH in x86_64|aarch64) ;; *) die "--arch is x86_64 or aarch64" ;; esac
[[ $(uname -m) == x86_64 ]] || die "the demo runs on an x86_64 machine (it emulates an arm64 one with --arch aarch64)"
[[ $VM_ARCH == x86_64 || $ACCEL_OPT != kvm ]] || die "--arch aarch64 runs under software emulation here: no --accel kvm"
[[ $VM_ARCH == x86_64 || $FIRMWARE != bios ]] || die "an arm64 machine boots through UEFI only: --firmware uefi"
# The VM tests' helpers (fixtures.sh, cloud_image.sh, qemu.sh) read the architecture from VM_ARCH.
export VM_ARCH

if [[ $(id -u) != 0 ]]; then
  command -v sudo >/dev/null || die "run as root, or install sudo (packages are installed with apt-get)"
fi

# 1. Packages: build.sh and fixtures.sh install what they need (with sudo when not root).
say "checking the VM packages (QEMU, busybox, netcat)"
"$ROOT/tests/vm/fixtures.sh" packages

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bootrino-demo.XXXXXX")
PIDS=() QEMU_PID='' TAIL_PID=''
cleanup() {
  local pid
  for pid in $TAIL_PID $QEMU_PID "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# 2. The binary.
if [[ -z $BIN && $VM_ARCH == x86_64 ]]; then
  say "building bootrino (packaging/build.sh; the first build takes ~10 minutes, later ones seconds)"
  BIN=$("$ROOT/packaging/build.sh" | tail -n 1)
  [[ $BIN == /* ]] || BIN=$ROOT/$BIN
elif [[ -z $BIN ]]; then
  say "building the aarch64 release (packaging/release.sh --arch aarch64: cross-compiled, unit tests under" \
    "qemu-user; the first build takes ~30 minutes, later ones about a minute)"
  "$ROOT/packaging/release.sh" --arch aarch64 --base-url http://10.0.2.100/release --out "$WORK/dist" >/dev/null
  BIN=$ROOT/build-release/aarch64/agent/bootrino
fi
say "bootrino: $BIN"

# 3. Fixtures (and the Debian instance's image).
say "fixtures (cached after the first run)"
FIX=$("$ROOT/tests/vm/fixtures.sh" | tail -n 1)
CLOUD_IMAGE=("$ROOT/tests/vm/cloud_image.sh")
[[ $(id -u) == 0 ]] || CLOUD_IMAGE=(sudo env "BOOTRINO_CACHE=${BOOTRINO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bootrino}"
  "VM_ARCH=$VM_ARCH" "${CLOUD_IMAGE[@]}")
if [[ $INSTANCE == debian && -z $FIRMWARE ]]; then
  say "the Debian 12 cloud instance's image (debootstrap with cloud-init: ~5 minutes the first time (arm64: more," \
    "its package scripts run under qemu-user), then cached)"
  CLOUD=$("${CLOUD_IMAGE[@]}" | tail -n 1)
  [[ -f $CLOUD/disk.img ]] || die "tests/vm/cloud_image.sh made no image"
fi

# 4. The file server the VM reaches as http://10.0.2.100/ (bound to 127.0.0.1 only). The Debian
# instance also gets a release of this binary at http://10.0.2.100/release/ for install.sh.
DOCROOT=${SERVE:-$FIX/www}
if [[ $INSTANCE == debian && -z $FIRMWARE ]]; then
  [[ ! -e $DOCROOT/release ]] || die "$DOCROOT/release exists: the demo serves bootrino's release there"
  mkdir -p "$WORK/www"
  cp -al "$DOCROOT/." "$WORK/www/" 2>/dev/null || cp -a "$DOCROOT/." "$WORK/www/"
  "$ROOT/tests/vm/cloud_image.sh" release "$BIN" "$WORK/www"
  DOCROOT=$WORK/www
fi
serve_start "$DOCROOT" "$WORK/server" || die "the file server did not start"
PORT=$SERVE_PORT
say "serving $DOCROOT on 127.0.0.1:$PORT (the VM sees http://10.0.2.100/)"

pin() { pinned_ref http://10.0.2.100 "$DOCROOT" "$1"; }
if [[ -z $MANIFEST ]]; then
  if [[ -n $SERVE ]]; then
    [[ -f $SERVE/bootrino.sh ]] || die "$SERVE has no bootrino.sh: pass --manifest http://10.0.2.100/PATH#sha256=…"
    MANIFEST=$(pin bootrino.sh)
  else
    MANIFEST=$(pin alpine-like/bootrino.sh)
  fi
fi
case $MANIFEST in
  http://10.0.2.100/*) ;;
  *) say "WARNING: the VM can reach nothing but http://10.0.2.100/ (this machine's file server):" \
       "$MANIFEST will fail with a network error (exit 4). Serve it locally with --serve DIR." ;;
esac

# 5. The VM's disk: a cloud-image-like disk (GPT, ext4 root); the stand-in's holds this bootrino,
# the Debian instance gets it from user-data, through the README's one-liner, from a NoCloud seed.
KEEP_DISK=$DISK
if [[ -z $FIRMWARE && $INSTANCE == stand-in ]]; then
  DISK=${DISK:-$WORK/host-disk.img}
  say "making the instance's disk $DISK (sparse, 2 GiB, ext4 root)"
  BOOTRINO_VM_FIXTURES=$FIX "$ROOT/tests/vm/fixtures.sh" host-disk "$BIN" "$DISK" >/dev/null
elif [[ -z $FIRMWARE ]]; then
  DISK=${DISK:-$WORK/instance.img}
  say "making the instance's disk $DISK (a sparse copy of the Debian image) and its NoCloud seed"
  cp --sparse=always "$CLOUD/disk.img" "$DISK"
  run_args=--yes
  [[ $CMD == dry-run ]] && run_args=--dry-run
  [[ -z $ARGS ]] || run_args+=" ${ARGS//,/ }"
  # shellcheck disable=SC2086
  line=$("$ROOT/tests/vm/cloud_image.sh" runcmd "$MANIFEST" $run_args)
  if [[ -z $SSH_KEY ]]; then
    for k in "$HOME"/.ssh/id_ed25519.pub "$HOME"/.ssh/id_ecdsa.pub "$HOME"/.ssh/id_rsa.pub; do
      [[ -f $k ]] && { SSH_KEY=$k; break; }
    done
  fi
  {
    echo "#cloud-config"
    if [[ -n $SSH_KEY ]]; then
      echo "ssh_authorized_keys:"
      echo "  - $(head -n 1 "$SSH_KEY")"
    fi
    echo "runcmd:"
    echo "$line"
  } >"$WORK/user-data"
  printf 'instance-id: iid-bootrino-demo-%s\nlocal-hostname: bootrino-demo\n' "$$" >"$WORK/meta-data"
  "$ROOT/tests/vm/cloud_image.sh" seed "$WORK/seed.img" "$WORK/user-data" "$WORK/meta-data"
  say "user-data (README's one-liner${SSH_KEY:+, and your key $SSH_KEY}):"
  sed 's/^/    /' "$WORK/user-data" >&2
fi
# KVM when it works: /dev/kvm can exist and still not run a guest (some nested setups hang after
# the BIOS), so boot the kernel once without an initrd; it panics at once and QEMU exits.
ACCEL=$ACCEL_OPT
[[ $VM_ARCH == x86_64 ]] || ACCEL=tcg
if [[ $ACCEL == auto ]]; then
  ACCEL=tcg
  probe_cache=${BOOTRINO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bootrino}/vm/kvm-broken.$(cat /proc/sys/kernel/random/boot_id 2>/dev/null)
  if [[ -f $probe_cache ]]; then
    say "KVM did not boot a guest earlier since this machine started: using software emulation"
  elif [[ -r /dev/kvm && -w /dev/kvm ]]; then
    say "probing KVM (at most 15 s)"
    qemu_cmd kvm 256
    timeout 15 "${QEMU_CMD[@]}" -nographic -kernel "$FIX/vmlinuz" -append "console=ttyS0 panic=-1 quiet" \
      </dev/null >"$WORK/kvm-probe.log" 2>&1 || true
    if grep -q 'Kernel panic' "$WORK/kvm-probe.log"; then
      ACCEL=kvm
    else
      say "/dev/kvm is there but did not boot a guest: using software emulation"
      touch "$probe_cache" 2>/dev/null || true
    fi
  fi
fi
if [[ $ACCEL != kvm ]]; then
  if [[ $VM_ARCH != x86_64 ]]; then
    say "software emulation of an arm64 machine (TCG): allow 3-6 minutes for the firmware, systemd and cloud-init," \
      "then 2-3 minutes for the takeover (a firmware boot of the kept disk: about a minute)"
  elif [[ $INSTANCE == debian && -z $FIRMWARE ]]; then
    say "software emulation (TCG): allow 1-2 minutes for systemd and cloud-init, then about a minute for the takeover"
  elif [[ -n $FIRMWARE ]]; then
    say "software emulation (TCG): allow ~10 s (bios) or ~20 s (uefi) for the firmware to boot the RAM OS"
  else
    say "software emulation (TCG): allow ~10 s to boot and ~20 s for the takeover"
  fi
fi
console=ttyS0
[[ $VM_ARCH == x86_64 ]] || console=ttyAMA0
append="console=$console panic=1 bootrino.ref=$MANIFEST bootrino.cmd=$CMD${ARGS:+ bootrino.args=$ARGS}"
append+=" root=LABEL=$(sed -n 's/^HOST_ROOT_LABEL=//p' "$FIX/host-disk.txt" | tr -d "\"'") rw"
[[ -n $LOG ]] && : >"$LOG"
CONSOLE_LOG=${LOG:-$WORK/console.log}
qemu_cmd "$ACCEL" "$MEMORY"
qemu_net "$PORT"
qemu=("${QEMU_CMD[@]}" -display none "${QEMU_NET[@]}" -drive "file=$DISK,if=virtio,format=raw")
[[ $VM_ARCH == x86_64 ]] || qemu+=(-machine virt)
case $FIRMWARE in
  '') if [[ $INSTANCE == debian && $VM_ARCH != x86_64 ]]; then
        # The arm64 instance boots through AAVMF, as an arm64 cloud's do, on the host kernel of the VM tests.
        firmware_args uefi "$WORK/vars.fd" || die "no AAVMF firmware (qemu-efi-aarch64) to boot the arm64 instance"
        qemu+=("${FIRMWARE_ARGS[@]}" -kernel "$FIX/vmlinuz" -append "$(cat "$CLOUD/cmdline.txt")"
          -drive "file=$WORK/seed.img,if=virtio,format=raw,readonly=on")
      elif [[ $INSTANCE == debian ]]; then
        qemu+=(-kernel "$CLOUD/vmlinuz" -initrd "$CLOUD/initrd.img" -append "$(cat "$CLOUD/cmdline.txt")"
          -drive "file=$WORK/seed.img,if=virtio,format=raw,readonly=on")
      else
        qemu+=(-kernel "$FIX/vmlinuz" -initrd "$FIX/host-disk-boot.cpio.gz" -append "$append")
      fi ;;
  *) firmware_args "$FIRMWARE" "$WORK/vars.fd" || die "no $FIRMWARE firmware to boot the disk"
    qemu+=("${FIRMWARE_ARGS[@]}") ;;
esac
case $CMD in
  run) shown="run $MANIFEST --yes" ;;
  dry-run) shown="run $MANIFEST --dry-run" ;;
  fetch) shown="fetch $MANIFEST --stage /run/stage" ;;
  *) shown="$CMD $MANIFEST" ;;
esac
if [[ -n $FIRMWARE ]]; then
  say "booting $DISK through the firmware ($FIRMWARE, no -kernel): the RAM OS should come up from the disk"
elif [[ $INSTANCE == debian ]]; then
  say "booting the Debian 12 $VM_ARCH cloud instance (QEMU $ACCEL, ${MEMORY} MiB); cloud-init will run:" \
    "bootrino $shown${ARGS:+ ${ARGS//,/ }}"
else
  say "booting the cloud host stand-in (QEMU $ACCEL, ${MEMORY} MiB); it will run: bootrino $shown${ARGS:+ ${ARGS//,/ }}"
fi

again="--firmware bios"
[[ $VM_ARCH == x86_64 ]] || again="--arch $VM_ARCH --firmware uefi"
if [[ -z $EXPECT ]]; then
  say "the console is yours; Ctrl-A X quits QEMU"
  qemu+=(-chardev "stdio,id=con,mux=on,signal=off,logfile=$CONSOLE_LOG" -serial chardev:con -mon chardev=con)
  rc=0
  if [[ -n $TIMEOUT ]]; then
    timeout --foreground "$TIMEOUT" "${qemu[@]}" || rc=$?
  else
    "${qemu[@]}" || rc=$?
  fi
  stty sane 2>/dev/null || true
  [[ -n $KEEP_DISK ]] && say "disk image kept: $KEEP_DISK (boot it: $0 $again --disk-image $KEEP_DISK)"
  [[ -n $LOG ]] && say "console log: $LOG"
  exit "$rc"
fi

# Non-interactive: console to stdout and the log; wait for EXPECT.
: >"$CONSOLE_LOG"
"${qemu[@]}" -serial "file:$CONSOLE_LOG" -monitor none </dev/null >"$WORK/qemu.out" 2>&1 &
QEMU_PID=$!
tail -n +1 -f "$CONSOLE_LOG" &
TAIL_PID=$!
# gave_up: whether the guest has got as far as it will without showing EXPECT (console_wait's check).
gave_up() {
  if console_seen "$CONSOLE_LOG" '^BOOTRINO-HOST-ALIVE'; then
    sleep 1  # the host prints nothing after this but a shell prompt
    console_seen "$CONSOLE_LOG" "$EXPECT" && return 1
    say "bootrino returned ($(grep -a -o 'BOOTRINO-HOST-EXIT=[0-9]*' "$CONSOLE_LOG" || echo 'did not run'))" \
      "and the host is idle: /$EXPECT/ will not come"
    why="before bootrino gave up"
    return 0
  fi
  # The Debian instance: bootrino runs under cloud-init and, if it gets as far as loading the
  # kernel, leaves the takeover to a child that waits for cloud-init. Once cloud-init has finished
  # with no such child (bootrino failed, crashed or never ran), nothing more will come.
  if [[ $INSTANCE == debian && -z $FIRMWARE ]] && console_seen "$CONSOLE_LOG" 'Cloud-init v\. [0-9.]+ finished at '; then
    sleep 1
    console_seen "$CONSOLE_LOG" "$EXPECT" && return 1
    if ! console_seen "$CONSOLE_LOG" 'bootrino: .* in the background once cloud-init'; then
      say "cloud-init finished, and bootrino did not stay to take over (its output is in the" \
        "'cloud-init[…]:' lines above): /$EXPECT/ will not come"
      why="before cloud-init finished without bootrino"
      return 0
    fi
  fi
  return 1
}
t0=$SECONDS
result=1 why="within ${TIMEOUT}s" rc=0
console_wait "$CONSOLE_LOG" "$EXPECT" "$TIMEOUT" "$QEMU_PID" gave_up || rc=$?
case $rc in
  0) result=0 ;;
  2) say "QEMU stopped: $(tail -n 3 "$WORK/qemu.out")"; why="before QEMU stopped" ;;
esac
sleep 0.3
kill "$TAIL_PID" 2>/dev/null || true
echo
if ((result == 0)); then
  say "the console showed /$EXPECT/ $((SECONDS - t0)) s after QEMU started"
else
  say "the console did not show /$EXPECT/ $why"
fi
[[ -n $KEEP_DISK ]] && say "disk image kept: $KEEP_DISK (boot it: $0 $again --disk-image $KEEP_DISK)"
[[ -n $LOG ]] && say "console log: $LOG"
exit "$result"
