# Shared by the VM tests (tests/vm/test_*.sh): cached fixtures, the host stand-in initrd with the
# binary under test, a loopback file server the guest reaches through QEMU's guestfwd, QEMU itself
# (software emulation, restricted networking), and waits on the serial console. The pieces the demo
# and the integration tests share with it are in tests/lib/ (serve.sh, qemu.sh, manifest.py).
#
# A test sources this file, then typically:
#   serve "$FIX/www"                           # the fixture samples over HTTP on 127.0.0.1
#   REF=$(pinned alpine-like/bootrino.sh)      # http://10.0.2.100/…#sha256=…
#   EXTRA_APPEND="bootrino.cmd=dry-run"        # more guest kernel parameters
#   boot_host                                  # QEMU in the background; console → $SERIAL
#   wait_for '^BOOTRINO-HOST-EXIT=' 300 done   # fails (console tail shown) on timeout or panic
#   expect_seen '^BOOTRINO-HOST-EXIT=0$'; ok "…"
# or, for the common case of the four first lines and the ready host, and its exit code:
#   boot_sample "$FIX/www" alpine-like/bootrino.sh --detach; expect_host_exit 0
# The host stand-in's console markers: HOST-ROOT: <mountinfo line of />, BOOTRINO-HOST-READY,
# BOOTRINO-HOST-EXIT=N, BOOTRINO-HOST-ALIVE; the sample RAM OSes': BOOTRINO-RAMOS-UP name=…,
# "cmdline: …", overlay-file…, RAMOS-FIRMWARE: uefi|devicetree|bios, with ramos.persist-test=1 /
# ramos.marker=TEXT / ramos.data-label=L on their cmdline RAMOS-DATA: <marker|NONE>,
# RAMOS-DATA-WRITTEN: TEXT (or RAMOS-DATA-ERROR: …), with ramos.fetch=URL RAMOS-NIC: / RAMOS-NET: lines
# and RAMOS-FETCHED: URL BODY (or RAMOS-FETCH-FAILED: URL), then BOOTRINO-RAMOS-SHELL.
#
# A network without DHCP, on tap links in a network namespace of the test's own (test_static_network.sh):
#   netns_start; netns_addr 198.51.100.80/32   # the namespace; an address of its own behind a gateway
#   netns_nic tap0 52:54:00:00:b0:00 192.0.2.1/24   # a tap and the guest's NIC on it
#   GUEST_URL=http://198.51.100.80             # serve and pinned: the server there, on port 80
#   HOST_NET="host.ip=addr,add,192.0.2.10/32,dev,eth0 …"   # the host stand-in's static network
#   sample_variant alpine-like "quiet ramos.fetch=http://198.51.100.80/TOKEN"
#   kexec_sample alpine-like "ramos.fetch=…" "$WORK/www"; expect_fetched URL BODY 192.0.2.10
#
# A host that boots like a cloud image, from its own disk (ext4 root on partition 1):
#   private_disk                               # $WORK/host-disk.img: a copy with bootrino on it
#   boot_host_disk "$HOST_DISK"                # virtio; boot_host_disk "$HOST_DISK" nvme|scsi
#   sample_variant persist "quiet ramos.marker=one"   # $WORK/www/persist: alpine-like, that cmdline
#   serve "$WORK/www"; REF=$(pinned persist/bootrino.sh)
# Booting a disk through the firmware (no -kernel), e.g. after bootrino wrote it:
#   stop_vm; boot_firmware uefi "$HOST_DISK"   # OVMF (NVRAM: $WORK/OVMF_VARS.fd); or bios (SeaBIOS)
#   wait_for '^BOOTRINO-RAMOS-UP' 120 ramos-up # the previous boot's console is in serial.1.log
#
# Environment: VM_ARCH (the guests' architecture: x86_64, the default, or aarch64: QEMU's virt machine,
# console ttyAMA0, tests/vm/fixtures.sh's arm64 set; firmware boots through AAVMF only; a test sets it before
# sourcing this file), BOOTRINO (the static binary; ctest sets it, default build/agent/bootrino, for
# aarch64 build-release/aarch64/agent/bootrino as packaging/release.sh --arch aarch64 leaves it),
# BOOTRINO_SOURCE (the source tree), VM_CMD (what the host runs: run (default, `run REF --yes`),
# dry-run, fetch, inspect), MEM (guest MiB, default 1024), EXTRA_APPEND, QEMU_EXTRA (array: more
# QEMU arguments), VM_ACCEL (default tcg), VM_TIMEOUT (outer limit in seconds for each QEMU run,
# default 600), TAIL_LINES (console lines shown on failure, default 80), KEEP_WORK=1 (keep the
# scratch dir; KEEP_WORK_ON_FAILURE=1: only when failing), VM_HOST_INITRD (use this host initrd
# instead of building one around $BOOTRINO: selftest.sh), VM_HOST_FILES (with VM_HOST_INITRD: the
# FILE:GUEST_PATH specs, space-separated, private_disk puts on the disk instead of $BOOTRINO),
# DISK_BUS (default bus for boot_host_disk and boot_firmware: virtio, nvme or scsi), HOST_ROOT
# (the disk host's root=, default LABEL=cloudimg-rootfs), HOST_ROOT_MODE (rw or ro, default rw), VM_FIRMWARE
# (uefi: boot_host boots through the firmware), OVMF_CODE / OVMF_VARS (firmware files,
# default Debian's OVMF_CODE_4M.fd / OVMF_VARS_4M.fd), VM_MACHINE (QEMU -machine, default pc; virt on
# aarch64), VM_CPU (aarch64's -cpu, default cortex-a72), VM_CONSOLE (the host's console=, default ttyS0;
# ttyAMA0 on aarch64),
# VM_FAIL_RE (console text that fails any wait_for; default: the firmware found nothing to boot),
# GUEST_URL (the file server as the guest reaches it, default http://10.0.2.100), HOST_NET (the host
# stand-in's host.ip= / host.replug= parameters: a static network instead of DHCP).
set -euo pipefail
VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BOOTRINO_SOURCE=${BOOTRINO_SOURCE:-$(cd "$VM_DIR/../.." && pwd)}
VM_ARCH=${VM_ARCH:-x86_64}
export VM_ARCH
case $VM_ARCH in
  x86_64)
    BOOTRINO=${BOOTRINO:-$BOOTRINO_SOURCE/build/agent/bootrino}
    VM_MACHINE=${VM_MACHINE:-pc} VM_CONSOLE=${VM_CONSOLE:-ttyS0}
    ;;
  aarch64)
    BOOTRINO=${BOOTRINO:-$BOOTRINO_SOURCE/build-release/aarch64/agent/bootrino}
    VM_MACHINE=${VM_MACHINE:-virt} VM_CONSOLE=${VM_CONSOLE:-ttyAMA0}
    ;;
  *) echo "lib.sh: VM_ARCH must be x86_64 or aarch64, not '$VM_ARCH'" >&2; exit 1 ;;
