#!/usr/bin/env bash
# Network faults: drops resume with Range, 5xx is retried, 404 moves to the
# next mirror, redirect loops and stalls give up with exit 4 and a message
# that names the file, each URL and what went wrong.
source "$(dirname "$0")/lib.sh"
start_fault_server
make_payload vmlinuz 1500000
make_payload initrd.gz 800000

# A connection dropped at 50 % resumes from where it stopped.
make_manifest "$WWW/drop.sh" kernel:vmlinuz:/_f/drop=50%25,once/vmlinuz
run_bootrino 0 fetch "$(pinned drop.sh)" --stage "$WORK/s1" "${FAST[@]}"
cmp "$WWW/vmlinuz" "$WORK/s1/vmlinuz" || fail "resumed file differs"
requests_for '/_f/drop' | grep '"range": "bytes=750000-"' >/dev/null || fail "no Range resume after the drop"
expect_err "retrying in"
ok "dropped at 50 %: resumed with Range from byte 750000"

# Dropped at 0 % and 99 %: still complete and verified.
for at in 0 99; do
  make_manifest "$WWW/drop$at.sh" kernel:vmlinuz:/_f/drop=$at%25,once/vmlinuz
  run_bootrino 0 fetch "$(pinned drop$at.sh)" --stage "$WORK/d$at" "${FAST[@]}"
  cmp "$WWW/vmlinuz" "$WORK/d$at/vmlinuz" || fail "drop at $at %"
done
ok "dropped at 0 % and 99 %: complete and verified"

# A server that ignores Range after a drop: bootrino starts the file over.
make_manifest "$WWW/norange.sh" kernel:vmlinuz:/_f/drop=30%25,norange,once/vmlinuz
run_bootrino 0 fetch "$(pinned norange.sh)" --stage "$WORK/s2" "${FAST[@]}"
cmp "$WWW/vmlinuz" "$WORK/s2/vmlinuz" || fail "restart after ignored Range"
ok "Range ignored: restarted from zero, verified"

# 503 twice, then success.
make_manifest "$WWW/503.sh" kernel:vmlinuz:/_f/status=503x2/vmlinuz
run_bootrino 0 fetch "$(pinned 503.sh)" --stage "$WORK/s3" "${FAST[@]}"
[[ $(requests_for '/_f/status=503x2' | wc -l) == 3 ]] || fail "want 3 requests for 503x2"
ok "HTTP 503 twice: retried, third request succeeded"

# 503 forever: gives up after --retries with exit 4.
make_manifest "$WWW/503f.sh" kernel:vmlinuz:/_f/status=503/vmlinuz
run_bootrino 4 fetch "$(pinned 503f.sh)" --stage "$WORK/s4" "${FAST[@]}" --retries 3
expect_err "vmlinuz: $FS_URL/_f/status=503/vmlinuz: HTTP 503 after 3 tries"
expect_nothing_staged "$WORK/s4"
ok "HTTP 503 forever: exit 4 after 3 tries, nothing staged"

# 404 on the primary, 500 on the first mirror, the second mirror works.
make_manifest "$WWW/mirrors.sh" kernel:vmlinuz:missing/vmlinuz \
  --set "boot.architectures.x86_64.kernel.mirrors=[\"$FS_URL/_f/status=500/vmlinuz\", \"vmlinuz\"]"
run_bootrino 0 fetch "$(pinned mirrors.sh)" --stage "$WORK/s5" "${FAST[@]}" --retries 2
cmp "$WWW/vmlinuz" "$WORK/s5/vmlinuz" || fail "mirror copy differs"
[[ $(requests_for '/missing/vmlinuz' | wc -l) == 1 ]] || fail "a 404 must not be retried"
expect_err "HTTP 404; trying the next mirror"
ok "404 then 500 then a good mirror: staged from the third URL"

