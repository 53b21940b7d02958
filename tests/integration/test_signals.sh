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

STAGE_DIRS=()  # the RAM stage directories these runs made: removed at the end even when a check fails
trap 'for d in "${STAGE_DIRS[@]}"; do rm -rf "$d"; done; cleanup' EXIT

declare -A NUMBER=([TERM]=15 [INT]=2 [HUP]=1)
for sig in TERM INT HUP; do
  events="$WORK/run-$sig.jsonl"
  "$BOOTRINO" run "$(pinned slow.sh)" --dry-run --no-instance-settings --json-events "$events" "${FAST[@]}" \
    >"$WORK/out" 2>"$WORK/err" </dev/null &
  pid=$!
  wait_for "$events" '"phase":"stage","status":"start"'
  dir=$(stage_dir "$events")
  [[ $dir == /run/bootrino-stage.* || $dir == /dev/shm/bootrino-stage.* ]] || fail "stage dir is '$dir'"
  STAGE_DIRS+=("$dir")
  [[ -d $dir ]] || fail "the RAM stage directory $dir does not exist mid-transfer"
  sleep 0.5  # into the transfer
  kill -"$sig" "$pid"
  rc=0
  wait "$pid" || rc=$?
  [[ $rc == $((128 + NUMBER[$sig])) ]] || fail "run --dry-run after SIG$sig exited $rc, expected $((128 + NUMBER[$sig]))"
  expect_err "bootrino: stopped by SIG$sig during stage, before anything was changed"
  grep -q '"phase":"stage","status":"interrupted","signal":"SIG'"$sig"'"' "$events" ||
    fail "the event log does not record SIG$sig: $(tail -3 "$events")"
  [[ ! -e $dir ]] || fail "SIG$sig left the RAM stage directory $dir behind"
  ok "run --dry-run: SIG$sig mid-transfer stops it, exit $rc, event logged, $dir removed"
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
