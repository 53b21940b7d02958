# Shared by the integration tests: a scratch dir, a loopback fault server,
# payload and manifest makers, and assertions. Each test_*.sh sources this,
# runs the real static binary ($BOOTRINO, set by ctest) and exits non-zero on
# the first failed assertion, printing what it saw.
set -euo pipefail
: "${BOOTRINO:?set by ctest: path of the bootrino binary}"
: "${BOOTRINO_SOURCE:?set by ctest: the source tree}"
IT_DIR="$BOOTRINO_SOURCE/tests/integration"
# The loopback file server, pins and the manifest writer are shared with the VM tests and the demo.
source "$BOOTRINO_SOURCE/tests/lib/serve.sh"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bootrino-it.XXXXXX")
WWW="$WORK/www"
mkdir -p "$WWW"
# `run` reads this instance's user-data and asks the metadata service of the cloud it is identified as: in
# tests, never this machine's (a CI machine may be a cloud instance; tests stay on loopback).
export BOOTRINO_USERDATA_ROOT="$WORK/no-instance"
mkdir -p "$BOOTRINO_USERDATA_ROOT"
# And should a test's fake root identify a cloud, its service is a closed loopback port unless the test serves one.
export BOOTRINO_IMDS_URL="http://127.0.0.1:9/"
PIDS=()
MOUNTS=()  # file systems a test mounted under $WORK: unmounted before $WORK goes
cleanup() {
  local pid m
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for m in "${MOUNTS[@]}"; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
  grep -qF " $WORK/" /proc/mounts || rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  for f in "$WORK"/out "$WORK"/err; do [[ -f $f ]] && { echo "--- ${f##*/}:" >&2; tail -n 40 "$f" >&2; }; done
  exit 1
}
ok() { echo "ok - $*"; }

# start_status_receiver OUT [CERT_DIR]: a status endpoint on 127.0.0.1 (status_receiver.py) appending each
# POST body as a line to OUT, https with CERT_DIR's test certificate; sets STATUS_PORT.
start_status_receiver() {
  local port_file="$1.port"
  rm -f "$port_file"
  python3 "$IT_DIR/status_receiver.py" "$1" "$port_file" ${2:+"$2"} &
  PIDS+=($!)
  wait_nonempty "$port_file" || fail "the status receiver did not start"
  STATUS_PORT=$(cat "$port_file")
}

