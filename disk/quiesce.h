// Stopping the old system from writing to the disk that is about to be
// replaced (ARCHITECTURE.md rule 4): swap on it is turned off and every
// filesystem mounted from it is frozen (FIFREEZE), or remounted read-only
// where freezing is not supported. Until Keep() the old system is thawed on
// failure, so the host stays exactly as it was.
#pragma once

#include <string>
#include <vector>

#include <sys/types.h>

#include "base/fd.h"
#include "base/result.h"
#include "disk/root_disk.h"

namespace disk {

class Quiesced {
 public:
  Quiesced() = default;
  Quiesced(Quiesced&& other) noexcept;
  Quiesced& operator=(Quiesced&&) = delete;
  ~Quiesced();

  /// Device numbers (st_dev) of the frozen filesystems: a file on one of them
  /// must not be written any more (the write would block forever).
  const std::vector<dev_t>& devices() const { return devices_; }
  /// What was done, for the log: "froze /, froze /boot/efi, swapoff /swap.img".
  const std::vector<std::string>& actions() const { return actions_; }

  /// Past the commit point: the filesystems stay frozen until the reboot.
  void Keep() { keep_ = true; }

 private:
  friend base::Result<Quiesced> Quiesce(const TargetDisk& disk);
  std::vector<std::string> frozen_;  ///< mount points to thaw, in freeze order
  std::vector<dev_t> devices_;
  std::vector<std::string> actions_;
  bool keep_ = false;
};

/// Syncs, turns off swap on `disk`, freezes its mounted filesystems (the
/// deepest first). On error everything done so far is undone.
[[nodiscard]] base::Result<Quiesced> Quiesce(const TargetDisk& disk);

/// Flushes a written disk: fsync, drop its buffer cache, and ask the kernel to
/// re-read the partition table (EBUSY while partitions are mounted is expected:
/// the next kernel reads the new table at boot).
[[nodiscard]] base::Result<void> FlushDisk(int fd);

/// Opens a disk (or image file) to write it. udev re-reads a disk's partition
/// table whenever a writer closes it, and while that rescan runs Linux fails
/// other opens with EBUSY: such an open is retried for up to 5 s.
[[nodiscard]] base::Result<base::Fd> OpenDisk(const std::string& path, int flags);

/// Takes the disk's BSD lock (flock LOCK_EX), which udev honours: it neither
/// probes nor rescans a disk while it is held (systemd's block device locking).
/// Waits up to 10 s for a probe that holds it now. Released when `fd` closes.
[[nodiscard]] base::Result<void> LockDisk(const base::Fd& fd, const std::string& path);

}  // namespace disk
