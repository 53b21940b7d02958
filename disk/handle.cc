#include "disk/handle.h"

#include <cerrno>

#include <fcntl.h>

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
                              const Patience& open_patience, const Patience& lock_patience, base::Sys& sys) {
  auto fd = OpenDisk(sys, path, open_patience);
  if (!fd) {
    const int err = fd.error().sys_errno();
    if (err == EISDIR) return NotADisk(path);
    return base::Fail(base::Error(ErrorKind::kDisk, fd.error().message(), err)
                          .Hint(err == EACCES || err == EROFS || err == EPERM
                                    ? "writing a disk needs root and a writable device"
                                    : err == ENOENT ? kWhatToName
                                                    : "check the device path"));
  }
  return Adopt(std::move(*fd), path, file_sector_size, lock_patience, sys);
}

base::Result<Disk> Disk::Adopt(base::Fd fd, std::string name, std::uint32_t file_sector_size,
                               const Patience& lock_patience, base::Sys& sys) {
  auto info = sys.Inspect(fd.get());
  if (!info) {
    const int err = info.error().sys_errno();
    return base::Fail(base::Error(ErrorKind::kDisk, name + ": " + info.error().message(), err)
                          .Hint(err == ENOTTY || err == EINVAL ? kWhatToName
                                                               : "check that " + name + " is a disk the kernel can read"));
  }
  Disk disk;
  disk.sys_ = &sys;
  disk.name_ = std::move(name);
  disk.bytes_ = info->bytes;
  switch (info->kind) {
    case base::OpenFileInfo::Kind::kBlockDevice:
      disk.block_device_ = true;
      disk.sector_size_ = info->sector_size;
      disk.rdev_ = static_cast<dev_t>(info->rdev);
      break;
    case base::OpenFileInfo::Kind::kRegularFile:
      disk.sector_size_ = file_sector_size;
      break;
    case base::OpenFileInfo::Kind::kOther:
      return NotADisk(disk.name_);
  }
  // udev must not probe or rescan the disk half-written (nor fail an open with EBUSY).
  RETURN_IF_ERROR(LockDisk(sys, fd, disk.name_, lock_patience));
  disk.fd_ = std::move(fd);
  return disk;
}

base::Result<void> Disk::Flush() const {
  if (const int err = sys_->FlushDisk(fd_.get())) {
    return base::Fail(base::Error(ErrorKind::kDisk, base::SysMessage("fsync", name_, err), err)
                          .Hint("look for I/O errors in the kernel log (dmesg): the disk may be failing"));
  }
  return {};
}

}  // namespace disk
