#include "base/sys.h"

#include "base/interrupt.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

#include <arpa/inet.h>
#include <sched.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/fs.h>
#include <linux/kexec.h>
#include <linux/reboot.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/swap.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

namespace base {
namespace {

int ErrnoOf(int rc) { return rc == 0 ? 0 : errno; }

/// ioctl(request) on the directory of a mount point.
int MountIoctl(const std::string& mount_point, unsigned long request) {
  int fd = open(mount_point.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno;
  const int err = ErrnoOf(ioctl(fd, request, 0));
  close(fd);
  return err;
}

/// The per-mount flags statvfs(3) shows, as mount(2) takes them: a remount
/// without them would clear them.
unsigned long KeptMountFlags(const std::string& mount_point) {
  struct statvfs vfs {};
  if (statvfs(mount_point.c_str(), &vfs) != 0) return 0;
  unsigned long flags = 0;
  const std::pair<unsigned long, unsigned long> kMap[] = {
      {ST_NOSUID, MS_NOSUID},   {ST_NODEV, MS_NODEV},         {ST_NOEXEC, MS_NOEXEC},
      {ST_NOATIME, MS_NOATIME}, {ST_NODIRATIME, MS_NODIRATIME}, {ST_RELATIME, MS_RELATIME},
      {ST_SYNCHRONOUS, MS_SYNCHRONOUS}};
  for (auto [st, ms] : kMap) {
    if (vfs.f_flag & st) flags |= ms;
  }
  return flags;
}

class LinuxSys : public Sys {
 public:
  // 4 MiB: /proc/self/mountinfo on a host with thousands of mounts (container nodes) is megabytes.
  Result<std::string> ReadText(const std::string& path) override { return ReadFile(path, 4 << 20); }

  int KexecFileLoad(int kernel_fd, int initrd_fd, const std::string& cmdline, unsigned long flags) override {
    // The length counts the trailing NUL (kexec_file_load(2)); an empty
    // command line is passed as length 0 and NULL.
    const char* text = cmdline.empty() ? nullptr : cmdline.c_str();
    unsigned long length = cmdline.empty() ? 0 : cmdline.size() + 1;
    if (syscall(SYS_kexec_file_load, kernel_fd, initrd_fd, length, text, flags) == 0) return 0;
    return errno;
  }

  int Reboot(RebootTarget target, bool sync_first) override {
    if (sync_first) sync();
    int cmd = target == RebootTarget::kKexec ? LINUX_REBOOT_CMD_KEXEC : LINUX_REBOOT_CMD_RESTART;
    syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, cmd, nullptr);
    return errno;
  }

  bool HasCapSysBoot() override {
    // CapEff in /proc/self/status is a hex mask; CAP_SYS_BOOT is bit 22 (linux/capability.h).
    auto status = ReadFile("/proc/self/status", 1 << 16);
    if (!status) return geteuid() == 0;
    auto at = status->find("CapEff:");
    if (at == std::string::npos) return geteuid() == 0;
    unsigned long long mask = std::strtoull(status->c_str() + at + 7, nullptr, 16);
    return (mask >> 22) & 1;
  }

  int LockMemory() override { return mlockall(MCL_CURRENT) == 0 ? 0 : errno; }

  std::string Machine() override {
    utsname u{};
    uname(&u);
    return u.machine;
  }

  bool EnterCommit() override { return base::EnterCommit(); }
  void Sync() override { sync(); }
  int SwapOff(const std::string& path) override { return ErrnoOf(swapoff(path.c_str())); }
  int SwapOn(const std::string& path) override { return ErrnoOf(swapon(path.c_str(), 0)); }
  int Freeze(const std::string& mount_point) override { return MountIoctl(mount_point, FIFREEZE); }
  int Thaw(const std::string& mount_point) override { return MountIoctl(mount_point, FITHAW); }

  int Remount(const std::string& mount_point, bool read_only) override {
    const unsigned long flags = MS_REMOUNT | KeptMountFlags(mount_point) | (read_only ? MS_RDONLY : 0);
    return ErrnoOf(mount(nullptr, mount_point.c_str(), nullptr, flags, nullptr));
  }

  int PrivateMounts() override {
    if (unshare(CLONE_NEWNS) != 0) return errno;
    // A change of propagation ignores the source and the type; named all the same, as mount(8) does, since
    // tools that check mount(2)'s arguments (valgrind) read them.
    return ErrnoOf(mount("none", "/", "none", MS_REC | MS_SLAVE, nullptr));
  }

  int MountTmpfs(const std::string& dir, std::uint64_t bytes) override {
    const std::string options = "mode=0700,size=" + std::to_string(bytes);
    return ErrnoOf(mount("tmpfs", dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()));
  }

  int MountReadOnly(const std::string& device, const std::string& dir, const std::string& type) override {
    const unsigned long flags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
    return ErrnoOf(mount(device.c_str(), dir.c_str(), type.c_str(), flags, nullptr));
  }

  int Unmount(const std::string& dir) override { return ErrnoOf(umount2(dir.c_str(), MNT_DETACH)); }

  Result<PathInfo> Stat(const std::string& path) override {
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) {
      const int err = errno;
      return Fail(ErrorKind::kInternal, SysMessage("stat", path, err), err);
    }
    return PathInfo{S_ISBLK(st.st_mode), st.st_dev, st.st_rdev};
  }

