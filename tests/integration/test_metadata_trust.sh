#!/usr/bin/env bash
# Spoofed metadata: on a host that is not shown to be AWS, GCP or DigitalOcean, whoever answers
# 169.254.169.254 (a rogue host on the network, a hypervisor that is not the cloud's) must not hand
# bootrino its user-data. Reproduced in a private network namespace (`unshare -n`: only lo, which
# gets 169.254.169.254/32 and Scaleway's 169.254.42.42/32), with tests/lib/fake_metadata.py answering at both
# as AWS, GCP, DigitalOcean and Scaleway at once with an attacker's #cloud-config. BOOTRINO_IMDS_URL
# is not set: bootrino asks the real addresses, which only this namespace has. Nothing leaves the machine.
if [[ -z ${BOOTRINO_TEST_NETNS:-} ]]; then
  for tool in unshare ip python3; do
    command -v "$tool" >/dev/null || { echo "FAIL: $tool is needed (util-linux, iproute2, python3)" >&2; exit 1; }
  done
  exec unshare --net env BOOTRINO_TEST_NETNS=1 bash "$0" "$@"
fi
source "$(dirname "$0")/lib.sh"
unset BOOTRINO_IMDS_URL

ip link set lo up
ip addr add 169.254.169.254/32 dev lo
ip addr add 169.254.42.42/32 dev lo
[[ $(ip -o link show | grep -vc ': lo:') == 0 ]] || fail "the namespace has a link other than lo: $(ip -o link show)"
[[ -z $(ip -4 route show) ]] || fail "the namespace has a route off lo: $(ip -4 route show)"
ok "a private network namespace: only lo, which has 169.254.169.254 and 169.254.42.42"

# The attacker's user-data: a manifest that would take over the disk, and where to report.
TOKEN="attacker-$$-$RANDOM"
cat >"$WORK/evil.yaml" <<EOF
#cloud-config
bootrino:
  manifest: https://$TOKEN.invalid/bootrino.sh#sha256=$(printf '0%.0s' {1..64})
  yes: true
  status_url: https://$TOKEN.invalid/status
EOF
# The attacker's service answers as AWS (IMDSv2), GCP, DigitalOcean and Scaleway at once, the same at both
# addresses; tests/lib/fake_metadata.py enforces what each real service does (AWS's session token, GCP's header,
# Scaleway's source port below 1024 for user-data), so a client that gets the user-data asked as that service would.
ANSWERS="$WORK/answers"
answer() { mkdir -p "$(dirname "$ANSWERS/$1")" && cat >"$ANSWERS/$1"; }  # answer PATH <BODY
KEY="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH13MGrvsr4AXjK0QWPmuhQsIyYojfvUAL97QMfvw8/h eve@attacker"
for path in latest/user-data computeMetadata/v1/instance/attributes/user-data metadata/v1/user-data \
  user_data/cloud-init; do
  answer "$path" <"$WORK/evil.yaml"
done
printf 0=eve | answer latest/meta-data/public-keys/.listing
echo "$KEY" | answer latest/meta-data/public-keys/0/openssh-key
printf attacker-aws | answer latest/meta-data/local-hostname
printf attacker-gcp | answer computeMetadata/v1/instance/hostname
echo "eve:$KEY" | answer computeMetadata/v1/instance/attributes/ssh-keys
printf 3164444 | answer metadata/v1/id
echo "$KEY" | answer metadata/v1/public-keys
printf attacker-do | answer metadata/v1/hostname
printf '{"id": "5a33b4ab-57dd-4eb6-8b0a-d95eb63492ce", "hostname": "attacker-scw", "ssh_public_keys": [%s]}' \
  "{\"key\": \"$KEY\"}" | answer conf  # asked as /conf?format=json
imds_start --one-service "$ANSWERS" "$WORK/imds" 169.254.169.254 80 || fail "no fake service at 169.254.169.254"
imds_start --one-service "$ANSWERS" "$WORK/scaleway" 169.254.42.42 80 || fail "no fake service at 169.254.42.42"
IMDS_LOG="$WORK/imds.log" SCW_LOG="$WORK/scaleway.log"

# A host on no cloud: empty DMI, no /run/cloud-init, no user-data on disk.
ROOT="$WORK/host"
export BOOTRINO_USERDATA_ROOT="$ROOT"
fresh_root() { rm -rf "$ROOT"; mkdir -p "$ROOT/sys/class/dmi/id"; echo QEMU >"$ROOT/sys/class/dmi/id/sys_vendor"; }
asked() { [[ -s $IMDS_LOG || -s $SCW_LOG ]]; }
forget() { : >"$IMDS_LOG" && : >"$SCW_LOG"; }  # the requests so far, at both addresses
no_attacker() { ! grep -q "$TOKEN\|eve@attacker\|attacker-" "$WORK/out" || fail "$1: the attacker's data is reported"; }
# took CLOUD LOG OTHER_LOG REQUEST...: the last run believed the service, as CLOUD's (its metadata and the
# attacker's user-data), having asked at LOG's address each REQUEST (a regular expression over LOG's
# "METHOD PATH FLAVOR" lines) and nothing at OTHER_LOG's.
took() {
  local cloud=$1 log=$2 other=$3 request
  shift 3
  grep -q "\"cloud\": \"$cloud\"" "$WORK/out" || fail "the service was not taken as $cloud's"
  grep -q "$TOKEN" "$WORK/out" || fail "$cloud's user-data was not taken"
  for request in "$@"; do
    grep -q "$request" "$log" || fail "$cloud: no request /$request/ at ${log##*/}: $(cat "$log")"
  done
  [[ ! -s $other ]] || fail "$cloud: ${other##*/}'s address was asked too: $(cat "$other")"
}

