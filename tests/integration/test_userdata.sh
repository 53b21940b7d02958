#!/usr/bin/env bash
# bootrino userdata and run --from-userdata: the reference, trust and settings
# come from cloud-config or a one-liner script in user-data; bad user-data is
# refused with the line at fault, before any request.
source "$(dirname "$0")/lib.sh"
export BOOTRINO_USERDATA_ROOT="$WORK/root"  # never this machine's /var/lib/cloud
mkdir -p "$BOOTRINO_USERDATA_ROOT"
start_fault_server
make_payload vmlinuz 100000
make_payload initrd.gz 100000
make_manifest "$WWW/bootrino.sh" kernel:vmlinuz initrd:initrd.gz
ref=$(pinned bootrino.sh)

cat >"$WORK/cloud.yaml" <<EOF2
#cloud-config
ssh_authorized_keys:
  - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTheTest user@example
bootrino:
  manifest: "$ref"
  hostname: ramos-1
EOF2
run_bootrino 0 userdata --file "$WORK/cloud.yaml" --json
python3 - "$WORK/out" "$ref" <<'PY' || fail "userdata --json"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["manifest"] == sys.argv[2], d
assert d["hostname"] == "ramos-1", d
assert any("FakeKeyForTheTest" in k for k in d["ssh_keys"]), d
PY
ok "userdata --json shows the reference, hostname and SSH key from cloud-config"

run_bootrino "$DRY_RUN_RC" run --from-userdata --userdata-file "$WORK/cloud.yaml" --dry-run
expect_err "user-data from .*cloud.yaml names"
expect_out "kernel +vmlinuz .*verified"
ok "run --from-userdata --dry-run fetches and verifies what user-data names"

# A plain `run REF` gives the RAM OS this instance's SSH keys and hostname too (here from
# cloud-init's saved copy); --no-instance-settings leaves them out; unreadable user-data only warns.
mkdir -p "$BOOTRINO_USERDATA_ROOT/var/lib/cloud/instance"
cp "$WORK/cloud.yaml" "$BOOTRINO_USERDATA_ROOT/var/lib/cloud/instance/user-data.txt"
run_bootrino "$DRY_RUN_RC" run "$ref" --dry-run --json-events "$WORK/events.jsonl"
expect_err "the RAM OS gets 1 SSH key and hostname ramos-1 from /var/lib/cloud/instance/user-data.txt"
python3 - "$WORK/events.jsonl" <<'PY' || fail "no instance event with the key and hostname"
import json, sys
events = [json.loads(l) for l in open(sys.argv[1])]
inst = [e for e in events if e.get("phase") == "instance"]
assert inst and inst[0]["sshKeys"] == 1 and inst[0]["hostname"] == "ramos-1", inst
PY
run_bootrino "$DRY_RUN_RC" run "$ref" --dry-run --no-instance-settings
! grep -q "the RAM OS gets" "$WORK/err" || fail "--no-instance-settings still took the instance's settings"
printf '#cloud-config\nbootrino:\n  manifest: [unclosed\n' >"$BOOTRINO_USERDATA_ROOT/var/lib/cloud/instance/user-data.txt"
run_bootrino "$DRY_RUN_RC" run "$ref" --dry-run
expect_err "warning: this instance's user-data gives the RAM OS nothing: .*line 3"
expect_out "kernel +vmlinuz .*verified"
rm -r "$BOOTRINO_USERDATA_ROOT/var/lib/cloud"
ok "run REF takes the instance's SSH keys and hostname; --no-instance-settings skips them; bad user-data only warns"

printf '#!/bin/sh\ncurl -fsSL https://example.com/install.sh | sh -s -- %s --yes\n' "$ref" >"$WORK/script.sh"
run_bootrino 0 userdata --file "$WORK/script.sh"
expect_out "$(printf '%s' "$ref" | cut -c1-40)"
ok "a one-liner script's reference is found"

printf '#cloud-config\nbootrino:\n  manifest: [unclosed\n' >"$WORK/bad.yaml"
before=$(wc -l <"$FS_LOG")
run_bootrino 2 run --from-userdata --userdata-file "$WORK/bad.yaml" --dry-run
expect_err "line 3"
[[ $(wc -l <"$FS_LOG") == "$before" ]] || fail "bad user-data still made requests"
printf '#cloud-config\nbootrino:\n  manifets: x\n' >"$WORK/typo.yaml"
run_bootrino 2 userdata --file "$WORK/typo.yaml"
expect_err "manifets"
ok "malformed YAML and unknown keys are refused with the line, before any request"

run_bootrino 2 run --from-userdata --userdata-file "$WORK/script.sh" "$FS_URL/other.sh#sha256=$(printf 'a%.0s' {1..64})" --dry-run
expect_err "user-data .* names"
run_bootrino 2 run --dry-run
expect_err "run needs REF"
ok "conflicting or missing references are usage errors"
