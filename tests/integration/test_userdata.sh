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
ok "run REF takes the instance's SSH keys and hostname; --no-instance-settings skips them; bad user-data only warns"

# When cloud-init ran, its record of the instance (/run/cloud-init/instance-data.json) gives the platform's SSH keys
# and hostname, and no metadata service is asked, even on a host whose DMI names AWS; without the record, AWS's is.
rm -f "$BOOTRINO_USERDATA_ROOT/var/lib/cloud/instance/user-data.txt"
export BOOTRINO_IMDS_URL="$FS_URL/imds"  # the fault server, which logs every request
mkdir -p "$BOOTRINO_USERDATA_ROOT/sys/class/dmi/id" "$BOOTRINO_USERDATA_ROOT/run/cloud-init"
echo "Amazon EC2" >"$BOOTRINO_USERDATA_ROOT/sys/class/dmi/id/sys_vendor"
record_key="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG2N9j80sbaY1nmljEToRcN55XktyW4TR4LTP2exYzpQ record@cloud-init"
cat >"$BOOTRINO_USERDATA_ROOT/run/cloud-init/instance-data.json" <<EOF2
{"v1": {"cloud_name": "aws", "platform": "ec2", "region": "eu-west-3", "instance_id": "i-0123456789abcdef0",
        "local_hostname": "ip-172-31-5-9.eu-west-3.compute.internal", "public_ssh_keys": ["$record_key"]}}
EOF2
run_bootrino 0 userdata --json
python3 - "$WORK/out" "$record_key" <<'PY' || fail "userdata --json with cloud-init's record: $(cat "$WORK/out")"
import json, sys
d = json.load(open(sys.argv[1]))
record = "cloud-init's /run/cloud-init/instance-data.json"
assert d["cloud"] == "aws" and d["ssh_keys"] == [sys.argv[2]], d
assert d["hostname"] == "ip-172-31-5-9.eu-west-3.compute.internal", d
assert d["from"] == {"hostname": record, "ssh_keys": [record]}, d["from"]
assert d["instance_data"]["region"] == "eu-west-3" and d["instance_data"]["instance_id"] == "i-0123456789abcdef0", d
assert d["metadata_service"] == "", d
assert not [n for n in d["notes"] if "metadata service answered" in n or n.startswith("this host is")], d["notes"]
PY
run_bootrino "$DRY_RUN_RC" run "$ref" --dry-run
expect_err "the RAM OS gets 1 SSH key and hostname ip-172-31-5-9.eu-west-3.compute.internal from cloud-init's /run/cloud-init/instance-data.json"
mv "$BOOTRINO_USERDATA_ROOT/run/cloud-init/instance-data.json" "$WORK/record.json"
run_bootrino 0 userdata --json
python3 - "$WORK/out" "$FS_URL/imds/latest/api/token" <<'PY' || fail "without cloud-init's record: $(cat "$WORK/out")"
import json, sys
notes = json.load(open(sys.argv[1]))["notes"]
# The fault server answers AWS's token PUT with 501: asked, and not believed.
assert any(n.startswith("no metadata service answered (aws: PUT " + sys.argv[2]) for n in notes), notes
PY
# Malformed user-data loses its own keys, not the platform's: a plain run warns and still takes the record's.
mkdir -p "$BOOTRINO_USERDATA_ROOT/var/lib/cloud/instance"
printf '#cloud-config\nbootrino:\n  manifest: [unclosed\n' >"$BOOTRINO_USERDATA_ROOT/var/lib/cloud/instance/user-data.txt"
mv "$WORK/record.json" "$BOOTRINO_USERDATA_ROOT/run/cloud-init/instance-data.json"
run_bootrino "$DRY_RUN_RC" run "$ref" --dry-run
expect_err "warning: this instance's user-data gives the RAM OS nothing: .*line 3"
expect_err "the RAM OS gets 1 SSH key and hostname ip-172-31-5-9.eu-west-3.compute.internal from cloud-init's"
run_bootrino 2 userdata
expect_err "line 3"
rm -r "$BOOTRINO_USERDATA_ROOT/sys" "$BOOTRINO_USERDATA_ROOT/run" "$BOOTRINO_USERDATA_ROOT/var/lib/cloud/instance/user-data.txt"
ok "cloud-init's record gives the keys and hostname and no service is asked; without it, the identified cloud's is"
ok "malformed user-data loses its own keys only: a plain run still takes the platform's"

# A one-liner whose own command line says --insecure and --trust FILE, options only the command line may give
# (cloud-init runs that line as it is): the reader notes and ignores them, and keeps the rest, so `run REF` still
# gives the RAM OS the instance's SSH key and hostname; `userdata --json` lists them; `run --from-userdata`
# refuses to run such user-data at all.
cat >"$BOOTRINO_USERDATA_ROOT/var/lib/cloud/instance/user-data.txt" <<EOF2
#cloud-config
hostname: ramos-2
ssh_authorized_keys:
  - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTheTest user@example
runcmd:
  - curl -fsSL https://example.com/install.sh | sh -s -- $ref --insecure --trust /etc/bootrino/key.pem --yes