# Redirect loop: exit 4, named.
make_manifest "$WWW/loop.sh" kernel:vmlinuz:/_f/redirectloop/vmlinuz
run_bootrino 4 fetch "$(pinned loop.sh)" --stage "$WORK/s6" "${FAST[@]}"
expect_err "vmlinuz: .*redirect"
expect_nothing_staged "$WORK/s6"
ok "redirect loop: exit 4"

# A short redirect chain is followed.
make_manifest "$WWW/chain.sh" kernel:vmlinuz:/_f/redirectchain=3/vmlinuz
run_bootrino 0 fetch "$(pinned chain.sh)" --stage "$WORK/s7" "${FAST[@]}"
ok "3-hop redirect chain followed"

# At most 10 redirects (SECURITY.md, fetch/transfer.cc): 10 are followed, an 11th is refused; and a redirect
# to a scheme other than http or https is never followed.
make_manifest "$WWW/chain10.sh" kernel:vmlinuz:/_f/redirectchain=10/vmlinuz
run_bootrino 0 fetch "$(pinned chain10.sh)" --stage "$WORK/s10" "${FAST[@]}"
make_manifest "$WWW/chain11.sh" kernel:vmlinuz:/_f/redirectchain=11/vmlinuz
run_bootrino 4 fetch "$(pinned chain11.sh)" --stage "$WORK/s11" "${FAST[@]}" --retries 1
expect_err "vmlinuz: .*redirect"
expect_nothing_staged "$WORK/s11"
make_manifest "$WWW/toftp.sh" kernel:vmlinuz:/_f/redirect=ftp%3A%2F%2F127.0.0.1%2Fvmlinuz/vmlinuz
run_bootrino 4 fetch "$(pinned toftp.sh)" --stage "$WORK/s12" "${FAST[@]}" --retries 1
expect_nothing_staged "$WORK/s12"
ok "10 redirects are followed, an 11th is refused; a redirect to ftp:// is not followed (exit 4)"

# A stalled transfer is abandoned after --stall-timeout and resumed.
make_manifest "$WWW/stall.sh" kernel:vmlinuz:/_f/stall=20@100000,once/vmlinuz
start=$(date +%s)
run_bootrino 0 fetch "$(pinned stall.sh)" --stage "$WORK/s8" "${FAST[@]}"
(($(date +%s) - start < 15)) || fail "the stall was not cut short by --stall-timeout"
requests_for '/_f/stall' | grep '"range": "bytes=' >/dev/null || fail "no resume after the stall"
ok "stalled transfer abandoned after the stall timeout and resumed"

# Nothing listening: connection refused, exit 4.
port=$(free_port)
run_bootrino 4 inspect "http://127.0.0.1:$port/bootrino.sh#sha256=$(printf 'a%.0s' {1..64})" "${FAST[@]}" --retries 2
expect_err "fetching the manifest: bootrino.sh: http://127.0.0.1:$port/bootrino.sh: .*after 2 tries"
ok "connection refused: exit 4 after 2 tries"

# A host name that does not resolve (c-ares reads /etc/hosts and resolv.conf; no NSS).
run_bootrino 4 inspect "http://bootrino-test.invalid/bootrino.sh#sha256=$(printf 'a%.0s' {1..64})" "${FAST[@]}" --retries 1
expect_err "resolve"
ok "unresolvable host: exit 4"

# Several files in parallel, some faulty, all verified.
make_manifest "$WWW/par.sh" kernel:vmlinuz:/_f/drop=40%25,once/vmlinuz initrd:initrd.gz:/_f/status=502x1/initrd.gz
run_bootrino 0 fetch "$(pinned par.sh)" --stage "$WORK/s9" "${FAST[@]}" --parallel 2
cmp "$WWW/initrd.gz" "$WORK/s9/initrd.gz" && cmp "$WWW/vmlinuz" "$WORK/s9/vmlinuz" || fail "parallel faults"
ok "parallel transfers with faults: both verified"
