#!/usr/bin/env bash
# valgrind memcheck over bootrino's main paths: inspect (pinned, signed, over
# HTTPS), fetch with a hook, a resumed transfer and a tampered file, and
# run --dry-run, against the loopback fault server and nginx. Any invalid
# access, use of uninitialised memory or definite leak fails the test.
#
# $BOOTRINO here is bootrino-dynamic: the static binary's own objects, linked
# against the shared libc. memcheck cannot check a static glibc program: it
# cannot replace the malloc inside it, and takes the brk memory glibc keeps its
# TLS and calloc'd blocks in for uninitialised, so every run reports hundreds
# of false errors from inside glibc (SECURITY.md, "How this is checked").
source "$(dirname "$0")/../integration/lib.sh"
command -v valgrind >/dev/null || fail "valgrind is missing: apt-get install valgrind (tests/run.sh installs it)"

VG_LOG="$WORK/valgrind.%p.log"
VALGRIND=(valgrind --tool=memcheck --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect
          --errors-for-leak-kinds=definite,indirect --child-silent-after-fork=yes --log-file="$VG_LOG")

# memcheck BOOTRINO_ARGS...: like run_bootrino, under valgrind (exit 99: memcheck found errors).
memcheck() {
  local expected=$1 rc=0 log
  shift
  rm -f "$WORK"/valgrind.*.log
  "${VALGRIND[@]}" "$BOOTRINO" "$@" >"$WORK/out" 2>"$WORK/err" </dev/null || rc=$?
  if [[ $rc != "$expected" ]]; then
    for log in "$WORK"/valgrind.*.log; do [[ -f $log ]] && tail -n 60 "$log" >&2; done
    fail "valgrind bootrino $* exited $rc, expected $expected (99: memcheck errors, above)"
  fi
}

start_fault_server
make_payload vmlinuz 300000
make_payload initrd.gz 200000
make_payload modloop 100000
make_manifest "$WWW/bootrino.sh" kernel:vmlinuz initrd:initrd.gz file:modloop
BOOT_EXTRA='"hooks": {"afterStage": {"timeoutSeconds": 30}}' \
MANIFEST_TAIL='bootrino_after_stage() { test -s "$BOOTRINO_STAGE_DIR/vmlinuz"; }
' make_manifest "$WWW/hook.sh" kernel:vmlinuz initrd:initrd.gz
make_manifest "$WWW/resume.sh" "kernel:vmlinuz:/_f/drop=50%25,once/vmlinuz" initrd:initrd.gz
make_payload other.gz 200000
make_manifest "$WWW/tampered.sh" kernel:vmlinuz initrd:initrd.gz:other.gz  # serves other bytes of the same size

memcheck 3 fetch "$(pinned tampered.sh)" --stage "$WORK/s0" "${FAST[@]}"
expect_err "sha256 mismatch"
expect_nothing_staged "$WORK/s0"
ok "memcheck: a tampered file is refused (exit 3)"

memcheck 0 inspect "$(pinned bootrino.sh)" --json
ok "memcheck: inspect of a pinned manifest"

openssl ecparam -name prime256v1 -genkey -noout -out "$WORK/key.pem" 2>/dev/null
openssl ec -in "$WORK/key.pem" -pubout -out "$WORK/key.pub.pem" 2>/dev/null
openssl dgst -sha256 -sign "$WORK/key.pem" -out "$WWW/bootrino.sh.sig" "$WWW/bootrino.sh"
memcheck 0 inspect "$FS_URL/bootrino.sh" --trust "$WORK/key.pub.pem"
expect_out "signature by"
ok "memcheck: inspect of a signed manifest (ECDSA P-256 through mbedTLS)"

memcheck 0 fetch "$(pinned hook.sh)" --stage "$WORK/s1" "${FAST[@]}"
cmp "$WWW/vmlinuz" "$WORK/s1/vmlinuz" || fail "staged kernel differs"
ok "memcheck: fetch with the after-stage hook"

memcheck 0 fetch "$(pinned resume.sh)" --stage "$WORK/s2" "${FAST[@]}"
[[ $(requests_for /vmlinuz | grep -c '"range": "bytes=') -ge 1 ]] || fail "the dropped transfer was not resumed"
ok "memcheck: a transfer dropped at 50 % is resumed with Range"

memcheck "$DRY_RUN_RC" run "$(pinned bootrino.sh)" --dry-run "${FAST[@]}"
expect_out "dry run: every file was fetched into RAM and verified"
ok "memcheck: run --dry-run (exit $DRY_RUN_RC on this host)"

bash "$IT_DIR/nginx.sh" start "$WORK/nginx" "$WWW" >/dev/null
trap 'bash "$IT_DIR/nginx.sh" stop "$WORK/nginx" >/dev/null 2>&1 || true; cleanup' EXIT
source "$WORK/nginx/ports.env"
memcheck 0 fetch "$(pinned_ref "https://localhost:$HTTPS_PORT" "$WWW" bootrino.sh)" \
  --ca-file "$CA_FILE" --stage "$WORK/s3"
memcheck 4 inspect "https://localhost:$HTTPS_SELFSIGNED_PORT/bootrino.sh$(pinned bootrino.sh | sed 's/.*#/#/')" \
  --ca-file "$CA_FILE" "${FAST[@]}" --retries 1
expect_err "TLS certificate not trusted"
ok "memcheck: HTTPS fetch with the test CA, and a refused self-signed certificate"
