#!/usr/bin/env bash
# bootrino image: the disk `run` writes, written to image files of several
# sizes and sector sizes, then checked with the reference tools: sfdisk -d
# against golden tables (fixed seed), blkid -p, fsck.vfat -n, e2fsck -fn, and
# every boot file read back with mtools.
source "$(dirname "$0")/lib.sh"
GOLDEN="$BOOTRINO_SOURCE/tests/data/golden"
start_fault_server
make_payload vmlinuz 3000000
make_payload initrd.gz 2000000
make_payload modloop 1000000
make_manifest "$WWW/bootrino.sh" kernel:vmlinuz initrd:initrd.gz file:modloop
ref=$(pinned bootrino.sh)

# sfdisk_of IMG SECTOR ARGS...: sfdisk on the image. Debian 12's sfdisk has no --sector-size, so an
# image with 4096-byte sectors is read through a loop device with that sector size.
sfdisk_of() {
  local img=$1 ss=$2 dev
  shift 2
  if [[ $ss == 512 ]]; then
    sfdisk "$@" "$img" | sed "s|$img|IMAGE|g"
    return
  fi
  dev=$(losetup --find --show --read-only --sector-size "$ss" "$img") || fail "losetup on $img"
  sfdisk "$@" "$dev" | sed "s|$dev|IMAGE|g"
  losetup -d "$dev"
}

# part_offset IMG SECTOR N: byte offset of partition N.
part_offset() { sfdisk_of "$1" "$2" -J | jsonq - "d['partitiontable']['partitions'][$3-1]['start']*$2"; }

check_image() {  # NAME SIZE SECTOR
  local name=$1 size=$2 ss=$3 img="$WORK/$1.img"
  run_bootrino 0 image "$ref" "$img" --size "$size" --sector-size "$ss" --seed 7
  if [[ $ss == 512 ]]; then expect_out "bootable from BIOS and UEFI"; else expect_out "from UEFI only"; fi
  sfdisk_of "$img" "$ss" -d >"$WORK/$name.sfdisk"
  diff -u "$GOLDEN/image-$name.sfdisk" "$WORK/$name.sfdisk" || fail "$name: partition table differs from the golden one"
  local boot data
  boot=$(part_offset "$img" "$ss" 1)
  data=$(part_offset "$img" "$ss" 2)
  blkid -p -O "$boot" "$img" | grep -q 'LABEL="BOOTRINO".*TYPE="vfat"' || fail "$name: blkid sees no FAT BOOTRINO"
  blkid -p -O "$data" "$img" | grep -q 'LABEL="bootrino-data".*TYPE="ext4"' || fail "$name: blkid sees no ext4 data"
  e2fsck -fn "$img?offset=$data" >"$WORK/e2fsck" 2>&1 || { cat "$WORK/e2fsck"; fail "$name: e2fsck -fn"; }
  # fsck.vfat takes no offset: check a copy of the boot partition.
  dd if="$img" of="$WORK/boot.part" bs=1M skip="$((boot >> 20))" count=512 conv=sparse status=none
  fsck.vfat -n "$WORK/boot.part" >"$WORK/fsck" 2>&1 || { cat "$WORK/fsck"; fail "$name: fsck.vfat -n"; }
  for f in vmlinuz modloop; do
    mcopy -n -i "$img@@$boot" "::/$f" "$WORK/back" && cmp -s "$WORK/back" "$WWW/$f" || fail "$name: $f read back differs"
  done
  mtype -i "$img@@$boot" ::/loader/entries/bootrino.conf >"$WORK/entry"
  # One initrd: the manifest's, padded, then the overlay (the EFI stub concatenates several unpadded).
  mcopy -n -i "$img@@$boot" ::/bootrino-initrd.img "$WORK/initrd" || fail "$name: no bootrino-initrd.img"
  cmp -s -n "$(stat -c %s "$WWW/initrd.gz")" "$WORK/initrd" "$WWW/initrd.gz" || fail "$name: the initrd does not start with initrd.gz"
  tail -c +$((($(stat -c %s "$WWW/initrd.gz") + 511) / 512 * 512 + 1)) "$WORK/initrd" | cpio -t >"$WORK/overlay" 2>/dev/null
  grep -q '^etc/bootrino/manifest.json$' "$WORK/overlay" || fail "$name: no persistent overlay after the padded initrd"
  grep -q 'boot-id' "$WORK/overlay" && fail "$name: the one-time boot id is on the disk"
  grep -q "^linux /vmlinuz$" "$WORK/entry" && grep -q "^initrd /bootrino-initrd.img$" "$WORK/entry" &&
    grep -q "^options .*test=1" "$WORK/entry" || { cat "$WORK/entry"; fail "$name: systemd-boot entry"; }
  grep -q "bootrino.id" "$WORK/entry" && fail "$name: the one-time boot id must not be on the disk"
  mcopy -n -i "$img@@$boot" ::/EFI/BOOT/BOOTX64.EFI "$WORK/efi" || fail "$name: no BOOTX64.EFI"
  if [[ $ss == 512 ]]; then
    mtype -i "$img@@$boot" ::/syslinux.cfg | grep -q "INITRD /bootrino-initrd.img" ||
      fail "$name: syslinux.cfg"
    head -c 440 "$img" | cmp -s - <(head -c 440 "$(bootloader_file gptmbr.bin)") || fail "$name: no gptmbr in the MBR"
  fi
  ok "$name: $size with $ss-byte sectors checks clean"
}

