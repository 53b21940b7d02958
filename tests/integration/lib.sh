# Shared by the integration tests: a scratch dir, a loopback fault server,
# payload and manifest makers, and assertions. Each test_*.sh sources this,
# runs the real static binary ($BOOTRINO, set by ctest) and exits non-zero on
# the first failed assertion, printing what it saw.
set -euo pipefail
: "${BOOTRINO:?set by ctest: path of the bootrino binary}"
: "${BOOTRINO_SOURCE:?set by ctest: the source tree}"
IT_DIR="$BOOTRINO_SOURCE/tests/integration"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bootrino-it.XXXXXX")
WWW="$WORK/www"
mkdir -p "$WWW"
# `run` reads this instance's user-data and asks the metadata service of the cloud it is identified as: in
# tests, never this machine's (a CI machine may be a cloud instance; tests stay on loopback).
export BOOTRINO_USERDATA_ROOT="$WORK/no-instance"
mkdir -p "$BOOTRINO_USERDATA_ROOT"
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
  for _ in $(seq 50); do [[ -s $port_file ]] && break; sleep 0.1; done
  [[ -s $port_file ]] || fail "the status receiver did not start"
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
  FS_LOG="$WORK/fault-server.log"
  python3 "$IT_DIR/fault_server.py" --root "$WWW" --port 0 --port-file "$WORK/fs.port" --log "$FS_LOG" \
    2>"$WORK/fault-server.err" &
  PIDS+=($!)
  local i
  for i in $(seq 100); do [[ -s $WORK/fs.port ]] && break; sleep 0.05; done
  [[ -s $WORK/fs.port ]] || fail "fault server did not start: $(cat "$WORK/fault-server.err")"
  FS_URL="http://127.0.0.1:$(cat "$WORK/fs.port")"
}

# make_payload NAME BYTES: a file of random bytes at $WWW/NAME.
make_payload() {
  mkdir -p "$(dirname "$WWW/$1")"
  head -c "$2" /dev/urandom >"$WWW/$1"
}

# make_manifest OUT ROLE:NAME[:URL] ...: writes a v1 manifest for x86_64 whose
# files are $WWW/NAME (size and sha256 taken from them); URL overrides where
# the file is fetched from (e.g. a /_f/SPEC/ fault URL). ROLE is kernel,
# initrd or file. Extra boot fields come from $BOOT_EXTRA (JSON members).
make_manifest() {
  local out=$1
  shift
  python3 - "$WWW" "$out" "${BOOT_EXTRA:-}" "$@" <<'PY'
import hashlib, json, os, sys
www, out, extra, specs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
arch = {"initrds": [], "files": [], "cmdline": "console=ttyS0 test=1"}
for spec in specs:
    role, name, *url = spec.split(":", 2)
    data = open(os.path.join(www, name), "rb").read()
    entry = {"url": url[0] if url else name, "name": name, "size": len(data),
             "sha256": hashlib.sha256(data).hexdigest()}
    if role == "kernel": arch["kernel"] = entry
    elif role == "initrd": arch["initrds"].append(entry)
    else: arch["files"].append(entry)
boot = {"schema": 1, "architectures": {"x86_64": arch}}
if extra: boot.update(json.loads("{" + extra + "}"))
meta = {"name": "integration test OS", "version": "1.0", "boot": boot}
with open(out, "w") as f:
    f.write('#!/bin/sh\nread BOOTRINOJSON <<"BOOTRINOJSONMARKER"\n' + json.dumps(meta, indent=2) +
            "\nBOOTRINOJSONMARKER\n" + os.environ.get("MANIFEST_TAIL", ""))
PY
}

# pinned PATH: the reference to $WWW/PATH on the fault server, pinned by its hash.
pinned() { echo "$FS_URL/$1#sha256=$(sha256sum <"$WWW/$1" | cut -d' ' -f1)"; }

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
