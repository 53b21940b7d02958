#!/usr/bin/env bash
# Large files fetched in byte ranges over parallel connections (fetch/segments.h), against a real nginx
# and the fault server: staged byte for byte with the whole file's SHA-256 checked; never more ranges at
# once than --parallel or --segments; a server that ignores Range gets one stream and no byte twice; a range
# cut short resumes from where it stopped; a corrupted byte in one range fails the whole file (exit 3) or
# moves to a good mirror; a server whose file is shorter than the manifest's is named as such (exit 3); a
# range answered 503 is retried alone; a 404 moves every range to the mirror.
source "$(dirname "$0")/lib.sh"
MIB=$((1 << 20))
SIZE=$((64 * MIB + 4321))  # 4 segments (PlanSegments): starts at 0, 16, 32 and 48 MiB
make_payload big.bin "$SIZE"
make_manifest "$WWW/big.sh" kernel:big.bin
want=$(sha256_of "$WWW/big.bin")
bash "$IT_DIR/nginx.sh" start "$WORK/nginx" "$WWW" >/dev/null
trap 'bash "$IT_DIR/nginx.sh" stop "$WORK/nginx" >/dev/null 2>&1 || true; cleanup' EXIT
source "$WORK/nginx/ports.env"
NGINX_LOG=$WORK/nginx/access.log
pin="#sha256=$(sha256_of "$WWW/big.sh")"

# nginx_gets PORT [FILE]: the access log's lines for GET /FILE (big.bin) on PORT, the log emptied after.
nginx_gets() {
  grep -E ":$1 .*\"GET /${2:-big.bin} " "$NGINX_LOG" || true
  : >"$NGINX_LOG"
}

# expect_progress_within_total: every progress line bootrino printed is at most 100 % (bytes counted once).
expect_progress_within_total() {
  local pct
  pct=$(grep -Eo '\] +[0-9]+%' "$WORK/err" | grep -Eo '[0-9]+' || true)
  [[ -n $pct ]] || fail "no progress lines"
  [[ $(sort -n <<<"$pct" | tail -n 1) == 100 ]] || fail "progress passed or never reached 100 %: $pct"
}

# --- nginx: split into 4 ranges over HTTP and HTTPS ---------------------------------------------------------
: >"$NGINX_LOG"
run_bootrino 0 fetch "http://127.0.0.1:$HTTP_PORT/big.sh$pin" --stage "$WORK/n1" --json-events "$WORK/n1.events"
cmp "$WWW/big.bin" "$WORK/n1/big.bin" || fail "the split file differs"
gets=$(nginx_gets "$HTTP_PORT")
[[ $(grep -c ' 206 ' <<<"$gets") == 4 ]] || fail "want 4 ranged GETs answered 206, got: $gets"
for r in "0-16777215" "16777216-33554431" "33554432-50331647" "50331648-$((SIZE - 1))"; do
  grep -q "range=\"bytes=$r\"" <<<"$gets" || fail "no request for bytes=$r: $gets"
done
jsonq --check --lines "$WORK/n1.events" \
  'any(e.get("status") == "file-verified" and e.get("sha256") == "'"$want"'" and e.get("bytes") == '"$SIZE"' and e.get("requests") == 4 for e in d)' \
  || fail "no file-verified event with the whole file's hash, size and 4 requests"
expect_progress_within_total
ok "HTTP: 64 MiB fetched in 4 ranges at once, whole-file SHA-256 verified, progress counted once"

run_bootrino 0 fetch "https://localhost:$HTTPS_PORT/big.sh$pin" --ca-file "$CA_FILE" --stage "$WORK/n2"
cmp "$WWW/big.bin" "$WORK/n2/big.bin" || fail "the split file differs over HTTPS"
[[ $(nginx_gets "$HTTPS_PORT" | grep -c ' 206 ') == 4 ]] || fail "want 4 ranged GETs over HTTPS"
ok "HTTPS: the same in 4 ranges"

# With --parallel 1 or --segments 1 there is nothing to split over: one stream.
for one in --parallel --segments; do
  run_bootrino 0 fetch "http://127.0.0.1:$HTTP_PORT/big.sh$pin" --stage "$WORK/n4$one" "$one" 1
  cmp "$WWW/big.bin" "$WORK/n4$one/big.bin" || fail "$one 1: the file differs"
  gets=$(nginx_gets "$HTTP_PORT")
  [[ $(wc -l <<<"$gets") == 1 && $gets == *' 200 '*'range="-"'* ]] || fail "$one 1: want one GET without Range: $gets"
done
ok "--parallel 1 and --segments 1 fetch one stream"

