#!/usr/bin/env bash
# SIGTERM, SIGINT and SIGHUP before the commit point stop bootrino cleanly: the transfer or the
# hook is stopped, the RAM stage directory is removed, the event log says so, and the exit code is
# 128 + the signal.
source "$(dirname "$0")/lib.sh"
start_fault_server
make_payload vmlinuz 3000000
# 30 kB/s: the transfer takes 100 s, far longer than any of these tests waits for it.
make_manifest "$WWW/slow.sh" kernel:vmlinuz:/_f/slow=30000/vmlinuz
# `run` may ask a metadata service for instance settings: never this machine's.
export BOOTRINO_IMDS_URL="http://127.0.0.1:9/"

# wait_for FILE REGEX: until FILE has a line matching REGEX (at most 20 s).
wait_for() {
  local i
  for i in $(seq 200); do
    grep -Eq -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  fail "no line /$2/ in $1"
}

# stage_dir EVENTS: the directory this run staged into, from its own event log.
stage_dir() {
  python3 - "$1" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("phase") == "stage" and e.get("status") == "start":
        print(e["dir"])
        break
PY
}

image_exists() { [[ -f $1 ]] || fail "image did not create $1 before fetching"; }

STAGE_DIRS=()  # the RAM stage directories these runs made: removed at the end even when a check fails
trap 'for d in "${STAGE_DIRS[@]}"; do rm -rf "$d"; done; cleanup' EXIT

declare -A NUMBER=([TERM]=15 [INT]=2 [HUP]=1)

# stop_mid_stage SIG WHAT ARGS...: starts `bootrino ARGS… --json-events EVENTS`, sends SIG once it is fetching
# into its RAM stage directory (0700, root's, named after its pid), and checks that it stopped with 128 + SIG,
# logged it, and removed that directory. Sets STOPPED_DIR; "$check_mid_stage", when set, runs mid-transfer.
stop_mid_stage() {
  local sig=$1 what=$2 events="$WORK/$2-$1.jsonl" pid dir rc=0
  shift 2
  "$BOOTRINO" "$@" --json-events "$events" "${FAST[@]}" >"$WORK/out" 2>"$WORK/err" </dev/null &
  pid=$!
  wait_for "$events" '"phase":"stage","status":"start"'
  dir=$(stage_dir "$events")
  [[ $dir == /run/bootrino-stage.$pid.* || $dir == /dev/shm/bootrino-stage.$pid.* ]] ||
    fail "$what: the stage directory '$dir' is not in RAM, named after its run (pid $pid)"
  STAGE_DIRS+=("$dir")
  [[ -d $dir ]] || fail "$what: the RAM stage directory $dir does not exist mid-transfer"
  [[ $(stat -c '%a %u' "$dir") == "700 0" ]] || fail "$what: the stage directory is $(stat -c '%a %u' "$dir"), not 700, root's"
  ${check_mid_stage:+$check_mid_stage}
  sleep 0.5  # into the transfer
  kill -"$sig" "$pid"
  wait "$pid" || rc=$?
  [[ $rc == $((128 + NUMBER[$sig])) ]] || fail "$what after SIG$sig exited $rc, expected $((128 + NUMBER[$sig]))"
  expect_err "bootrino: stopped by SIG$sig during stage, before anything was changed"
  grep -q '"phase":"stage","status":"interrupted","signal":"SIG'"$sig"'"' "$events" ||
    fail "$what: the event log does not record SIG$sig: $(tail -3 "$events")"
  [[ ! -e $dir ]] || fail "$what: SIG$sig left the RAM stage directory $dir behind"
  expect_no_stage_left "$pid"
  STOPPED_DIR=$dir
}

for sig in TERM INT HUP; do
  stop_mid_stage "$sig" run run "$(pinned slow.sh)" --dry-run --no-instance-settings
  ok "run --dry-run: SIG$sig mid-transfer stops it, exit $((128 + NUMBER[$sig])), event logged, $STOPPED_DIR removed"
done

# image: the same, and the image file it created (before fetching: a name it cannot write is refused first)
# goes with the stage. The image is a file under $WORK only.
for sig in TERM INT HUP; do
  img="$WORK/image-$sig.img"
  check_mid_stage="image_exists $img" stop_mid_stage "$sig" image image "$(pinned slow.sh)" "$img" --size 2G
  [[ ! -e $img ]] || fail "SIG$sig left the partial image $img behind"
  ok "image: SIG$sig mid-transfer stops it, exit $((128 + NUMBER[$sig])), event logged, the image and $STOPPED_DIR removed"
