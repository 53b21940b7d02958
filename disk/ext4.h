// The data partition's filesystem: ext4 made in-process with libext2fs, as
// Debian 12's `mke2fs -t ext4` makes it (same features, sizes and journal),
// but byte-reproducible: the UUID and the directory hash seed come from the
// caller, every timestamp is 0, and nothing depends on what the partition
// held before.
#pragma once

#include <cstdint>
#include <string>

#include "base/base.h"
#include "disk/handle.h"

namespace disk {

struct Ext4Options {
  std::string label;  ///< volume label, at most 16 bytes; empty = none
  std::string uuid;   ///< filesystem UUID as text, "0fc63daf-8483-4772-8e79-3d69d8477de4" (fixed by the plan's seed)
  std::uint32_t block_size = 4096;  ///< 1024, 2048 or 4096
  bool discard = true;  ///< discard the range first, as mke2fs does; false is mke2fs's -E nodiscard
};

/// Makes an ext4 filesystem on `disk` (a whole-disk block device or an image
/// file) over the bytes [offset_bytes, offset_bytes + size_bytes); a trailing
/// part smaller than one block is left unused. Nothing outside that range is
/// read or written, and nothing is read or written but through the handle's
/// descriptor (libext2fs gets a duplicate of it, libblkid the descriptor).
///
/// Features: Debian 12's mke2fs.conf for ext4 (has_journal, ext_attr,
/// resize_inode, dir_index, filetype, extent, 64bit, flex_bg, sparse_super,
/// large_file, huge_file, dir_nlink, extra_isize, metadata_csum), 256-byte
/// inodes, one inode per 16 KiB (4 KiB below 512 MiB, as mke2fs's "small"
/// type), 5% reserved for root, and the default journal (up to 1 GiB), which
/// is zeroed: a journal that could replay stale blocks is never left behind.
/// Inode tables are initialised lazily (the kernel zeroes them after mount),
/// so even a terabyte takes seconds and writes little. The range is first
/// discarded (punched out of an image file, BLKDISCARD on a device, where it is
/// allowed to fail); when that leaves it reading as zeros (image files), the
/// journal and inode tables need no zeroing at all. Then every signature
/// libblkid finds in the range is wiped, so blkid sees only the new ext4.
///
/// Equal arguments give byte-identical image files, whatever they held before
/// (with `discard`; without it, the unused parts of the inode tables keep the
/// old bytes), on every architecture.
/// Errors: kUsage for a bad label, UUID or block size; kDisk when the range is
/// not inside the disk, the block size is smaller than its sectors, or
/// libext2fs fails (its error_message() text is in the message).
[[nodiscard]] base::Result<void> MakeExt4(const Disk& disk, std::uint64_t offset_bytes,
                                          std::uint64_t size_bytes, const Ext4Options& options);

}  // namespace disk