# --- a corrupted byte in the third range: the whole-file hash catches it ------------------------------------
cp "$WWW/big.bin" "$WWW/bad.bin"
printf '\x5a' | dd of="$WWW/bad.bin" bs=1 seek=$((40 * MIB + 7)) conv=notrunc status=none
cmp -s "$WWW/big.bin" "$WWW/bad.bin" && printf '\xa5' | dd of="$WWW/bad.bin" bs=1 seek=$((40 * MIB + 7)) conv=notrunc status=none
got=$(sha256_of "$WWW/bad.bin")
make_manifest "$WWW/bad.sh" kernel:big.bin:bad.bin
: >"$NGINX_LOG"
run_bootrino 3 fetch "http://127.0.0.1:$HTTP_PORT/bad.sh#sha256=$(sha256_of "$WWW/bad.sh")" --stage "$WORK/c1" "${FAST[@]}"
expect_err "big.bin: http://127.0.0.1:$HTTP_PORT/bad.bin: sha256 mismatch: expected $want, got $got"
expect_nothing_staged "$WORK/c1"
[[ $(nginx_gets "$HTTP_PORT" bad.bin | grep -c ' 206 ') == 4 ]] || fail "bad.bin was not fetched in 4 ranges"
ok "one corrupted byte in one range: exit 3, both hashes named, nothing staged"

# The same with a good mirror: the whole file starts over there.
make_manifest "$WWW/badm.sh" kernel:big.bin:bad.bin --set 'boot.architectures.x86_64.kernel.mirrors=["big.bin"]'
: >"$NGINX_LOG"
run_bootrino 0 fetch "http://127.0.0.1:$HTTP_PORT/badm.sh#sha256=$(sha256_of "$WWW/badm.sh")" --stage "$WORK/c2" "${FAST[@]}"
cmp "$WWW/big.bin" "$WORK/c2/big.bin" || fail "the file from the mirror differs"
expect_err "sha256 mismatch: .*; trying the next mirror"
gets=$(nginx_gets "$HTTP_PORT")
[[ $(grep -c ' 206 ' <<<"$gets") == 4 ]] || fail "the mirror was not fetched in 4 ranges: $gets"
ok "corrupted on the primary, good mirror: the whole file fetched again from the mirror, verified"

# --- the server's file is shorter than the manifest's: named, exit 3 -----------------------------------------
head -c $((40 * MIB)) "$WWW/big.bin" >"$WWW/short.bin"
make_manifest "$WWW/short.sh" kernel:big.bin:short.bin
run_bootrino 3 fetch "http://127.0.0.1:$HTTP_PORT/short.sh#sha256=$(sha256_of "$WWW/short.sh")" --stage "$WORK/t1" "${FAST[@]}"
expect_err "big.bin: http://127.0.0.1:$HTTP_PORT/short.bin: (HTTP 416 for bytes 50331648-$((SIZE - 1)): the server's file is shorter than the manifest's $SIZE bytes|the server's file is $((40 * MIB)) bytes \(Content-Range\) but the manifest says $SIZE bytes)"
expect_nothing_staged "$WORK/t1"
ok "a server file shorter than the manifest's: exit 3, the sizes named"

# --- the fault server: Range ignored, a range cut short ------------------------------------------------------
start_fault_server
make_manifest "$WWW/norange.sh" kernel:big.bin:/_f/norange/big.bin
run_bootrino 0 fetch "$(pinned norange.sh)" --stage "$WORK/f1" "${FAST[@]}"
cmp "$WWW/big.bin" "$WORK/f1/big.bin" || fail "the file fetched after the fallback differs"
expect_err "the server ignores Range \(HTTP 200 to a byte range\): fetching the file in one stream"
expect_progress_within_total
# Every ranged request got the whole file (200) and was cut off; then exactly one request without Range. The
# ranges are the first four, each asked once: none is asked again after the fallback. (Not the server's order
# of arrival: a range the client sent at the start can reach a busy server after the fallback's request.)
python3 - "$FS_LOG" "$SIZE" <<'PY' || fail "the fallback did not go as expected: $(requests_for /_f/norange)"
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1]) if "/_f/norange/big.bin" in l]
ranged = [r for r in reqs if r["range"]]
whole = [r for r in reqs if not r["range"]]
assert ranged and all(r["status"] == 200 for r in ranged), ranged
assert len(ranged) <= 4 and len({r["range"] for r in ranged}) == len(ranged), ranged
assert len(whole) == 1 and whole[0]["status"] == 200 and whole[0]["bytes"] == int(sys.argv[2]), whole
assert min(r["ts"] for r in ranged) <= whole[0]["ts"], reqs
PY
ok "a server ignoring Range: one stream from the same URL, verified, no byte twice"