# pids_with_token TOKEN: the processes whose command line holds TOKEN (a string of the test's own, so
# nothing else on the machine matches; bash builtins only, so no process of the search itself does).
pids_with_token() {
  local f pid args
  for f in /proc/[0-9]*/cmdline; do
    pid=${f#/proc/} && pid=${pid%/cmdline}
    [[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
    mapfile -d "" -t args 2>/dev/null <"$f" || continue
    [[ " ${args[*]-} " == *"$1"* ]] && echo "$pid"
  done
  return 0
}

# start_fault_server: serves $WWW on 127.0.0.1; sets FS_URL and FS_LOG.
start_fault_server() {
  serve_start "$WWW" "$WORK/fault-server" || fail "fault server did not start"
  FS_LOG=$SERVE_LOG FS_URL="http://127.0.0.1:$SERVE_PORT"
}

# make_payload NAME BYTES: a file of random bytes at $WWW/NAME.
make_payload() {
  mkdir -p "$(dirname "$WWW/$1")"
  head -c "$2" /dev/urandom >"$WWW/$1"
}

# make_manifest OUT ROLE:NAME[:URL] ... [OPTION...]: writes a v1 manifest for x86_64 whose
# files are $WWW/NAME (size and sha256 taken from them); URL overrides where
# the file is fetched from (e.g. a /_f/SPEC/ fault URL). ROLE is kernel,
# initrd or file. Extra boot fields come from $BOOT_EXTRA (JSON members), the
# shell after the metadata (hook functions) from $MANIFEST_TAIL; OPTIONs are
# tests/lib/manifest.py write's (e.g. --set PATH=JSON to make one field wrong).
make_manifest() {
  local out=$1
  shift
  python3 "$TESTS_LIB/manifest.py" write "$out" --root "$WWW" --name-entries --name "integration test OS" \
    --cmdline "console=ttyS0 test=1" ${BOOT_EXTRA:+--boot "{$BOOT_EXTRA}"} --tail="${MANIFEST_TAIL:-}" "$@"
}

# make_sample KERNEL_BYTES INITRD_BYTES: the plainest payload, on the fault server (start_fault_server first):
# $WWW/vmlinuz and $WWW/initrd.gz of those sizes, and $WWW/bootrino.sh naming them; sets ref, its pinned reference.
make_sample() {
  make_payload vmlinuz "$1"
  make_payload initrd.gz "$2"
  make_manifest "$WWW/bootrino.sh" kernel:vmlinuz initrd:initrd.gz
  ref=$(pinned bootrino.sh)
}

# jsonq [--check] [--json] [--lines] FILE|- EXPR: EXPR (Python, over the JSON as d) of FILE or stdin
# (tests/lib/jsonq.py); --check: succeeds when it is true.
jsonq() { python3 "$TESTS_LIB/jsonq.py" "$@"; }

# pinned PATH: the reference to $WWW/PATH on the fault server, pinned by its hash.
pinned() { pinned_ref "$FS_URL" "$WWW" "$1"; }

# run_bootrino EXPECTED_EXIT ARGS...: runs the binary; stdout/stderr land in $WORK/out and $WORK/err.
# Every run, failed or not, is checked to have left no RAM stage directory (expect_no_stage_left); only a
# --detach parent hands its stage to the child that goes on.
run_bootrino() {
  local expected=$1 rc=0
  shift
  # exec in a subshell: the subshell's pid is the binary's, the one its stage directory is named after.
  (echo "$BASHPID" >"$WORK/bootrino.pid" && exec "$BOOTRINO" "$@") >"$WORK/out" 2>"$WORK/err" </dev/null || rc=$?
  [[ $rc == "$expected" ]] || fail "bootrino $* exited $rc, expected $expected"
  [[ " $* " == *" --detach "* ]] || expect_no_stage_left "$(cat "$WORK/bootrino.pid")"
}

# expect_no_stage_left PID: the bootrino process PID, now gone, left no RAM stage directory. Its name carries
# the pid (agent/pipeline.cc MakeRamStageDir): only that run's directories are looked for, never another's.
expect_no_stage_left() {
  local left
  left=$(compgen -G "/run/bootrino-stage.$1.*" || true)$(compgen -G "/dev/shm/bootrino-stage.$1.*" || true)
  [[ -z $left ]] || fail "bootrino (pid $1) stopped and left its stage directory in RAM: $left"
}

expect_err() { grep -Eq -- "$1" "$WORK/err" || fail "stderr does not match /$1/"; }
expect_out() { grep -Eq -- "$1" "$WORK/out" || fail "stdout does not match /$1/"; }

# expect_nothing_staged DIR: no payload file, no partial directory.
expect_nothing_staged() {
  [[ ! -e $1 ]] && return 0
  local left
  left=$(find "$1" -mindepth 1 | head -5)
  [[ -z $left ]] || fail "stage dir $1 is not empty: $left"
}

# requests_for PATH-SUBSTRING: the fault server's log lines for matching requests.
requests_for() { grep -F -- "$1" "$FS_LOG" || true; }

# Fast retries: tests exercise retry logic, not patience.
FAST=(--retry-delay 0.1 --connect-timeout 5 --stall-timeout 3)

# What a successful dry run exits with on this machine: 0 where preflight
# passes, 6 where it refuses (no kexec_file_load, lockdown …), after the plan.
DRY_RUN_RC=0
"$BOOTRINO" preflight >/dev/null 2>&1 || DRY_RUN_RC=$?
