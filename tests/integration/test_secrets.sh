#!/usr/bin/env bash
# Credentials in URLs (user:password@, and query parameters named like a
# token) appear in no output: not on stderr or stdout, not in --json-events,
# not in a status POST body, not in the stage index, whichever way the fetch
# fails (404, bad hash, unreachable, a retry, a redirect to a URL with a
# password) or succeeds.
source "$(dirname "$0")/lib.sh"
start_fault_server
make_payload vmlinuz 30000
make_payload initrd.gz 30000
port=${FS_URL##*:}
cred="http://user:secret@127.0.0.1:$port"
sum() { sha256_of "$WWW/$1"; }
zeros=$(printf '0%.0s' {1..64})

# A status receiver on loopback: each POST body becomes one line of $WORK/posts.
start_status_receiver "$WORK/posts"
status="http://127.0.0.1:$STATUS_PORT/status?token=tok-secret"
: >"$WORK/posts"

# check EXPECTED_EXIT ARGS...: runs bootrino with events and a status URL; keeps every output.
check() {
  local expected=$1
  shift
  run_bootrino "$expected" "$@" --json-events "$WORK/events.json" "${FAST[@]}" --retries 2
  cat "$WORK/out" "$WORK/err" >>"$WORK/all-output"
}
run_dry() { check "$1" run "${@:2}" --dry-run --status-url "$status"; }

# Payload URLs with credentials: one answers 503 once (a retry), one lies about its size.
# cred_manifest NAME INITRD_URL [OPTION...]: $WWW/NAME, the kernel behind a signed URL with a password.
cred_manifest() { make_manifest "$WWW/$1" "kernel:vmlinuz:$cred/vmlinuz?sig=sig-secret&v=1" "initrd:initrd.gz:$2" "${@:3}"; }
cred_manifest good.sh "$cred/_f/status=503x1/initrd.gz"
cred_manifest short.sh "$cred/initrd.gz" --set boot.architectures.x86_64.initrds.0.size=29999
# A redirect to a URL with a password (spelt s%65cret in the fault URL's path, which the server decodes).
cred_manifest redirect.sh "$cred/_f/redirect=http:%2F%2Fuser:s%65cret@127.0.0.1:$port%2Fgone/initrd.gz"

check 4 inspect "$cred/missing.sh#sha256=$zeros"
expect_err "HTTP 404"
run_dry 4 "$cred/missing.sh#sha256=$zeros"
run_dry 3 "$cred/good.sh#sha256=$zeros"
expect_err "does not match its pin"
run_dry 4 "http://user:secret@127.0.0.1:1/bootrino.sh#sha256=$zeros"
run_dry 4 "https://user:secret@127.0.0.1:1/bootrino.sh#sha256=$zeros"
check 0 inspect "$cred/good.sh#sha256=$(sum good.sh)"
expect_out "127.0.0.1:$port/vmlinuz\?sig=REDACTED"
run_dry "$DRY_RUN_RC" "$cred/good.sh#sha256=$(sum good.sh)"
expect_err "warning: initrd.gz: http://127.0.0.1:$port/_f/status=503x1/initrd.gz: HTTP 503"
check 0 fetch "$cred/good.sh#sha256=$(sum good.sh)" --stage "$WORK/stage"
cat "$WORK/stage/.bootrino/stage.json" >>"$WORK/all-output"
run_dry 3 "$cred/short.sh#sha256=$(sum short.sh)"
expect_err "initrd.gz: http://127.0.0.1:$port/initrd.gz: the server sent"
run_dry 4 "$cred/redirect.sh#sha256=$(sum redirect.sh)"
expect_err "HTTP 404"
run_dry "$DRY_RUN_RC" "$cred/good.sh" --insecure
expect_err "warning: \*\*\* --insecure: http://127.0.0.1:$port/good.sh"

# The status endpoint got events from every run (it is best effort: give it a moment).
for _ in $(seq 20); do (($(wc -l <"$WORK/posts") > 10)) && break; sleep 0.2; done
(($(wc -l <"$WORK/posts") > 10)) || fail "the status endpoint got only $(wc -l <"$WORK/posts") events"
grep -q '"status":"error"' "$WORK/posts" || fail "no error event was POSTed"
grep -q '"status":"retry"' "$WORK/events.json" || fail "the retry was not recorded"
for f in all-output events.json posts; do
  if grep -n -e secret "$WORK/$f" >&2; then fail "a credential reached $f"; fi
done
ok "no password, token or signature in any output, event or status POST ($(wc -l <"$WORK/posts") POSTs)"
