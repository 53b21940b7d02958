#include "disk/quiesce.h"

#include <algorithm>
#include <cerrno>
#include <optional>
#include <thread>

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "base/fd.h"

namespace disk {
namespace {

using base::ErrorKind;

/// /proc/swaps: "Filename Type Size Used Priority", names escaped like mountinfo.
std::vector<std::string> SwapAreas() {
  std::vector<std::string> out;
  std::string text = base::ReadFile("/proc/swaps", 1 << 20).value_or("");
  std::size_t pos = text.find('\n');  // header
  while (pos != std::string::npos && pos + 1 < text.size()) {
    std::size_t end = text.find('\n', pos + 1);
    std::string line = text.substr(pos + 1, end == std::string::npos ? std::string::npos : end - pos - 1);
    std::string name = line.substr(0, line.find_first_of(" \t"));
    if (!name.empty()) out.push_back(name);
    pos = end;
  }
  return out;
}

/// True when swap area `name` (a block device or a file) lives on `disk`.
bool SwapOnDisk(const std::string& name, const TargetDisk& disk, const std::vector<dev_t>& fs_devices) {
  struct stat st;
  if (stat(name.c_str(), &st) != 0) return false;
  if (S_ISBLK(st.st_mode)) {
    std::string dev = "/sys/dev/block/" + std::to_string(major(st.st_rdev)) + ":" + std::to_string(minor(st.st_rdev));
    char real[4096];
    ssize_t n = readlink(dev.c_str(), real, sizeof real - 1);
    if (n <= 0) return false;
    std::string path(real, static_cast<std::size_t>(n));
    return path.ends_with("/" + disk.name) || path.find("/" + disk.name + "/") != std::string::npos;
  }
  return std::find(fs_devices.begin(), fs_devices.end(), st.st_dev) != fs_devices.end();
}

}  // namespace

Quiesced::Quiesced(Quiesced&& other) noexcept
    : frozen_(std::move(other.frozen_)), devices_(std::move(other.devices_)), actions_(std::move(other.actions_)),
      keep_(other.keep_) {
  other.frozen_.clear();
}

Quiesced::~Quiesced() {
  if (keep_) return;
  for (auto it = frozen_.rbegin(); it != frozen_.rend(); ++it) {
    int fd = open(it->c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) continue;
    (void)ioctl(fd, FITHAW, 0);
    close(fd);
  }
}

std::vector<dev_t> MountedDevices(const TargetDisk& disk) {
  std::vector<dev_t> devices;
  for (const auto& mp : disk.mounts) {
    struct stat st;
    if (stat(mp.c_str(), &st) == 0) devices.push_back(st.st_dev);
  }
  return devices;
}

base::Result<Quiesced> Quiesce(const TargetDisk& disk) {
  Quiesced q;
  sync();  // once, before anything is frozen: a sync that meets a frozen filesystem waits for it
  q.devices_ = MountedDevices(disk);
  for (const auto& swap : SwapAreas()) {
    if (!SwapOnDisk(swap, disk, q.devices_)) continue;
    if (swapoff(swap.c_str()) != 0) {
      int err = errno;
      return base::Fail(base::Error(ErrorKind::kDisk, base::SysMessage("swapoff", swap, err), err)
                            .Hint("swap on " + disk.device + " holds pages that do not fit in RAM; free memory "
                                  "(or turn that swap off yourself) and run again; nothing was changed"));
    }
    q.actions_.push_back("swapoff " + swap);
  }
  // The deepest mount first: freezing / first would block the lookups that reach /boot/efi.
  std::vector<std::string> mounts = disk.mounts;
  std::sort(mounts.begin(), mounts.end(), [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  for (const auto& mp : mounts) {
    auto fd = base::Open(mp, O_RDONLY | O_DIRECTORY);
    if (!fd) return base::Fail(std::move(fd.error()).Context("freezing the old system"));
    if (ioctl(fd->get(), FIFREEZE, 0) == 0) {
      q.frozen_.push_back(mp);
      q.actions_.push_back("froze " + mp);
      continue;
    }
    int err = errno;
    if (err == EBUSY) {  // frozen already (a bind mount of a frozen filesystem)
      q.actions_.push_back(mp + " was frozen already");
      continue;
    }
    // Filesystems without freeze support: read-only is as good for us.
    if (mount(nullptr, mp.c_str(), nullptr, MS_REMOUNT | MS_RDONLY, nullptr) == 0) {
      q.actions_.push_back("remounted " + mp + " read-only");
      continue;
    }
    int err2 = errno;
    return base::Fail(base::Error(ErrorKind::kDisk, base::SysMessage("ioctl(FIFREEZE)", mp, err) + ", and " +
                                                        base::SysMessage("remount read-only", mp, err2),
                                  err)
                          .Hint("stop what keeps " + mp + " busy, or unmount it, and run again; nothing was changed"));
  }
  return q;
}

long RetryTransient(const Patience& patience, std::initializer_list<long> transient,
                    const std::function<long()>& attempt) {
  for (int tries = 1;; ++tries) {
    const long result = attempt();
    if (result == 0 || std::find(transient.begin(), transient.end(), result) == transient.end() ||
        tries >= patience.tries) {
      return result;
    }
    std::this_thread::sleep_for(patience.pause);
  }
}

base::Result<base::Fd> OpenDisk(const std::string& path, int flags, const Patience& patience) {
  std::optional<base::Result<base::Fd>> fd;
  RetryTransient(patience, {EBUSY}, [&]() -> long {
    fd = base::Open(path, flags);
    return *fd ? 0 : fd->error().sys_errno();
  });
  return std::move(*fd);
}

base::Result<void> LockDisk(const base::Fd& fd, const std::string& path, const Patience& patience) {
  const long err = RetryTransient(patience, {EWOULDBLOCK, EINTR}, [&]() -> long {
    return flock(fd.get(), LOCK_EX | LOCK_NB) == 0 ? 0 : errno;
  });
  if (err == 0) return {};
  return base::Fail(base::Error(ErrorKind::kDisk, base::SysMessage("flock", path, static_cast<int>(err)),
                                static_cast<int>(err))
                        .Hint("another program holds " + path + " locked (a partitioning tool?); stop it and "
                              "run bootrino again"));
}

base::Result<void> FlushDisk(int fd) {
  if (fsync(fd) != 0) {
    int err = errno;
    return base::Fail(base::Error(ErrorKind::kDisk, base::SysMessage("fsync", "the disk", err), err));
  }
  (void)ioctl(fd, BLKFLSBUF, 0);  // regular files (images) answer ENOTTY: nothing cached to drop
  (void)ioctl(fd, BLKRRPART, 0);  // EBUSY while the old partitions are mounted; the next boot reads it
  return {};
}

}  // namespace disk
