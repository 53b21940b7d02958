#!/usr/bin/env bash
# The real client end to end: a Debian 12 instance with Debian's own cloud-init (tests/vm/cloud_image.sh)
# boots with a NoCloud seed whose user-data is the README's #cloud-config one-liner, taken from
# README.md itself. cloud-init runs install.sh from the loopback server; install.sh fetches and checks
# the binary under test and runs `bootrino run REF --yes`, which detaches because cloud-init is its
# caller. cloud-init reports done, then bootrino writes the disk and kexecs. The RAM OS shows the SSH
# keys that came from user-data and from the seed's meta-data (through cloud-init's record of the
# instance, /run/cloud-init/instance-data*.json), the hostname from that record, and writes a marker on
# its new data partition. The guest's DMI says "Amazon EC2" (QEMU -smbios), as an EC2 instance's does, and a
# fake AWS metadata service answers with a key of its own: since cloud-init ran and recorded the instance,
# bootrino asks no service, and that key must not reach the RAM OS. `bootrino userdata --json`, run by
# user-data after the one-liner, says which source gave what.
# CLOUD_NET=static (test_cloud_init_static.sh): the same on a link without DHCP, a tap in a network
# namespace of the test's own (lib.sh netns_start): the seed's network-config gives the instance a static
# address and a gateway, the servers are behind that gateway, and the RAM OS must fetch a token of this
# run from there with the network bootrino carried over from the instance.
# VM_ARCH=aarch64 (test_cloud_init_arm64.sh): the same on an emulated arm64 instance (QEMU virt, TCG) booted
# through UEFI firmware (AAVMF, which hands the -smbios DMI on), Debian 12 arm64 with the arm64 host stand-in's
# kernel (Debian's arm64 kernels have no kexec_file_load): install.sh fetches the aarch64 release binary, which
# decompresses the sample's gzip'd arm64 kernel and kexecs; then the disk bootrino kept boots again through
# the firmware, with no -kernel, into the same RAM OS.
source "$(dirname "$0")/lib.sh"
CLOUD_NET=${CLOUD_NET:-dhcp}
CLOUD=$("$VM_DIR/cloud_image.sh" | tail -n 1)
[[ -f $CLOUD/disk.img ]] || fail "cloud_image.sh gave no image directory"
# The instance's kernel: the image's own (x86_64); on arm64 the host stand-in's, booted through the firmware.
boot_args=(-kernel "$CLOUD/vmlinuz" -initrd "$CLOUD/initrd.img")
if [[ $VM_ARCH != x86_64 ]]; then
  firmware_args uefi "$WORK/OVMF_VARS.fd" || fail "no firmware to boot uefi"
  boot_args=("${FIRMWARE_ARGS[@]}" -kernel "$FIX/vmlinuz")
fi
INSTANCE=$WORK/instance.img
cp --sparse=always "$CLOUD/disk.img" "$INSTANCE"

cmdline="quiet ramos.marker=from-cloud-init" network_config=()
if [[ $CLOUD_NET == static ]]; then
  INSTANCE_MAC=52:54:00:00:c1:00
  netns_start
  netns_addr 198.51.100.80/32
  netns_nic tap0 "$INSTANCE_MAC" 192.0.2.1/24
  GUEST_URL=http://198.51.100.80
  TOKEN=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
  FETCH_URL=$GUEST_URL/reached-$TOKEN
  cmdline+=" ramos.fetch=$FETCH_URL"
  # Nothing answers DHCP on the tap: the instance has only this (ens5: udev's name for the NIC in PCI slot 5).
  network_config=("$WORK/network-config")
  cat >"$WORK/network-config" <<EOF
version: 1
config:
  - type: physical
    name: ens5
    mac_address: "$INSTANCE_MAC"
    subnets:
      - type: static
        address: 192.0.2.20/24
        gateway: 192.0.2.1
EOF
fi
# The release as packaging/release.sh publishes it (install.sh pins the binary), at $GUEST_URL/release/.
sample_variant cloud "$cmdline"
[[ -z ${TOKEN:-} ]] || echo "reached-$TOKEN" >"$WORK/www/reached-$TOKEN"
GUEST_URL=$GUEST_URL "$VM_DIR/cloud_image.sh" release "$BOOTRINO" "$WORK/www"
serve "$WORK/www"
REF=$(pinned cloud/bootrino.sh)

