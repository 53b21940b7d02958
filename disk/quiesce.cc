#include "disk/quiesce.h"

#include <algorithm>
#include <cerrno>
#include <optional>
#include <thread>

#include <sys/sysmacros.h>

#include "base/base.h"

namespace disk {
namespace {

using base::ErrorKind;

/// /proc/swaps: "Filename Type Size Used Priority", names escaped like mountinfo.
std::vector<std::string> SwapAreas(base::Sys& sys) {
  std::vector<std::string> out;
  std::string text = sys.ReadText("/proc/swaps").value_or("");
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

bool Contains(const std::vector<dev_t>& devices, dev_t dev) {
  return std::find(devices.begin(), devices.end(), dev) != devices.end();
}

/// True when swap area `name` lives on `disk`: a partition of it, or a file on
/// one of its mounted filesystems (`fs_devices`).
bool SwapOnDisk(base::Sys& sys, const std::string& name, const TargetDisk& disk, const std::vector<dev_t>& fs_devices) {
  auto st = sys.Stat(name);
  if (!st) return false;
  return st->block_device ? Contains(disk.devices, static_cast<dev_t>(st->rdev))
                          : Contains(fs_devices, static_cast<dev_t>(st->dev));
}

}  // namespace

Quiesced::Quiesced(Quiesced&& other) noexcept
    : sys_(other.sys_), undo_(std::move(other.undo_)), devices_(std::move(other.devices_)),
      actions_(std::move(other.actions_)), keep_(other.keep_) {
  other.undo_.clear();
}

Quiesced::~Quiesced() {
  if (keep_) return;
  for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) {
    switch (it->what) {
      case Undo::What::kThaw: (void)sys_->Thaw(it->path); break;
      case Undo::What::kRemountReadWrite: (void)sys_->Remount(it->path, false); break;
      case Undo::What::kSwapOn: (void)sys_->SwapOn(it->path); break;
    }
  }
}

base::Result<Quiesced> Quiesce(const TargetDisk& disk, const std::vector<MountEntry>& mounted, base::Sys& sys) {
  Quiesced q(sys);
  sys.Sync();  // once, before anything is frozen: a sync that meets a frozen filesystem waits for it
  for (const auto& m : mounted) q.devices_.push_back(makedev(m.major, m.minor));
  for (const auto& swap : SwapAreas(sys)) {
    if (!SwapOnDisk(sys, swap, disk, q.devices_)) continue;
    if (int err = sys.SwapOff(swap)) {
      return base::Fail(base::Error(ErrorKind::kDisk, base::SysMessage("swapoff", swap, err), err)
                            .Hint("swap on " + disk.device + " holds pages that do not fit in RAM; free memory "
                                  "(or turn that swap off yourself) and run again; nothing was changed"));
    }
    q.undo_.push_back({Quiesced::Undo::What::kSwapOn, swap});
    q.actions_.push_back("swapoff " + swap);
  }
  // The deepest mount first: freezing / first would block the lookups that reach /boot/efi.
  std::vector<std::string> mounts;
  for (const auto& m : mounted) mounts.push_back(m.mount_point);
  std::stable_sort(mounts.begin(), mounts.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  for (const auto& mp : mounts) {
    const int err = sys.Freeze(mp);
    if (err == 0) {
      q.undo_.push_back({Quiesced::Undo::What::kThaw, mp});
      q.actions_.push_back("froze " + mp);
      continue;
    }
    if (err == EBUSY) {  // frozen already (a bind mount of a frozen filesystem)
      q.actions_.push_back(mp + " was frozen already");
      continue;
    }
    // Filesystems without freeze support: read-only is as good for us.
    const int err2 = sys.Remount(mp, true);
    if (err2 == 0) {
      q.undo_.push_back({Quiesced::Undo::What::kRemountReadWrite, mp});
      q.actions_.push_back("remounted " + mp + " read-only");
      continue;
    }
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

base::Result<base::Fd> OpenDisk(base::Sys& sys, const std::string& path, const Patience& patience) {
  std::optional<base::Result<base::Fd>> fd;
  RetryTransient(patience, {EBUSY}, [&]() -> long {
    fd = sys.OpenForWriting(path);
    return *fd ? 0 : fd->error().sys_errno();
  });
  return std::move(*fd);
}

base::Result<void> LockDisk(base::Sys& sys, const base::Fd& fd, const std::string& path, const Patience& patience) {
  const long err = RetryTransient(patience, {EWOULDBLOCK, EINTR}, [&]() -> long { return sys.LockExclusive(fd.get()); });
  if (err == 0) return {};
  return base::Fail(base::Error(ErrorKind::kDisk, base::SysMessage("flock", path, static_cast<int>(err)),
                                static_cast<int>(err))
                        .Hint("another program holds " + path + " locked (a partitioning tool?); stop it and "
                              "run bootrino again"));
}

}  // namespace disk
