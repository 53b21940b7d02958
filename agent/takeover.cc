#include "agent/takeover.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/report.h"
#include "disk/disk.h"
#include "disk/layout.h"
#include "disk/quiesce.h"

namespace agent {
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

base::Result<std::optional<disk::TargetDisk>> ChooseDisk(const RunOptions& options, const std::string& arch,
                                                         Events& events) {
  if (options.keep_disk) return std::nullopt;
  // The embedded bootloaders are syslinux and systemd-bootx64.efi: a disk
  // written for another architecture would not boot from its firmware.
  if (arch != "x86_64") {
    return base::Fail(base::Error(base::ErrorKind::kDisk, "the disk takeover installs x86_64 bootloaders only; this "
                                                          "release cannot make a " + arch + " disk bootable")
                          .Hint("pass --keep-disk to boot the RAM OS with kexec only (it will not survive a reboot)"));
  }
  base::Result<disk::TargetDisk> target =
      options.disk.empty() ? disk::FindRootDisk() : disk::DescribeDisk(options.disk);
  if (!target) return base::Fail(std::move(target.error()));
  events.Emit("disk", "found", {{"device", target->device}, {"bytes", target->bytes},
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
                                          disk::BootFiles files, std::uint64_t seed, Events& events) {
  disk::LayoutInput in;
  in.disk_bytes = bytes;
  in.sector_size = sector_size;
  in.boot_mib = spec.boot_partition_mib;
  in.data_label = spec.data_label;
  in.data_filesystem = spec.data_filesystem;
  in.seed = seed;
  // BIOS boot is possible only with 512-byte sectors; count its files only then.
  in.boot_payload_bytes = disk::BootPartitionBytes(files, sector_size == 512, true);
  ASSIGN_OR_RETURN(disk::Layout layout, disk::PlanLayout(in));
  ASSIGN_OR_RETURN(disk::PreparedDisk prepared, disk::PrepareDisk(layout, std::move(files)));
  events.Emit("plan-disk", "ok", disk::ToJson(prepared.layout));
  return prepared;
}

base::Result<void> LockInMemory(base::Sys& sys, const disk::TargetDisk& target, const std::vector<dev_t>& devices,
                                std::optional<dev_t> self_device, Events& events) {
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

base::Result<disk::Quiesced> StopOldSystem(const disk::TargetDisk& chosen, base::Sys& sys, Events& events) {
  disk::TargetDisk target = chosen;
  if (auto r = disk::RefreshMounts(target); !r) {
    return base::Fail(std::move(r.error()).Context("stopping writes to " + target.device));
  }
  const std::vector<dev_t> devices = disk::MountedDevices(target);
  struct stat self;
  const auto self_device = stat("/proc/self/exe", &self) == 0 ? std::optional<dev_t>(self.st_dev) : std::nullopt;
  RETURN_IF_ERROR(LockInMemory(sys, target, devices, self_device, events));
  if (events.StopFileOn(devices)) events.Warn("the event log is on " + target.device + "; it stops here");
  MoveStdioOff(devices);
  auto quiesced = disk::Quiesce(target);
  if (!quiesced) return base::Fail(std::move(quiesced.error()).Context("stopping writes to " + target.device));
  events.Emit("commit", "start", {{"device", target.device}, {"quiesced", quiesced->actions()}});
  return quiesced;
}

base::Result<disk::WriteReport> WriteNewDisk(const disk::TargetDisk& target, const disk::PreparedDisk& prepared,
                                             disk::Quiesced& quiesced, Events& events) {
  // The device is opened (and locked) once, here; every write goes through this handle.
  auto handle = disk::Disk::Open(target.device);
  if (handle && !handle->block_device()) {
    handle = base::Fail(base::Error(base::ErrorKind::kDisk, target.device + " is no longer a block device")
                            .Hint("name the disk to replace with --disk /dev/NAME"));
  }
  if (!handle) {
    // Nothing was written: the old system is thawed (Keep() was not called) and boots again.
    events.Emit("commit", "failed", {{"device", target.device}, {"error", handle.error().message()}});
    return base::Fail(std::move(handle.error())
                          .Context("opening " + target.device + " to replace it; nothing was written"));
  }
  // From the first write on, the old system is gone: it stays frozen until the reboot.
  quiesced.Keep();
  auto written = disk::WriteDisk(*handle, prepared);
  if (!written) {
    events.Emit("commit", "failed", {{"device", target.device}, {"error", written.error().message()}});
    return base::Fail(base::Error(base::ErrorKind::kDisk, "writing " + target.device + " failed part way: " +
                                                              written.error().message(),
                                  written.error().sys_errno())
                          .Hint("the disk is no longer bootable; boot the instance from a rescue image, or run "
                                "bootrino again from the RAM OS"));
  }
  events.Emit("commit", "ok", {{"device", target.device}, {"bytesWritten", written->bytes_written},
                               {"bytesMeasured", written->measured}, {"seconds", written->seconds}});
  return written;
}

}  // namespace agent