# The fake AWS metadata service (IMDSv2), which the guest's DMI (below) would have bootrino ask if
# cloud-init had not recorded the instance: its key and hostname must not reach the RAM OS.
USERDATA_KEY="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICvYBsl/DgCvGh/DMo+nY6kmlyPI24+sT5OvcdsYbW6Q alice@user-data"
RECORD_KEY="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIG2N9j80sbaY1nmljEToRcN55XktyW4TR4LTP2exYzp bob@meta-data"
IMDS_KEY="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG2N9j80sbaY1nmljEToRcN55XktyW4TR4LTP2exYzpQ carol@imds"
imds=$WORK/imds/aws/latest/meta-data
mkdir -p "$imds/public-keys/0"
echo "0=bob" >"$imds/public-keys/.listing"
echo "$IMDS_KEY" >"$imds/public-keys/0/openssh-key"
echo "ip-10-0-2-15.imds.test" >"$imds/local-hostname"
: >"$WORK/imds/aws/latest/user-data"
serve_imds "$WORK/imds"

# The README's #cloud-config runcmd line, with this test's release URL and reference.
line=$(GUEST_URL=$GUEST_URL "$VM_DIR/cloud_image.sh" runcmd "$REF") || fail "could not take the one-liner from README.md"
# After it, what bootrino makes of this instance, on one console line.
cat >"$WORK/user-data" <<EOF
#cloud-config
ssh_authorized_keys:
  - $USERDATA_KEY
runcmd:
  - export BOOTRINO_IMDS_URL=$IMDS_URL/aws
$line
  - /run/bootrino/bootrino userdata --json | tr -d '\n' | sed 's/^/BOOTRINO-USERDATA-JSON=/' >/dev/console; echo >/dev/console
EOF
printf 'instance-id: iid-bootrino-cloud-init-test\nlocal-hostname: ram-cloud-test\npublic-keys:\n  - %s\n' \
  "$RECORD_KEY" >"$WORK/meta-data"
"$VM_DIR/cloud_image.sh" seed "$WORK/seed.img" "$WORK/user-data" "$WORK/meta-data" "${network_config[@]}"
echo "# user-data runcmd: $line" >&2

before=$(sha256sum <"$INSTANCE")
disk_args "$INSTANCE" virtio none
seed_args=(-drive "file=$WORK/seed.img,if=none,id=seed,format=raw,readonly=on" -device virtio-blk-pci,drive=seed)
# cloud-init here uses only the NoCloud seed (cloud_image.sh: datasource_list [NoCloud, None]).
seed_args+=(-smbios "type=1,manufacturer=Amazon EC2")
echo "# boot the Debian instance: -m ${MEM:-1024}, append: $(cat "$CLOUD/cmdline.txt")" >&2
VM_TIMEOUT=${VM_TIMEOUT:-900} start_qemu "${boot_args[@]}" -append "$(cat "$CLOUD/cmdline.txt")" \
  "${DISK_ARGS[@]}" "${seed_args[@]}"

wait_for 'Cloud-init v\. [0-9.]+ running .modules:final' 600 cloud-final-start
ok "Debian's cloud-init reached its final stage with the NoCloud seed"
# (cloud-final's output reaches the console through the journal: "[   79.7] cloud-init[374]: bootrino: …")
wait_for 'bootrino: the disk takeover and the reboot into .* happen in the background once cloud-init' 300 \
  bootrino-detached