EOF2
run_bootrino "$DRY_RUN_RC" run "$ref" --dry-run
expect_err "the RAM OS gets 1 SSH key and hostname ramos-2 from /var/lib/cloud/instance/user-data.txt"
expect_err "warning: user-data from /var/lib/cloud/instance/user-data.txt: .bootrino run --insecure. \(runcmd at line 6, column 5\) is ignored"
expect_err "warning: .*bootrino run --trust. \(runcmd at line 6, column 5\) is ignored: only the command line may give --trust"
run_bootrino 0 userdata --json
python3 - "$WORK/out" "$ref" <<'PY' || fail "userdata --json of a one-liner saying --insecure: $(cat "$WORK/out")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["hostname"] == "ramos-2" and len(d["ssh_keys"]) == 1 and d["manifest"] == sys.argv[2], d
assert [(r["flag"], r["where"]) for r in d["refused"]] == [("--insecure", "runcmd at line 6, column 5"),
                                                            ("--trust", "runcmd at line 6, column 5")], d["refused"]
assert "insecure" not in d["options"], d
PY
run_bootrino 2 run --from-userdata --dry-run
expect_err "runcmd at line 6, column 5: .bootrino run --insecure. cannot come from user-data"
rm -r "$BOOTRINO_USERDATA_ROOT/var/lib/cloud"
ok "a one-liner saying --insecure or --trust FILE loses the RAM OS nothing, is listed, and is never run from user-data"

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

# One table of options for the command line and user-data (docs/userdata.md): user-data's `fallback: reboot`
# reaches the plan, the command line's --fallback survives --from-userdata, and user-data cannot turn
# verification off. Metadata requests go to the fault server's /imds/, which knows no cloud.
export BOOTRINO_IMDS_URL="$FS_URL/imds"
others() { grep -vc '"/imds/' "$FS_LOG" || true; }  # requests for anything but the metadata service
fallback_is() {
  python3 - "$WORK/out" "$1" <<'PY' || fail "the plan's fallback is not $1"
import json, sys
plan = json.load(open(sys.argv[1]))
assert plan["fallback"] == sys.argv[2], plan.get("fallback")
PY
}
printf '#cloud-config\nbootrino:\n  manifest: "%s"\n  options:\n    fallback: reboot\n' "$ref" >"$WORK/fallback.yaml"
run_bootrino "$DRY_RUN_RC" run --from-userdata --userdata-file "$WORK/fallback.yaml" --dry-run --json
fallback_is reboot
run_bootrino "$DRY_RUN_RC" run --from-userdata --userdata-file "$WORK/cloud.yaml" --dry-run --json --fallback=reboot
fallback_is reboot
run_bootrino "$DRY_RUN_RC" run --from-userdata --userdata-file "$WORK/fallback.yaml" --dry-run --json --fallback=none
fallback_is none
ok "fallback from user-data reaches the plan; the command line's --fallback survives --from-userdata and wins"

printf '#cloud-config\nbootrino:\n  manifest: "%s"\n  options: {insecure: true}\n' "$ref" >"$WORK/insecure.yaml"
printf '#!/bin/sh\nbootrino run %s --insecure --yes\n' "$FS_URL/unpinned.sh" >"$WORK/insecure.sh"
cp "$WWW/bootrino.sh" "$WWW/unpinned.sh"
printf '#cloud-config\nbootrino:\n  manifest: %s\n  yes: false\n' "$FS_URL/unpinned.sh" >"$WORK/unpinned.yaml"
before=$(others)
run_bootrino 2 run --from-userdata --userdata-file "$WORK/insecure.yaml" --dry-run
expect_err "bootrino.options.insecure cannot come from user-data: user-data must not be able to turn verification off"
expect_err "what to do: the command line must say it"
run_bootrino 2 run --from-userdata --userdata-file "$WORK/insecure.sh" --dry-run
expect_err "line 2: .bootrino run --insecure. cannot come from user-data"
run_bootrino 0 userdata --file "$WORK/insecure.sh"
expect_err "warning: user-data from .*insecure.sh: .bootrino run --insecure. \(script, line 2\) is ignored: only the command line may give --insecure"
# Unpinned and unsigned: the same refusal as `run URL` (exit 3, verification), before any request.
run_bootrino 3 run --from-userdata --userdata-file "$WORK/unpinned.yaml" --dry-run
expect_err "neither pinned by hash nor signed, and user-data cannot say --insecure"
[[ $(others) == "$before" ]] || fail "refused user-data still made requests: $(grep -v '"/imds/' "$FS_LOG")"
run_bootrino "$DRY_RUN_RC" run --from-userdata --userdata-file "$WORK/unpinned.yaml" --dry-run --insecure
expect_err "\*\*\* --insecure: .*unpinned.sh is neither pinned nor signed"
ok "user-data cannot say --insecure, nor name an unverifiable manifest unless the command line says --insecure"

