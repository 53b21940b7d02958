#!/usr/bin/env bash
# The binary needs nothing from the host: in an empty chroot holding only
# itself, /etc/hosts and a CA file, it resolves (c-ares, no NSS), speaks TLS
# (mbedTLS) and verifies; with no CA bundle there, it falls back to the
# bundle compiled into it.
source "$(dirname "$0")/lib.sh"
file "$BOOTRINO" | grep -q "statically linked" || fail "$BOOTRINO is not statically linked"
make_payload vmlinuz 100000
make_manifest "$WWW/bootrino.sh" kernel:vmlinuz
bash "$IT_DIR/nginx.sh" start "$WORK/nginx" "$WWW" >/dev/null
trap 'bash "$IT_DIR/nginx.sh" stop "$WORK/nginx" >/dev/null 2>&1 || true; cleanup' EXIT
source "$WORK/nginx/ports.env"
pin="#sha256=$(sha256_of "$WWW/bootrino.sh")"

root="$WORK/root"
mkdir -p "$root/bin" "$root/etc" "$root/tmp"
cp "$BOOTRINO" "$root/bin/bootrino"
cp "$CA_FILE" "$root/ca.pem"
echo "127.0.0.1 localhost" >"$root/etc/hosts"
echo "nameserver 127.0.0.1" >"$root/etc/resolv.conf"
[[ $(find "$root" -type f | wc -l) == 4 ]] || fail "the chroot holds more than it should"

run_bootrino 0 --version  # sanity outside
rc=0
chroot "$root" /bin/bootrino inspect "https://localhost:$HTTPS_PORT/bootrino.sh$pin" --ca-file /ca.pem \
  >"$WORK/out" 2>"$WORK/err" || rc=$?
[[ $rc == 0 ]] || fail "inspect in an empty chroot exited $rc"
expect_out "integration test OS 1.0"
ok "in an empty chroot: localhost resolved from /etc/hosts, TLS verified with --ca-file"

rc=0
chroot "$root" /bin/bootrino inspect "https://localhost:$HTTPS_PORT/bootrino.sh$pin" --retries 1 \
  >"$WORK/out" 2>"$WORK/err" || rc=$?
[[ $rc == 4 ]] || fail "without a CA bundle: exit $rc, expected 4"
expect_err "TLS certificate not trusted"
ok "no CA bundle on the host: the embedded bundle is used (and does not trust the test CA)"
