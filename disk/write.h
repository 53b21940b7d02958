// Writing a planned layout: the FAT32 boot partition with the RAM OS's files
// and both bootloaders, the data filesystem, then the partition table and the
// MBR's boot code last, so a disk is bootable only once all it needs is there.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/base.h"
#include "disk/fat32.h"
#include "disk/handle.h"
#include "disk/layout.h"

namespace disk {

/// A file for the boot partition: staged on a RAM filesystem, or in memory.
struct BootFile {
  std::string name;    ///< path on the boot partition, no leading "/": "vmlinuz-virt"
  std::string source;  ///< the staged file, or empty when `data` (after `parts`, if any) is the content
  std::string data;
  std::uint64_t size = 0;  ///< of `source`, or of the whole file with `parts`; ignored with `data` alone
  /// Staged files streamed in, each padded, before `data` while the disk is written: an initrd composed on
  /// the disk and never in RAM.
  std::vector<FilePart> parts;

  std::uint64_t Bytes() const { return source.empty() && parts.empty() ? data.size() : size; }
};

/// What the firmware boots: the kexec path's kernel, initrds and command line.
struct BootFiles {
  std::string title;             ///< for the boot menu entry: the manifest's name and version
  BootFile kernel;
  std::vector<BootFile> initrds;  ///< concatenated in order by the bootloader
  std::vector<BootFile> files;    ///< extra files the RAM OS reads from the boot partition
  std::string cmdline;
};

/// Everything the boot partition must hold, bootloaders included, in bytes.
std::uint64_t BootPartitionBytes(const BootFiles& files, bool bios, bool uefi);

/// A layout with its boot partition fully planned in memory (files placed,
/// syslinux patched in): everything that can fail without I/O has been checked.
struct PreparedDisk {
  Layout layout;
  BootFiles files;
  std::shared_ptr<const Fat32Image> boot;  ///< shared: the plan is copied into reports and the agent
};

/// Plans the boot partition for `layout`. Errors: kManifest for file names the
/// boot partition cannot hold, kDisk when they do not fit.
[[nodiscard]] base::Result<PreparedDisk> PrepareDisk(const Layout& layout, BootFiles files);

/// Measures of one write, for the log and bench/README.md.
struct WriteReport {
  /// Every byte this write sent to the disk (the process's write_bytes), when
  /// `measured`; else the boot partition's metadata and files and the MBR only.
  /// Zeroing a range (journal, discard) is the disk's own work: not counted.
  std::uint64_t bytes_written = 0;
  bool measured = false;
  double seconds = 0;
};

/// Writes a prepared disk to `target` (a whole disk or an image file, opened
/// once by the caller): the boot filesystem, the data filesystem, then the
/// partition table and the MBR code, every byte through the handle's
/// descriptor. A target of another size or sector size than the layout's is
/// refused before the first write. Errors are kDisk.
[[nodiscard]] base::Result<WriteReport> WriteDisk(const Disk& target, const PreparedDisk& disk);

}  // namespace disk
