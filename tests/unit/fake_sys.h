// A recording Sys for unit tests: files are a map, syscalls return scripted
// errnos, and every call that changes the machine is remembered, in order, in
// `log` ("swapoff /swap.img", "freeze /", "open /dev/vda", …), so a test can
// assert the exact order of a commit. `fail` injects an errno at any of them.
// The disk is a memfd that OpenForWriting hands out for `disk_path` and that
// Inspect calls a block device: the real writers write it.
#pragma once

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include <fcntl.h>
#include <linux/kexec.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/sys.h"

namespace testing_support {

class FakeSys : public base::Sys {
 public:
  struct KexecCall {
    bool kernel_valid, initrd_valid;
    std::string cmdline;
    unsigned long flags;
  };

  std::map<std::string, std::string> files;
  std::string machine = "x86_64";
  bool cap_sys_boot = true;
  int probe_errno = EBADF;  ///< what kexec_file_load(-1, -1, …) answers
  int load_errno = 0;       ///< what a real load answers
  int reboot_errno = EINVAL;
  int lock_memory_errno = 0;  ///< what mlockall answers
  std::vector<base::InterfaceAddress> addresses;  ///< what getifaddrs answers
  int unload_errno = 0;     ///< what kexec_file_load(…, KEXEC_FILE_UNLOAD) answers
  std::vector<KexecCall> kexec_calls;  ///< loads (probes and unloads are not loads)
  int unloads = 0;                     ///< kexec_file_load(-1, -1, "", KEXEC_FILE_UNLOAD) calls
  int reboots = 0;
  base::RebootTarget last_reboot = base::RebootTarget::kFirmware;
  bool last_reboot_synced = false;

  /// Every call that changes the machine, in order.
  std::vector<std::string> log;
  /// A log entry ("freeze /", "open /dev/vda", "flush") → the errno that call answers.
  std::map<std::string, int> fail;
  /// What Stat answers, by path (absent: ENOENT).
  std::map<std::string, base::PathInfo> paths;

  /// The disk OpenForWriting opens at `disk_path`: `bytes` of `fill`.
  void MakeDisk(const std::string& path, std::uint64_t bytes, std::uint64_t rdev, char fill = 'O') {
    disk_path = path;
    disk_rdev = rdev;
    disk_fd = memfd_create("fake-disk", MFD_CLOEXEC);
    std::string chunk(1 << 20, fill);
    for (std::uint64_t at = 0; at < bytes; at += chunk.size()) {
      (void)pwrite(disk_fd, chunk.data(), std::min<std::uint64_t>(chunk.size(), bytes - at), static_cast<off_t>(at));
    }
    disk_bytes = bytes;
  }
  /// The disk's bytes now.
  std::string DiskBytes(std::uint64_t offset, std::size_t n) const {
    std::string out(n, '\0');
    (void)pread(disk_fd, out.data(), n, static_cast<off_t>(offset));
    return out;
  }
  std::string disk_path;
  std::uint64_t disk_rdev = 0;
  std::uint64_t disk_bytes = 0;
  int disk_fd = -1;
  ~FakeSys() override {
    if (disk_fd >= 0) close(disk_fd);
  }

