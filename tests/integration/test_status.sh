#!/usr/bin/env bash
# --status-url: every phase event is POSTed as JSON (a fleet operator sees each
# instance arrive or fail); a dead status endpoint delays nothing.
source "$(dirname "$0")/lib.sh"
start_fault_server
make_sample 100000 100000

# A receiver that appends each POST body as one line to $WORK/posts.
start_status_receiver "$WORK/posts"
status="http://127.0.0.1:$STATUS_PORT/status"

run_bootrino "$DRY_RUN_RC" run "$ref" --dry-run --status-url "$status"
python3 - "$WORK/posts" <<'PY' || fail "the status endpoint did not get the phase events"
import json, sys
events = [json.loads(l) for l in open(sys.argv[1])]
phases = [e["phase"] for e in events]
for want in ("preflight", "manifest", "stage", "plan"):
    assert want in phases, (want, phases)
assert all("time" in e and "status" in e for e in events)
PY
ok "each phase was POSTed as JSON ($(wc -l <"$WORK/posts") events)"

: >"$WORK/posts"
run_bootrino 3 run "$FS_URL/bootrino.sh#sha256=$(printf '0%.0s' {1..64})" --dry-run --status-url "$status"
grep -q '"status":"failed"' "$WORK/posts" || grep -q '"error"' "$WORK/posts" ||
  fail "a failure was not reported: $(cat "$WORK/posts")"
ok "a failure is reported too"

# A blackholed endpoint (a listening socket that never answers) must not hold the run for long.
python3 -c 'import socket,time; s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(); print(s.getsockname()[1], flush=True); time.sleep(120)' >"$WORK/hole.port" &
hole=$!
for _ in $(seq 50); do [[ -s $WORK/hole.port ]] && break; sleep 0.1; done
start=$(date +%s)
run_bootrino "$DRY_RUN_RC" run "$ref" --dry-run --status-url "http://127.0.0.1:$(cat "$WORK/hole.port")/x"
took=$(($(date +%s) - start))
kill $hole
((took < 15)) || fail "a dead status endpoint held the run for $took s"
ok "a dead status endpoint costs at most the flush deadline ($took s)"

# Plain http to another host is refused before anything runs (events name the host, its disk and
# addresses; the URL may hold a token); --status-url-insecure allows it. 0.0.0.0 reaches this
# machine's loopback on Linux but is not a loopback address, so it stands for "another host" here.
: >"$WORK/posts"
other="http://0.0.0.0:$STATUS_PORT/status"
run_bootrino 2 run "$ref" --dry-run --status-url "$other"
expect_err "error: the status URL $other is neither https nor on this machine's loopback"
expect_err "what to do: .*--status-url-insecure"
[[ ! -s $WORK/posts ]] || fail "a refused status URL was POSTed to: $(cat "$WORK/posts")"
run_bootrino "$DRY_RUN_RC" run "$ref" --dry-run --status-url "$other" --status-url-insecure
grep -q '"phase":"manifest"' "$WORK/posts" || fail "--status-url-insecure did not POST: $(cat "$WORK/posts")"
ok "plain http to another host: exit 2 unless --status-url-insecure"

# An https status endpoint with a private CA is trusted through --ca-file, as the downloads are.
bash "$IT_DIR/certs.sh" "$WORK/certs" >/dev/null
start_status_receiver "$WORK/tls-posts" "$WORK/certs"
run_bootrino "$DRY_RUN_RC" run "$ref" --dry-run --status-url "https://localhost:$STATUS_PORT/s" \
  --ca-file "$WORK/certs/ca.crt"
grep -q '"phase":"manifest"' "$WORK/tls-posts" 2>/dev/null ||
  fail "the https status endpoint got nothing: --ca-file was not used for it"
ok "an https status endpoint is verified with --ca-file ($(wc -l <"$WORK/tls-posts") events)"