# The release's install.sh checked the binary against the SHA-256 pinned in it (plain http inside QEMU's
# network: the pin, not the transport, authenticates it).
expect_seen 'bootrino-install: installed /run/bootrino/bootrino \(verified: sha256 pinned by install\.sh\)'
ok "install.sh ran the binary under test; bootrino loaded the kernel and detached from cloud-init"
wait_for '^BOOTRINO-USERDATA-JSON=' 120 userdata-json
tr -d '\r' <"$SERIAL" | sed -n 's/^BOOTRINO-USERDATA-JSON=//p' | head -n 1 >"$WORK/userdata.json"
python3 - "$WORK/userdata.json" "$USERDATA_KEY" "$RECORD_KEY" <<'PY' || fail "bootrino userdata --json: $(cat "$WORK/userdata.json")"
import json, sys
d = json.load(open(sys.argv[1]))
record = "cloud-init's /run/cloud-init/instance-data-sensitive.json"  # bootrino runs as root
assert d["source"] == "/var/lib/cloud/instance/user-data.txt", d["source"]
assert d["ssh_keys"] == [sys.argv[2], sys.argv[3]], d["ssh_keys"]
assert d["from"] == {"hostname": record, "ssh_keys": ["/var/lib/cloud/instance/user-data.txt", record]}, d["from"]
assert d["hostname"] == "ram-cloud-test", d["hostname"]
assert d["cloud"] == "nocloud" and d["instance_data"]["platform"] == "nocloud", d  # cloud_name "unknown"
assert d["instance_data"]["instance_id"] == "iid-bootrino-cloud-init-test", d["instance_data"]
assert d["metadata_service"] == "", d["metadata_service"]
PY
ok "bootrino userdata --json: keys and hostname from cloud-init's record of the instance; no metadata service asked"
wait_for 'Cloud-init v\. [0-9.]+ finished at ' 300 cloud-init-finished
wait_for "^BOOTRINO-RAMOS-UP name=alpine-like" 300 ramos-up
wait_for '^BOOTRINO-RAMOS-SHELL' 60
finished=$(stamp_of 'Cloud-init v\. [0-9.]+ finished at ')
up=$(stamp_of '^BOOTRINO-RAMOS-UP')
python3 -c "import sys; sys.exit(0 if float('$finished') < float('$up') else 1)" ||
  fail "cloud-init reported finished at ${finished}s, not before the RAM OS came up at ${up}s"
ok "cloud-init reported done (${finished}s) before the kexec into the RAM OS (${up}s)"
check_ramos alpine-like "ramos.marker=from-cloud-init"
# has_key KEY: the RAM OS printed KEY as one of root's authorized keys (a fixed string: keys hold + and /).
has_key() { tr -d '\r' <"$SERIAL" | grep -Fx -- "RAMOS-SSH-KEY: $1" >/dev/null; }
has_key "$USERDATA_KEY" || fail "the RAM OS does not have the SSH key from user-data"
has_key "$RECORD_KEY" || fail "the RAM OS does not have the SSH key from the seed's meta-data (cloud-init's record)"
! has_key "$IMDS_KEY" || fail "the RAM OS has the metadata service's key: a service was asked although cloud-init ran"
ok "the RAM OS has root's SSH keys from user-data and cloud-init's record, none from the metadata service"
expect_seen '^RAMOS-HOSTNAME: ram-cloud-test$'
ok "the RAM OS has the hostname from cloud-init's record"
expect_not_seen 'failed part way'
expect_seen '^bootrino: wrote [0-9.]+ MiB to /dev/vda in '
expect_seen '^RAMOS-DATA-WRITTEN: from-cloud-init$'
stop_vm
[[ $(sha256sum <"$INSTANCE") != "$before" ]] || fail "the instance's disk is unchanged"
ok "bootrino replaced the instance's disk; the RAM OS wrote its marker on the new data partition"
if [[ $CLOUD_NET == static ]]; then
  # (bootrino's output reaches the console through cloud-init's journal: no ^)
  expect_seen "bootrino: the RAM OS.s network: static: eth0 \\($INSTANCE_MAC, ens5 here\\) 192\\.0\\.2\\.20/24, via 192\\.0\\.2\\.1;"
  expect_nic "$INSTANCE_MAC" 192.0.2.20/24
  expect_fetched "$FETCH_URL" "reached-$TOKEN" 192.0.2.20
  ok "the RAM OS has the instance's static 192.0.2.20/24 from its network-config and reached $GUEST_URL through 192.0.2.1"
fi
if [[ $VM_ARCH != x86_64 ]]; then
  # The disk as bootrino wrote it (UEFI only), then booted by the firmware alone into the same RAM OS.
  HOST_DISK=$INSTANCE KEXEC_CMDLINE=$(console_value "cmdline: ")
  check_written_disk
  boot_kept_disk uefi from-cloud-init
fi