  base::Result<std::string> ReadText(const std::string& path) override {
    auto it = files.find(path);
    if (it == files.end()) return base::Fail(base::ErrorKind::kInternal, "open " + path + ": ENOENT", ENOENT);
    return it->second;
  }
  int KexecFileLoad(int kernel_fd, int initrd_fd, const std::string& cmdline, unsigned long flags) override {
    if (flags & KEXEC_FILE_UNLOAD) {
      // The kernel ignores the descriptors with this flag; bootrino passes -1, -1 and no command line.
      if (kernel_fd == -1 && initrd_fd == -1 && cmdline.empty()) ++unloads;
      if (int err = Record("kexec unload")) return err;
      return unload_errno;
    }
    if (kernel_fd < 0) return probe_errno;
    if (int err = Record("kexec load")) return err;
    kexec_calls.push_back({kernel_fd >= 0, initrd_fd >= 0, cmdline, flags});
    return load_errno;
  }
  int Reboot(base::RebootTarget target, bool sync_first) override {
    if (int err = Record(std::string("reboot ") + (target == base::RebootTarget::kKexec ? "kexec" : "firmware"))) {
      return err;
    }
    ++reboots;
    last_reboot = target;
    last_reboot_synced = sync_first;
    return reboot_errno;
  }
  bool HasCapSysBoot() override { return cap_sys_boot; }
  int LockMemory() override {
    if (int err = Record("mlockall")) return err;
    return lock_memory_errno;
  }
  bool EnterCommit() override { return Record("commit point") == 0; }
  void Sync() override { (void)Record("sync"); }
  int SwapOff(const std::string& path) override { return Record("swapoff " + path); }
  int SwapOn(const std::string& path) override { return Record("swapon " + path); }
  int Freeze(const std::string& mount_point) override { return Record("freeze " + mount_point); }
  int Thaw(const std::string& mount_point) override { return Record("thaw " + mount_point); }
  int Remount(const std::string& mount_point, bool read_only) override {
    return Record(std::string(read_only ? "remount-ro " : "remount-rw ") + mount_point);
  }
  int PrivateMounts() override { return Record("private mounts"); }
  int MountTmpfs(const std::string& dir, std::uint64_t bytes) override {
    return Record("mount tmpfs " + dir + " " + std::to_string(bytes));
  }
  int MountReadOnly(const std::string& device, const std::string& dir, const std::string& type) override {
    return Record("mount-ro " + type + " " + device + " " + dir);
  }
  int Unmount(const std::string& dir) override { return Record("unmount " + dir); }
  base::Result<base::PathInfo> Stat(const std::string& path) override {
    auto it = paths.find(path);
    if (it == paths.end()) return base::Fail(base::ErrorKind::kInternal, "stat " + path + ": ENOENT", ENOENT);
    return it->second;
  }
  base::Result<base::Fd> OpenForWriting(const std::string& path) override {
    if (int err = Record("open " + path)) return base::Fail(base::ErrorKind::kInternal, "open " + path + ": " + std::strerror(err), err);
    if (path != disk_path || disk_fd < 0) return base::Fail(base::ErrorKind::kInternal, "open " + path + ": ENOENT", ENOENT);
    return base::Fd(fcntl(disk_fd, F_DUPFD_CLOEXEC, 0));
  }
  base::Result<base::OpenFileInfo> Inspect(int fd) override {
    struct stat st {}, disk {};
    if (fstat(fd, &st) != 0) return base::Fail(base::ErrorKind::kInternal, "fstat", errno);
    if (disk_fd >= 0 && fstat(disk_fd, &disk) == 0 && st.st_ino == disk.st_ino && st.st_dev == disk.st_dev) {
      return base::OpenFileInfo{base::OpenFileInfo::Kind::kBlockDevice, disk_rdev, disk_bytes, 512};
    }
    return base::OpenFileInfo{S_ISREG(st.st_mode) ? base::OpenFileInfo::Kind::kRegularFile : base::OpenFileInfo::Kind::kOther,
                              0, static_cast<std::uint64_t>(st.st_size), 0};
  }
  int LockExclusive(int) override { return Record("flock"); }
  /// Records whether the disk had a partition table ("EFI PART" at LBA 1) at
  /// the moment of the flush: the table is written last.
  int FlushDisk(int) override {
    return Record(DiskBytes(512, 8) == "EFI PART" ? "flush (with a partition table)" : "flush (no partition table)");
  }
  std::string Machine() override { return machine; }
  base::Result<std::vector<base::InterfaceAddress>> InterfaceAddresses() override { return addresses; }

 private:
  /// Logs `call` and returns the errno injected for it (0: it succeeds).
  int Record(const std::string& call) {
    log.push_back(call);
    auto it = fail.find(call);
    return it == fail.end() ? 0 : it->second;
  }
};

}  // namespace testing_support
