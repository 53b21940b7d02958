#include "disk/disk.h"

#include <cerrno>

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

namespace disk {
namespace {

using base::ErrorKind;

constexpr const char* kWhatToName = "name a whole-disk block device (e.g. /dev/vdb) or a disk image file";

std::unexpected<base::Error> NotADisk(const std::string& name) {
  return base::Fail(
      base::Error(ErrorKind::kDisk, name + " is neither a block device nor a regular file").Hint(kWhatToName));
}

}  // namespace

base::Result<Disk> Disk::Open(const std::string& path, std::uint32_t file_sector_size,
                              const Patience& open_patience, const Patience& lock_patience) {
  auto fd = OpenDisk(path, O_RDWR, open_patience);
  if (!fd) {
    const int err = fd.error().sys_errno();
    if (err == EISDIR) return NotADisk(path);
    return base::Fail(base::Error(ErrorKind::kDisk, fd.error().message(), err)
                          .Hint(err == EACCES || err == EROFS || err == EPERM
                                    ? "writing a disk needs root and a writable device"
                                    : err == ENOENT ? kWhatToName
                                                    : "check the device path"));
  }
  return Adopt(std::move(*fd), path, file_sector_size, lock_patience);
}

base::Result<Disk> Disk::Adopt(base::Fd fd, std::string name, std::uint32_t file_sector_size,
                               const Patience& lock_patience) {
  struct stat st {};
  if (fstat(fd.get(), &st) != 0) {
    const int err = errno;
    return base::Fail(base::Error(ErrorKind::kDisk, base::SysMessage("fstat", name, err), err).Hint(kWhatToName));
  }
  Disk disk;
  disk.name_ = std::move(name);
  disk.block_device_ = S_ISBLK(st.st_mode);
  if (disk.block_device_) {
    int sector = 0;
    if (ioctl(fd.get(), BLKGETSIZE64, &disk.bytes_) != 0 || ioctl(fd.get(), BLKSSZGET, &sector) != 0 || sector <= 0) {
      const int err = errno;
      return base::Fail(base::Error(ErrorKind::kDisk, base::SysMessage("ioctl(BLKGETSIZE64)", disk.name_, err), err)
                            .Hint("check that " + disk.name_ + " is a disk the kernel can read"));
    }
    disk.sector_size_ = static_cast<std::uint32_t>(sector);
  } else if (S_ISREG(st.st_mode)) {
    disk.bytes_ = static_cast<std::uint64_t>(st.st_size);
    disk.sector_size_ = file_sector_size;
  } else {
    return NotADisk(disk.name_);
  }
  // udev must not probe or rescan the disk half-written (nor fail an open with EBUSY).
  RETURN_IF_ERROR(LockDisk(fd, disk.name_, lock_patience));
  disk.fd_ = std::move(fd);
  return disk;
}

}  // namespace disk
