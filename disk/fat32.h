// The FAT32 boot partition, written in-process. BIOS (syslinux) and UEFI
// (systemd-boot) both boot from it (docs/bootloaders.md), so it is real FAT32
// (at least 65,525 clusters) with every file in one contiguous run.
//
// Planning is pure: it fixes the geometry and every file's clusters, so the
// bootloader code can patch ldlinux.sys with its own sector list and replace
// the boot sector's code before anything is written. Write then lays the
// filesystem over a partition that may hold old data: it writes all reserved
// sectors, both FATs, every directory cluster and every file cluster (each
// zero-padded), and nothing else.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/base.h"
#include "disk/handle.h"

namespace disk {

/// The partition the filesystem fills.
struct FatVolume {
  std::uint64_t sectors = 0;         ///< partition size in logical sectors
  std::uint32_t sector_size = 512;   ///< 512 or 4096
  std::uint64_t hidden_sectors = 0;  ///< the partition's first LBA, stored in the BPB (syslinux needs it)
  std::uint32_t volume_id = 0;       ///< serial number; blkid shows it as UUID "XXXX-XXXX"
  std::string label;                 ///< at most 11 characters; stored upper-case; empty = no label
};

/// A staged file streamed in at Write as part of a boot partition file, followed by zeros up to `padded` bytes
/// (an initrd's parts are padded to 4 bytes, as kexec::ComposeInitrd pads them).
struct FilePart {
  std::string source;
  std::uint64_t size = 0;    ///< checked again at Write
  std::uint64_t padded = 0;  ///< at least `size`
};

/// One file to put on the volume.
struct FatFile {
  std::string path;        ///< "EFI/BOOT/BOOTX64.EFI": "/"-separated, parent directories are created
  std::string data;        ///< the content, when `source` is empty; after `parts` when there are parts
  std::string source;      ///< else a file streamed in at Write (a staged kernel or initrd)
  std::uint64_t size = 0;  ///< with `source`: its size in bytes, checked again at Write; else set by Plan
  /// Or the content is these files, each padded, then `data`: an initrd composed while it is written, so that
  /// it is never held in RAM (`source` is empty then).
  std::vector<FilePart> parts;
};

/// Where a file's bytes lie, in sectors relative to the partition start.
struct FatPlacement {
  std::uint64_t first_sector = 0;  ///< 0 for an empty file
  std::uint64_t sectors = 0;       ///< ceil(size / sector_size), all contiguous
};

/// The filesystem's shape, as chosen by Plan.
struct FatGeometry {
  std::uint32_t sector_size = 512;
  std::uint32_t sectors_per_cluster = 0;  ///< like mkfs.fat: 4 KiB from 260 MiB, 8 KiB from 8 GiB, …
  std::uint32_t reserved_sectors = 32;
  std::uint32_t fat_sectors = 0;  ///< per FAT; there are two
  std::uint32_t total_sectors = 0;
  std::uint32_t clusters = 0;  ///< data clusters, numbered from 2

  std::uint64_t ClusterBytes() const { return std::uint64_t{sectors_per_cluster} * sector_size; }
  /// The first sector of cluster 2 (the root directory), aligned to the cluster size.
  std::uint64_t DataStart() const { return reserved_sectors + 2ull * fat_sectors; }
};

/// A planned FAT32 volume: geometry, directory tree and file placement.
class Fat32Image {
 public:
  /// The smallest partition, in sectors of `sector_size`, that holds FAT32.
  static std::uint64_t MinimumSectors(std::uint32_t sector_size);

  /// Plans the volume without touching any file. Directories come first
  /// (the root at cluster 2), then the files in the order given.
  /// Errors (kDisk): an unsupported sector size, a partition too small for
  /// FAT32 (the message says the minimum) or too large, files that do not fit;
  /// (kUsage): a bad label, a path FAT cannot hold, a duplicate (FAT ignores
  /// case), a file of 4 GiB or more.
  [[nodiscard]] static base::Result<Fat32Image> Plan(const FatVolume& volume, std::vector<FatFile> files);

  const FatGeometry& geometry() const { return geometry_; }

  /// The placement of the file planned as `path` (exactly as given to Plan).
  [[nodiscard]] base::Result<FatPlacement> PlacementOf(std::string_view path) const;

  /// Replaces a file's content with `data` of the same size (a patched ldlinux.sys).
  [[nodiscard]] base::Result<void> ReplaceData(std::string_view path, std::string data);

  /// Sector 0: jump, BPB, boot code and 0x55AA; sector_size bytes long.
  const std::string& BootSector() const { return boot_sector_; }

  /// Replaces sector 0 (and its backup, sector 6). The new sector must keep
  /// the BPB (bytes 0x0B-0x59) and the 0x55AA signature: only the jump, OEM
  /// name and boot code may change.
  [[nodiscard]] base::Result<void> SetBootSector(std::string sector);

  /// Writes the volume into `disk` at `partition_offset_bytes` with pwrite on
  /// its descriptor only. The reserved sectors go last, so a write that fails
  /// midway leaves no new boot sector describing half-written structures.
  /// Errors (kDisk): the disk's sector size is not the volume's or the volume
  /// ends past the disk's end (both before any write); a write failed; a
  /// `source` or a part is missing or changed size.
  [[nodiscard]] base::Result<void> Write(const Disk& disk, std::uint64_t partition_offset_bytes) const;

 private:
  struct Entry {                  // a file or directory of the tree
    std::string path;             // as given, for PlacementOf; "" for the root
    std::size_t file = SIZE_MAX;  // index in files_, or SIZE_MAX for a directory
    std::uint32_t first_cluster = 0;
    std::uint32_t clusters = 0;
    std::string dir_entries;  // a directory's encoded entries
  };

  Fat32Image() = default;
  const Entry* FindFile(std::string_view path) const;
  std::string InfoSector() const;
  [[nodiscard]] base::Result<void> WriteFats(const base::Fd& fd, std::uint64_t offset) const;
  /// The files `file` streams in (its source, or its parts), each opened and its size checked.
  [[nodiscard]] base::Result<std::vector<base::Fd>> OpenSources(const FatFile& file) const;
  [[nodiscard]] base::Result<void> WriteFile(const base::Fd& fd, std::uint64_t offset, const Entry& entry,
                                             const std::vector<base::Fd>& sources) const;

  FatGeometry geometry_;
  std::vector<FatFile> files_;
  std::vector<Entry> entries_;   // entries_[0] is the root; in cluster order
  std::uint32_t next_free_ = 2;  // the first cluster no entry uses
  std::string boot_sector_;
};

}  // namespace disk