bootloader_file() { echo "$(bash "$BOOTRINO_SOURCE/packaging/bootloaders.sh" 2>/dev/null | tail -n1)/$1"; }

check_image 2g-512 2G 512
check_image 8g-4096 8G 4096
check_image 1t-512 1T 512
used=$(du -k "$WORK/1t-512.img" | cut -f1)
((used < 200 * 1024)) || fail "a 1 TiB image used $used KiB: writing should be sparse"
ok "the 1 TiB image uses $((used / 1024)) MiB on disk"

run_bootrino 0 image "$ref" "$WORK/again.img" --size 2G --seed 7 --json
cmp -s "$WORK/again.img" "$WORK/2g-512.img" || fail "the same seed gave different bytes"
# The bytes reported are measured (the process's write_bytes), ext4 and the GPT included: as many as
# the sparse image holds (the MBR code is written twice), and more than the payload.
read -r measured bytes < <(jsonq "$WORK/out" '(d["bytesMeasured"], d["bytesWritten"])')
allocated=$(du -B1 "$WORK/again.img" | cut -f1)
payload=$(($(stat -c %s "$WWW/vmlinuz") + $(stat -c %s "$WWW/initrd.gz") + $(stat -c %s "$WWW/modloop")))
[[ $measured == true ]] || fail "the bytes written were not measured"
((bytes > payload && bytes >= allocated - (64 << 10) && bytes <= allocated + (1 << 20))) ||
  fail "reported $bytes bytes written; the image holds $allocated, the payload is $payload"
ok "the report counts every byte written: $bytes for an image holding $allocated"
run_bootrino 0 image "$ref" "$WORK/other.img" --size 2G --seed 8
cmp -s "$WORK/other.img" "$WORK/2g-512.img" && fail "another seed gave the same bytes"
ok "the same seed gives byte-identical images"

run_bootrino 2 image "$ref" "$WORK/again.img" --size 2G
expect_err "exists"
expect_err "what to do: .*--force"
run_bootrino 2 image "$ref" /dev/null --size 2G
expect_err "not a regular file"
run_bootrino 9 image "$ref" "$WORK/small.img" --size 300M
expect_err "the layout needs 578 MiB"
[[ ! -e $WORK/small.img ]] || fail "a refused image left a file behind"
run_bootrino 9 image "$ref" "$WORK/arm.img" --arch aarch64
expect_err "carries the x86_64 bootloaders only: it cannot make a disk bootable on aarch64"
expect_err "what to do: use the bootrino-aarch64 release on aarch64 machines"
[[ ! -e $WORK/arm.img ]] || fail "a refused image left a file behind"
ok "existing files, devices, small sizes and other architectures are refused; nothing is left behind"

