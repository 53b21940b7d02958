#!/usr/bin/env bash
# Self-test of the integration-test servers (fault_server.py, certs.sh, nginx.sh), with the
# system curl as the client. One line per check; the last line is "N passed, M failed";
# exits non-zero if any check failed. KEEP=1 keeps the work folder for inspection.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/bootrino-selftest.XXXXXX")
fs_pid=""
pass=0
fail=0

cleanup() {
  if [[ -n $fs_pid ]]; then kill "$fs_pid" 2>/dev/null; wait "$fs_pid" 2>/dev/null; fi
  bash "$here/nginx.sh" stop "$work/nginx" >/dev/null 2>&1
  if [[ ${KEEP:-0} == 1 ]]; then echo "work folder kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# check NAME FUNCTION [ARGS...]: FUNCTION returns 0 on success, else sets $why.
check() {
  local name=$1
  shift
  why=""
  if "$@"; then
    echo "PASS $name"
    pass=$((pass + 1))
  else
    echo "FAIL $name${why:+: $why}"
    fail=$((fail + 1))
    return 1
  fi
}

# fetch OUT URL [curl args...]: sets RC (curl exit), CODE, SIZE, REDIRS, SECS; headers in $work/h.
fetch() {
  local out=$1 url=$2 w
  shift 2
  w=$(curl -sS -m 30 -D "$work/h" -o "$out" \
        -w '%{http_code} %{size_download} %{num_redirects} %{time_total}' "$@" "$url" \
        2>"$work/curl.err")
  RC=$?
  read -r CODE SIZE REDIRS SECS <<<"$w"
}
fail_if() { why=$*; return 1; }  # always fails, recording why
same() { cmp -s "$1" "$2" || fail_if "$1 differs from $2"; }
want() {  # want WHAT GOT EXPECTED
  [[ $2 == "$3" ]] || fail_if "$1: got '$2', expected '$3'"
}
took() {  # took MIN MAX: the last fetch took MIN to MAX seconds (inf: no upper bound)
  python3 -c "import sys; sys.exit(not $1 <= $SECS <= float('$2'))" || fail_if "took ${SECS}s, expected $1 to $2 s"
}
header() { tr -d '\r' <"$work/h" | sed -n "s/^$1: *//Ip" | tail -n 1; }  # last value of header $1
# jlog PATH FIELD: FIELD of each logged request for PATH, in order, one per line
jlog() {
  python3 - "$work/fs.log" "$1" "$2" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["path"] == sys.argv[2]:
        print(r.get(sys.argv[3]))
EOF
}
# wait_log PATH N: wait up to 10 s until the log has N records for PATH
wait_log() {
  local i
  for ((i = 0; i < 100; i++)); do
    [[ $(jlog "$1" status | wc -l) -ge $2 ]] && return 0
    sleep 0.1
  done
  return 1
}

# ---------------------------------------------------------------- test data
mkdir -p "$work/root/dir"
head -c 1048576 /dev/urandom >"$work/root/a.bin"
head -c 200000 /dev/urandom >"$work/root/dir/small.bin"
A=$work/root/a.bin
SMALL=$work/root/dir/small.bin
O=$work/out

# ---------------------------------------------------------------- fault_server.py
python3 "$here/fault_server.py" --root "$work/root" --port-file "$work/port" --log "$work/fs.log" &
fs_pid=$!
for ((i = 0; i < 100; i++)); do [[ -s $work/port ]] && break; sleep 0.05; done
B=http://127.0.0.1:$(cat "$work/port" 2>/dev/null)

t_started() { [[ -s $work/port ]] || fail_if "no port file"; }
check "fault_server starts and writes --port-file" t_started || exit 1

t_plain() { fetch "$O" "$B/a.bin"; want code "$CODE" 200 && want rc "$RC" 0 && same "$O" "$A"; }
check "plain GET serves the file" t_plain

t_head() {
  fetch "$O" "$B/a.bin" -I
  want code "$CODE" 200 && want Content-Length "$(header Content-Length)" 1048576 &&
    want Accept-Ranges "$(header Accept-Ranges)" bytes
}
check "HEAD gives Content-Length and Accept-Ranges" t_head

t_missing() { fetch "$O" "$B/nope.bin"; want code "$CODE" 404; }
check "missing file gives 404" t_missing

t_traversal() { fetch "$O" "$B/../../etc/passwd" --path-as-is; want code "$CODE" 404; }
check "path traversal outside --root gives 404" t_traversal

t_range_open() {
  fetch "$O" "$B/a.bin" -H "Range: bytes=1000-"
  want code "$CODE" 206 && want Content-Range "$(header Content-Range)" "bytes 1000-1048575/1048576" &&
    tail -c +1001 "$A" >"$work/exp" && same "$O" "$work/exp"
}
check "Range bytes=N- gives 206 with the tail" t_range_open

t_range_closed() {
  fetch "$O" "$B/a.bin" -H "Range: bytes=10-99"
  want code "$CODE" 206 && want size "$SIZE" 90 &&
    want Content-Range "$(header Content-Range)" "bytes 10-99/1048576" &&
    head -c 100 "$A" | tail -c 90 >"$work/exp" && same "$O" "$work/exp"
}
check "Range bytes=N-M gives 206 with that slice" t_range_closed

t_range_416() { fetch "$O" "$B/a.bin" -H "Range: bytes=2000000-"; want code "$CODE" 416; }
check "Range past the end gives 416" t_range_416

t_keepalive() {
  local n
  n=$(curl -sS -m 30 -o /dev/null -o /dev/null -w '%{num_connects} ' "$B/a.bin" "$B/dir/small.bin")
  want "connects per transfer" "$n" "1 0 "
}
check "keep-alive: second request reuses the connection" t_keepalive

t_drop_once() {
  local u=/_f/drop=50%25,once/a.bin
  fetch "$O" "$B$u"
  want "first rc" "$RC" 18 && want "first size" "$SIZE" 524288 || return 1
  fetch "$O" "$B$u" -C -
  want "resume rc" "$RC" 0 && want "resume code" "$CODE" 206 && same "$O" "$A" &&
    want "logged ranges" "$(jlog "$u" range | tr '\n' ' ')" "None bytes=524288- "
}
check "drop=50%,once: curl exit 18, then -C - resume completes the file" t_drop_once

t_drop_always() {
  local u=/_f/drop=1000/a.bin
  fetch "$O" "$B$u"
  want "rc 1" "$RC" 18 && want "size 1" "$SIZE" 1000 || return 1
  fetch "$O" "$B$u"
  want "rc 2" "$RC" 18 && want "size 2" "$SIZE" 1000
}
check "drop=1000 without once drops every request after 1000 bytes" t_drop_always

t_drop_rst() {
  fetch "$O" "$B/_f/drop=100000,rst/a.bin"
  want rc "$RC" 56 || return 1
  grep -q "reset by peer" "$work/curl.err" || fail_if "curl said: $(cat "$work/curl.err")"
}
check "drop=100000,rst: connection reset mid-body, curl exit 56" t_drop_rst

t_status() {
  local u=/_f/status=503x2/a.bin codes=""
  for _ in 1 2 3; do
    fetch "$O" "$B$u"
    codes+="$CODE "
    [[ $CODE == 503 && -n $(header Retry-After) ]] && { fail_if "unexpected Retry-After"; return 1; }
  done
  want codes "$codes" "503 503 200 " && same "$O" "$A"
}
check "status=503x2: 503, 503 (no Retry-After), then 200" t_status

t_status_all() {
  fetch "$O" "$B/_f/status=500/a.bin" && want code "$CODE" 500 || return 1
  fetch "$O" "$B/_f/status=500/a.bin" && want code "$CODE" 500
}
check "status=500 without xK fails every request" t_status_all

t_retryafter() { fetch "$O" "$B/_f/status=429,retryafter=7/a.bin"; want code "$CODE" 429 && want Retry-After "$(header Retry-After)" 7; }
check "status=429,retryafter=7 sends Retry-After: 7" t_retryafter

t_combo() {
  local u=/_f/status=503x1,drop=25%25,once/a.bin
  fetch "$O" "$B$u"
  want "1st code" "$CODE" 503 || return 1
  fetch "$O" "$B$u"
  want "2nd rc" "$RC" 18 && want "2nd size" "$SIZE" 262144 || return 1
  fetch "$O" "$B$u" -C -
  want "3rd rc" "$RC" 0 && same "$O" "$A"
}
check "status=503x1,drop=25%,once: 503, then dropped, then resumed" t_combo

t_once_scope() {
  local u=/_f/drop=30%25,norange,once/a.bin
  fetch "$O" "$B$u"
  want "1st rc" "$RC" 18 || return 1
  fetch "$O" "$B$u" -C -
  want "resume rc (Range still ignored)" "$RC" 33 || return 1
  fetch "$O" "$B$u"
  want "3rd code" "$CODE" 200 && same "$O" "$A"
}
check "drop=30%,norange,once: once ends the drop, norange stays" t_once_scope

t_stall_once() {
  local u=/_f/stall=5@1000,once/a.bin
  fetch "$O" "$B$u" --speed-limit 1000 --speed-time 1
  want "1st rc" "$RC" 28 && want "1st size" "$SIZE" 1000 || return 1
  fetch "$O" "$B$u" -C - --speed-limit 1000 --speed-time 1
  want "resume rc" "$RC" 0 && want "resume code" "$CODE" 206 && same "$O" "$A"
}
check "stall=5@1000,once: first transfer times out, the resume does not stall" t_stall_once

t_slow() {
  fetch "$O" "$B/_f/slow=100000/dir/small.bin"
  want rc "$RC" 0 && same "$O" "$SMALL" || return 1
  took 1.6 10  # ~2 s
}
check "slow=100000: 200000 bytes take ~2 s" t_slow

t_stall_timeout() {
  fetch "$O" "$B/_f/stall=5/a.bin" --speed-limit 1000 --speed-time 1
  want rc "$RC" 28 && want size "$SIZE" 1024
}
check "stall=5: 1 KiB then silence; curl low-speed limit aborts (exit 28)" t_stall_timeout

t_stall_ok() {
  fetch "$O" "$B/_f/stall=1.2@5000/dir/small.bin"
  want rc "$RC" 0 && same "$O" "$SMALL" || return 1
  took 1.2 inf
}
check "stall=1.2@5000 without a speed limit still completes" t_stall_ok

t_len_plus() {
  fetch "$O" "$B/_f/len=+100/a.bin"
  want rc "$RC" 18 && want Content-Length "$(header Content-Length)" 1048676 && same "$O" "$A"
}
check "len=+100: declared 100 too long, short body, curl exit 18" t_len_plus

t_len_minus() {
  local u=/_f/len=-100/a.bin
  fetch "$O" "$B$u"
  want rc "$RC" 0 && want Content-Length "$(header Content-Length)" 1048476 &&
    want "client size" "$SIZE" 1048476 && wait_log "$u" 1 &&
    want "server sent" "$(jlog "$u" bytes)" 1048576
}
check "len=-100: declared 100 too short, server sends the whole file anyway" t_len_minus

t_norange() {
  fetch "$O" "$B/_f/norange/a.bin" -H "Range: bytes=1000-"
  want code "$CODE" 200 && same "$O" "$A" && want Accept-Ranges "$(header Accept-Ranges)" "" || return 1
  head -c 5000 "$A" >"$O"
  fetch "$O" "$B/_f/norange/a.bin" -C -
  want "resume rc" "$RC" 33
}
check "norange: Range ignored (200, whole file); curl -C - fails with exit 33" t_norange

t_redirect() {
  local target=http%3A%2F%2F127.0.0.1%3A${B##*:}%2Fdir%2Fsmall.bin
  fetch "$O" "$B/_f/redirect=$target/a.bin"
  want code "$CODE" 302 && want Location "$(header Location)" "$B/dir/small.bin" || return 1
  fetch "$O" "$B/_f/redirect=$target/a.bin" -L
  want code "$CODE" 200 && want redirects "$REDIRS" 1 && same "$O" "$SMALL"
}
check "redirect=URL: 302 to the percent-decoded URL, followed with -L" t_redirect

t_loop() { fetch "$O" "$B/_f/redirectloop/a.bin" -L --max-redirs 5; want rc "$RC" 47 && want redirects "$REDIRS" 5; }
check "redirectloop: curl -L --max-redirs 5 gives exit 47" t_loop

t_chain() { fetch "$O" "$B/_f/redirectchain=3/a.bin" -L; want rc "$RC" 0 && want redirects "$REDIRS" 3 && same "$O" "$A"; }
check "redirectchain=3: three 302 hops then the file" t_chain

t_big() {
  local u=/_f/big/a.bin rc
  # curl 7.88's --max-filesize ignores bodies of unknown size (only 8.4+ aborts mid-transfer),
  # so the client that gives up here is curl piped into head -c, which closes the pipe.
  curl -sS -m 30 -D "$work/h" "$B$u" 2>"$work/curl.err" | head -c 3000000 >"$O"
  rc=${PIPESTATUS[0]}
  want "curl rc" "$rc" 23 && want "bytes read" "$(stat -c %s "$O")" 3000000 &&
    want Content-Length "$(header Content-Length)" "" || return 1
  head -c 1048576 "$O" >"$work/exp" && same "$work/exp" "$A" &&
    [[ $(head -c 3000000 "$O" | tail -c 1951424 | tr -d '\0' | wc -c) == 0 ]] ||
    { fail_if "body is not the file followed by zeros"; return 1; }
  wait_log "$u" 1 || { fail_if "server still streaming 10 s after the client left"; return 1; }
  want "server end" "$(jlog "$u" error)" "client disconnected"
}
check "big: endless body without Content-Length; server stops when the client leaves" t_big

t_big_n() { fetch "$O" "$B/_f/big=2000000/dir/small.bin"; want rc "$RC" 0 && want size "$SIZE" 2000000 && want Content-Length "$(header Content-Length)" ""; }
check "big=2000000: close-delimited body of exactly 2000000 bytes" t_big_n

t_badspec() { fetch "$O" "$B/_f/drop=lots/a.bin"; want code "$CODE" 400; }
check "malformed fault spec gives 400" t_badspec

t_stats() {
  curl -sS -m 10 "$B/_stats" >"$O" || { fail_if "GET /_stats failed"; return 1; }
  want "status=503x2 count" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["counts"]["/_f/status=503x2/a.bin"])' "$O")" 3
}
check "/_stats reports per-URL request counts" t_stats

t_sigterm() {
  # bash reaps a finished child at once, so /proc/PID may vanish between two
  # looks: read the state once per turn; "gone" and "Z" both mean it exited.
  local i state
  kill -TERM "$fs_pid"
  for ((i = 0; i < 200; i++)); do
    state=$(awk '{print $3}' "/proc/$fs_pid/stat" 2>/dev/null) || state=gone
    [[ $state == Z || $state == gone || -z $state ]] && break
    sleep 0.1
  done
  if [[ $state != Z && $state != gone && -n $state ]]; then
    fail_if "still running 20 s after SIGTERM (state $state)"
    return 1
  fi
  wait "$fs_pid"
  local st=$?
  fs_pid=""
  want "exit status" "$st" 0
}
check "fault_server exits cleanly on SIGTERM" t_sigterm

# ---------------------------------------------------------------- certs.sh + nginx.sh
t_nginx_start() {
  bash "$here/nginx.sh" start "$work/nginx" "$work/root" >"$work/nginx.out" 2>&1 ||
    { fail_if "nginx.sh start failed: $(tail -n 3 "$work/nginx.out")"; return 1; }
  # shellcheck disable=SC1091
  . "$work/nginx/ports.env"
  local k
  for k in HTTP_PORT HTTPS_PORT HTTPS_EXPIRED_PORT HTTPS_WRONGHOST_PORT HTTPS_SELFSIGNED_PORT CA_FILE; do
    [[ -n ${!k:-} ]] || { fail_if "ports.env lacks $k"; return 1; }
  done
  [[ -s $CA_FILE ]] || fail_if "CA_FILE $CA_FILE missing"
}
check "nginx.sh start runs nginx and writes ports.env" t_nginx_start || { echo "$pass passed, $fail failed"; exit 1; }

t_certs_idempotent() {
  local before after
  before=$(md5sum "$work/nginx/certs/"*.crt)
  bash "$here/certs.sh" "$work/nginx/certs" || { fail_if "certs.sh failed"; return 1; }
  after=$(md5sum "$work/nginx/certs/"*.crt)
  [[ $before == "$after" ]] || fail_if "certificates were regenerated"
}
check "certs.sh is idempotent" t_certs_idempotent

t_ng_http() {
  fetch "$O" "http://127.0.0.1:$HTTP_PORT/a.bin"
  want code "$CODE" 200 && same "$O" "$A" || return 1
  fetch "$O" "http://127.0.0.1:$HTTP_PORT/a.bin" -H "Range: bytes=524288-"
  want "range code" "$CODE" 206 && tail -c +524289 "$A" >"$work/exp" && same "$O" "$work/exp"
}
check "nginx HTTP: GET and Range bytes=N-" t_ng_http

t_ng_good() {
  local host
  for host in localhost 127.0.0.1 $([[ $IPV6 == 1 ]] && echo "[::1]"); do
    fetch "$O" "https://$host:$HTTPS_PORT/a.bin" --cacert "$CA_FILE"
    want "rc for $host" "$RC" 0 && want "code for $host" "$CODE" 200 && same "$O" "$A" || return 1
  done
}
check "nginx HTTPS good cert verifies with --cacert (localhost, 127.0.0.1, ::1)" t_ng_good

# t_ng_bad PORT STDERR_PATTERN: verification fails (exit 60) for the right reason, -k works
t_ng_bad() {
  fetch "$O" "https://localhost:$1/a.bin" --cacert "$CA_FILE"
  want rc "$RC" 60 || return 1
  grep -q "$2" "$work/curl.err" || { fail_if "curl error was: $(head -n 1 "$work/curl.err")"; return 1; }
  fetch "$O" "https://localhost:$1/a.bin" -k
  want "code with -k" "$CODE" 200 && same "$O" "$A"
}
check "nginx HTTPS expired cert fails verification (exit 60, expired)" \
  t_ng_bad "$HTTPS_EXPIRED_PORT" "certificate has expired"
check "nginx HTTPS wronghost cert fails verification (exit 60, name mismatch)" \
  t_ng_bad "$HTTPS_WRONGHOST_PORT" "subject name"
check "nginx HTTPS selfsigned cert fails verification (exit 60, self-signed)" \
  t_ng_bad "$HTTPS_SELFSIGNED_PORT" "self-signed"

t_ng_stop() {
  local pid=$NGINX_PID
  bash "$here/nginx.sh" stop "$work/nginx" || { fail_if "nginx.sh stop failed"; return 1; }
  local state
  state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || state=gone
  [[ $state == gone || $state == Z ]] || { fail_if "nginx $pid still running (state $state)"; return 1; }
  if (exec 3<>"/dev/tcp/127.0.0.1/$HTTP_PORT") 2>/dev/null; then fail_if "port $HTTP_PORT still open"; fi
}
check "nginx.sh stop stops nginx and frees its ports" t_ng_stop

echo "$pass passed, $fail failed"
[[ $fail == 0 ]]
