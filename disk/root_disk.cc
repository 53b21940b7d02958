#include "disk/root_disk.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <filesystem>
#include <optional>
#include <string>

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "base/base.h"

namespace disk {
namespace {

using base::ErrorKind;
namespace fs = std::filesystem;

constexpr const char* kKeepDiskHint =
    "name the disk to replace with --disk /dev/NAME, or pass --keep-disk to boot the RAM OS with kexec only "
    "(it will not survive a reboot)";

std::string ReadSys(const std::string& path) { return std::string(base::Trim(base::ReadFile(path, 4096).value_or(""))); }

bool ParseUnsigned(std::string_view s, std::uint64_t& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}

/// "/sys/dev/block/M:m" resolved: ".../block/vda/vda1" for a partition.
struct SysBlock {
  std::string name;       ///< the device's own name (vda1)
  std::string disk_name;  ///< its whole disk (vda)
  bool partition = false;
};

base::Result<SysBlock> ResolveSysBlock(const SystemRoot& root, unsigned major, unsigned minor) {
  const std::string link = root.prefix + "/sys/dev/block/" + std::to_string(major) + ":" + std::to_string(minor);
  std::error_code ec;
  fs::path real = fs::canonical(link, ec);
  if (ec) {
    return base::Fail(base::Error(ErrorKind::kDisk, "block device " + std::to_string(major) + ":" +
                                                        std::to_string(minor) + " is not in /sys/dev/block (" +
                                                        ec.message() + ")")
                          .Hint("mount sysfs (mount -t sysfs sysfs /sys) and run again; or " +
                                std::string(kKeepDiskHint)));
  }
  SysBlock b;
  b.name = real.filename().string();
  b.partition = fs::exists(real / "partition");
  b.disk_name = b.partition ? real.parent_path().filename().string() : b.name;
  return b;
}

/// dm-* (LVM, LUKS, multipath) and md* (software RAID) have no single disk to replace.
base::Result<void> RefuseStacked(const SystemRoot& root, const std::string& name, const std::string& what) {
  if (name.starts_with("dm-")) {
    std::string dm = ReadSys(root.prefix + "/sys/block/" + name + "/dm/name");
    return base::Fail(base::Error(ErrorKind::kDisk, what + " is on device-mapper device " + name +
                                                        (dm.empty() ? "" : " (" + dm + ")") +
                                                        ": LVM, LUKS or multipath, which has no single disk to replace")
                          .Hint(kKeepDiskHint));
  }
  if (name.starts_with("md")) {
    return base::Fail(base::Error(ErrorKind::kDisk, what + " is on software RAID " + name +
                                                        ", which has no single disk to replace")
                          .Hint(kKeepDiskHint));
  }
  if (name.starts_with("loop") || name.starts_with("ram") || name.starts_with("zram") || name.starts_with("nbd")) {
    return base::Fail(base::Error(ErrorKind::kDisk, what + " is on " + name + ", which is not a disk of this machine")
                          .Hint(kKeepDiskHint));
  }
  return {};
}

/// "252:1" → a device number.
std::optional<dev_t> ParseDevNumber(std::string_view text) {
  const std::size_t colon = text.find(':');
  std::uint64_t major = 0, minor = 0;
  if (colon == std::string_view::npos || !ParseUnsigned(text.substr(0, colon), major) ||
      !ParseUnsigned(text.substr(colon + 1), minor)) {
    return std::nullopt;
  }
  return makedev(static_cast<unsigned>(major), static_cast<unsigned>(minor));
}

/// The device numbers of the disk (its `dev` in sysfs) and then of each partition.
void FillDevices(const std::string& dir, TargetDisk& disk) {
  disk.devices.clear();
  if (auto own = ParseDevNumber(ReadSys(dir + "/dev"))) disk.devices.push_back(*own);
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (!fs::exists(entry.path() / "partition")) continue;
    if (auto part = ParseDevNumber(ReadSys((entry.path() / "dev").string()))) disk.devices.push_back(*part);
  }
  if (!disk.devices.empty()) std::sort(disk.devices.begin() + 1, disk.devices.end());
}

/// Size and sector size from sysfs; /sys/block/X/size counts 512-byte units whatever the sector size.
base::Result<void> FillGeometry(const SystemRoot& root, TargetDisk& disk) {
  const std::string dir = root.prefix + "/sys/block/" + disk.name;
  std::uint64_t sectors = 0, logical = 0;
  if (!ParseUnsigned(ReadSys(dir + "/size"), sectors)) {
    return base::Fail(base::Error(ErrorKind::kDisk, "cannot read the size of " + disk.name + " from " + dir + "/size")
                          .Hint("mount sysfs (mount -t sysfs sysfs /sys) and run again; or " +
                                std::string(kKeepDiskHint)));
  }
  if (!ParseUnsigned(ReadSys(dir + "/queue/logical_block_size"), logical)) logical = 512;
  disk.bytes = sectors * 512;
  disk.sector_size = static_cast<std::uint32_t>(logical);
  // A disk (or partition) held by device-mapper or md is in use by LVM, LUKS or RAID.
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const fs::path holders = entry.path() / "holders";
    if (entry.path().filename() != "holders" && !fs::exists(entry.path() / "partition")) continue;
    const fs::path where = entry.path().filename() == "holders" ? entry.path() : holders;
    for (const auto& holder : fs::directory_iterator(where, ec)) {
      return base::Fail(base::Error(ErrorKind::kDisk, disk.device + " is in use by " +
                                                          holder.path().filename().string() +
                                                          " (LVM, LUKS or RAID), which bootrino cannot stop safely")
                            .Hint(kKeepDiskHint));
    }
  }
  FillDevices(dir, disk);
  if (ReadSys(dir + "/ro") == "1") {
    return base::Fail(base::Error(ErrorKind::kDisk, disk.device + " is read-only").Hint(kKeepDiskHint));
  }
  return {};
}