# Each range is a transfer counted against --parallel, and a file uses at most --segments connections: with
# either at 2, the same 4 ranges, never more than 2 at once (the fault server logs when each request started
# and how long it took).
make_manifest "$WWW/plain.sh" kernel:big.bin
for two in "--parallel 2" "--segments 2"; do
  : >"$FS_LOG"
  # shellcheck disable=SC2086  # the option and its value
  run_bootrino 0 fetch "$(pinned plain.sh)" --stage "$WORK/f0${two// /}" $two "${FAST[@]}"
  cmp "$WWW/big.bin" "$WORK/f0${two// /}/big.bin" || fail "$two: the file differs"
  python3 - "$FS_LOG" <<'PY' || fail "$two: want 4 ranges, 2 at once: $(requests_for '"/big.bin"')"
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1]) if '"path": "/big.bin"' in l]
assert len(reqs) == 4 and all(r["status"] == 206 for r in reqs), reqs
# Most requests running at once; 10 ms of slack for the log's rounding.
edges = sorted([(r["ts"] + 0.01, 1) for r in reqs] + [(r["ts"] + r["secs"], -1) for r in reqs])
at_once, most = 0, 0
for _, step in edges:
    at_once += step
    most = max(most, at_once)
assert most == 2, (most, reqs)
PY
done
ok "--parallel 2 and --segments 2: 4 ranges, 2 at a time"

make_manifest "$WWW/drop.sh" kernel:big.bin:/_f/drop=50%25,once/big.bin
run_bootrino 0 fetch "$(pinned drop.sh)" --stage "$WORK/f2" "${FAST[@]}"
cmp "$WWW/big.bin" "$WORK/f2/big.bin" || fail "the file with a resumed range differs"
expect_err "retrying in"
# The range that was cut off is asked for again from the byte it stopped at, to its own end; no other range
# is fetched twice.
python3 - "$FS_LOG" <<'PY' || fail "no resume of the cut range: $(requests_for /_f/drop)"
import json, re, sys
reqs = [json.loads(l) for l in open(sys.argv[1]) if "/_f/drop=50%25,once/big.bin" in l]
cut = [r for r in reqs if "dropped_at" in r]
assert len(cut) == 1 and cut[0]["dropped_at"] > 0, reqs
a, b = map(int, re.fullmatch(r"bytes=(\d+)-(\d+)", cut[0]["range"]).groups())
resumed = "bytes=%d-%d" % (a + cut[0]["dropped_at"], b)
assert [r["status"] for r in reqs if r["range"] == resumed] == [206], (resumed, reqs)
assert len(reqs) == 5, reqs
PY
ok "a range cut at 50 %: resumed with Range from where it stopped, the whole file verified"

# A range answered 503 once is retried alone; the others are not asked again.
make_manifest "$WWW/503.sh" kernel:big.bin:/_f/status=503x1/big.bin
run_bootrino 0 fetch "$(pinned 503.sh)" --stage "$WORK/f3" "${FAST[@]}"
cmp "$WWW/big.bin" "$WORK/f3/big.bin" || fail "the file with a retried range differs"
python3 - "$FS_LOG" <<'PY' || fail "want 4 ranges and one retry: $(requests_for /_f/status=503x1)"
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1]) if "/_f/status=503x1/big.bin" in l]
failed = [r for r in reqs if r["status"] == 503]
served = [r["range"] for r in reqs if r["status"] == 206]
# Each range served once, the one that failed among them.
assert len(failed) == 1 and len(reqs) == 5 and len(set(served)) == 4 and failed[0]["range"] in served, reqs
PY
ok "a range answered 503: retried alone, the file verified"

# 404 on the primary: every range moves to the mirror, which is named once.
make_manifest "$WWW/404.sh" kernel:big.bin:missing/big.bin --set 'boot.architectures.x86_64.kernel.mirrors=["big.bin"]'
: >"$FS_LOG"
run_bootrino 0 fetch "$(pinned 404.sh)" --stage "$WORK/f4" "${FAST[@]}"
cmp "$WWW/big.bin" "$WORK/f4/big.bin" || fail "the file from the mirror differs"
[[ $(grep -c "HTTP 404; trying the next mirror" "$WORK/err") == 1 ]] || fail "want the move to the mirror said once"
[[ $(requests_for '"path": "/big.bin"' | grep -c '"status": 206') == 4 ]] || fail "the mirror was not fetched in 4 ranges"
ok "404 on the primary: the 4 ranges fetched from the mirror"
