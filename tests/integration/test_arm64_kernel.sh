#!/usr/bin/env bash
# arm64's kexec_file_load takes only an uncompressed Image: a dry run for aarch64 (--arch, on this x86_64
# machine: the plan is made, nothing is loaded) plans to decompress a gzip'd, xz'd or zboot kernel in RAM first,
# takes an Image as it is, and refuses what it cannot load with what the file is. The decompression itself
# is tested in tests/unit/kernel_image_test.cc; here, the plan and the refusal through the real pipeline.
source "$(dirname "$0")/lib.sh"
start_fault_server
export BOOTRINO_IMDS_URL="http://127.0.0.1:9/"

# An arm64 Image as the boot protocol describes its header ("ARM\x64" at 56), and the same Image gzip'd.
python3 - "$WWW" <<'PY'
import gzip, lzma, os, struct, sys
body = bytearray(os.urandom(400000))
body[0:2] = b"MZ"
body[16:24] = struct.pack("<Q", len(body) + 65536)
body[56:60] = b"ARM\x64"
open(os.path.join(sys.argv[1], "Image"), "wb").write(body)
open(os.path.join(sys.argv[1], "vmlinuz.gz"), "wb").write(gzip.compress(bytes(body)))
open(os.path.join(sys.argv[1], "vmlinuz.xz"), "wb").write(lzma.compress(bytes(body), check=lzma.CHECK_CRC32))
# An EFI zboot file with an lz4 payload (Linux can build one; bootrino does not decompress lz4).
zboot = bytearray(0x400)
zboot[0:2], zboot[4:8] = b"MZ", b"zimg"
zboot[8:16] = struct.pack("<II", 0x400, 1000)
zboot[24:28] = b"lz4\0"
open(os.path.join(sys.argv[1], "vmlinuz-lz4.efi"), "wb").write(bytes(zboot) + os.urandom(1000))
PY
make_payload initrd.gz 30000

# arm64_manifest OUT KERNEL: a manifest whose only architecture is aarch64.
arm64_manifest() {
  make_manifest "$WWW/$1" "kernel:$2" initrd:initrd.gz
  python3 - "$WWW/$1" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
open(sys.argv[1], "w").write(text.replace('"x86_64"', '"aarch64"'))
PY
}

arm64_manifest gz.sh vmlinuz.gz
run_bootrino "$DRY_RUN_RC" run "$(pinned gz.sh)" --dry-run --arch aarch64 --keep-disk --no-instance-settings
expect_out "^  1\. decompress the gzip kernel into the arm64 Image kexec_file_load takes, in RAM"
expect_out "^  2\. compose the kexec initrd"
run_bootrino "$DRY_RUN_RC" run "$(pinned gz.sh)" --dry-run --arch aarch64 --keep-disk --no-instance-settings --json
jsonq --check "$WORK/out" 'd["steps"][0]["step"]=="decompress-kernel" and d["kernel"]["path"].endswith("/kernel.Image") and d["kernel"]["format"]=="gzip"' ||
  fail "--json: no decompress-kernel step first, or the load is not of the decompressed Image"
ok "aarch64, gzip'd kernel: the plan decompresses it in RAM before anything else, and loads the Image"

arm64_manifest image.sh Image
run_bootrino "$DRY_RUN_RC" run "$(pinned image.sh)" --dry-run --arch aarch64 --keep-disk --no-instance-settings --json
jsonq --check "$WORK/out" 'd["steps"][0]["step"]=="compose-initrd" and d["kernel"]["path"].endswith("/Image") and d["kernel"]["decompressedFrom"] is None' ||
  fail "--json: an Image was planned for decompression"
ok "aarch64, Image: loaded as it is"

arm64_manifest xz.sh vmlinuz.xz
run_bootrino "$DRY_RUN_RC" run "$(pinned xz.sh)" --dry-run --arch aarch64 --keep-disk --no-instance-settings
expect_out "^  1\. decompress the xz kernel into the arm64 Image kexec_file_load takes, in RAM"
ok "aarch64, xz'd kernel: the plan decompresses it in RAM first"

arm64_manifest lz4.sh vmlinuz-lz4.efi
run_bootrino 7 run "$(pinned lz4.sh)" --dry-run --arch aarch64 --keep-disk --no-instance-settings
expect_err "is a EFI zboot file, and kexec on aarch64 needs an arm64 Image, or one compressed with gzip, zstd, xz or lzma"
expect_err "decompress it and publish the Image"
ok "aarch64, zboot kernel with an lz4 payload: refused before anything (exit 7), saying what the file is and what to do"

# The disk: this x86_64 build carries x86_64 bootloaders only, so without --keep-disk an aarch64 plan is refused
# (the aarch64 build's disks are tested in the aarch64 tier). The dry run says so and goes on; it exits with
# the first refusal: preflight's where this machine refuses kexec, else the disk's (9), with what to do.
run_bootrino "$((DRY_RUN_RC ? DRY_RUN_RC : 9))" run "$(pinned gz.sh)" --dry-run --arch aarch64 --no-instance-settings
refused="this bootrino carries the x86_64 bootloaders only: it cannot make a disk bootable on aarch64"
expect_err "the disk takeover would be refused \\($refused\\)"
if ((DRY_RUN_RC == 0)); then
  expect_err "what to do: use the bootrino-aarch64 release on aarch64 machines, or pass --keep-disk"
fi
ok "aarch64 without --keep-disk on an x86_64 build: the disk takeover is refused, naming the release to use"

# x86_64 is unchanged: the same gzip'd arm64 kernel is handed to kexec_file_load as it is, which says what is wrong.
make_manifest "$WWW/x86.sh" kernel:vmlinuz.gz initrd:initrd.gz
run_bootrino "$DRY_RUN_RC" run "$(pinned x86.sh)" --dry-run --keep-disk --no-instance-settings --json
jsonq --check "$WORK/out" 'd["steps"][0]["step"]=="compose-initrd"' || fail "x86_64 planned a decompression"
ok "x86_64: no decompression step"