  Result<Fd> OpenForWriting(const std::string& path) override { return Open(path, O_RDWR); }

  Result<OpenFileInfo> Inspect(int fd) override {
    struct stat st {};
    if (fstat(fd, &st) != 0) {
      const int err = errno;
      return Fail(ErrorKind::kInternal, SysMessage("fstat", "the disk", err), err);
    }
    OpenFileInfo info;
    if (S_ISREG(st.st_mode)) {
      info.kind = OpenFileInfo::Kind::kRegularFile;
      info.bytes = static_cast<std::uint64_t>(st.st_size);
    } else if (S_ISBLK(st.st_mode)) {
      info.kind = OpenFileInfo::Kind::kBlockDevice;
      info.rdev = st.st_rdev;
      int sector = 0;
      if (ioctl(fd, BLKGETSIZE64, &info.bytes) != 0 || ioctl(fd, BLKSSZGET, &sector) != 0 || sector <= 0) {
        const int err = errno;
        return Fail(ErrorKind::kInternal, SysMessage("ioctl(BLKGETSIZE64)", "the disk", err), err);
      }
      info.sector_size = static_cast<std::uint32_t>(sector);
    }
    return info;
  }

  int LockExclusive(int fd) override { return ErrnoOf(flock(fd, LOCK_EX | LOCK_NB)); }

  int FlushDisk(int fd) override {
    if (fsync(fd) != 0) return errno;
    (void)ioctl(fd, BLKFLSBUF, 0);  // regular files (images) answer ENOTTY: nothing cached to drop
    (void)ioctl(fd, BLKRRPART, 0);  // EBUSY while the old partitions are mounted; the next boot reads it
    return 0;
  }

  Result<std::vector<InterfaceAddress>> InterfaceAddresses() override {
    ifaddrs* list = nullptr;
    if (getifaddrs(&list) != 0) {
      int err = errno;
      return Fail(ErrorKind::kInternal, std::string("getifaddrs: ") + std::strerror(err), err);
    }
    std::unique_ptr<ifaddrs, void (*)(ifaddrs*)> owner(list, freeifaddrs);
    std::vector<InterfaceAddress> out;
    for (const ifaddrs* i = list; i; i = i->ifa_next) {
      if (!i->ifa_addr || !i->ifa_netmask || !i->ifa_name) continue;
      const int family = i->ifa_addr->sa_family;
      if (family != AF_INET && family != AF_INET6) continue;
      const bool v6 = family == AF_INET6;
      const void* addr = v6 ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in6*>(i->ifa_addr)->sin6_addr)
                            : static_cast<const void*>(&reinterpret_cast<const sockaddr_in*>(i->ifa_addr)->sin_addr);
      const auto* mask = v6 ? reinterpret_cast<const unsigned char*>(
                                  &reinterpret_cast<const sockaddr_in6*>(i->ifa_netmask)->sin6_addr)
                            : reinterpret_cast<const unsigned char*>(
                                  &reinterpret_cast<const sockaddr_in*>(i->ifa_netmask)->sin_addr);
      char text[INET6_ADDRSTRLEN] = {};
      if (!inet_ntop(family, addr, text, sizeof text)) continue;
      unsigned prefix = 0;
      for (int b = 0; b < (v6 ? 16 : 4); ++b) prefix += static_cast<unsigned>(__builtin_popcount(mask[b]));
      out.push_back({i->ifa_name, text, prefix, v6});
    }
    return out;
  }
};

}  // namespace

Sys& RealSys() {
  static LinuxSys sys;
  return sys;
}

}  // namespace base
