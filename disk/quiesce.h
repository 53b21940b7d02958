// Stopping the old system from writing to the disk that is about to be
// replaced (docs/architecture.md, rule 4): swap on it is turned off and every
// filesystem mounted from it is frozen (FIFREEZE), or remounted read-only
// where freezing is not supported. Until Keep() the old system is thawed on
// failure, so the host stays exactly as it was.
#pragma once

#include <chrono>
#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

#include <sys/types.h>

#include "base/base.h"
#include "disk/root_disk.h"

namespace disk {

class Quiesced {
 public:
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
  explicit Quiesced(base::Sys& sys) : sys_(&sys) {}
  friend base::Result<Quiesced> Quiesce(const TargetDisk& disk, const std::vector<MountEntry>& mounted,
                                        base::Sys& sys);
  /// One step to take back if the commit stops before its first write.
  struct Undo {
    enum class What { kThaw, kRemountReadWrite, kSwapOn } what;
    std::string path;
  };
  base::Sys* sys_;
  std::vector<Undo> undo_;  ///< in the order done; undone in reverse
  std::vector<dev_t> devices_;
  std::vector<std::string> actions_;
  bool keep_ = false;
};

/// Through `sys`: syncs, turns off swap on `disk` (its partitions, and swap
/// files on its `mounted` filesystems), then freezes those filesystems (the
/// deepest first), remounting read-only one that cannot freeze. On error
/// everything done so far is undone in reverse (thaw, remount read-write,
/// swapon), so the host is as it was.
[[nodiscard]] base::Result<Quiesced> Quiesce(const TargetDisk& disk, const std::vector<MountEntry>& mounted,
                                             base::Sys& sys);

/// How long to wait out udev: `tries` attempts, `pause` apart.
struct Patience {
  int tries;
  std::chrono::milliseconds pause;
};
/// udev re-reads a disk's partition table whenever a writer closes it, and
/// while that rescan runs Linux fails other opens of the disk with EBUSY.
inline constexpr Patience kRescanPatience{51, std::chrono::milliseconds(100)};  // 5 s
/// A udev probe holds the disk's lock for as long as it reads the disk.
inline constexpr Patience kProbePatience{101, std::chrono::milliseconds(100)};  // 10 s

/// Calls `attempt` (which returns 0, or an error code) until it succeeds, fails
/// with a code not in `transient`, or `patience` runs out; returns its last
/// result. The one retry loop for everything that meets udev at work.
long RetryTransient(const Patience& patience, std::initializer_list<long> transient,
                    const std::function<long()>& attempt);

/// Opens a disk (or image file) to read and write it, waiting out a udev rescan (EBUSY).
[[nodiscard]] base::Result<base::Fd> OpenDisk(base::Sys& sys, const std::string& path,
                                              const Patience& patience = kRescanPatience);

/// Takes the disk's BSD lock (flock LOCK_EX), which udev honours: it neither
/// probes nor rescans a disk while it is held (systemd's block device locking).
/// Waits out a probe that holds it now. Released when `fd` closes.
[[nodiscard]] base::Result<void> LockDisk(base::Sys& sys, const base::Fd& fd, const std::string& path,
                                          const Patience& patience = kProbePatience);

}  // namespace disk
