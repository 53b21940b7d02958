#!/usr/bin/env bash
# The after-stage hook: runs from the verified manifest with the stage dir in
# its environment; a failing or hanging hook exits 8 and leaves nothing staged.
source "$(dirname "$0")/lib.sh"
start_fault_server
make_payload vmlinuz 50000

BOOT_EXTRA='"hooks": {"afterStage": {"function": "bootrino_after_stage", "timeoutSeconds": 2}}' \
MANIFEST_TAIL='bootrino_after_stage() { echo "hook saw $(wc -c < "$BOOTRINO_STAGE_DIR/vmlinuz") bytes"; touch "$BOOTRINO_STAGE_DIR/hook-ran"; }
' make_manifest "$WWW/ok.sh" kernel:vmlinuz
run_bootrino 0 fetch "$(pinned ok.sh)" --stage "$WORK/s1"
expect_err "hook saw 50000 bytes"
[[ -f $WORK/s1/hook-ran ]] || fail "hook did not run in the stage dir"
ok "hook ran after staging with BOOTRINO_STAGE_DIR"

run_bootrino 0 fetch "$(pinned ok.sh)" --stage "$WORK/s1b" --no-hooks
[[ ! -e $WORK/s1b/hook-ran ]] || fail "--no-hooks ran the hook"
run_bootrino "$DRY_RUN_RC" run "$(pinned ok.sh)" --dry-run
expect_out "hook +bootrino_after_stage runs after staging"
ok "--no-hooks and run --dry-run do not run hooks"

BOOT_EXTRA='"hooks": {"afterStage": {"timeoutSeconds": 5}}' \
MANIFEST_TAIL='bootrino_after_stage() { echo "checking"; exit 3; }
' make_manifest "$WWW/fails.sh" kernel:vmlinuz
run_bootrino 8 fetch "$(pinned fails.sh)" --stage "$WORK/s2"
expect_err "hook bootrino_after_stage exited with status 3"
expect_nothing_staged "$WORK/s2"
ok "failing hook: exit 8, nothing staged"

# The hook's processes are found by a token in their command line that nothing else on the machine has:
# copies of sleep named after it, started in the background, with setsid, and double-forked with setsid.
TOKEN="hookd-$$-$RANDOM$RANDOM"
cp "$(command -v sleep)" "$WORK/$TOKEN"
trap 'for p in $(pids_with_token "$TOKEN"); do kill -9 "$p" 2>/dev/null; done; cleanup' EXIT
DAEMONS="\"$WORK/$TOKEN\" 300 & setsid \"$WORK/$TOKEN\" 301 & ( setsid \"$WORK/$TOKEN\" 302 & ) ; sleep 0.5"
expect_no_daemons() {
  local left
  left=$(pids_with_token "$TOKEN")
  [[ -z $left ]] || fail "$1: processes of the hook are still alive: $left"
}

BOOT_EXTRA='"hooks": {"afterStage": {"timeoutSeconds": 1}}' \
MANIFEST_TAIL="bootrino_after_stage() { $DAEMONS; \"$WORK/$TOKEN\" 60; }
" make_manifest "$WWW/hangs.sh" kernel:vmlinuz
start=$(date +%s)
run_bootrino 8 fetch "$(pinned hangs.sh)" --stage "$WORK/s3"
(($(date +%s) - start < 10)) || fail "hanging hook was not killed on time"
expect_err "did not finish within its 1 s limit; killed"
expect_nothing_staged "$WORK/s3"
expect_no_daemons "after the time limit"
ok "hanging hook: killed at its limit with every process it started (setsid and double-forked too), exit 8"

BOOT_EXTRA='"hooks": {"afterStage": {"timeoutSeconds": 10}}' \
MANIFEST_TAIL="bootrino_after_stage() { $DAEMONS; echo daemons started; }
" make_manifest "$WWW/daemons.sh" kernel:vmlinuz
run_bootrino 0 fetch "$(pinned daemons.sh)" --stage "$WORK/s6"
expect_err "daemons started"
expect_no_daemons "after the hook exited"
ok "a hook that exits leaves no process behind (setsid and double-forked daemons included)"

# What the hook gets from bootrino: a fixed environment, /dev/null as stdin, a session of its own.
BOOT_EXTRA='"hooks": {"afterStage": {"timeoutSeconds": 10}}' \
MANIFEST_TAIL='bootrino_after_stage() {
  env >"$BOOTRINO_STAGE_DIR/env"
  readlink /proc/$$/fd/0 >"$BOOTRINO_STAGE_DIR/stdin"
  echo "$$ $(cut -d" " -f6 /proc/$$/stat)" >"$BOOTRINO_STAGE_DIR/session"
}
' make_manifest "$WWW/env.sh" kernel:vmlinuz
echo "not for the hook" >"$WORK/stdin-file"
rc=0
SECRET_TOKEN_X=$TOKEN "$BOOTRINO" fetch "$(pinned env.sh)" --stage "$WORK/s7" <"$WORK/stdin-file" \
  >"$WORK/out" 2>"$WORK/err" || rc=$?
[[ $rc == 0 ]] || fail "fetch with the environment hook exited $rc"
grep -q SECRET_TOKEN_X "$WORK/s7/env" && fail "the hook saw bootrino's environment"
names=$(cut -d= -f1 "$WORK/s7/env" | grep -vx -e PWD -e OLDPWD -e SHLVL -e _ | sort | tr '\n' ' ')
[[ $names == "BOOTRINO_STAGE_DIR HOME LANG PATH " ]] || fail "the hook's environment has: $names"
grep -qx "LANG=C" "$WORK/s7/env" || fail "LANG is not C"
grep -qx "BOOTRINO_STAGE_DIR=$WORK/s7" "$WORK/s7/env" || fail "BOOTRINO_STAGE_DIR is not the stage"
[[ $(cat "$WORK/s7/stdin") == /dev/null ]] || fail "the hook's stdin is $(cat "$WORK/s7/stdin")"
read -r shell_pid session <"$WORK/s7/session"
[[ $shell_pid == "$session" ]] || fail "the hook is not in a session of its own ($shell_pid in $session)"
ok "the hook gets a clean environment, stdin from /dev/null, a session of its own"

BOOT_EXTRA='"hooks": {"afterStage": {"function": "not_there"}}' make_manifest "$WWW/undef.sh" kernel:vmlinuz
run_bootrino 8 fetch "$(pinned undef.sh)" --stage "$WORK/s4"
expect_err "not_there is not defined in the manifest"
ok "undefined hook function: exit 8"