# OUTPUT is opened once and never through a symlink: a symlink there, to a regular file standing in
# for a disk, is refused with or without --force, and what it points at keeps every byte; a dangling
# one creates nothing. A FIFO or a directory at OUTPUT is refused as well, and stays as it was.
head -c 1048576 /dev/urandom >"$WORK/stand-in.disk"
cp "$WORK/stand-in.disk" "$WORK/stand-in.orig"
ln -s "$WORK/stand-in.disk" "$WORK/link.img"
for force in "" --force; do
  run_bootrino 2 image "$ref" "$WORK/link.img" --size 2G --seed 7 $force
  expect_err "link.img is a symlink; name the file itself"
  cmp -s "$WORK/stand-in.disk" "$WORK/stand-in.orig" || fail "image $force wrote through a symlink at OUTPUT"
  [[ -L $WORK/link.img ]] || fail "image $force replaced the symlink at OUTPUT"
done
ln -s "$WORK/nowhere.img" "$WORK/dangling.img"
for force in "" --force; do
  run_bootrino 2 image "$ref" "$WORK/dangling.img" --size 2G $force
  expect_err "is a symlink; name the file itself"
  [[ ! -e $WORK/nowhere.img ]] || fail "image $force created the file a dangling symlink at OUTPUT names"
done
mkfifo "$WORK/fifo.img"
mkdir "$WORK/dir.img"
for target in fifo.img dir.img; do
  for force in "" --force; do
    run_bootrino 2 image "$ref" "$WORK/$target" --size 2G $force
    expect_err "$target.* not a regular file"
    expect_err "what to do: "
  done
done
[[ -p $WORK/fifo.img && -d $WORK/dir.img && -z $(ls -A "$WORK/dir.img") ]] || fail "a refused OUTPUT was changed"
ok "a symlink, a FIFO or a directory at OUTPUT is refused; nothing is written through it"

# --force empties an existing image first: the bytes are those of a new one, whatever it held.
cp --sparse=always "$WORK/2g-512.img" "$WORK/reused.img"
dd if=/dev/urandom of="$WORK/reused.img" bs=1M count=4 seek=1 conv=notrunc status=none
dd if=/dev/urandom of="$WORK/reused.img" bs=1M count=4 seek=1500 conv=notrunc status=none
run_bootrino 0 image "$ref" "$WORK/reused.img" --size 2G --seed 7 --force
cmp -s "$WORK/reused.img" "$WORK/2g-512.img" || fail "an image written over an old file differs from a new one"
ok "--force overwrites a regular file with the bytes of a new image"

# A failure once OUTPUT is open (here the file size limit: ftruncate fails with EFBIG) removes the
# file only when this run created it; an existing file given with --force is left, and said to be.
(trap '' XFSZ && ulimit -f 65536 && run_bootrino 9 image "$ref" "$WORK/limited.img" --size 2G)
expect_err "File too large"
[[ ! -e $WORK/limited.img ]] || fail "a failed image left the file it created behind"
echo "someone's file" >"$WORK/kept.img"
kept_inode=$(stat -c %i "$WORK/kept.img")
(trap '' XFSZ && ulimit -f 65536 && run_bootrino 9 image "$ref" "$WORK/kept.img" --size 2G --force)
expect_err "kept.img is half-written"
[[ -f $WORK/kept.img && $(stat -c %i "$WORK/kept.img") == "$kept_inode" ]] ||
  fail "a failed image --force removed a file it did not create"
ok "a failed image removes only the file it created"

make_payload big 320000000
BOOT_EXTRA='"disk": {"bootPartitionMiB": 300}' make_manifest "$WWW/big.sh" kernel:vmlinuz initrd:big
run_bootrino 7 image "$(pinned big.sh)" "$WORK/big.img" --size 2G
expect_err "do not fit a boot partition of 300 MiB"
expect_err "bootPartitionMiB"
[[ ! -e $WORK/big.img ]] || fail "a refused image left a file behind"
BOOT_EXTRA='"disk": {"bootPartitionMiB": 400}' make_manifest "$WWW/big.sh" kernel:vmlinuz initrd:big
run_bootrino 0 image "$(pinned big.sh)" "$WORK/big.img" --size 2G
ok "boot files larger than the boot partition are a manifest error; bootPartitionMiB fixes it"
