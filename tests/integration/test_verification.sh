#!/usr/bin/env bash
# Tampered payloads and wrong pins: exit 3, the file, URL and both hashes
# named, and nothing staged.
source "$(dirname "$0")/lib.sh"
start_fault_server
make_sample 200000 400000
want=$(sha256sum <"$WWW/initrd.gz" | cut -d' ' -f1)

# Same size, one byte changed after the manifest was made.
printf 'X' | dd of="$WWW/initrd.gz" bs=1 seek=1234 conv=notrunc status=none
got=$(sha256sum <"$WWW/initrd.gz" | cut -d' ' -f1)
run_bootrino 3 fetch "$ref" --stage "$WORK/stage" "${FAST[@]}"
expect_err "initrd.gz: $FS_URL/initrd.gz: sha256 mismatch: expected $want, got $got"
expect_err "what to do: .*nothing was"
expect_nothing_staged "$WORK/stage"
ok "tampered payload: exit 3, hashes named, nothing staged"

# A wrong pin on the manifest itself.
run_bootrino 3 inspect "$FS_URL/bootrino.sh#sha256=$(printf '0%.0s' {1..64})" "${FAST[@]}"
expect_err "the manifest does not match its pin"
run_bootrino 3 fetch "$FS_URL/bootrino.sh#sha256=$(printf 'a%.0s' {1..64})" --stage "$WORK/stage" "${FAST[@]}"
expect_nothing_staged "$WORK/stage"
ok "wrong manifest pin: exit 3, nothing staged"

# Verification comes before parsing: bytes that fail the pin are refused as unverified (exit 3), never read
# as a manifest (which would be exit 7 for these).
printf '#!/bin/sh\nread BOOTRINOJSON <<"BOOTRINOJSONMARKER"\n{ not json\nBOOTRINOJSONMARKER\n' >"$WWW/garbage.sh"
run_bootrino 3 inspect "$FS_URL/garbage.sh#sha256=$(printf 'b%.0s' {1..64})" "${FAST[@]}"
expect_err "the manifest does not match its pin"
run_bootrino 7 inspect "$FS_URL/garbage.sh" --insecure "${FAST[@]}"
ok "a manifest that fails its pin is refused unread (exit 3); the same bytes unverified are a manifest error (7)"

# The manifest is capped at 1 MiB while it streams: a server sending more is cut off, not read to its end.
run_bootrino 3 inspect "$FS_URL/_f/big=50000000/bootrino.sh#sha256=$(sha256sum <"$WWW/bootrino.sh" | cut -d' ' -f1)" \
  "${FAST[@]}" --retries 1
sent=$(requests_for '/_f/big=50000000/bootrino.sh' | python3 -c 'import json,sys; print(max(json.loads(l)["bytes"] for l in sys.stdin))')
((sent < 10000000)) || fail "the server sent $sent bytes of the manifest before bootrino cut it off"
ok "a manifest over 1 MiB is cut off while it streams (server sent $sent bytes)"

# Unpinned and unsigned: refused before any request, unless --insecure.
before=$(wc -l <"$FS_LOG")
run_bootrino 3 inspect "$FS_URL/bootrino.sh"
expect_err "neither pinned by hash nor signed"
expect_err "what to do: pin it"
[[ $(wc -l <"$FS_LOG") == "$before" ]] || fail "an unverifiable manifest was fetched anyway"
run_bootrino 0 inspect "$FS_URL/bootrino.sh" --insecure
expect_err "warning: \*\*\* --insecure"
expect_out "verified +nothing \(--insecure\)"
ok "unpinned unsigned manifest refused without a request; --insecure warns"

# A file larger than declared is cut off at once, not downloaded whole.
make_payload small 1000
make_manifest "$WWW/big.sh" kernel:small:/_f/big=50000000/small
run_bootrino 3 fetch "$(pinned big.sh)" --stage "$WORK/stage" "${FAST[@]}"
expect_err "more than the declared 1000 bytes; cut off"
sent=$(requests_for '/_f/big' | jsonq --lines - 'max(r["bytes"] for r in d)')
((sent < 10000000)) || fail "the server sent $sent bytes before bootrino cut it off"
expect_nothing_staged "$WORK/stage"
ok "oversize file cut off early (server sent $sent bytes), nothing staged"

# A server sending fewer bytes than declared: a size failure, not success.
make_manifest "$WWW/short.sh" kernel:vmlinuz:/_f/len=-1000/vmlinuz
run_bootrino 3 fetch "$(pinned short.sh)" --stage "$WORK/stage" "${FAST[@]}" --retries 1
expect_err "sent 199000 bytes but the manifest says 200000"
expect_nothing_staged "$WORK/stage"
ok "short file: exit 3"