esac
TEST_NAME=$(basename "$0" .sh)
source "$VM_DIR/../lib/serve.sh"
source "$VM_DIR/../lib/qemu.sh"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bootrino-vm.XXXXXX")
PIDS=()
QEMU_PID=
SERIAL=$WORK/serial.log
STAMPED=$WORK/serial.stamped
TIMINGS=()

vm_cleanup() {
  local rc=$? pid
  [[ -n $QEMU_PID ]] && kill "$QEMU_PID" 2>/dev/null || true
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if ((${#TIMINGS[@]})); then
    echo "# timings ($TEST_NAME): ${TIMINGS[*]}"
  fi
  if [[ ${KEEP_WORK:-0} == 1 || ($rc != 0 && ${KEEP_WORK_ON_FAILURE:-0} == 1) ]]; then
    echo "# scratch kept in $WORK" >&2
  else
    rm -rf "$WORK"
  fi
}
trap vm_cleanup EXIT

ok() { echo "ok - $*"; }

# fail MESSAGE: prints it, the end of the serial console and of the server log, and exits 1.
fail() {
  echo "FAIL ($TEST_NAME): $*" >&2
  if [[ -s $SERIAL ]]; then
    echo "--- serial console (last ${TAIL_LINES:-80} lines of $(wc -l <"$SERIAL")):" >&2
    tr -d '\r' <"$SERIAL" | tail -n "${TAIL_LINES:-80}" >&2
  fi
  if [[ -s $WORK/qemu.err ]]; then
    echo "--- QEMU stderr:" >&2
    tail -n 20 "$WORK/qemu.err" >&2
  fi
  if [[ -n ${SERVER_LOG:-} && -s $SERVER_LOG ]]; then
    echo "--- file server log (last 10 requests):" >&2
    tail -n 10 "$SERVER_LOG" >&2
  fi
  exit 1
}

# ---------------------------------------------------------------------------------------------
# Fixtures and the binary under test.
if [[ -z ${VM_HOST_INITRD:-} && ! -x $BOOTRINO ]]; then
  [[ $VM_ARCH == x86_64 ]] || fail "no $VM_ARCH bootrino binary at $BOOTRINO (run packaging/release.sh --arch $VM_ARCH, or set BOOTRINO)"
  fail "no bootrino binary at $BOOTRINO (run packaging/build.sh, or set BOOTRINO)"
fi
FIX=$("$VM_DIR/fixtures.sh" | tail -n 1)
[[ -f $FIX/vmlinuz ]] || fail "fixtures.sh gave no fixture dir"
# HOST_DISK_BYTES, HOST_ROOT_OFFSET, HOST_ROOT_BYTES, HOST_ROOT_LABEL, HOST_ROOT_FSUUID,
# HOST_ROOT_PARTUUID, HOST_DISK_GUID: host-disk.img's layout.
# shellcheck disable=SC1091
[[ ! -f $FIX/host-disk.txt ]] || source "$FIX/host-disk.txt"
# VM_HOST_INITRD: a ready host initrd to use instead (selftest.sh passes one with a stand-in agent).
if [[ -n ${VM_HOST_INITRD:-} ]]; then
  HOST_INITRD=$VM_HOST_INITRD
else
  HOST_INITRD=$WORK/host.cpio.gz
  BOOTRINO_VM_FIXTURES=$FIX "$VM_DIR/fixtures.sh" host-initrd "$BOOTRINO" "$HOST_INITRD" >/dev/null
fi

# host_files FILE:GUEST_PATH...: the host stand-in initrd made again around $BOOTRINO, with these files
# in it too (e.g. user-data at var/lib/cloud/seed/nocloud/user-data: the instance's SSH keys).
host_files() {
  BOOTRINO_VM_FIXTURES=$FIX "$VM_DIR/fixtures.sh" host-initrd "$BOOTRINO" "$HOST_INITRD" "$@" >/dev/null ||
    fail "could not make the host initrd with $*"
}

# ---------------------------------------------------------------------------------------------
# Links QEMU's user networking cannot give (it always offers DHCP, and one IPv4 subnet): tap devices in a
# network namespace of this test's own, where QEMU and the servers the guest must reach run too. Its
# addresses (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32: the documentation ranges) exist
# only there: this machine's own interfaces, routes and sysctls are never touched, and no packet leaves it.
#   netns_start                 the namespace, held by a process of its own (unshare -n; -rn when not root)
#                               whose pid is NETNS_PID (the cleanup kills it: the namespace and its taps go
#                               with its last process); lo up, and strict reverse-path filtering, so that a
#                               request is answered only when the route back to its source leaves by the
#                               link it came in on (an address on the wrong NIC is not reached). From then
#                               on serve, serve_imds and start_qemu run in it.
#   in_netns CMD...             CMD in the namespace
#   netns_addr ADDR...          addresses of the namespace itself, on lo: servers behind a gateway
#   netns_nic TAP MAC [ADDR...] a tap device TAP in the namespace, up, with ADDRs (IPv6 ones without
#                               duplicate address detection), and a guest NIC on it: virtio-net with MAC, in
#                               the order of the calls (the guest's eth0, eth1, …)
netns_start() {
  local user=() own i
  ((EUID == 0)) || user=(-r)
  unshare -n "${user[@]}" sleep infinity &
  NETNS_PID=$!
  PIDS+=("$NETNS_PID")
  NETNS_NICS=()
  # unshare makes the namespace, then execs sleep: nothing may go in before, or it would go into this
  # machine's own namespace.
  own=$(readlink /proc/self/ns/net)
  for ((i = 0; i < 100; i++)); do
    [[ $(cat "/proc/$NETNS_PID/comm" 2>/dev/null) == sleep ]] && break
    sleep 0.05
  done
  NETNS_ID=$(readlink "/proc/$NETNS_PID/ns/net" 2>/dev/null) || true
  [[ -n $NETNS_ID && $NETNS_ID != "$own" ]] ||
    fail "unshare -n ${user[*]} made no network namespace (root, or user namespaces, are needed)"
  NETNS_ENTER=(nsenter "--net=/proc/$NETNS_PID/ns/net")
  if [[ $(readlink "/proc/$NETNS_PID/ns/user") != "$(readlink /proc/self/ns/user)" ]]; then
    NETNS_ENTER=(nsenter "--user=/proc/$NETNS_PID/ns/user" "--net=/proc/$NETNS_PID/ns/net")
  fi
  in_netns ip link set lo up || fail "cannot bring lo up in the test's network namespace"
  in_netns sysctl -qw net.ipv4.conf.all.rp_filter=1 || fail "cannot set rp_filter in the test's network namespace"
}

# netns_check: fails unless NETNS_PID still holds the namespace netns_start made.
netns_check() {
  [[ $(readlink "/proc/$NETNS_PID/ns/net" 2>/dev/null) == "$NETNS_ID" ]] ||
    fail "the test's network namespace (held by pid $NETNS_PID) is gone"
}

in_netns() {
  netns_check
  "${NETNS_ENTER[@]}" "$@"
}

netns_addr() {
  local a
  for a; do in_netns ip addr add "$a" dev lo || fail "cannot add $a to the namespace's lo"; done
}

netns_nic() {
  local tap=$1 mac=$2 a id=n$((${#NETNS_NICS[@]} / 4))
  shift 2
  in_netns ip tuntap add dev "$tap" mode tap ||
    fail "cannot make the tap device $tap in the test's network namespace (needs root, or /dev/net/tun open to $(id -un))"
  for a; do
    if [[ $a == *:* ]]; then
      in_netns ip addr add "$a" dev "$tap" nodad || fail "cannot add $a to $tap"
    else
      in_netns ip addr add "$a" dev "$tap" || fail "cannot add $a to $tap"
    fi
  done
  in_netns ip link set "$tap" up || fail "cannot bring $tap up"
  NETNS_NICS+=(-netdev "tap,id=$id,ifname=$tap,script=no,downscript=no" -device "virtio-net-pci,netdev=$id,mac=$mac,romfile=")
}

# ---------------------------------------------------------------------------------------------
# serve DIR: a plain file server for DIR on 127.0.0.1 (tests/integration/fault_server.py, so
# /_f/SPEC/PATH fault URLs work too). Sets SERVER_DIR, SERVER_PORT and SERVER_LOG (one JSON line
# per request, with the client's address). The guest reaches it as http://10.0.2.100/ ($GUEST_URL).
# After netns_start: on port 80 of every address of the namespace instead.
serve() {
  SERVER_DIR=$1
  if [[ -n ${NETNS_PID:-} ]]; then
    netns_check
    serve_start "$SERVER_DIR" "$WORK/server" :: 80 "${NETNS_ENTER[@]}" || fail "file server did not start in the namespace"
  else
    serve_start "$SERVER_DIR" "$WORK/server" || fail "file server did not start"
  fi
  SERVER_PORT=$SERVE_PORT SERVER_LOG=$SERVE_LOG
}

# serve_imds DIR: tests/lib/fake_metadata.py on 127.0.0.1 answering from DIR, the guest's
# http://10.0.2.101/ from the next boot on (a scenario S of it is http://10.0.2.101/S). Sets IMDS_PORT
# and IMDS_URL (the guest's URL of it). After netns_start: on a port of its own of every address of the
# namespace, IMDS_URL $GUEST_URL:PORT.
serve_imds() {
  local wrap=() host=127.0.0.1
  if [[ -n ${NETNS_PID:-} ]]; then
    netns_check
    wrap=("${NETNS_ENTER[@]}") host=::
  fi
  imds_start "$1" "$WORK/imds" "$host" 0 "${wrap[@]}" || fail "fake metadata service did not start"
  IMDS_URL=http://10.0.2.101
  [[ -z ${NETNS_PID:-} ]] || IMDS_URL=${GUEST_URL%/}:$IMDS_PORT
}

# sample_variant DIR CMDLINE [BASE]: $WORK/www/DIR, the fixture sample BASE (default alpine-like:
# the same OS, name and files) with CMDLINE as its manifest's cmdline, e.g. "quiet
# ramos.marker=first" to have the RAM OS write a marker on the data partition. $WORK/www holds
# every fixture sample too (hard links): serve "$WORK/www" and pin DIR/bootrino.sh.
sample_variant() {
  local dir=$1 cmdline=$2 base=${3:-alpine-like} d
  mkdir -p "$WORK/www"
  for d in "$FIX/www"/*/; do
    d=$(basename "$d")
    [[ -e $WORK/www/$d ]] || cp -al "$FIX/www/$d" "$WORK/www/$d" 2>/dev/null || cp -a "$FIX/www/$d" "$WORK/www/$d"
  done
  [[ -f $FIX/www/$base/bootrino.sh ]] || fail "no fixture sample $base"
  rm -rf "${WORK:?}/www/$dir"
  cp -al "$FIX/www/$base" "$WORK/www/$dir" 2>/dev/null || cp -a "$FIX/www/$base" "$WORK/www/$dir"
  rm -f "$WORK/www/$dir/bootrino.sh"
  python3 "$TESTS_LIB/manifest.py" edit "$FIX/www/$base/bootrino.sh" "$WORK/www/$dir/bootrino.sh" \
    --set-string "boot.architectures.*.cmdline=$cmdline" || fail "cannot rewrite the $base manifest"
}

# GUEST_URL: the file server as the guest reaches it: http://10.0.2.100 through QEMU's guestfwd; a test in
# a namespace of its own names an address of that namespace (e.g. http://198.51.100.80).
GUEST_URL=${GUEST_URL:-http://10.0.2.100}

# pinned PATH: the guest's reference to SERVER_DIR/PATH, pinned by the file's hash.
pinned() { pinned_ref "$GUEST_URL" "$SERVER_DIR" "$1"; }

# requests_for SUBSTRING: the server log lines whose request path contains SUBSTRING.
requests_for() { grep -F -- "\"path\": \"$1" "$SERVER_LOG" 2>/dev/null || grep -F -- "$1" "$SERVER_LOG" || true; }

# ---------------------------------------------------------------------------------------------
# host_append: the host stand-in's kernel command line: "console=$VM_CONSOLE panic=1 bootrino.ref=$REF
# $HOST_NET $EXTRA_APPEND" (no bootrino.ref when REF is empty). HOST_NET: its static network, host.ip=
# parameters (tests/vm/guest/host-init.sh), for a test whose links have no DHCP (netns_start).
host_append() {
  local append="console=$VM_CONSOLE panic=1"
  [[ -n ${REF:-} ]] && append+=" bootrino.ref=$REF"
  [[ -n ${HOST_NET:-} ]] && append+=" $HOST_NET"
  [[ -n ${EXTRA_APPEND:-} ]] && append+=" $EXTRA_APPEND"
  echo "$append"
}

# start_qemu QEMU_ARG...: QEMU in the background with the common settings (-m $MEM, one CPU, no
# default devices' NIC, serial console on stdio, -no-reboot, QEMU_EXTRA, the restricted network
# when serve ran) plus QEMU_ARGs. Everything on the serial console lands in $SERIAL and, each line
# prefixed with the seconds since QEMU started, in $STAMPED; an earlier boot's console is moved to
# $WORK/serial.N.log (N = 1, 2, … in boot order). Sets QEMU_PID and QEMU_T0.
# Networking: restricted user-mode, the only way out being 10.0.2.100:80 → nc 127.0.0.1:$SERVER_PORT
# (and 10.0.2.101:80 → the fake metadata service, after serve_imds): tests/lib/qemu.sh's qemu_net.
# After netns_start: QEMU runs in that namespace, with netns_nic's NICs instead.
start_qemu() {
  local net=() wrap=()
  if [[ -n ${NETNS_PID:-} ]]; then
    netns_check
    wrap=("${NETNS_ENTER[@]}") net=("${NETNS_NICS[@]}")
  elif [[ -n ${SERVER_PORT:-} ]]; then
    qemu_net "$SERVER_PORT" "${IMDS_PORT:-}"
    net=("${QEMU_NET[@]}")
  fi
  local extra=()
  [[ -n ${QEMU_EXTRA+x} ]] && extra=("${QEMU_EXTRA[@]}")
  stop_vm
  # An earlier boot's console moves aside (serial.N.log): its writer may still be flushing.
  if [[ -s $SERIAL ]]; then
    BOOT_COUNT=$((${BOOT_COUNT:-0} + 1))
    mv "$SERIAL" "$WORK/serial.$BOOT_COUNT.log"
    mv "$STAMPED" "$WORK/serial.$BOOT_COUNT.stamped"
  fi
  : >"$SERIAL"
  : >"$STAMPED"
  QEMU_T0=$(date +%s.%N)
  qemu_cmd "${VM_ACCEL:-tcg}" "${MEM:-1024}"
  timeout -k 5 "${VM_TIMEOUT:-600}" "${wrap[@]}" "${QEMU_CMD[@]}" -machine "$VM_MACHINE" -nographic "$@" \
    "${net[@]}" "${extra[@]}" </dev/null 2>"$WORK/qemu.err" > >(stamp_lines "$QEMU_T0" "$SERIAL" "$STAMPED") &
  QEMU_PID=$!
}

# boot_host: starts QEMU with the host stand-in booted from its initramfs (root is rootfs),
# asynchronously; the kernel command line is host_append's. VM_FIRMWARE=uefi: the firmware (OVMF, AAVMF
# on aarch64; NVRAM as boot_firmware's) loads that kernel and initramfs, as a cloud's UEFI instance boots.
boot_host() {
  local append fw=()
  append=$(host_append)
  if [[ ${VM_FIRMWARE:-} == uefi ]]; then
    firmware_args uefi "$WORK/OVMF_VARS.fd" || fail "no firmware to boot uefi"
    fw=("${FIRMWARE_ARGS[@]}")
  fi
  echo "# boot${VM_FIRMWARE:+ through $VM_FIRMWARE}: -m ${MEM:-1024}, append: $append" >&2
  start_qemu "${fw[@]}" -kernel "$FIX/vmlinuz" -initrd "$HOST_INITRD" -append "$append"
}

# disk_args DISK_IMG [BUS [BOOTINDEX]]: sets DISK_ARGS to the QEMU arguments attaching DISK_IMG (raw;
# writable, so never pass the cached master) on BUS: virtio (virtio-blk, the guest's /dev/vda; the
# default, or $DISK_BUS), nvme (/dev/nvme0n1) or scsi (virtio-scsi, /dev/sda). BOOTINDEX (default
# 0: the firmware's first boot device; "none" for -kernel boots, whose loader holds index 0).
# DISK_ID (default d0) names the drive, for a second disk.
disk_args() {
  local img=$1 bus=${2:-${DISK_BUS:-virtio}} bi=,bootindex=${3:-0} id=${DISK_ID:-d0}
  [[ ${3:-} != none ]] || bi=
  [[ -f $img ]] || fail "no disk image $img"
  [[ $(readlink -f "$img") != "$(readlink -f "$FIX/host-disk.img")" ]] ||
    fail "refusing to boot the cached master $FIX/host-disk.img: boot a private copy (private_disk)"
  DISK_ARGS=(-drive "file=$img,if=none,id=$id,format=raw,cache=unsafe")
  case $bus in
    virtio) DISK_ARGS+=(-device "virtio-blk-pci,drive=$id$bi") ;;
    nvme) DISK_ARGS+=(-device "nvme,drive=$id,serial=bootrino-$id$bi") ;;
    scsi) DISK_ARGS+=(-device "virtio-scsi-pci,id=scsi-$id" -device "scsi-hd,drive=$id,bus=scsi-$id.0$bi") ;;
    *) fail "unknown disk bus '$bus' (virtio, nvme or scsi)" ;;
  esac
}

# private_disk [OUT]: a sparse copy of the cached host-disk.img at OUT (default
# $WORK/host-disk.img) with the binary under test as /bin/bootrino on its root file system (with
# VM_HOST_INITRD set: VM_HOST_FILES' FILE:GUEST_PATH specs instead). Sets HOST_DISK.
private_disk() {
  HOST_DISK=${1:-$WORK/host-disk.img}
  local files=()
  if [[ -n ${VM_HOST_INITRD:-} ]]; then
    # shellcheck disable=SC2206
    [[ -z ${VM_HOST_FILES:-} ]] || files=($VM_HOST_FILES)
    BOOTRINO_VM_FIXTURES=$FIX "$VM_DIR/fixtures.sh" host-disk - "$HOST_DISK" "${files[@]}" >/dev/null ||
      fail "could not make the private host disk"
  else
    BOOTRINO_VM_FIXTURES=$FIX "$VM_DIR/fixtures.sh" host-disk "$BOOTRINO" "$HOST_DISK" >/dev/null ||
      fail "could not make the private host disk"
  fi
}

# boot_host_disk DISK_IMG [BUS]: starts QEMU with the host stand-in booted like a cloud image: the
# fixtures' vmlinuz (the cloud kernel; on aarch64 the host stand-in's, virtio only) via -kernel,
# host-disk-boot.cpio.gz as initramfs, which mounts root=$HOST_ROOT (default LABEL=cloudimg-rootfs, ext4,
# rw) from DISK_IMG (a private_disk) attached on BUS (see disk_args) and switch_roots into its /init, the
# same harness init as boot_host's. Command line: host_append's plus "root=… rw". Asynchronous, like
# boot_host.
boot_host_disk() {
  local img=$1 bus=${2:-${DISK_BUS:-virtio}} append
  disk_args "$img" "$bus" none
  append="$(host_append) root=${HOST_ROOT:-LABEL=$HOST_ROOT_LABEL} ${HOST_ROOT_MODE:-rw}"
  echo "# boot from disk ($bus): -m ${MEM:-1024}, append: $append" >&2
  start_qemu -kernel "$FIX/vmlinuz" -initrd "$FIX/host-disk-boot.cpio.gz" -append "$append" "${DISK_ARGS[@]}"
}

# boot_firmware bios|uefi DISK_IMG [BUS]: starts QEMU with NO -kernel: the firmware boots DISK_IMG
# (attached as in disk_args) by itself, as a real machine does after bootrino rewrote its disk.
# bios = SeaBIOS (QEMU's default); uefi = OVMF from pflash, code read-only ($OVMF_CODE), NVRAM a
# writable copy of $OVMF_VARS at $WORK/OVMF_VARS.fd, made on the first uefi boot and kept for the
# next ones (reset_nvram starts afresh): tests/lib/qemu.sh's firmware_args. Network (after serve)
# and console as boot_host's. Asynchronous; wait_for the markers of what should come up.
boot_firmware() {
  local fw=$1 img=$2 bus=${3:-${DISK_BUS:-virtio}}
  disk_args "$img" "$bus"
  [[ $fw == bios || $fw == uefi ]] || fail "boot_firmware: firmware must be bios or uefi, not '$fw'"
  firmware_args "$fw" "$WORK/OVMF_VARS.fd" || fail "no firmware to boot $fw"
  echo "# boot $fw firmware from disk ($bus): -m ${MEM:-1024}" >&2
  start_qemu "${FIRMWARE_ARGS[@]}" "${DISK_ARGS[@]}"
}

# reset_nvram: the next uefi boot starts from an empty NVRAM (a fresh copy of OVMF_VARS).
reset_nvram() { rm -f "$WORK/OVMF_VARS.fd"; }

# stamp_lines T0 RAW STAMPED: copies stdin to RAW as it comes, and to STAMPED line by line,
# each line prefixed with the seconds between T0 and its first byte.
stamp_lines() { python3 -u "$TESTS_LIB/console.py" stamp "$@"; }

# stop_vm: kills QEMU (by its pid) and waits for it.
stop_vm() {
  if [[ -n $QEMU_PID ]]; then
    kill "$QEMU_PID" 2>/dev/null || true
    wait "$QEMU_PID" 2>/dev/null || true
    QEMU_PID=
  fi
}

# seen REGEX: whether the serial console has shown a line matching REGEX (ERE) yet.
seen() { console_seen "$SERIAL" "$1"; }

# stamp_of REGEX: seconds after QEMU start at which a line matching REGEX first appeared.
stamp_of() { python3 "$TESTS_LIB/console.py" first-stamp "$1" "$STAMPED"; }

# VM_FAIL_RE: console text that ends any wait at once: the firmware gave up (SeaBIOS tried every
# device; OVMF fell back to its shell). Set it empty to wait for such a message yourself.
VM_FAIL_RE=${VM_FAIL_RE-'No bootable device\.|UEFI Interactive Shell'}

# wait_for REGEX TIMEOUT [LABEL]: waits until the serial console shows REGEX; fails (serial tail
# printed) after TIMEOUT seconds, on a kernel panic, on VM_FAIL_RE, or if QEMU exits first. With
# LABEL, records "LABEL=Ns" (since QEMU start) in the timings printed at the end.
wait_for() {
  local re=$1 limit=$2 label=${3:-} rc=0
  WAITING_FOR=$re
  console_wait "$SERIAL" "$re" "$limit" "$QEMU_PID" console_went_wrong || rc=$?
  case $rc in
    1) fail "timed out after ${limit}s waiting for /$re/ on the console" ;;
    2) fail "QEMU exited before the console showed /$re/" ;;
  esac
  if [[ -n $label ]]; then
    sleep 0.1
    TIMINGS+=("$label=$(stamp_of "$re")s")
  fi
}

# console_went_wrong: wait_for's check each round: fails on a kernel panic or on VM_FAIL_RE.
console_went_wrong() {
  if seen 'Kernel panic - not syncing'; then
    sleep 0.5
    fail "kernel panic while waiting for /$WAITING_FOR/"
  fi
  if [[ -n $VM_FAIL_RE ]] && seen "$VM_FAIL_RE"; then
    sleep 0.5
    fail "the firmware found nothing to boot while waiting for /$WAITING_FOR/: $(tr -d '\r' <"$SERIAL" | grep -Eom1 -- "$VM_FAIL_RE")"
  fi
  return 1
}

# expect_seen REGEX / expect_not_seen REGEX: assertions on what the console has shown so far.
expect_seen() { seen "$1" || fail "the console never showed /$1/"; }
expect_not_seen() { ! seen "$1" || fail "the console showed /$1/: $(tr -d '\r' <"$SERIAL" | grep -Em1 -- "$1")"; }

# console_value PREFIX: the rest of the first console line starting with PREFIX.
console_value() { tr -d '\r' <"$SERIAL" | grep -m1 -- "^$1" | cut -c$((${#1} + 1))- || true; }

# host_args ARG...: kernel parameter passing ARGs to bootrino in the guest (bootrino.args=a,b,c).
host_args() { local IFS=,; echo "bootrino.args=$*"; }

# overlay_content PATH: what the sample RAM OS printed as the content of overlay file PATH.
overlay_content() {
  tr -d '\r' <"$SERIAL" | awk -v f="$1" '
    $0 ~ "^overlay-file-end: " f "$" { on = 0 }
    on { print }
    index($0, "overlay-file: " f " (") == 1 { on = 1 }'
}

# The bootrino subcommand the host runs: `run REF --yes` unless VM_CMD says otherwise
# (VM_CMD=dry-run exercises the harness and the failure paths before kexec support exists).
VM_CMD=${VM_CMD:-run}

# Fast, bounded transfers: these tests exercise bootrino, not patience.
GUEST_FAST=(--retries 2 --retry-delay 0.2 --connect-timeout 10 --stall-timeout 20)

# check_ramos NAME CMDLINE: after a kexec, the sample RAM OS NAME is up, its kernel command line
# holds the manifest's CMDLINE, the host's serial console and bootrino.id=, and bootrino's overlay
# (/etc/bootrino/manifest.json and boot-id) reached it.
check_ramos() {
  local name=$1 want=$2 line id_re='(^| )bootrino\.id=[^ ]+'
  expect_seen "BOOTRINO-RAMOS-UP name=$name"
  line=$(console_value "cmdline: ")
  [[ -n $line ]] || fail "the RAM OS printed no cmdline"
  [[ $line == *"$want"* ]] || fail "RAM OS cmdline '$line' lacks the manifest's '$want'"
  [[ " $line " == *" console=$VM_CONSOLE "* || " $line " == *" console=$VM_CONSOLE,"* ]] ||
    fail "RAM OS cmdline '$line' lacks the host's console=$VM_CONSOLE"
  [[ $line =~ $id_re ]] || fail "RAM OS cmdline '$line' lacks bootrino.id="
  local id=${BASH_REMATCH[0]#*bootrino.id=} boot_id
  [[ $line != *bootrino.ref=* && " $line " != *" panic=1 "* ]] ||
    fail "RAM OS cmdline '$line' carries host parameters other than the console over"
  ok "$name: cmdline has the manifest's, console=$VM_CONSOLE and bootrino.id=$id"
  if seen "Initramfs unpacking failed"; then
    fail "the new kernel could not unpack the whole initrd ($(tr -d '\r' <"$SERIAL" | grep -om1 'Initramfs unpacking failed.*')):" \
      "an uncompressed cpio appended right after a gzip member must start at a multiple of 4 bytes; pad each initrd with zeros"
  fi
  expect_not_seen "^overlay: none"
  expect_seen "^overlay-file: /etc/bootrino/manifest.json \([1-9][0-9]* bytes\)"
  expect_seen "^overlay-file: /etc/bootrino/boot-id \([1-9][0-9]* bytes\)"
  ok "$name: bootrino's overlay is there (/etc/bootrino/manifest.json, /etc/bootrino/boot-id)"
  overlay_content /etc/bootrino/manifest.json | grep "\"$name\"" >/dev/null ||
    fail "/etc/bootrino/manifest.json does not name $name: $(overlay_content /etc/bootrino/manifest.json | head -c 300)"
  boot_id=$(overlay_content /etc/bootrino/boot-id | tr -d '[:space:]')
  [[ $boot_id == "$id" ]] || fail "/etc/bootrino/boot-id is '$boot_id' but the cmdline says bootrino.id=$id"
  ok "$name: manifest.json names the OS; boot-id matches bootrino.id=$id"
}

# expect_fetched URL BODY CLIENT: the RAM OS fetched URL (one of its ramos.fetch=) and printed BODY, and the
# file server logged that request, answered 200, from CLIENT: the address of the RAM OS it came from.
expect_fetched() {
  local url=$1 body=$2 client=$3
  tr -d '\r' <"$SERIAL" | grep -Fx -- "RAMOS-FETCHED: $url $body" >/dev/null ||
    fail "the RAM OS did not fetch $url ($(tr -d '\r' <"$SERIAL" | grep -F -- "$url" | grep -m1 '^RAMOS-FETCH' || echo 'no word of it'))"
  python3 - "$SERVER_LOG" "/${url#*//*/}" "$client" <<'PY' || fail "the server's log does not show $url from $client"
import json, sys
log, path, client = sys.argv[1:]
seen = [json.loads(line) for line in open(log) if line.strip()]
seen = [(r["status"], r["client"]) for r in seen if r["path"] == path]
if (200, client) not in seen:
    sys.exit("%s: asked %s (status, client)" % (path, seen or "never"))
PY
}

# expect_nic MAC ADDRESS: the RAM OS has ADDRESS (CIDR) on the NIC with MAC (its "RAMOS-NET:" lines).
expect_nic() {
  tr -d '\r' <"$SERIAL" | grep -E "^RAMOS-NET: [^ ]+ $1 " | grep -F " $2 " >/dev/null ||
    fail "the RAM OS does not have $2 on the NIC $1: $(tr -d '\r' <"$SERIAL" | grep '^RAMOS-NET' | tr '\n' ';')"
}

# boot_sample WWW MANIFEST [BOOTRINO_ARG...]: the usual start of a test on the host stand-in booted from its
# initramfs: serves WWW, pins REF to WWW/MANIFEST (e.g. alpine-like/bootrino.sh), boots the host, which runs
# bootrino $VM_CMD with GUEST_FAST, --keep-disk (it has no disk to take over) and BOOTRINO_ARGs, and waits
# until the host is ready. HOST_PARAMS: more kernel parameters for the host (e.g. lockdown=integrity).
#   VM_CMD=dry-run boot_sample "$FIX/www" alpine-like/bootrino.sh
boot_sample() {
  local www=$1 manifest=$2
  shift 2
  serve "$www"
  REF=$(pinned "$manifest")
  EXTRA_APPEND="${HOST_PARAMS:+$HOST_PARAMS }bootrino.cmd=$VM_CMD $(host_args "${GUEST_FAST[@]}" --keep-disk "$@")"
  boot_host
  wait_for '^BOOTRINO-HOST-READY' 120 ready
}

# expect_host_exit CODE [LABEL]: waits (LABEL: the timing's name, default bootrino-done) until bootrino
# returned on the host, and fails unless it exited CODE.
expect_host_exit() {
  wait_for '^BOOTRINO-HOST-EXIT=' 300 "${2:-bootrino-done}"
  expect_seen "^BOOTRINO-HOST-EXIT=$1\$"
}

# expect_unfetched DIR FILE...: after bootrino refused from the manifest alone, the host keeps running
# and the server never saw a request for any DIR/FILE (the payload). Stops QEMU.
expect_unfetched() {
  local dir=$1 file
  shift
  wait_for '^BOOTRINO-HOST-ALIVE' 30
  for file; do
    [[ -z $(requests_for "/$dir/$file") ]] || fail "bootrino fetched $dir/$file although the payload cannot fit"
  done
  ok "no payload file was requested; the host is still alive"
  stop_vm
}

# kexec_sample NAME CMDLINE [WWW]: boots the host stand-in, which runs `bootrino run REF --yes` for the
# sample RAM OS WWW/NAME (default: the fixtures' www); expects it to kexec into that OS and checks what
# the OS was given.
kexec_sample() {
  local name=$1 want=$2
  boot_sample "${3:-$FIX/www}" "$name/bootrino.sh"
  wait_for '^BOOTRINO-RAMOS-UP|^BOOTRINO-HOST-EXIT=' 300
  if seen '^BOOTRINO-HOST-EXIT='; then
    fail "bootrino returned ($(console_value BOOTRINO-HOST-EXIT=)) instead of booting $name"
  fi
  TIMINGS+=("bootrino-start=$(stamp_of '^host: bootrino ')s" "kexec=$(stamp_of 'Starting new kernel')s")
  # bootrino's own account: from its start to the loaded kernel (fetch, verify, plan, load).
  local account
  account=($(tr -d '\r' <"$SERIAL" |
    sed -nE "s/^bootrino: loaded .* in ([0-9.]+) s \(fetching .* took ([0-9.]+) s, the kernel's load ([0-9.]+) s\)$/\1 \2 \3/p" | head -n 1))
  TIMINGS+=("bootrino-self=${account[0]:-}s" "bootrino-fetch=${account[1]:-}s" "bootrino-load=${account[2]:-}s")
  wait_for "^BOOTRINO-RAMOS-UP name=$name" 10 ramos-up
  ok "bootrino kexec'd from the host into $name"
  wait_for '^BOOTRINO-RAMOS-SHELL' 60
  expect_not_seen '^BOOTRINO-HOST-(EXIT|ALIVE)'
  check_ramos "$name" "$want"
  stop_vm
}

# ---------------------------------------------------------------------------------------------
# The disk takeover with a data partition that outlives reboots (test_disk_takeover*.sh):
#   persist_setup MARKER      # private_disk; www/persist, alpine-like made to keep MARKER; served; REF
#   takeover_persist MARKER   # `bootrino run REF --yes` replaces the mounted root disk and kexecs
#   check_written_disk        # the image file read with sfdisk, mtools, e2fsck
#   boot_kept_disk uefi MARKER   # the firmware boots the written disk into the same RAM OS
persist_setup() {
  private_disk "$WORK/host-disk.img"
  sample_variant persist "quiet ramos.marker=$1"
  serve "$WORK/www"
  REF=$(pinned persist/bootrino.sh)
}

# takeover_persist MARKER: the host boots from $HOST_DISK (persist_setup's) as a cloud image does, and
# `bootrino run REF --yes` replaces that disk while its root is mounted read-write, then kexecs. Checks
# bootrino's account of the write and that the RAM OS found the new data partition empty and wrote MARKER
# on it. Sets KEXEC_CMDLINE to that boot's kernel command line; stops QEMU (the console stays in $SERIAL).
takeover_persist() {
  local marker=$1
  EXTRA_APPEND="bootrino.cmd=$VM_CMD $(host_args "${GUEST_FAST[@]}")"
  boot_host_disk "$HOST_DISK"
  wait_for '^BOOTRINO-HOST-READY' 120 ready
  wait_for '^BOOTRINO-RAMOS-UP|^BOOTRINO-HOST-EXIT=' 400
  seen '^BOOTRINO-RAMOS-UP' ||
    fail "bootrino returned ($(console_value BOOTRINO-HOST-EXIT=)) instead of booting the sample"
  TIMINGS+=("kexec=$(stamp_of 'Starting new kernel')s")
  expect_seen "^bootrino: replacing /dev/vda \\($((HOST_DISK_BYTES >> 20))\\.0 MiB\\)"
  expect_seen '^bootrino: wrote [0-9.]+ MiB to /dev/vda in [0-9.]+ s'
  ok "bootrino replaced the mounted root disk: $(tr -d '\r' <"$SERIAL" | grep -om1 'wrote .* s$')"
  wait_for '^BOOTRINO-RAMOS-SHELL' 60 ramos-shell
  expect_not_seen '^RAMOS-DATA-ERROR'
  [[ $(console_value "RAMOS-DATA: ") == NONE ]] ||
    fail "the new data partition was not empty: $(console_value "RAMOS-DATA: ")"
  expect_seen "^RAMOS-DATA-WRITTEN: $marker\$"
  ok "after the kexec the RAM OS wrote a marker on the new data partition ($(console_value "RAMOS-DATA-DEVICE: "))"
  KEXEC_CMDLINE=$(console_value "cmdline: ")
  stop_vm
}

# check_written_disk: $HOST_DISK as bootrino wrote it, read with the reference tools on the image file: a
# GPT with bootrino-boot (LegacyBIOSBootable on x86_64, where syslinux boots it from BIOS too; not on
# aarch64, UEFI only) and bootrino-data; on the boot partition (mtools) the removable-media loader
# EFI/BOOT/BOOTX64.EFI or BOOTAA64.EFI byte for byte the systemd-boot this build embeds (packaging/
# bootloaders.sh's), ldlinux.sys exactly where there is BIOS boot, and the kernel the boot entry names
# in the form the firmware starts (a bzImage; an uncompressed arm64 Image with its EFI stub); the data
# partition clean by e2fsck.
check_written_disk() {
  local table boot data esp loaders kernel head
  local bios=LegacyBIOSBootable efi=BOOTX64.EFI sdboot=systemd-bootx64.efi form=bzImage ldlinux=there
  if [[ $VM_ARCH != x86_64 ]]; then
    bios='' efi=BOOTAA64.EFI sdboot=systemd-bootaa64.efi form="decompressed arm64 Image with its EFI stub"
    ldlinux=absent
  fi
  table=$(sfdisk -d "$HOST_DISK") || fail "sfdisk cannot read the written disk's partition table"
  boot=$(grep -E '^[^ ]+1 : .*name="bootrino-boot"' <<<"$table") || fail "partition 1 is not bootrino-boot: $table"
  grep -q 'name="bootrino-data"' <<<"$table" || fail "no bootrino-data partition: $table"
  if [[ -n $bios ]]; then
    [[ $boot == *"attrs=\"$bios\""* ]] || fail "the boot partition is not $bios: $boot"
  else
    [[ $boot != *attrs=* ]] || fail "a UEFI-only disk's boot partition has attributes: $boot"
  fi
  ok "the image holds the new GPT: bootrino-boot (${bios:-no BIOS boot}), bootrino-data"

  esp="$HOST_DISK@@$(part_offset 1)"
  loaders=$(bash "$BOOTRINO_SOURCE/packaging/bootloaders.sh" --arch "$VM_ARCH" | tail -n 1)
  mcopy -n -i "$esp" "::EFI/BOOT/$efi" "$WORK/esp-loader.efi" || fail "no EFI/BOOT/$efi on the boot partition"
  cmp -s "$WORK/esp-loader.efi" "$loaders/$sdboot" || fail "EFI/BOOT/$efi is not the embedded $sdboot"
  if mdir -i "$esp" ::ldlinux.sys >/dev/null 2>&1; then
    [[ -n $bios ]] || fail "ldlinux.sys on a UEFI-only disk"
  else
    [[ -z $bios ]] || fail "no ldlinux.sys on a disk that boots from BIOS"
  fi
  mcopy -n -i "$esp" ::loader/entries/bootrino.conf "$WORK/entry.conf" || fail "no loader/entries/bootrino.conf"
  kernel=$(awk '$1 == "linux" {print $2; exit}' "$WORK/entry.conf")
  mcopy -n -i "$esp" "::$kernel" "$WORK/esp-kernel" || fail "the boot entry's kernel '$kernel' is not on the disk"
  if [[ -n $bios ]]; then
    head=$(od -An -c -j514 -N4 "$WORK/esp-kernel" | tr -d ' ')
    [[ $head == HdrS ]] || fail "$kernel on the boot partition is no bzImage ('$head' at 0x202)"
  else
    head=$(od -An -c -N2 "$WORK/esp-kernel" | tr -d ' ')$(od -An -c -j56 -N4 "$WORK/esp-kernel" | tr -d ' ')
    [[ $head == MZARMd ]] ||
      fail "$kernel on the boot partition is not an arm64 Image with an EFI stub (MZ at 0, ARM\\x64 at 56): '$head'"
  fi
  ok "boot partition: EFI/BOOT/$efi is the embedded $sdboot; ldlinux.sys $ldlinux; $kernel a $form"

  data=$(part_offset 2)
  e2fsck -fn "$HOST_DISK?offset=$data" >"$WORK/e2fsck" 2>&1 ||
    fail "e2fsck on the data partition: $(tail -n 5 "$WORK/e2fsck")"
  ok "the data partition checks clean"
}

# part_offset N: the byte offset of partition N of $HOST_DISK, by sfdisk.
part_offset() {
  sfdisk -J "$HOST_DISK" | python3 "$TESTS_LIB/jsonq.py" - "d['partitiontable']['partitions'][$1 - 1]['start'] * 512"
}

# boot_kept_disk FW MARKER: boots $HOST_DISK through firmware FW with no -kernel (boot_firmware) and checks
# that the RAM OS comes up booted by FW, reads MARKER from its data partition, has the kexec boot's kernel
# command line ($KEXEC_CMDLINE) less bootrino.id (the one-time boot id) and the persistent overlay. Stops QEMU.
# What the boot loader itself adds to bootrino's command line is not compared: the disk's initrd as
# initrd=, which systemd-boot puts first (initrd=\bootrino-initrd.img, for kernels that cannot ask it for
# the initrd) and syslinux last (initrd=/bootrino-initrd.img), and syslinux's BOOT_IMAGE=/KERNEL first.
boot_kept_disk() {
  local firmware=$1 marker=$2 line want
  boot_firmware "$firmware" "$HOST_DISK"
  wait_for 'BOOTRINO-RAMOS-UP' 300 "$firmware-ramos-up"  # firmware output may precede it on the line
  wait_for '^BOOTRINO-RAMOS-SHELL' 60
  [[ $(console_value "RAMOS-FIRMWARE: ") == "$firmware" ]] ||
    fail "booted by '$(console_value "RAMOS-FIRMWARE: ")', not $firmware"
  [[ $(console_value "RAMOS-DATA: ") == "$marker" ]] ||
    fail "$firmware: the marker written before the reboot is gone: RAMOS-DATA: $(console_value "RAMOS-DATA: ")"
  line=$(console_value "cmdline: " |
    sed -E 's/^BOOT_IMAGE=[^ ]+ //; s/(^| )initrd=[\/]bootrino-initrd\.img( |$)/\1/; s/ $//')
  want=$(sed -E 's/(^| )bootrino\.id=[^ ]+//' <<<"$KEXEC_CMDLINE")
  [[ $line == "$want" ]] ||
    fail "$firmware: the firmware boot's cmdline '$line' is not the kexec boot's less bootrino.id: '$want'"
  overlay_content /etc/bootrino/manifest.json | grep '"alpine-like"' >/dev/null ||
    fail "$firmware: no persistent overlay"
  ok "$firmware: the firmware booted the RAM OS from the disk, with the kexec boot's cmdline (less bootrino.id)"
  ok "$firmware: the data partition kept the marker"
  stop_vm
}
