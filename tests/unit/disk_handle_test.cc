// The disk handle every writer gets: opened once, with its size, sector size
// and lock; what is not a disk or an image file is refused; and once it is
// open, the name no longer matters: a symlink renamed over the path (to a
// stand-in for another disk) receives not one byte of the FAT32, ext4, GPT or
// MBR writes, which all land in the file that was opened.
#include "disk/handle.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "disk/layout.h"
#include "disk/write.h"
#include "tests/unit/disk_test_support.h"

namespace disk {
namespace {

namespace fs = std::filesystem;
using base::ErrorKind;
using std::chrono::milliseconds;
using test_support::RandomBytes;
using test_support::ReadAt;
using test_support::WriteAt;

constexpr std::uint64_t kMiB = 1 << 20, kGiB = kMiB << 10;
constexpr Patience kQuick{4, milliseconds(1)};

class DiskHandleTest : public test_support::TempDirTest {
 protected:
  DiskHandleTest() : TempDirTest("handle") {}

  /// A sparse file of `bytes`.
  fs::path Image(const std::string& name, std::uint64_t bytes) {
    fs::path path = dir_ / name;
    std::ofstream(path, std::ios::binary).close();
    fs::resize_file(path, bytes);
    return path;
  }

  static std::uint64_t AllocatedBytes(const fs::path& path) {
    struct stat st {};
    EXPECT_EQ(lstat(path.c_str(), &st), 0);
    return static_cast<std::uint64_t>(st.st_blocks) * 512;
  }

  /// A planned and prepared 2 GiB disk with a small payload, as `image` makes it.
  static PreparedDisk Prepared(std::uint64_t bytes = 2 * kGiB, std::uint32_t sector_size = 512) {
    LayoutInput in;
    in.disk_bytes = bytes;
    in.sector_size = sector_size;
    in.seed = 7;
    BootFiles files;
    files.title = "handle test 1";
    files.kernel = {"vmlinuz", "", RandomBytes(300000, 1), 0, {}};
    files.initrds = {{"initrd.img", "", RandomBytes(200000, 2), 0, {}}};
    files.cmdline = "console=ttyS0";
    in.boot_payload_bytes = BootPartitionBytes(files, sector_size == 512, true);
    auto layout = PlanLayout(in);
    EXPECT_TRUE(layout) << layout.error().message();
    auto prepared = PrepareDisk(*layout, std::move(files));
    EXPECT_TRUE(prepared) << prepared.error().message();
    return std::move(*prepared);
  }
};

TEST_F(DiskHandleTest, OpensAnImageWithItsSizeSectorSizeAndLock) {
  const fs::path img = Image("disk.img", 3 * kMiB);
  auto disk = Disk::Open(img.string(), 4096, kQuick, kQuick);
  ASSERT_TRUE(disk) << disk.error().message();
  EXPECT_EQ(disk->bytes(), 3 * kMiB);
  EXPECT_EQ(disk->sector_size(), 4096u);
  EXPECT_FALSE(disk->block_device());
  EXPECT_EQ(disk->name(), img.string());
  EXPECT_EQ(fcntl(disk->fd().get(), F_GETFL) & O_ACCMODE, O_RDWR);
  // Locked: udev (or a partitioning tool) cannot take the disk while it is written.
  auto other = base::Open(img.string(), O_RDONLY);
  ASSERT_TRUE(other);
  EXPECT_NE(flock(other->get(), LOCK_EX | LOCK_NB), 0);
  // Released with the handle.
  *disk = std::move(*Disk::Open(Image("other.img", kMiB).string(), 512, kQuick, kQuick));
  EXPECT_EQ(flock(other->get(), LOCK_EX | LOCK_NB), 0);
}

TEST_F(DiskHandleTest, WhatIsNeitherADiskNorAnImageFileIsRefused) {
  auto missing = Disk::Open((dir_ / "none.img").string(), 512, kQuick, kQuick);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind(), ErrorKind::kDisk);
  EXPECT_NE(missing.error().message().find("No such file"), std::string::npos) << missing.error().message();
  EXPECT_FALSE(missing.error().hint().empty());
  EXPECT_FALSE(fs::exists(dir_ / "none.img"));

  auto dir = Disk::Open(dir_.string(), 512, kQuick, kQuick);
  ASSERT_FALSE(dir);
  EXPECT_EQ(dir.error().kind(), ErrorKind::kDisk);
  EXPECT_NE(dir.error().message().find("neither a block device nor a regular file"), std::string::npos)
      << dir.error().message();