# install.sh's own options in the README's one-liner concern the install and are skipped: a binary pinned with
# --sha256 or checked with --key still names the manifest and the run's flags. --install-only runs no bootrino:
# `bootrino userdata` notes it and takes no manifest from that line.
printf '#!/bin/sh\ncurl -fsSL https://example.com/install.sh | sh -s -- --sha256 %s --key /etc/k.pem %s --base-url=https://example.com/r --trust-server --yes\n' \
  "$(printf 'b%.0s' {1..64})" "$ref" >"$WORK/pinned.sh"
run_bootrino 0 userdata --file "$WORK/pinned.sh" --json
python3 - "$WORK/out" "$ref" <<'PY' || fail "the one-liner with install.sh options: $(cat "$WORK/out")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["manifest"] == sys.argv[2] and d["yes"] is True, d
assert not any("install.sh" in n for n in d["notes"]), d
PY
run_bootrino "$DRY_RUN_RC" run --from-userdata --userdata-file "$WORK/pinned.sh" --dry-run
expect_out "kernel +vmlinuz .*verified"
printf '#!/bin/sh\ncurl -fsSL https://example.com/install.sh | sh -s -- --sha256 %s %s --insecure\n' \
  "$(printf 'b%.0s' {1..64})" "$ref" >"$WORK/pinned-insecure.sh"
run_bootrino 2 run --from-userdata --userdata-file "$WORK/pinned-insecure.sh" --dry-run
expect_err "line 2: .bootrino run --insecure. cannot come from user-data"
printf '#cloud-config\nruncmd:\n  - curl -fsSL https://example.com/install.sh | sh -s -- --install-only --dir /opt/b\n' \
  >"$WORK/install-only.yaml"
run_bootrino 0 userdata --file "$WORK/install-only.yaml"
expect_out "note: .*install.sh --install-only installs bootrino and does not run it: no manifest or options"
expect_out "user-data names no manifest"
ok "install.sh's own options in a one-liner are skipped, --insecure is still refused, --install-only names nothing"

# A status URL from user-data goes in the clear only to this machine. The run has no network (unshare -n), so
# that not even a regression could send an event to 192.0.2.1.
printf '#cloud-config\nbootrino:\n  manifest: "%s"\n  status_url: http://192.0.2.1/events\n' "$ref" >"$WORK/status.yaml"
rc=0
# (unshare execs bootrino in its own process: the pid the stage directory would be named after.)
(echo "$BASHPID" >"$WORK/bootrino.pid" && exec unshare -n "$BOOTRINO" run --from-userdata \
  --userdata-file "$WORK/status.yaml" --dry-run) >"$WORK/out" 2>"$WORK/err" </dev/null || rc=$?
[[ $rc == 2 ]] || fail "an http:// status URL to another machine from user-data exited $rc, expected 2"
expect_no_stage_left "$(cat "$WORK/bootrino.pid")"
expect_err "status_url is plain http:// to another machine \(192.0.2.1\)" && expect_err "--status-url-insecure"
ok "an http:// status URL to another machine from user-data is refused"

# `bootrino userdata` shows no credential of the URLs it found, in text or JSON.
cred_ref=$(pinned_ref "${FS_URL/http:\/\//http://user:hunter2@}" "$WWW" bootrino.sh)
printf '#cloud-config\nbootrino:\n  manifest: "%s"\n  status_url: "https://ops.example/e?token=hunter2"\n' \
  "$cred_ref" >"$WORK/cred.yaml"
for format in "" --json; do
  run_bootrino 0 userdata --file "$WORK/cred.yaml" $format
  ! grep -q hunter2 "$WORK/out" "$WORK/err" || fail "userdata $format printed a credential: $(grep hunter2 "$WORK/out")"
done
ok "userdata redacts the credentials in the manifest and status URLs"

# --no-instance-settings leaves out user-data's SSH keys and hostname under --from-userdata too, and the
# run's refusals reach --json-events.
# (Tiny Core's personalisation puts the hostname on the kernel command line, so the plan shows whether it got it.)
BOOT_EXTRA='"personalisation": "tinycore-mydata"' make_manifest "$WWW/tc.sh" kernel:vmlinuz initrd:initrd.gz
printf '#cloud-config\nbootrino:\n  manifest: "%s"\n  hostname: ramos-1\n' "$(pinned tc.sh)" >"$WORK/tc.yaml"
run_bootrino "$DRY_RUN_RC" run --from-userdata --userdata-file "$WORK/tc.yaml" --dry-run --json
grep -q 'host=ramos-1' "$WORK/out" || fail "the plan does not show user-data's hostname: $(head -c 300 "$WORK/out")"
run_bootrino "$DRY_RUN_RC" run --from-userdata --userdata-file "$WORK/tc.yaml" --dry-run --json --no-instance-settings
! grep -q 'ramos-1' "$WORK/out" || fail "--no-instance-settings under --from-userdata still gave the RAM OS the hostname"
run_bootrino 2 run --from-userdata --userdata-file "$WORK/insecure.yaml" --dry-run --json-events "$WORK/refused.jsonl"
grep -q '"phase":"userdata"' "$WORK/refused.jsonl" || fail "a refused --from-userdata run left no event"
ok "--no-instance-settings holds under --from-userdata; its refusals are events"
