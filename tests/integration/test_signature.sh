#!/usr/bin/env bash
# Signed manifests: bootrino.sh.sig made by openssl verifies with --trust;
# a bad signature, a missing one, or the wrong key exits 3 with nothing staged.
source "$(dirname "$0")/lib.sh"
start_fault_server
make_payload vmlinuz 100000
make_manifest "$WWW/bootrino.sh" kernel:vmlinuz
cd "$WORK"
openssl ecparam -name prime256v1 -genkey -noout -out key.pem 2>/dev/null
openssl ec -in key.pem -pubout -out key.pub.pem 2>/dev/null
openssl ecparam -name prime256v1 -genkey -noout -out other.pem 2>/dev/null
openssl ec -in other.pem -pubout -out other.pub.pem 2>/dev/null
openssl dgst -sha256 -sign key.pem -out "$WWW/bootrino.sh.sig" "$WWW/bootrino.sh"

run_bootrino 0 fetch "$FS_URL/bootrino.sh" --trust key.pub.pem --stage "$WORK/s1"
expect_out "verified by signature by key.pub.pem"
cmp "$WWW/vmlinuz" "$WORK/s1/vmlinuz" || fail "staged file differs"
ok "signed manifest verified with --trust, payload staged"

run_bootrino 0 inspect "$FS_URL/bootrino.sh" --trust other.pub.pem --trust key.pub.pem
ok "any of several trusted keys may have signed"

run_bootrino 0 inspect "$(pinned bootrino.sh)" --trust key.pub.pem
expect_out "verified +sha256 pin and signature by key.pub.pem"
ok "pin and signature together"

run_bootrino 3 fetch "$FS_URL/bootrino.sh" --trust other.pub.pem --stage "$WORK/s2"
expect_err "does not verify with any trusted key \(tried: other.pub.pem\)"
expect_nothing_staged "$WORK/s2"
ok "wrong key: exit 3, nothing staged"

# The manifest changed after signing (a payload hash swapped by an attacker).
cp "$WWW/bootrino.sh" "$WORK/orig.sh"
sed -i 's/"version": "1.0"/"version": "1.1"/' "$WWW/bootrino.sh"
run_bootrino 3 fetch "$FS_URL/bootrino.sh" --trust key.pub.pem --stage "$WORK/s3"
expect_err "bootrino.sh.sig at $FS_URL/bootrino.sh.sig: the signature does not verify"
expect_nothing_staged "$WORK/s3"
cp "$WORK/orig.sh" "$WWW/bootrino.sh"
ok "manifest altered after signing: exit 3, nothing staged"

head -c 72 /dev/urandom >"$WWW/bootrino.sh.sig"
run_bootrino 3 inspect "$FS_URL/bootrino.sh" --trust key.pub.pem
ok "garbage signature: exit 3"

rm "$WWW/bootrino.sh.sig"
run_bootrino 4 inspect "$FS_URL/bootrino.sh" --trust key.pub.pem "${FAST[@]}"
expect_err "bootrino.sh.sig: $FS_URL/bootrino.sh.sig: HTTP 404"
ok "missing signature: the fetch of bootrino.sh.sig fails (exit 4)"

# The signature is capped at 4 KiB while it streams: a 50 MB one is cut off, not read to its end.
mkdir -p "$WWW/bigsig"
cp "$WWW/bootrino.sh" "$WWW/bigsig/bootrino.sh"
truncate -s 50000000 "$WWW/bigsig/bootrino.sh.sig"
run_bootrino 3 inspect "$FS_URL/bigsig/bootrino.sh" --trust key.pub.pem "${FAST[@]}" --retries 1
sent=$(requests_for '/bigsig/bootrino.sh.sig' | python3 -c 'import json,sys; print(max(json.loads(l)["bytes"] for l in sys.stdin))')
((sent < 10000000)) || fail "the server sent $sent bytes of the signature before bootrino cut it off"
ok "a signature over 4 KiB is refused while it streams (server sent $sent bytes)"