  const fs::path fifo = dir_ / "fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  auto pipe = Disk::Open(fifo.string(), 512, kQuick, kQuick);
  ASSERT_FALSE(pipe);
  EXPECT_NE(pipe.error().message().find("neither a block device nor a regular file"), std::string::npos)
      << pipe.error().message();
  EXPECT_FALSE(pipe.error().hint().empty());
}

TEST_F(DiskHandleTest, AdoptTakesTheCallersDescriptorAndItsLock) {
  const fs::path img = Image("disk.img", 5 * kMiB);
  auto fd = base::Open(img.string(), O_RDWR);
  ASSERT_TRUE(fd);
  const int number = fd->get();
  auto disk = Disk::Adopt(std::move(*fd), "the image", 512, kQuick);
  ASSERT_TRUE(disk) << disk.error().message();
  EXPECT_EQ(disk->fd().get(), number) << "the handle must write through the very descriptor it was given";
  EXPECT_EQ(disk->bytes(), 5 * kMiB);
  EXPECT_EQ(disk->name(), "the image");

  auto holder = base::Open(img.string(), O_RDONLY);
  ASSERT_TRUE(holder);
  disk = base::Fail(ErrorKind::kInternal, "dropped");  // closes the handle's descriptor, releasing its lock
  ASSERT_EQ(flock(holder->get(), LOCK_EX), 0);
  auto locked = Disk::Adopt(std::move(*base::Open(img.string(), O_RDWR)), img.string(), 512, kQuick);
  ASSERT_FALSE(locked);
  EXPECT_EQ(locked.error().sys_errno(), EWOULDBLOCK);
  EXPECT_NE(locked.error().hint().find("stop it and run bootrino again"), std::string::npos);
}

// The race `image` and `run` must win: the path is swapped for a symlink to another "disk" (a
// regular file standing in for one) after the handle is open. Every write lands in the inode that
// was opened, none in the stand-in.
TEST_F(DiskHandleTest, ASymlinkRenamedOverThePathAfterTheOpenReceivesNothing) {
  const PreparedDisk prepared = Prepared();
  const Layout& l = prepared.layout;
  const fs::path path = Image("disk.img", l.disk_bytes);
  auto disk = Disk::Open(path.string(), 512, kQuick, kQuick);
  ASSERT_TRUE(disk) << disk.error().message();
  // The opened file stays reachable under a second name, to be read back.
  const fs::path opened = dir_ / "opened.img";
  fs::create_hard_link(path, opened);

  // The stand-in for another disk: recognisable bytes where every writer would write.
  const fs::path other = Image("other-disk.img", l.disk_bytes);
  const std::uint64_t at[] = {0, l.Offset(l.boot), l.Offset(l.data), l.disk_bytes - kMiB};
  for (std::uint64_t offset : at) WriteAt(other, offset, RandomBytes(kMiB, static_cast<std::uint32_t>(offset)));
  const std::uint64_t other_allocated = AllocatedBytes(other);
  fs::create_symlink(other, dir_ / "swap");
  fs::rename(dir_ / "swap", path);
  ASSERT_TRUE(fs::is_symlink(path));

  auto written = WriteDisk(*disk, prepared);
  ASSERT_TRUE(written) << written.error().message();

  for (std::uint64_t offset : at) {
    EXPECT_TRUE(ReadAt(other, offset, kMiB) == RandomBytes(kMiB, static_cast<std::uint32_t>(offset)))
        << "the stand-in disk was written at byte " << offset;
  }
  EXPECT_EQ(fs::file_size(other), l.disk_bytes);
  EXPECT_EQ(AllocatedBytes(other), other_allocated) << "the stand-in disk was written";

  // Everything landed in the opened file: GPT, MBR code, FAT32, ext4.
  EXPECT_EQ(ReadAt(opened, 512, 8), "EFI PART");
  EXPECT_EQ(ReadAt(opened, l.disk_bytes - 512, 8), "EFI PART");
  if (HasBiosLoader()) {
    EXPECT_NE(ReadAt(opened, 0, 440), std::string(440, '\0')) << "no MBR boot code";
  } else {  // an aarch64 disk boots from UEFI only: a protective MBR without code
    EXPECT_EQ(ReadAt(opened, 0, 440), std::string(440, '\0')) << "MBR boot code on a UEFI-only disk";
  }
  EXPECT_EQ(ReadAt(opened, 510, 2), "\x55\xAA");
  EXPECT_EQ(ReadAt(opened, l.Offset(l.boot) + 0x52, 8), "FAT32   ");
  EXPECT_EQ(ReadAt(opened, l.Offset(l.data) + 1024 + 0x38, 2), "\x53\xEF") << "no ext4 superblock";
}

// A handle on a disk of another size or sector size than the plan's: refused before the first write.
TEST_F(DiskHandleTest, ADiskOtherThanThePlannedOneIsRefusedBeforeAnyWrite) {
  const PreparedDisk prepared = Prepared();
  for (auto [bytes, sector] : {std::pair{prepared.layout.disk_bytes + kMiB, 512u},
                               std::pair{prepared.layout.disk_bytes, 4096u}}) {
    const fs::path path = Image("disk.img", bytes);
    auto disk = Disk::Open(path.string(), sector, kQuick, kQuick);
    ASSERT_TRUE(disk) << disk.error().message();
    auto written = WriteDisk(*disk, prepared);
    ASSERT_FALSE(written);
    EXPECT_EQ(written.error().kind(), ErrorKind::kDisk);
    EXPECT_NE(written.error().hint().find("nothing was written"), std::string::npos) << written.error().hint();
    EXPECT_EQ(AllocatedBytes(path), 0u) << written.error().message();
    fs::remove(path);
  }
}

}  // namespace
}  // namespace disk
