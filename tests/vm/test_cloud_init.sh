#!/usr/bin/env bash
# The real client end to end: a Debian 12 instance with Debian's own cloud-init (tests/vm/cloud_image.sh)
# boots with a NoCloud seed whose user-data is the README's #cloud-config one-liner, taken from
# README.md itself. cloud-init runs install.sh from the loopback server; install.sh fetches and checks
# the binary under test and runs `bootrino run REF --yes`, which detaches because cloud-init is its
# caller. cloud-init reports done, then bootrino writes the disk and kexecs. The RAM OS shows the SSH
# keys that came from user-data and from a fake AWS metadata service, the hostname from user-data,
# and writes a marker on its new data partition. The guest's DMI says "Amazon EC2" (QEMU -smbios), as
# an EC2 instance's does: bootrino asks a metadata service only on a host identified as its cloud, and
# BOOTRINO_IMDS_URL only moves where that service is.
source "$(dirname "$0")/lib.sh"
CLOUD=$("$VM_DIR/cloud_image.sh" | tail -n 1)
[[ -f $CLOUD/disk.img ]] || fail "cloud_image.sh gave no image directory"
INSTANCE=$WORK/instance.img
cp --sparse=always "$CLOUD/disk.img" "$INSTANCE"

# The release as packaging/release.sh publishes it (install.sh pins the binary), at http://10.0.2.100/release/.
sample_variant cloud "quiet ramos.marker=from-cloud-init"
"$VM_DIR/cloud_image.sh" release "$BOOTRINO" "$WORK/www"
serve "$WORK/www"
REF=$(pinned cloud/bootrino.sh)

# The fake AWS metadata service (IMDSv2): one more key and a hostname that user-data's overrides,
# asked because the guest's DMI names AWS (below), not because BOOTRINO_IMDS_URL is set.
USERDATA_KEY="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICvYBsl/DgCvGh/DMo+nY6kmlyPI24+sT5OvcdsYbW6Q alice@user-data"
IMDS_KEY="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIG2N9j80sbaY1nmljEToRcN55XktyW4TR4LTP2exYzp bob@imds"
imds=$WORK/imds/aws/latest/meta-data
mkdir -p "$imds/public-keys/0"
echo "0=bob" >"$imds/public-keys/.listing"
echo "$IMDS_KEY" >"$imds/public-keys/0/openssh-key"
echo "ip-10-0-2-15.imds.test" >"$imds/local-hostname"
: >"$WORK/imds/aws/latest/user-data"
serve_imds "$WORK/imds"

# The README's #cloud-config runcmd line, with this test's release URL and reference.
line=$("$VM_DIR/cloud_image.sh" runcmd "$REF") || fail "could not take the one-liner from README.md"
cat >"$WORK/user-data" <<EOF
#cloud-config
hostname: ram-cloud-test
ssh_authorized_keys:
  - $USERDATA_KEY
runcmd:
  - export BOOTRINO_IMDS_URL=http://10.0.2.101/aws
$line
EOF
printf 'instance-id: iid-bootrino-cloud-init-test\nlocal-hostname: debian-instance\n' >"$WORK/meta-data"
"$VM_DIR/cloud_image.sh" seed "$WORK/seed.img" "$WORK/user-data" "$WORK/meta-data"
echo "# user-data runcmd: $line" >&2

before=$(sha256sum <"$INSTANCE")
disk_args "$INSTANCE" virtio none
seed_args=(-drive "file=$WORK/seed.img,if=none,id=seed,format=raw,readonly=on" -device virtio-blk-pci,drive=seed)
# cloud-init here uses only the NoCloud seed (cloud_image.sh: datasource_list [NoCloud, None]).
seed_args+=(-smbios "type=1,manufacturer=Amazon EC2")
echo "# boot the Debian instance: -m ${MEM:-1024}, append: $(cat "$CLOUD/cmdline.txt")" >&2
VM_TIMEOUT=900 start_qemu -kernel "$CLOUD/vmlinuz" -initrd "$CLOUD/initrd.img" -append "$(cat "$CLOUD/cmdline.txt")" \
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
has_key "$IMDS_KEY" || fail "the RAM OS does not have the SSH key from the metadata service"
ok "the RAM OS has root's SSH keys from user-data and from the metadata service"
expect_seen '^RAMOS-HOSTNAME: ram-cloud-test$'
ok "the RAM OS has the hostname from user-data"
expect_not_seen 'failed part way'
expect_seen '^bootrino: wrote [0-9.]+ MiB to /dev/vda in '
expect_seen '^RAMOS-DATA-WRITTEN: from-cloud-init$'
stop_vm
[[ $(sha256sum <"$INSTANCE") != "$before" ]] || fail "the instance's disk is unchanged"
ok "bootrino replaced the instance's disk; the RAM OS wrote its marker on the new data partition"
