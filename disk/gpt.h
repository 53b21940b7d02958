// Writing the layout's partition table: a fresh GPT (protective MBR, primary
// and backup header and entries) with libfdisk, holding exactly the plan's
// GUIDs, LBAs, names and attribute bits, so equal layouts give equal bytes.
#pragma once

#include <string>

#include "base/base.h"
#include "disk/handle.h"
#include "disk/layout.h"

namespace disk {

/// Replaces whatever partition table `disk` has with the GPT of `layout`:
/// disk GUID layout.disk_guid; entries boot and data with their number,
/// first/last LBA, type GUID, unique GUID, name and attribute bits; 128
/// entries; first usable LBA the GPT minimum (34 with 512-byte sectors, 6 with
/// 4096). Old partition-table, filesystem and RAID signatures that libblkid
/// finds on the whole disk are wiped first. Sector 0 holds only the protective
/// MBR (no boot code: a BIOS loader is installed later).
///
/// libfdisk reads and writes through the handle's descriptor only. The disk's
/// sector size must be layout.sector_size and its size exactly the
/// layout.disk_bytes the plan was made for (in whole sectors). Everything is
/// checked before the first byte is written: on error nothing was written.
/// The kernel's view of a block device's partitions is not refreshed.
///
/// Errors: kDisk (the disk is of another size or sector size, or libfdisk
/// failed), kInternal (the layout is inconsistent: a bug in the plan).
[[nodiscard]] base::Result<void> WritePartitionTable(const Disk& disk, const Layout& layout);

}  // namespace disk
