// The narrow layer between bootrino and the syscalls that change the machine
// or reveal its state. RealSys calls the kernel; tests use a recording fake,
// so every plan's side effects can be asserted exactly (docs/architecture.md,
// rule 6). Every step of the commit goes through here: the commit point, mlockall, sync,
// swapoff/swapon, freeze/thaw, remount, opening, locking and flushing the
// disk, kexec_file_load and reboot; and so do the mounts of the RAM stage and of
// the seed volumes user-data is read from. The disk's bytes are written through
// the descriptor OpenForWriting returned.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/fd.h"
#include "base/result.h"

namespace base {

enum class RebootTarget { kKexec, kFirmware };

/// What an open descriptor refers to (fstat(2), and for a block device its
/// size and logical sector size from BLKGETSIZE64 / BLKSSZGET).
struct OpenFileInfo {
  enum class Kind { kBlockDevice, kRegularFile, kOther } kind = Kind::kOther;
  std::uint64_t rdev = 0;   ///< a block device's device number (st_rdev)
  std::uint64_t bytes = 0;  ///< a block device's or a regular file's size
  std::uint32_t sector_size = 0;  ///< a block device's logical sector size; 0 for files
};

/// What a path is (stat(2)): for a swap area, whether it is a device or a file.
struct PathInfo {
  bool block_device = false;
  std::uint64_t dev = 0;   ///< the filesystem holding it (st_dev)
  std::uint64_t rdev = 0;  ///< a device node's own number (st_rdev)
};

/// One IPv4 or IPv6 address of a network interface, as getifaddrs(3) reports it.
struct InterfaceAddress {
  std::string interface;  ///< "eth0"
  std::string address;    ///< "203.0.113.5", "2001:db8::5"
  unsigned prefix = 0;    ///< bits set in the netmask
  bool ipv6 = false;
};

class Sys {
 public:
  virtual ~Sys() = default;

  /// Reads a text file of at most 4 MiB, such as /proc/cmdline or /proc/self/mountinfo.
  /// An absent file is an error with sys_errno() == ENOENT.
  [[nodiscard]] virtual Result<std::string> ReadText(const std::string& path) = 0;

  /// kexec_file_load(2). Returns the raw errno on failure (0 on success); the
  /// caller classifies it. `initrd_fd` < 0 means no initrd.
  virtual int KexecFileLoad(int kernel_fd, int initrd_fd, const std::string& cmdline, unsigned long flags) = 0;

  /// reboot(2) into the loaded kexec kernel or through the firmware, after
  /// sync(2) when `sync_first` (not once the old filesystems are frozen: a sync
  /// would wait for them). Returns only on failure, with errno.
  virtual int Reboot(RebootTarget target, bool sync_first) = 0;

  /// True when the effective capability set holds CAP_SYS_BOOT.
  virtual bool HasCapSysBoot() = 0;

  /// mlockall(MCL_CURRENT): this process's pages stay in RAM from now on.
  /// Returns 0, or errno.
  virtual int LockMemory() = 0;

  /// uname(2)'s machine field ("x86_64", "aarch64").
  virtual std::string Machine() = 0;

  /// The commit point (base::EnterCommit): from now on SIGTERM, SIGINT and
  /// SIGHUP no longer stop bootrino. False, changing nothing, when one has
  /// already asked it to stop.
  [[nodiscard]] virtual bool EnterCommit() = 0;

  /// sync(2): every filesystem's dirty data to its disk.
  virtual void Sync() = 0;

  /// swapoff(2) / swapon(2) of a swap area (device or file). Return 0, or errno.
  virtual int SwapOff(const std::string& path) = 0;
  virtual int SwapOn(const std::string& path) = 0;

  /// ioctl(FIFREEZE) / ioctl(FITHAW) on the filesystem mounted at `mount_point`. Return 0, or errno.
  virtual int Freeze(const std::string& mount_point) = 0;
  virtual int Thaw(const std::string& mount_point) = 0;

  /// mount(2) with MS_REMOUNT: read-only, or back to read-write, keeping the
  /// mount's other flags (nosuid, nodev, noexec, the atime mode). Returns 0, or errno.
  virtual int Remount(const std::string& mount_point, bool read_only) = 0;

  /// unshare(CLONE_NEWNS), then every mount made a slave of the host's (MS_REC | MS_SLAVE on /): from
  /// now on this process and its children see the host's mounts and the host's later changes, but the
  /// host never sees a mount they make, and such a mount goes with the last process that sees it, even
  /// one killed by SIGKILL. Only the calling thread and the processes and threads it starts afterwards
  /// enter the new namespace. Superblock-wide operations (freeze, a read-only remount) still act on the
  /// host's filesystems. Returns 0, or errno (EPERM without CAP_SYS_ADMIN, as in most containers).
  virtual int PrivateMounts() = 0;

  /// mount(2) a tmpfs of at most `bytes` (mode 0700, nosuid, nodev) on the directory `dir`. Returns 0, or errno.
  virtual int MountTmpfs(const std::string& dir, std::uint64_t bytes) = 0;

  /// mount(2) the `type` file system on block device `device` at the directory `dir`, read-only, nosuid,
  /// nodev and noexec: a volume bootrino only reads (a NoCloud seed, a config drive). Returns 0, or errno.
  virtual int MountReadOnly(const std::string& device, const std::string& dir, const std::string& type) = 0;

  /// umount2(MNT_DETACH): `dir`'s mount goes now, its memory once nothing holds a file of it open.
  /// Returns 0, or errno.
  virtual int Unmount(const std::string& dir) = 0;

  /// stat(2). An absent path is an error with sys_errno() == ENOENT.
  [[nodiscard]] virtual Result<PathInfo> Stat(const std::string& path) = 0;

  /// open(2) a disk or image file for reading and writing (O_CLOEXEC). Errors carry errno.
  [[nodiscard]] virtual Result<Fd> OpenForWriting(const std::string& path) = 0;

  /// What `fd` refers to. Errors carry errno.
  [[nodiscard]] virtual Result<OpenFileInfo> Inspect(int fd) = 0;

  /// flock(LOCK_EX | LOCK_NB). Returns 0, or errno (EWOULDBLOCK while another holds it).
  virtual int LockExclusive(int fd) = 0;

  /// fsync(2) a written disk, drop its buffer cache (BLKFLSBUF) and ask for the
  /// partition table to be re-read (BLKRRPART; EBUSY while partitions are
  /// mounted is expected, and image files answer ENOTTY: both ignored).
  /// Returns 0, or fsync's errno.
  virtual int FlushDisk(int fd) = 0;

  /// getifaddrs(3): every IPv4 and IPv6 address of every interface, in its order.
  [[nodiscard]] virtual Result<std::vector<InterfaceAddress>> InterfaceAddresses() = 0;
};

/// The real thing.
Sys& RealSys();

}  // namespace base
