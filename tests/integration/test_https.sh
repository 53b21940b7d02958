#!/usr/bin/env bash
# HTTPS against a real nginx with a test CA: verified with --ca-file; refused
# (exit 4, with advice) for an unknown CA, an expired certificate, a wrong host
# name and a self-signed one; an https -> http redirect is never followed.
source "$(dirname "$0")/lib.sh"
make_payload vmlinuz 400000
make_payload initrd.gz 300000
# Files named by relative URL, so one manifest works on every port.
make_manifest "$WWW/bootrino.sh" kernel:vmlinuz initrd:initrd.gz
bash "$IT_DIR/nginx.sh" start "$WORK/nginx" "$WWW" >/dev/null
trap 'bash "$IT_DIR/nginx.sh" stop "$WORK/nginx" >/dev/null 2>&1 || true; cleanup' EXIT
source "$WORK/nginx/ports.env"
pin="#sha256=$(sha256_of "$WWW/bootrino.sh")"

run_bootrino 0 fetch "https://localhost:$HTTPS_PORT/bootrino.sh$pin" --ca-file "$CA_FILE" --stage "$WORK/s1"
cmp "$WWW/initrd.gz" "$WORK/s1/initrd.gz" || fail "HTTPS copy differs"
run_bootrino 0 inspect "https://127.0.0.1:$HTTPS_PORT/bootrino.sh$pin" --ca-file "$CA_FILE"
ok "HTTPS with the test CA: fetched and verified (by name and by IP)"

# The suite nginx negotiated for the payloads (its access log): TLS 1.3 with AES-128-GCM where the CPU has AES and
# carry-less multiply instructions (net::Tls13Ciphers; mbedTLS's AES-GCM then runs on Nettle's accelerated code),
# ChaCha20-Poly1305 elsewhere.
if grep -qw aes /proc/cpuinfo && grep -Eqw 'pclmulqdq|pmull' /proc/cpuinfo; then
  want=TLSv1.3/TLS_AES_128_GCM_SHA256
else
  want=TLSv1.3/TLS_CHACHA20_POLY1305_SHA256
fi
got=$(grep -E ":$HTTPS_PORT .*\"GET /(vmlinuz|initrd\.gz) " "$WORK/nginx/access.log" | sed -n 's/.* tls=//p' | sort -u)
[[ $got == "$want" ]] || fail "negotiated '${got//$'\n'/ }' for the payloads, expected $want"
ok "TLS suite negotiated: $want"

run_bootrino 4 inspect "https://localhost:$HTTPS_PORT/bootrino.sh$pin" "${FAST[@]}"
expect_err "TLS certificate not trusted"
expect_err "what to do: .*pass --ca-file"
ok "unknown CA (system bundle only): exit 4"

for kind in EXPIRED WRONGHOST SELFSIGNED; do
  port_var="HTTPS_${kind}_PORT"
  run_bootrino 4 fetch "https://localhost:${!port_var}/bootrino.sh$pin" --ca-file "$CA_FILE" --stage "$WORK/s-$kind" "${FAST[@]}"
  expect_err "TLS certificate not trusted"
  expect_nothing_staged "$WORK/s-$kind"
done
ok "expired, wrong-host and self-signed certificates: exit 4, nothing staged"

# The payload behind an https -> http redirect: refused even though the hash would match.
make_manifest "$WWW/redir.sh" kernel:vmlinuz:/to-http/vmlinuz
rpin="#sha256=$(sha256_of "$WWW/redir.sh")"
run_bootrino 4 fetch "https://localhost:$HTTPS_PORT/redir.sh$rpin" --ca-file "$CA_FILE" --stage "$WORK/s2" "${FAST[@]}"
expect_err "vmlinuz: https://localhost:$HTTPS_PORT/to-http/vmlinuz: refused a redirect .*never follows https to plain http"
expect_nothing_staged "$WORK/s2"
ok "https -> http redirect refused: exit 4"

# http -> https upgrades are fine.
make_manifest "$WWW/up.sh" kernel:vmlinuz:/to-https/vmlinuz
upin="#sha256=$(sha256_of "$WWW/up.sh")"
run_bootrino 0 fetch "http://127.0.0.1:$HTTP_PORT/up.sh$upin" --ca-file "$CA_FILE" --stage "$WORK/s3"
ok "http -> https redirect followed"