/// Mount points of filesystems on `disk` (the disk itself or its partitions), "/" first.
base::Result<void> FillMounts(const std::vector<MountEntry>& mounts, TargetDisk& disk) {
  disk.mounts.clear();
  for (const auto& m : MountsOn(disk, mounts)) disk.mounts.push_back(m.mount_point);
  return {};
}

base::Result<std::vector<base::MountEntry>> ReadMounts(const SystemRoot& root) {
  auto text = base::ReadFile(root.prefix + "/proc/self/mountinfo", 1 << 22);
  if (!text) return base::Fail(std::move(text.error()).Context("reading /proc/self/mountinfo"));
  return base::ParseMountinfo(*text);
}

}  // namespace

base::Result<TargetDisk> FindRootDisk(const SystemRoot& root) {
  ASSIGN_OR_RETURN(std::vector<base::MountEntry> mounts, ReadMounts(root));
  const base::MountEntry* rootfs = nullptr;
  for (const auto& m : mounts) {
    if (m.mount_point == "/") rootfs = &m;  // the last one is the visible one
  }
  if (!rootfs) {
    return base::Fail(base::Error(ErrorKind::kDisk, "no / in /proc/self/mountinfo")
                          .Hint("mount procfs (mount -t proc proc /proc) and run again; or " +
                                std::string(kKeepDiskHint)));
  }
  static constexpr std::string_view kNetwork[] = {"nfs", "nfs4", "cifs", "smb3", "ceph", "glusterfs", "9p",
                                                  "virtiofs"};
  static constexpr std::string_view kRam[] = {"tmpfs", "ramfs", "rootfs", "overlay", "squashfs"};
  const std::string what = "the running root filesystem (" + rootfs->fstype + " from " + rootfs->source + ")";
  if (std::find(std::begin(kNetwork), std::end(kNetwork), rootfs->fstype) != std::end(kNetwork)) {
    return base::Fail(base::Error(ErrorKind::kDisk, what + " is on the network, not on a disk").Hint(kKeepDiskHint));
  }
  if (std::find(std::begin(kRam), std::end(kRam), rootfs->fstype) != std::end(kRam)) {
    return base::Fail(base::Error(ErrorKind::kDisk, what + " is not on a disk").Hint(kKeepDiskHint));
  }
  unsigned major = rootfs->major, minor = rootfs->minor;
  if (major == 0) {
    // btrfs (and other multi-device filesystems) report an anonymous device
    // number; the source names the block device.
    struct stat st;
    if (!rootfs->source.starts_with("/dev/") || stat((root.prefix + rootfs->source).c_str(), &st) != 0 ||
        !S_ISBLK(st.st_mode)) {
      return base::Fail(base::Error(ErrorKind::kDisk, what + " has no block device bootrino can find")
                            .Hint(kKeepDiskHint));
    }
    major = ::major(st.st_rdev);
    minor = ::minor(st.st_rdev);
  }
  ASSIGN_OR_RETURN(SysBlock b, ResolveSysBlock(root, major, minor));
  RETURN_IF_ERROR(RefuseStacked(root, b.name, what));
  TargetDisk disk;
  disk.name = b.disk_name;
  disk.device = "/dev/" + b.disk_name;
  disk.root_source = rootfs->source;
  disk.holds_root = true;
  RETURN_IF_ERROR(FillGeometry(root, disk));
  RETURN_IF_ERROR(FillMounts(mounts, disk));
  return disk;
}

