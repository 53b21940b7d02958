#!/usr/bin/env bash
# What a manifest (or a reference) may put in front of a person or the stager:
# terminal escape sequences are shown, never acted on; a key given twice, two
# files on one path and running out of file descriptors are manifest errors
# (exit 7) that say what to do; a reference that is not UTF-8 is a usage error.
source "$(dirname "$0")/lib.sh"
start_fault_server
make_payload vmlinuz 20000
make_payload initrd.gz 20000

# write_manifest OUT JSON: a bootrino.sh around a metadata block written as is.
write_manifest() { printf %s "$2" | python3 "$TESTS_LIB/manifest.py" wrap "$1"; }
# file_entry NAME [URL]: a payload entry for $WWW/NAME.
file_entry() {
  printf '{"url": "%s", "name": "%s", "size": %d, "sha256": "%s"}' "${2:-$1}" "$1" "$(stat -c %s "$WWW/$1")" \
    "$(sha256_of "$WWW/$1")"
}

# no_controls FILE...: no C0 control but \n, no DEL, no C1 control (UTF-8 or raw byte) in FILE.
no_controls() {
  python3 - "$@" <<'PY' || fail "raw control characters reached the terminal output"
import re, sys
for path in sys.argv[1:]:
    data = open(path, "rb").read()
    bad = re.search(rb"[\x00-\x09\x0b-\x1f\x7f]|\xc2[\x80-\x9f]", data)
    text = data.decode("utf-8", errors="replace")
    assert bad is None and "\ufffd" not in text, (path, data[max(0, (bad.start() if bad else 0) - 20):][:80])
PY
}

# --- 6. Terminal control characters from the manifest are escaped in every text output.
evil_name='Evil \u001b]0;pwned\u0007\u001b[2J OS'
write_manifest "$WWW/evil.sh" "{\"name\": \"$evil_name\", \"version\": \"1\\u001b[1A\",
  \"description\": \"line\\rFAKE: verified by nobody\\u009b31m\",
  \"author\": {\"name\": \"a\\u0008b\", \"email\": \"e\\u001b[8m@x\"}, \"tags\": [\"t\\u007f\"],
  \"boot\": {\"schema\": 1, \"architectures\": {\"x86_64\": {\"kernel\": $(file_entry vmlinuz),
    \"initrds\": [$(file_entry initrd.gz)], \"cmdline\": \"console=ttyS0 \\u001b]2;title\\u0007\"},
    \"aarch64\": {\"kernel\": $(file_entry vmlinuz 'vmlinuz\u001b[5m')}}}}"
ref=$(pinned evil.sh)
run_bootrino 0 inspect "$ref"
no_controls "$WORK/out" "$WORK/err"
expect_out 'Evil \\x1b\]0;pwned\\x07\\x1b\[2J OS 1\\x1b\[1A'
expect_out 'line\\x0dFAKE: verified by nobody\\u009b31m'
expect_out 'console=ttyS0 \\x1b\]2;title\\x07'
ok "inspect: the manifest's escape sequences are shown as \\x1b…, not sent to the terminal"

run_bootrino 0 fetch "$ref" --stage "$WORK/stage" --no-hooks
no_controls "$WORK/out" "$WORK/err"
ok "fetch: no raw control characters in its output"

run_bootrino "$DRY_RUN_RC" run "$ref" --dry-run
no_controls "$WORK/out" "$WORK/err"
expect_out 'plan for x86_64 .*: Evil \\x1b\]0;pwned'
expect_out 'cmdline .*\\x1b\]2;title\\x07'
ok "run --dry-run: the plan escapes them too"

# In error messages as well: a bad value quoted back to the user.
write_manifest "$WWW/evil-error.sh" "{\"name\": \"x\", \"boot\": {\"schema\": 1, \"personalisation\": \"\\u001b[2Jnone\",
  \"architectures\": {\"x86_64\": {\"kernel\": $(file_entry vmlinuz)}}}}"
