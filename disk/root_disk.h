// Finding the disk to take over: the whole disk that holds the running `/`
// (mountinfo → device number → sysfs → the partition's parent), never a guess
// by name (nvme0n1, xvda, sda and vda are all root disks somewhere).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <sys/types.h>

#include "base/base.h"

namespace disk {

// The one mountinfo parser is base's (userdata/ reads mountinfo too); disk/ names it as its own.
using base::MountEntry;
using base::ParseMountinfo;

/// A disk bootrino may replace, and what the running system has mounted from it.
struct TargetDisk {
  std::string name;          ///< kernel name: vda, nvme0n1, xvda, sda
  std::string device;        ///< its node, /dev/NAME (or the path given with --disk)
  std::uint64_t bytes = 0;
  std::uint32_t sector_size = 512;  ///< logical sector size
  std::string root_source;   ///< what / is mounted from, e.g. /dev/vda1 (empty with --disk)
  std::vector<std::string> mounts;  ///< mount points of filesystems on this disk, / first
  bool holds_root = false;
  /// Device numbers of the disk (first) and of its partitions: what a mount
  /// or a swap device on this disk has, and what the commit checks the device
  /// it opens against.
  std::vector<dev_t> devices;
};

/// Where /proc, /sys and /dev are; tests point it at a fake tree.
struct SystemRoot {
  std::string prefix;  ///< "" on a real system
};

/// The whole disk holding the running root filesystem. Errors are kDisk and
/// say why (root in RAM, on LVM/RAID/network) and what to do (--disk, --keep-disk).
[[nodiscard]] base::Result<TargetDisk> FindRootDisk(const SystemRoot& root = {});

/// The disk the user named with --disk: a whole-disk block device (a
/// partition is refused). Notes which of its filesystems are mounted.
[[nodiscard]] base::Result<TargetDisk> DescribeDisk(const std::string& device, const SystemRoot& root = {});

/// The entries of `mountinfo` mounted from `disk` (its devices), "/" first.
std::vector<MountEntry> MountsOn(const TargetDisk& disk, const std::vector<MountEntry>& mountinfo);

/// What is mounted from `disk` now, read through `sys` (/proc/self/mountinfo):
/// what is frozen must be what is mounted at the commit, not when the disk was
/// chosen (a detached run commits minutes later).
[[nodiscard]] base::Result<std::vector<MountEntry>> MountedNow(const TargetDisk& disk, base::Sys& sys);

}  // namespace disk
