#!/usr/bin/env bash
# The command-line contract: version, help, usage errors (exit 2), the
# original manifest format (inspect yes, fetch/run no: exit 7).
source "$(dirname "$0")/lib.sh"
start_fault_server

run_bootrino 0 --version
expect_out "^bootrino [0-9]+\.[0-9]+\.[0-9]+"
run_bootrino 0 --help
expect_out "inspect" && expect_out "Exit codes: 0 ok"
for sub in inspect fetch run preflight; do
  run_bootrino 0 "$sub" --help
  expect_out "--json-events"
  [[ $sub == preflight ]] || expect_out "--trust"
done
ok "--version, --help and per-subcommand help"

run_bootrino 2
run_bootrino 2 frobnicate
run_bootrino 2 fetch "$FS_URL/x.sh#sha256=$(printf 'a%.0s' {1..64})"   # no --stage
expect_err "--stage"
run_bootrino 2 inspect "ftp://example.org/bootrino.sh"
expect_err "not an http:// or https:// URL" && expect_err "what to do: write it as"
run_bootrino 2 inspect "$FS_URL/x.sh#sha256=abc"
expect_err "exactly 64 hexadecimal digits"
run_bootrino 2 inspect "$FS_URL/x.sh" --trust /nonexistent.pem
openssl ecparam -name prime256v1 -genkey -noout -out "$WORK/key.pem" 2>/dev/null
run_bootrino 2 inspect "$FS_URL/x.sh" --trust "$WORK/key.pem"
expect_err "this is a private key"
# Replacing the running OS needs an explicit --yes (never given outside tests/vm).
run_bootrino 2 run "$FS_URL/x.sh#sha256=$(printf 'a%.0s' {1..64})"
expect_err "run replaces the operating system" && expect_err "add --yes to confirm, or --dry-run"
[[ ! -s $FS_LOG ]] || fail "run without --yes fetched something"
pin_a="$FS_URL/x.sh#sha256=$(printf 'a%.0s' {1..64})"
run_bootrino 2 run "$pin_a" --dry-run --keep-disk --disk /dev/null
expect_err "contradict" && expect_err "what to do: --keep-disk boots with kexec only"
run_bootrino 2 run "$pin_a" --dry-run --keep-disk --fallback=reboot
expect_err "--fallback=reboot needs the disk"
run_bootrino 2 run "$pin_a" --dry-run --fallback=sometimes
[[ ! -s $FS_LOG ]] || fail "a usage error fetched something"
ok "usage errors exit 2 and say what to do"

# --disk names a whole-disk block device; anything else is refused (a dry run reports it after the plan).
make_payload vmlinuz 1000
make_manifest "$WWW/ok.sh" kernel:vmlinuz
truncate -s 1G "$WORK/disk.img"
run_bootrino "$( ((DRY_RUN_RC)) && echo "$DRY_RUN_RC" || echo 9)" run "$(pinned ok.sh)" --dry-run --disk "$WORK/disk.img"
expect_err "the disk takeover would be refused \(--disk $WORK/disk.img is not a block device\)"
expect_out "disk +not touched"
ok "--disk with a regular file is refused as a disk"

# The original bootrino format: metadata only.
cp "$BOOTRINO_SOURCE/tests/data/manifests/v0-tinycore.sh" "$WWW/v0.sh"
run_bootrino 0 inspect "$(pinned v0.sh)"
expect_out "Install Tiny Core 64 0.0.1 \(2018-01-01T09:00:00Z\)"
expect_out "tags +linux, runfromram, tinycore"
expect_out "no boot section"
run_bootrino 0 inspect "$(pinned v0.sh)" --json
jsonq --check "$WORK/out" 'd["format"]==0 and d["metadata"]["author"]["email"]=="bootrino@example.org"' || fail "v0 --json"
run_bootrino 7 fetch "$(pinned v0.sh)" --stage "$WORK/stage"
expect_err "this manifest has no boot section"
run_bootrino 7 run "$(pinned v0.sh)" --dry-run
expect_nothing_staged "$WORK/stage"
ok "original format: inspect shows it, fetch and run refuse with exit 7"

# A v1 manifest: inspect lists every architecture's payload.
for m in alpine-virt tinycore64; do cp "$BOOTRINO_SOURCE/tests/data/manifests/$m.sh" "$WWW/"; done
run_bootrino 0 inspect "$(pinned alpine-virt.sh)"
expect_out "aarch64:" && expect_out "file +boot/modloop-virt" && expect_out "mirror https://mirror.example.net/"
expect_out "hook +bootrino_after_stage after staging"
run_bootrino 0 inspect "$(pinned tinycore64.sh)" --json
jsonq --check "$WORK/out" 'd["boot"]["personalisation"]=="tinycore-mydata" and
  d["boot"]["architectures"]["x86_64"]["files"][-1]["name"]=="tce/optional/openssh.tcz"' || fail "v1 --json"
run_bootrino 7 fetch "$(pinned tinycore64.sh)" --stage "$WORK/stage" --arch aarch64
expect_err "no payload for aarch64 \(it has: x86_64\)"
ok "v1 manifests: inspect text and JSON; a missing architecture exits 7"

# Malformed manifests: exit 7 and the line at fault.
printf '{\n  "name": "x",,\n}' | python3 "$TESTS_LIB/manifest.py" wrap "$WWW/bad.sh"
run_bootrino 7 inspect "$(pinned bad.sh)"
expect_err "line 4: the metadata block is not valid JSON"
printf '#!/bin/sh\necho hello\n' >"$WWW/nojson.sh"
run_bootrino 7 inspect "$(pinned nojson.sh)"
expect_err "no metadata block"
ok "malformed manifests: exit 7 with the line"

# preflight only reads: its verdict and exit code agree, and every check has a name.
rc=0
"$BOOTRINO" preflight --json >"$WORK/out" 2>"$WORK/err" || rc=$?
python3 - "$WORK/out" "$rc" <<'PY' || fail "preflight --json"
import json, sys
report, rc = json.load(open(sys.argv[1])), int(sys.argv[2])
assert rc == (0 if report["ok"] else 6), (rc, report)
names = [c["name"] for c in report["checks"]]
assert names[:4] == ["architecture", "privileges", "lockdown", "kexec"], names
assert report["arch"] == "x86_64"
PY
run_bootrino "$rc" preflight
expect_out "^ok +architecture +x86_64"
ok "preflight: checks listed, exit code matches its verdict ($rc)"
