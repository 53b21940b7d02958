// The disk being written, opened once: every writer (FAT32, ext4, the GPT and
// its signature wipe, the MBR code) gets this handle and writes through its
// descriptor. A name is looked up once, when the handle is made; a symlink or
// a device node put at that name later cannot redirect a single write.
#pragma once

#include <cstdint>
#include <string>

#include <sys/types.h>

#include "base/base.h"
#include "disk/quiesce.h"

namespace disk {

class Disk {
 public:
  Disk(Disk&&) noexcept = default;
  Disk& operator=(Disk&&) noexcept = default;

  /// Opens an existing whole-disk block device or regular image file
  /// read-write (not O_EXCL: the takeover writes a disk whose old filesystems
  /// are still mounted, frozen), waiting out a udev rescan (EBUSY), and takes
  /// its lock (LockDisk). An image file is taken to have `file_sector_size`
  /// sectors; a block device has its own logical sector size.
  /// Errors (kDisk): missing, neither a block device nor a regular file,
  /// not writable, locked by another program.
  /// Every call goes through `sys`, and so does Flush.
  [[nodiscard]] static base::Result<Disk> Open(const std::string& path, std::uint32_t file_sector_size = 512,
                                               const Patience& open_patience = kRescanPatience,
                                               const Patience& lock_patience = kProbePatience,
                                               base::Sys& sys = base::RealSys());

  /// The same for a descriptor opened by the caller (open for reading and
  /// writing); `name` is for messages only and is never opened.
  [[nodiscard]] static base::Result<Disk> Adopt(base::Fd fd, std::string name, std::uint32_t file_sector_size = 512,
                                                const Patience& lock_patience = kProbePatience,
                                                base::Sys& sys = base::RealSys());

  const base::Fd& fd() const { return fd_; }
  /// What the user named: for messages only, never opened again.
  const std::string& name() const { return name_; }
  std::uint64_t bytes() const { return bytes_; }
  /// The logical sector size of a block device, or the one an image file was given.
  std::uint32_t sector_size() const { return sector_size_; }
  bool block_device() const { return block_device_; }
  /// A block device's device number (0 for an image file): the commit checks
  /// it is the disk it chose.
  dev_t rdev() const { return rdev_; }

  /// Flushes what was written (fsync, drop the buffer cache, ask for the
  /// partition table to be re-read: base::Sys::FlushDisk). Errors are kDisk.
  [[nodiscard]] base::Result<void> Flush() const;

 private:
  Disk() = default;

  base::Sys* sys_ = nullptr;
  base::Fd fd_;  ///< holds the flock: released when it closes
  std::string name_;
  std::uint64_t bytes_ = 0;
  std::uint32_t sector_size_ = 512;
  bool block_device_ = false;
  dev_t rdev_ = 0;
};

}  // namespace disk
