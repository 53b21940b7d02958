#!/usr/bin/env bash
# Where `run` stages: in a tmpfs of its own, sized for the payload, whatever the size of /run (often a
# tenth of the RAM, initramfs-tools' default); where it may not mount, on the host's tmpfs, saying so,
# and a full filesystem is reported as what it is. Nothing is left mounted or behind. The small /run
# cases run in private mount namespaces the test makes (unshare): this machine's /run is never touched.
source "$(dirname "$0")/lib.sh"
[[ $(id -u) == 0 ]] || fail "this test mounts small tmpfs in private mount namespaces: run the tests as root"
export BOOTRINO_IMDS_URL=http://127.0.0.1:9/
start_fault_server
make_payload vmlinuz 200000
make_payload initrd.gz 300000
make_payload big.img $((6 << 20))
make_manifest "$WWW/bootrino.sh" kernel:vmlinuz initrd:initrd.gz file:big.img
ref=$(pinned bootrino.sh)
# What the stage needs: the files, the kexec boot's composed initrd (the disk's is composed as the disk is
# written, never in RAM), bootrino's 16 MiB margin; tmpfs rounds to pages.
files=$((200000 + 300000 + (6 << 20)))
want_bytes=$((files + 300000 + (16 << 20)))
want_fs_bytes=$(((want_bytes + 4095) / 4096 * 4096))

# stage_event EVENTS STATUS: the stage event of that status, as JSON (empty when there is none).
stage_event() {
  python3 -c '
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["phase"] == "stage" and e["status"] == sys.argv[2]:
        print(json.dumps(e)); break' "$1" "$2"
}

run_bootrino "$DRY_RUN_RC" run "$ref" --dry-run --json-events "$WORK/events.jsonl"
pid=$(cat "$WORK/bootrino.pid")
expect_out "^  stage   staged in /(run|dev/shm)/bootrino-stage\.$pid\.[A-Za-z0-9]{6} \(a tmpfs of [0-9.]+ MiB of bootrino's own\)$"
mounted=$(stage_event "$WORK/events.jsonl" mounted)
[[ -n $mounted ]] || fail "no stage/mounted event: $(cat "$WORK/events.jsonl")"
# What the kernel says the stage was (statfs inside bootrino's namespace), not what bootrino asked for.
jsonq --check - "d['fsType'] == 'tmpfs' and d['bytes'] == $want_bytes and d['fsBytes'] == $want_fs_bytes" \
  <<<"$mounted" || fail "the stage was not a tmpfs of $want_fs_bytes bytes: $mounted"
[[ -z $(stage_event "$WORK/events.jsonl" shared) ]] || fail "a root run staged on the host's tmpfs"
# The tmpfs lived in bootrino's own mount namespace: it never appeared in this one.
grep -F "/bootrino-stage.$pid." /proc/self/mountinfo && fail "bootrino's stage tmpfs is mounted in the host's namespace"
ok "dry run: staged in a tmpfs of its own, sized for the files and the composed initrd; nothing left mounted or behind"

# small_run EXPECTED [WRAPPER...] -- ARGS...: bootrino ARGS under WRAPPER in a private mount namespace
# whose /run is a fresh 2 MiB tmpfs (the payload is 7 MiB); checks, in there, that it left no stage.
small_run() {
  local expected=$1 rc=0
  shift
  unshare --mount --propagation private bash -c '
    mount -t tmpfs -o size=2m,mode=755 bootrino-test-small-run /run || exit 90
    wrapper=()
    while [[ $1 != -- ]]; do wrapper+=("$1"); shift; done
    shift
    rc=0
    (echo "$BASHPID" >"$WORK/bootrino.pid" && exec "${wrapper[@]}" "$BOOTRINO" "$@") || rc=$?
    left=$(compgen -G "/run/bootrino-stage.$(cat "$WORK/bootrino.pid").*" || true)
    [[ -z $left ]] || { echo "left behind: $left" >&2; exit 91; }
    exit "$rc"' _ "$@" >"$WORK/out" 2>"$WORK/err" </dev/null || rc=$?
  [[ $rc == "$expected" ]] || fail "bootrino under a 2 MiB /run exited $rc, expected $expected"
}
export WORK BOOTRINO

# The issue: /run too small for the payload, the RAM plenty. The stage is bootrino's own tmpfs.
small_run "$DRY_RUN_RC" -- run "$ref" --dry-run
expect_out "^  stage   staged in /run/bootrino-stage\.[0-9]+\.[A-Za-z0-9]{6} \(a tmpfs of [0-9.]+ MiB of bootrino's own\)$"
expect_out "nothing was changed"
ok "a payload larger than /run is staged in a tmpfs of its own"

# Without CAP_SYS_ADMIN (a container): the host's /run, said so; and once it is full, an error that says
# which filesystem, how much was needed and what to do, not "a bug in bootrino".
small_run 5 setpriv --bounding-set -sys_admin -- run "$ref" --dry-run
expect_err "cannot make a mount namespace of its own for the stage \(Operation not permitted\): staging in /run/bootrino-stage\.[0-9]+\.[A-Za-z0-9]{6}, on the host's tmpfs of 2(\\.0)? MiB"
expect_err "error: .*No space left on device: the filesystem holding /run/bootrino-stage\.[0-9]+\.[A-Za-z0-9]{6} is full \(a tmpfs of 2 MiB, [0-9]+ MiB free now\); the stage needs 7 MiB"
expect_err "what to do: give the tmpfs holding /run/bootrino-stage\.[0-9]+\.[A-Za-z0-9]{6} at least 7 MiB"
grep -q "a bug in bootrino" "$WORK/err" && fail "a full /run is reported as a bug"
ok "without the right to mount: staged on /run, said so; a full /run is not enough RAM (exit 5), with what to do"
