#include "takeover/disk_takeover.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "disk/disk.h"
#include "observe/observe.h"

namespace takeover {
namespace {

/// stdout/stderr that point at a file on a filesystem about to be frozen
/// (cloud-init's output log) go to the console instead.
void MoveStdioOff(const std::vector<dev_t>& devices) {
  for (int fd : {STDOUT_FILENO, STDERR_FILENO}) {
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (std::find(devices.begin(), devices.end(), st.st_dev) == devices.end()) continue;
    int console = open("/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC);
    if (console < 0) console = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (console >= 0) {
      dup2(console, fd);
      close(console);
    }
  }
}

}  // namespace

base::Result<void> BootloadersFor(base::Arch arch) {
  // Each build embeds its own architecture's bootloaders only: a disk written for another would not boot
  // from that machine's firmware.
  if (arch == disk::BootloaderArch()) return {};
  const std::string name(base::ArchName(arch));
  return base::Fail(base::Error(base::ErrorKind::kDisk,
                                "this bootrino carries the " + std::string(base::ArchName(disk::BootloaderArch())) +
                                    " bootloaders only: it cannot make a disk bootable on " + name)
                        .Hint("use the bootrino-" + name + " release on " + name +
                              " machines, or pass --keep-disk "
                              "to boot the RAM OS with kexec only (it will not survive a reboot)"));
}

base::Result<std::optional<disk::TargetDisk>> ChooseDisk(bool keep_disk, const std::string& device, base::Arch arch,
                                                         observe::Events& events) {
  if (keep_disk) return std::nullopt;
  RETURN_IF_ERROR(BootloadersFor(arch));
  base::Result<disk::TargetDisk> target =
      device.empty() ? disk::FindRootDisk() : disk::DescribeDisk(device);
  if (!target) return base::Fail(std::move(target.error()));
  events.Emit(observe::Phase::kDisk, "found", {{"device", target->device}, {"bytes", target->bytes},
                                {"sectorSize", target->sector_size}, {"holdsRoot", target->holds_root},
                                {"mounts", target->mounts}});
  return std::optional<disk::TargetDisk>(std::move(*target));
}

std::uint64_t RandomSeed() {
  std::uint64_t seed = 0;
  if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != sizeof seed) {
    seed = static_cast<std::uint64_t>(std::chrono::system_clock::now().time_since_epoch().count()) ^
           (static_cast<std::uint64_t>(getpid()) << 32);
  }
  return seed;
}

base::Result<disk::PreparedDisk> PlanDisk(std::uint64_t bytes, std::uint32_t sector_size, const fetch::DiskSpec& spec,
                                          disk::BootFiles files, std::uint64_t seed) {
  disk::LayoutInput in;
  in.disk_bytes = bytes;
  in.sector_size = sector_size;
  in.boot_mib = spec.boot_partition_mib;
  in.data_label = spec.data_label;
  in.data_filesystem = spec.data_filesystem;
  in.seed = seed;
  // Count syslinux's files only where it will be installed.
  in.boot_payload_bytes =
      disk::BootPartitionBytes(files, disk::NoBiosReason(sector_size, in.bios_loader).empty(), true);
  ASSIGN_OR_RETURN(disk::Layout layout, disk::PlanLayout(in));
  return disk::PrepareDisk(layout, std::move(files));
}

base::Result<void> LockInMemory(base::Sys& sys, const disk::TargetDisk& target, const std::vector<dev_t>& devices,
                                std::optional<dev_t> self_device, observe::Events& events) {
  const int err = sys.LockMemory();
  if (err == 0) return {};
  const std::string what = base::SysMessage("mlockall", "bootrino's memory", err);
  if (self_device && std::find(devices.begin(), devices.end(), *self_device) == devices.end()) {
    events.Warn(what + "; going on, as bootrino does not run from " + target.device);
    return {};
  }
  return base::Fail(base::Error(base::ErrorKind::kDisk, what + ": bootrino runs from " + target.device +
                                                            ", which it is about to rewrite",
                                err)
                        .Hint("run bootrino from RAM: copy it to /run (a tmpfs) and run it from there, as "
                              "install.sh does; nothing was changed"));
}

base::Result<disk::Quiesced> StopOldSystem(const disk::TargetDisk& target, base::Sys& sys, observe::Events& events) {
  auto mounted = disk::MountedNow(target, sys);
  if (!mounted) return base::Fail(std::move(mounted.error()).Context("stopping writes to " + target.device));
  std::vector<dev_t> devices;
  for (const auto& m : *mounted) devices.push_back(makedev(m.major, m.minor));
  auto self = sys.Stat("/proc/self/exe");
  const auto self_device = self ? std::optional<dev_t>(static_cast<dev_t>(self->dev)) : std::nullopt;
  RETURN_IF_ERROR(LockInMemory(sys, target, devices, self_device, events));
  if (events.StopFileOn(devices)) events.Warn("the event log is on " + target.device + "; it stops here");
  MoveStdioOff(devices);
  auto quiesced = disk::Quiesce(target, *mounted, sys);
  if (!quiesced) return base::Fail(std::move(quiesced.error()).Context("stopping writes to " + target.device));
  events.Emit(observe::Phase::kCommit, "start", {{"device", target.device}, {"quiesced", quiesced->actions()}});
  return quiesced;
}

namespace {

/// "252:0"
std::string DevName(dev_t dev) { return std::to_string(major(dev)) + ":" + std::to_string(minor(dev)); }

/// The device opened must be the disk chosen: a node replaced at that name since (or a symlink) is not written.
base::Result<void> CheckOpened(const disk::TargetDisk& target, const disk::Disk& handle) {
  if (!handle.block_device()) {
    return base::Fail(base::Error(base::ErrorKind::kDisk, target.device + " is no longer a block device")
                          .Hint("name the disk to replace with --disk /dev/NAME"));
  }
  if (!target.devices.empty() && handle.rdev() != target.devices.front()) {
    return base::Fail(base::Error(base::ErrorKind::kDisk, target.device + " is now device " + DevName(handle.rdev()) +
                                                              ", not the disk chosen (" +
                                                              DevName(target.devices.front()) + ")")
                          .Hint("something replaced the device node since bootrino looked; check " + target.device +
                                " (lsblk) and run again"));
  }
  return {};
}

}  // namespace

base::Result<disk::Disk> OpenTargetDisk(const disk::TargetDisk& target, base::Sys& sys, observe::Events& events) {
  auto handle = disk::Disk::Open(target.device, target.sector_size, disk::kRescanPatience, disk::kProbePatience, sys);
  if (handle) {
    if (auto same = CheckOpened(target, *handle); !same) handle = base::Fail(std::move(same.error()));
  }
  if (!handle) {
    // Nothing was written: the old system is thawed and boots again.
    events.Emit(observe::Phase::kCommit, "failed", {{"device", target.device}, {"error", handle.error().message()}});
    return base::Fail(std::move(handle.error())
                          .Context("opening " + target.device + " to replace it; nothing was written"));
  }
  return handle;
}

base::Result<disk::WriteReport> WriteNewDisk(const disk::TargetDisk& target, const disk::PreparedDisk& prepared,
                                             const disk::Disk& handle, observe::Events& events) {
  auto written = disk::WriteDisk(handle, prepared);
  if (!written) {
    events.Emit(observe::Phase::kCommit, "failed", {{"device", target.device}, {"error", written.error().message()}});
    return base::Fail(base::Error(base::ErrorKind::kDisk, "writing " + target.device + " failed part way: " +
                                                              written.error().message(),
                                  written.error().sys_errno())
                          .Hint("the disk is no longer bootable; boot the instance from a rescue image, or run "
                                "bootrino again from the RAM OS"));
  }
  events.Emit(observe::Phase::kCommit, "ok", {{"device", target.device}, {"bytesWritten", written->bytes_written},
                               {"bytesMeasured", written->measured}, {"seconds", written->seconds}});
  return written;
}

}  // namespace takeover