base::Result<TargetDisk> DescribeDisk(const std::string& device, const SystemRoot& root) {
  struct stat st;
  if (stat((root.prefix + device).c_str(), &st) != 0) {
    return base::Fail(base::Error(ErrorKind::kDisk, base::SysMessage("stat", "--disk " + device, errno), errno)
                          .Hint("name a whole disk such as /dev/vda or /dev/nvme0n1 (see lsblk)"));
  }
  if (!S_ISBLK(st.st_mode)) {
    return base::Fail(base::Error(ErrorKind::kDisk, "--disk " + device + " is not a block device")
                          .Hint("name a whole disk such as /dev/vda or /dev/nvme0n1 (see lsblk)"));
  }
  ASSIGN_OR_RETURN(SysBlock b, ResolveSysBlock(root, ::major(st.st_rdev), ::minor(st.st_rdev)));
  if (b.partition) {
    return base::Fail(base::Error(ErrorKind::kDisk, "--disk " + device + " is a partition of " + b.disk_name)
                          .Hint("name the whole disk, /dev/" + b.disk_name + ": bootrino replaces its partition table"));
  }
  RETURN_IF_ERROR(RefuseStacked(root, b.name, "--disk " + device));
  TargetDisk disk;
  disk.name = b.name;
  disk.device = device;
  RETURN_IF_ERROR(FillGeometry(root, disk));
  ASSIGN_OR_RETURN(std::vector<MountEntry> mounts, ReadMounts(root));
  RETURN_IF_ERROR(FillMounts(mounts, disk));
  disk.holds_root = !disk.mounts.empty() && disk.mounts.front() == "/";
  return disk;
}

std::vector<MountEntry> MountsOn(const TargetDisk& disk, const std::vector<MountEntry>& mountinfo) {
  std::vector<MountEntry> out;
  for (const auto& m : mountinfo) {
    if (m.major == 0) continue;  // virtual filesystems (and btrfs's anonymous numbers)
    const dev_t dev = makedev(m.major, m.minor);
    if (std::find(disk.devices.begin(), disk.devices.end(), dev) != disk.devices.end()) out.push_back(m);
  }
  std::stable_partition(out.begin(), out.end(), [](const MountEntry& m) { return m.mount_point == "/"; });
  return out;
}

base::Result<std::vector<MountEntry>> MountedNow(const TargetDisk& disk, base::Sys& sys) {
  auto text = sys.ReadText("/proc/self/mountinfo");
  if (!text) return base::Fail(std::move(text.error()).Context("reading /proc/self/mountinfo"));
  return MountsOn(disk, ParseMountinfo(*text));
}

}  // namespace disk
