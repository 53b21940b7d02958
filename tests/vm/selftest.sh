#!/usr/bin/env bash
# Self-test of the VM harness, independent of bootrino: runs the vm tests against a stand-in agent
# (a busybox shell script, guest/standin-bootrino.sh, plus a 20-line static C program calling
# kexec_file_load and reboot(LINUX_REBOOT_CMD_KEXEC), guest/kexec-file.c) that follows bootrino's
# kexec contract for the fixture manifests: preflight (lockdown), pinned manifest, RAM check,
# fetch + sha256, initrd = manifest initrds + zero padding to 4 bytes + an overlay cpio with
# /etc/bootrino/{manifest.json,boot-id}, cmdline = manifest cmdline + host consoles +
# bootrino.id=ID, same exit codes.
#
#   tests/vm/selftest.sh [TEST...]      default: every tests/vm/test_*.sh but those the stand-in cannot model (below)
#   SELFTEST_NOPAD=1 tests/vm/selftest.sh test_kexec_alpine.sh
#                                        the stand-in forgets the padding: the test must FAIL
#                                        (the kernel drops the overlay: "invalid magic")
# Needs gcc (build-essential) for the static helper.
set -euo pipefail
VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/bootrino-vm-selftest.XXXXXX")
trap '[[ ${KEEP_WORK:-0} == 1 ]] || rm -rf "$WORK"' EXIT
command -v gcc >/dev/null || { echo "selftest: needs gcc (apt-get install build-essential)" >&2; exit 1; }

gcc -static -O2 -o "$WORK/kexec-file" "$VM_DIR/guest/kexec-file.c"

install -m 755 "$VM_DIR/guest/standin-bootrino.sh" "$WORK/bootrino"
[[ -n ${SELFTEST_NOPAD:-} ]] && sed -i 's/^cmd=\$1 ref=\$2$/SELFTEST_NOPAD=1; &/' "$WORK/bootrino"

BOOTRINO_VM_FIXTURES=$("$VM_DIR/fixtures.sh" | tail -n 1) "$VM_DIR/fixtures.sh" host-initrd "$WORK/bootrino" "$WORK/host.cpio.gz" "$WORK/kexec-file:bin/kexec-file" >/dev/null

tests=("$@")
# The stand-in models kexec, not bootrino's --detach (return first, reboot
# after the caller exits), the disk takeover (test_disk_*, test_fallback_reboot),
# its refusals with a disk (test_faults_untouched), its disk plans (test_disk_names)
# nor a release that install.sh runs under cloud-init (test_cloud_init*, and the
# demo that does the same, test_demo), nor the host's network carried over into the RAM OS
# (test_static_network, test_cloud_init_static), nor the Secure Boot refusal, whose disk
# it would have to put itself on (test_secure_boot), nor the stage in a tmpfs of its own that a /run too small
# for the payload needs (test_small_run), nor the RAM budget's lines beyond the files (test_ram_budget), nor
# finding user-data on a seed volume nobody mounted (test_seed_volume): those are bootrino's own to pass. Nor do the arm64 guests' tests (test_*_arm64.sh) run here: the stand-in's helper is
# built for this machine, x86_64, and their harness needs an aarch64 binary.
if ((${#tests[@]} == 0)); then
  for t in "$VM_DIR"/test_*.sh; do
    case $(basename "$t") in
      test_detach.sh | test_disk_*.sh | test_fallback_reboot.sh | test_faults_untouched.sh | test_cloud_init*.sh | \
        test_static_network.sh | test_demo.sh | test_secure_boot.sh | test_small_run.sh | test_ram_budget.sh | \
        test_seed_volume.sh | test_*_arm64.sh) ;;
      *) tests+=("$t") ;;
    esac
  done
fi
failed=()
for t in "${tests[@]}"; do
  [[ -f $t ]] || t=$VM_DIR/$t
  echo "# selftest: $(basename "$t")"
  VM_HOST_INITRD=$WORK/host.cpio.gz VM_HOST_FILES="$WORK/bootrino:bin/bootrino $WORK/kexec-file:bin/kexec-file" \
    BOOTRINO=/nonexistent bash "$t" || failed+=("$(basename "$t")")
done
if ((${#failed[@]})); then
  echo "selftest: FAILED: ${failed[*]}"
  exit 1
fi
echo "selftest: every VM test passed against the stand-in agent"
