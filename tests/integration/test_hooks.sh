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

BOOT_EXTRA='"hooks": {"afterStage": {"timeoutSeconds": 1}}' \
MANIFEST_TAIL='bootrino_after_stage() { sleep 60 & sleep 60; }
' make_manifest "$WWW/hangs.sh" kernel:vmlinuz
start=$(date +%s)
run_bootrino 8 fetch "$(pinned hangs.sh)" --stage "$WORK/s3"
(($(date +%s) - start < 10)) || fail "hanging hook was not killed on time"
expect_err "did not finish within its 1 s limit; killed"
expect_nothing_staged "$WORK/s3"
pgrep -f "sleep 60" >/dev/null && fail "the hook's children outlived it"
ok "hanging hook: killed at its limit with its children, exit 8"

BOOT_EXTRA='"hooks": {"afterStage": {"function": "not_there"}}' make_manifest "$WWW/undef.sh" kernel:vmlinuz
run_bootrino 8 fetch "$(pinned undef.sh)" --stage "$WORK/s4"
expect_err "not_there is not defined in the manifest"
ok "undefined hook function: exit 8"