run_bootrino 7 inspect "$(pinned evil-error.sh)"
no_controls "$WORK/out" "$WORK/err"
expect_err 'boot.personalisation "\\x1b\[2Jnone" is not one of'
ok "errors quoting the manifest escape its control characters"

# --- 1. A key given twice: nlohmann would keep the last, other readers the first.
write_manifest "$WWW/dup.sh" "{\"name\": \"x\", \"boot\": {\"schema\": 1, \"architectures\": {\"x86_64\": {
  \"kernel\": $(file_entry vmlinuz),
  \"cmdline\": \"console=ttyS0\",
  \"cmdline\": \"console=ttyS0 init=/bin/evil\"}}}}"
run_bootrino 7 inspect "$(pinned dup.sh)"
expect_err 'error: .*line 6: the key "cmdline" appears twice in one object'
ok "a key given twice is a manifest error naming the key and its line (exit 7)"

# --- 4. Two files on one path: on FAT "Initrd.gz" and "initrd.gz" are one file.
cp "$WWW/initrd.gz" "$WWW/Initrd.gz"
write_manifest "$WWW/same.sh" "{\"name\": \"x\", \"boot\": {\"schema\": 1, \"architectures\": {\"x86_64\": {
  \"kernel\": $(file_entry vmlinuz), \"initrds\": [$(file_entry initrd.gz), $(file_entry Initrd.gz)]}}}}"
run_bootrino 7 fetch "$(pinned same.sh)" --stage "$WORK/stage-same"
expect_err 'the files "initrd.gz" and "Initrd.gz" would land on the same path'
expect_err 'what to do: give each file a distinct "name"'
expect_nothing_staged "$WORK/stage-same"
ok "two files on one staged path: exit 7, nothing staged"

# --- 4. Out of file descriptors while staging: every staged file is held open until all are verified.
files=""
for i in $(seq 1 40); do
  make_payload "many/f$i" 100
  files+="${files:+, }$(file_entry "many/f$i")"
done
write_manifest "$WWW/many.sh" "{\"name\": \"x\", \"boot\": {\"schema\": 1, \"architectures\": {\"x86_64\": {
  \"kernel\": $(file_entry vmlinuz), \"files\": [$files]}}}}"
# A sanitizer's runtime needs descriptors of its own (UBSan's pointer checks write to a pipe, ASan reads
# /proc/self/maps), so under ASan the limit breaks the checker, not bootrino: the case runs in the main tier's
# static build, and the sanitize tier says it left it out.
if grep -q __asan_init "$BOOTRINO" 2>/dev/null; then
  echo "not run here - out of file descriptors: a sanitizer build cannot run with its descriptors exhausted"
else
  rc=0
  (ulimit -n 24 && exec "$BOOTRINO" fetch "$(pinned many.sh)" --stage "$WORK/stage-many" "${FAST[@]}") \
    >"$WORK/out" 2>"$WORK/err" </dev/null || rc=$?
  [[ $rc == 7 ]] || fail "out of file descriptors: exit $rc, expected 7"
  expect_err 'error: staging many/f[0-9]+: out of file descriptors \(Too many open files\); the manifest names 41 files'
  expect_err 'what to do: raise the limit of open files \(ulimit -n 105\)'
  expect_nothing_staged "$WORK/stage-many"
  run_bootrino 0 fetch "$(pinned many.sh)" --stage "$WORK/stage-many"
  ok "out of file descriptors while staging: exit 7 with the limit to set; with it, the same manifest stages"
fi

# --- 5. A reference that is not UTF-8 (a Latin-1 shell, a mangled copy) is a usage error.
run_bootrino 2 inspect "$FS_URL/caf$(printf '\xe9')/bootrino.sh#sha256=$(printf '0%.0s' {1..64})" --json-events "$WORK/ev.json"
expect_err 'manifest reference: it is not UTF-8 text'
no_controls "$WORK/err"
run_bootrino 2 run "$FS_URL/$(printf '\xff\xfe')bootrino.sh" --dry-run --insecure --json-events "$WORK/ev.json"
expect_err 'manifest reference: it is not UTF-8 text'
ok "a reference that is not UTF-8: exit 2"