fresh_root
run_bootrino 0 userdata --json
python3 - "$WORK/out" <<'PY' || fail "userdata --json on an unidentified host reports user-data"
import json, sys
d = json.load(open(sys.argv[1]))
assert d.get("manifest", "") == "" and d.get("source", "") == "" and d.get("cloud", "") == "", d
assert not d.get("ssh_keys") and not d.get("yes"), d
PY
no_attacker "userdata --json"
asked && fail "the metadata service was asked on an unidentified host: $(cat "$IMDS_LOG" "$SCW_LOG")"
run_bootrino 0 userdata
expect_out "not identified as a cloud bootrino knows"
run_bootrino 2 run --from-userdata --dry-run
expect_err "no user-data found"
no_attacker "run --from-userdata"
asked && fail "run --from-userdata asked the metadata service on an unidentified host: $(cat "$IMDS_LOG")"
ok "an unidentified host asks no metadata service: the attacker's user-data is neither reported nor run"

# A plain `run REF` gives the RAM OS the instance's SSH keys and hostname: from no service here either.
start_fault_server  # the manifest and payload, on this namespace's 127.0.0.1
make_sample 100000 100000
run_bootrino "$DRY_RUN_RC" run "$ref" --dry-run
expect_out "kernel +vmlinuz .*verified"
grep -q "the RAM OS gets" "$WORK/err" && fail "run REF took instance settings from an unidentified host's service"
asked && fail "run REF asked the metadata service on an unidentified host: $(cat "$IMDS_LOG")"
run_bootrino "$DRY_RUN_RC" run "$ref" --dry-run --metadata any
expect_err "the RAM OS gets 1 SSH key and hostname attacker-aws from .*aws metadata"
: >"$IMDS_LOG"
ok "run REF gives the RAM OS nothing from an unidentified host's service, unless --metadata any"

# The opt-in: --metadata any asks all three, and believes what answers.
run_bootrino 0 userdata --json --metadata any
# AWS answers first; GCP and DigitalOcean were asked too; Scaleway's address, never on an unidentified host.
took aws "$IMDS_LOG" "$SCW_LOG" '^PUT /latest/api/token' '^GET /computeMetadata/v1/instance/hostname Google$' \
  '^GET /metadata/v1/id'
ok "--metadata any asks AWS, GCP and DigitalOcean at 169.254.169.254 (the documented opt-in), nothing else"

# Identified by DMI: its own service is asked, at 169.254.169.254 (GCP too: never by DNS name).
fresh_root
echo "Google Compute Engine" >"$ROOT/sys/class/dmi/id/product_name"
forget
run_bootrino 0 userdata --json
took gcp "$IMDS_LOG" "$SCW_LOG" '^GET /computeMetadata/v1/instance/attributes/user-data Google$'
grep -q -v '^GET /computeMetadata/' "$IMDS_LOG" && fail "a GCP host asked other services: $(cat "$IMDS_LOG")"
forget
run_bootrino 0 userdata --json --metadata never
no_attacker "--metadata never"
asked && fail "--metadata never asked the metadata service: $(cat "$IMDS_LOG")"
ok "a host DMI names as GCP asks GCP's service, at 169.254.169.254, and only it; --metadata never asks none"

# Identified by DMI as Scaleway: its own address only, and user-data from a port below 1024 (this test is root).
fresh_root
echo Scaleway >"$ROOT/sys/class/dmi/id/sys_vendor"
forget
run_bootrino 0 userdata --json
# Its user-data was asked from a port below 1024, or the fake would have refused it.
took scaleway "$SCW_LOG" "$IMDS_LOG" '^GET /conf?format=json ' '^GET /user_data/cloud-init '
ok "a host DMI names as Scaleway asks Scaleway's service at 169.254.42.42, and only it"

# Identified by cloud-init's record of its datasource.
fresh_root
mkdir -p "$ROOT/run/cloud-init"
echo '{"v1": {"cloud_name": "digitalocean", "platform": "digitalocean"}}' >"$ROOT/run/cloud-init/instance-data.json"
forget
run_bootrino 0 userdata --json
grep -q '"cloud": "digitalocean"' "$WORK/out" || fail "a host cloud-init names as DigitalOcean did not take its metadata"
grep -q -v '^GET /metadata/v1/' "$IMDS_LOG" && fail "a DigitalOcean host asked other services: $(cat "$IMDS_LOG")"
ok "a host cloud-init's /run/cloud-init names as DigitalOcean asks DigitalOcean's service only"
