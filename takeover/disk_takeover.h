// The disk side of `run` and `image`: choosing the disk (4a), planning its
// layout and boot partition (4b), and the commit (6) that replaces it while
// the old system is frozen.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

#include "base/base.h"
#include "disk/disk.h"
#include "fetch/fetch.h"
#include "observe/observe.h"

namespace takeover {

/// Refuses (kDisk) a disk for `arch` when this build's bootloaders are another architecture's.
[[nodiscard]] base::Result<void> BootloadersFor(base::Arch arch);

/// The disk `run` replaces: --disk, else the one holding /; none with --keep-disk.
/// Refused on architectures this build has no bootloaders for (`arch` is the payload's).
[[nodiscard]] base::Result<std::optional<disk::TargetDisk>> ChooseDisk(bool keep_disk, const std::string& device,
                                                                       base::Arch arch, observe::Events& events);

/// The layout of a `bytes`-sized disk and its prepared boot partition, from
/// the manifest's disk settings. Pure: equal inputs give equal plans.
[[nodiscard]] base::Result<disk::PreparedDisk> PlanDisk(std::uint64_t bytes, std::uint32_t sector_size,
                                                        const fetch::DiskSpec& spec, disk::BootFiles files,
                                                        std::uint64_t seed);

/// A seed for the disk's GUIDs when the user gives none.
std::uint64_t RandomSeed();

/// Locks this process's pages in RAM (`sys.LockMemory`). When that fails and
/// the binary may run from `target` (`self_device` is one of `devices`, the
/// st_dev of its filesystems, or unknown), a page not read yet would come from the new
/// layout's bytes once it is written: that is an error. Otherwise a warning.
[[nodiscard]] base::Result<void> LockInMemory(base::Sys& sys, const disk::TargetDisk& target,
                                              const std::vector<dev_t>& devices, std::optional<dev_t> self_device,
                                              observe::Events& events);

/// 6a: this process runs from RAM from now on, and the old system stops
/// writing to `target` (swap off, filesystems frozen). An error leaves the host
/// as it was; the returned handle thaws it again unless Keep() is called.
[[nodiscard]] base::Result<disk::Quiesced> StopOldSystem(const disk::TargetDisk& target, base::Sys& sys,
                                                        observe::Events& events);

/// 6b: opens the disk once through `sys` (waiting out udev, taking its lock)
/// and refuses it unless it is still the device chosen (a node replaced at
/// that name since is not written). An error leaves the disk untouched.
[[nodiscard]] base::Result<disk::Disk> OpenTargetDisk(const disk::TargetDisk& target, base::Sys& sys,
                                                      observe::Events& events);

/// 6c: the first write: the new disk through `handle`, flushed. An error
/// means the disk is partly written and no longer bootable, and says so.
[[nodiscard]] base::Result<disk::WriteReport> WriteNewDisk(const disk::TargetDisk& target,
                                                           const disk::PreparedDisk& prepared,
                                                           const disk::Disk& handle, observe::Events& events);

}  // namespace takeover