done

# fetch: the same, and nothing is left staged.
events="$WORK/fetch.jsonl"
"$BOOTRINO" fetch "$(pinned slow.sh)" --stage "$WORK/s1" --json-events "$events" "${FAST[@]}" \
  >"$WORK/out" 2>"$WORK/err" </dev/null &
pid=$!
wait_for "$events" '"phase":"stage","status":"start"'
sleep 0.5
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
[[ $rc == 143 ]] || fail "fetch after SIGTERM exited $rc, expected 143"
expect_err "stopped by SIGTERM during stage"
expect_nothing_staged "$WORK/s1"
ok "fetch: SIGTERM mid-transfer stops it, exit 143, nothing staged"

# A signal during the hook kills the hook and everything it started.
TOKEN="sigd-$$-$RANDOM$RANDOM"
cp "$(command -v sleep)" "$WORK/$TOKEN"
trap 'for p in $(pids_with_token "$TOKEN"); do kill -9 "$p" 2>/dev/null; done; for d in "${STAGE_DIRS[@]}"; do rm -rf "$d"; done; cleanup' EXIT
make_payload small 20000
BOOT_EXTRA='"hooks": {"afterStage": {"function": "hook", "timeoutSeconds": 120}}' \
MANIFEST_TAIL="hook() { setsid \"$WORK/$TOKEN\" 300 & echo hook started; \"$WORK/$TOKEN\" 120; }
" make_manifest "$WWW/hook.sh" kernel:small
"$BOOTRINO" fetch "$(pinned hook.sh)" --stage "$WORK/s2" >"$WORK/out" 2>"$WORK/err" </dev/null &
pid=$!
wait_for "$WORK/err" "hook started"
start=$(date +%s)
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
[[ $rc == 143 ]] || fail "fetch after SIGTERM in the hook exited $rc, expected 143"
(($(date +%s) - start < 10)) || fail "the hook was not stopped at once"
expect_err "stopped by SIGTERM during hook"
expect_nothing_staged "$WORK/s2"
left=$(pids_with_token "$TOKEN")
[[ -z $left ]] || fail "processes of the hook outlived SIGTERM: $left"
ok "fetch: SIGTERM during the hook kills it and all it started, exit 143, nothing staged"

# image: a signal while the disk image is being written does not cut the write short (disk/ knows no
# signals), but is acted on when it ends: exit 128 + SIG, and the image this run created goes. The run is
# stopped (SIGSTOP) as soon as the image has data blocks, so that the signal lands inside the write.
make_payload big 150000000
make_manifest "$WWW/big.sh" kernel:big
img="$WORK/image-mid-write.img"
events="$WORK/image-mid-write.jsonl"
"$BOOTRINO" image "$(pinned big.sh)" "$img" --size 1G --json-events "$events" "${FAST[@]}" \
  >"$WORK/out" 2>"$WORK/err" </dev/null &
pid=$!
wait_for "$events" '"phase":"plan-disk","status":"ok"'
for i in $(seq 2000); do
  (($(stat -c %b "$img" 2>/dev/null || echo 0) > 0)) && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.005
done
kill -STOP "$pid" 2>/dev/null || fail "image ended before its disk write could be caught (exit: see $WORK/err)"
grep -q '"phase":"image","status":"ok"' "$events" && fail "image finished its write before the signal"
(($(stat -c %b "$img") > 0)) || fail "image has not started writing $img"
kill -TERM "$pid"
kill -CONT "$pid"
rc=0
wait "$pid" || rc=$?
[[ $rc == 143 ]] || fail "image after SIGTERM mid-write exited $rc, expected 143"
expect_err "stopped by SIGTERM during image"
grep -q '"phase":"image","status":"interrupted","signal":"SIGTERM"' "$events" ||
  fail "image: the event log does not record SIGTERM: $(tail -3 "$events")"
[[ ! -e $img ]] || fail "SIGTERM during the write left the partial image $img behind"
expect_no_stage_left "$pid"
ok "image: SIGTERM during the disk write lets the write end, then exits 143 and removes the image and its stage"
