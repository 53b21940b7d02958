// The ext4 maker, checked by the reference tools (e2fsprogs, util-linux):
// e2fsck -fn finds nothing to fix, before and after debugfs writes a file;
// blkid sees only the new ext4 with its label and UUID over a FAT32 that was
// there before; dumpe2fs shows the features and, with the same settings, the
// same superblock summary as mke2fs. Images are sparse temporary files with
// the filesystem at a non-zero offset between bytes that must stay untouched.
#include "disk/ext4.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>

#include <gtest/gtest.h>

#include "tests/unit/disk_test_support.h"

namespace disk {
namespace {

namespace fs = std::filesystem;
using base::ErrorKind;

constexpr std::uint64_t kMiB = 1 << 20, kGiB = kMiB << 10;
constexpr char kUuid[] = "0fc63daf-8483-4772-8e79-3d69d8477de4";
constexpr char kLabel[] = "bootrino-data";

using test_support::Output;
using test_support::ReadAt;
using test_support::Shell;
using test_support::WriteAt;
inline std::string Pattern(std::size_t size, std::uint32_t seed) { return test_support::RandomBytes(size, seed); }

std::uint64_t AllocatedBytes(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(stat(path.c_str(), &st), 0);
  return static_cast<std::uint64_t>(st.st_blocks) * 512;
}

// Whether [offset, offset + size) holds the same bytes in both files, reading
// only where either has data (holes read as zeros), so a sparse terabyte
// compares in the time its few megabytes take.
bool SameBytes(const fs::path& a, const fs::path& b, std::uint64_t offset, std::uint64_t size) {
  int fa = open(a.c_str(), O_RDONLY | O_CLOEXEC), fb = open(b.c_str(), O_RDONLY | O_CLOEXEC);
  auto next_data = [](int fd, std::uint64_t at) {
    off_t d = lseek(fd, static_cast<off_t>(at), SEEK_DATA);
    return d < 0 ? UINT64_MAX : static_cast<std::uint64_t>(d);
  };
  auto hole_after = [](int fd, std::uint64_t at) {
    return static_cast<std::uint64_t>(lseek(fd, static_cast<off_t>(at), SEEK_HOLE));
  };
  bool same = fa >= 0 && fb >= 0;
  std::string ba(kMiB, '\0'), bb(kMiB, '\0');
  for (std::uint64_t at = offset, end = offset + size; same && at < end;) {
    std::uint64_t da = next_data(fa, at), db = next_data(fb, at);
    at = std::min(da, db);
    if (at >= end) break;
    std::uint64_t stop = std::min({end, da == at ? hole_after(fa, at) : da, db == at ? hole_after(fb, at) : db,
                                   at + kMiB});
    std::size_t n = stop - at;
    same = pread(fa, ba.data(), n, static_cast<off_t>(at)) == static_cast<ssize_t>(n) &&
           pread(fb, bb.data(), n, static_cast<off_t>(at)) == static_cast<ssize_t>(n) &&
           std::memcmp(ba.data(), bb.data(), n) == 0;
    at = stop;
  }
  if (fa >= 0) close(fa);
  if (fb >= 0) close(fb);
  return same;
}

/// MakeExt4 through a handle opened on `device`, as the disk writer does.
base::Result<void> MakeExt4At(const fs::path& device, std::uint64_t offset, std::uint64_t size,
                              const Ext4Options& options) {
  ASSIGN_OR_RETURN(Disk disk, Disk::Open(device.string()));
  return MakeExt4(disk, offset, size, options);
}

std::string Quote(const fs::path& p) { return "'" + p.string() + "'"; }

class Ext4Test : public test_support::TempDirTest {
 protected:
  Ext4Test() : TempDirTest("ext4") {}

  // An image of offset + size + 1 MiB bytes: random bytes in the MiB before the
  // filesystem and the MiB after it, and over the filesystem's start an old
  // FAT32 (on random bytes) that blkid recognises.
  fs::path Image(const std::string& name, std::uint64_t offset, std::uint64_t size, std::uint32_t seed) {
    fs::path img = dir_ / name;
    std::ofstream(img, std::ios::binary).close();
    fs::resize_file(img, offset + size + kMiB);
    WriteAt(img, offset - kMiB, Pattern(kMiB, seed));
    WriteAt(img, offset, Pattern(kMiB, seed + 1));
    WriteAt(img, offset + size, Pattern(kMiB, seed + 2));
    Output fat = Shell("mkfs.fat -F 32 -n OLDDATA --offset=" + std::to_string(offset / 512) + " " + Quote(img) + " " +
                     std::to_string(std::min<std::uint64_t>(size, 512 * kMiB) / 1024));
    EXPECT_EQ(fat.status, 0) << fat.text;
    Output blkid = Shell("blkid -p -O " + std::to_string(offset) + " " + Quote(img));
    EXPECT_NE(blkid.text.find("TYPE=\"vfat\""), std::string::npos) << blkid.text;
    return img;
  }

  static std::string At(const fs::path& img, std::uint64_t offset) {
    return Quote(img.string() + "?offset=" + std::to_string(offset));
  }
};

// e2fsck -fn: 0 means nothing to fix; its output says why otherwise.
void ExpectClean(const std::string& at) {
  Output fsck = Shell("e2fsck -fn " + at);
  EXPECT_EQ(fsck.status, 0) << fsck.text;
}

struct SizeCase {
  std::uint64_t size;
  std::uint64_t offset;
  std::uint64_t max_allocated;  // bytes the filesystem may allocate in the sparse image
};

class Ext4SizeTest : public Ext4Test, public ::testing::WithParamInterface<SizeCase> {};

TEST_P(Ext4SizeTest, MakesACleanExt4QuicklyAndReproducibly) {
  const auto [size, offset, max_allocated] = GetParam();
  fs::path img = Image("a.img", offset, size, 1);
  const std::string before = ReadAt(img, offset - kMiB, kMiB), after = ReadAt(img, offset + size, kMiB);
  const std::uint64_t garbage = AllocatedBytes(img);

  auto start = std::chrono::steady_clock::now();
  auto made = MakeExt4At(img, offset, size, Ext4Options{kLabel, kUuid});
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(made) << made.error().message();
  // Allocation of the sparse image, less the 2 MiB around the filesystem.
  std::uint64_t allocated = AllocatedBytes(img) - 2 * kMiB;
  std::cout << "ext4 of " << size / kMiB << " MiB: " << seconds << " s, " << allocated / 1024
            << " KiB allocated in the image (the old FAT32 and random bytes had " << (garbage - 2 * kMiB) / 1024
            << " KiB)\n";
  EXPECT_LT(seconds, 30.0);
  EXPECT_LE(allocated, max_allocated);
  EXPECT_TRUE(ReadAt(img, offset - kMiB, kMiB) == before) << "bytes before the filesystem changed";
  EXPECT_TRUE(ReadAt(img, offset + size, kMiB) == after) << "bytes after the filesystem changed";

  const std::string at = At(img, offset);
  ExpectClean(at);
  Output blkid = Shell("blkid -p -O " + std::to_string(offset) + " " + Quote(img));
  EXPECT_EQ(blkid.status, 0) << blkid.text;
  EXPECT_NE(blkid.text.find("TYPE=\"ext4\""), std::string::npos) << blkid.text;
  EXPECT_NE(blkid.text.find("LABEL=\"bootrino-data\""), std::string::npos) << blkid.text;
  EXPECT_NE(blkid.text.find("UUID=\"" + std::string(kUuid) + "\""), std::string::npos) << blkid.text;
  Output dump = Shell("dumpe2fs -h " + at);
  EXPECT_EQ(dump.status, 0) << dump.text;
  EXPECT_NE(dump.text.find("Filesystem features:      has_journal ext_attr resize_inode dir_index filetype extent "
                           "64bit flex_bg sparse_super large_file huge_file dir_nlink extra_isize metadata_csum\n"),
            std::string::npos)
      << dump.text;
  EXPECT_NE(dump.text.find("Block size:               4096\n"), std::string::npos) << dump.text;

  // Over other old bytes, the same arguments give the same filesystem, byte for byte.
  fs::path other = Image("b.img", offset, size, 7);
  ASSERT_TRUE(MakeExt4At(other, offset, size, Ext4Options{kLabel, kUuid}));
  EXPECT_TRUE(SameBytes(img, other, offset, size));
  fs::remove(other);

  // A file written by debugfs reads back, and e2fsck still finds nothing to fix.
  std::ofstream(dir_ / "hello") << "hello from bootrino\n";
  std::ofstream(dir_ / "cmds") << "mkdir etc\nwrite " << (dir_ / "hello").string() << " etc/hello\n";
  Output write = Shell("debugfs -w -f " + Quote(dir_ / "cmds") + " " + at);
  EXPECT_EQ(write.status, 0) << write.text;
  Output cat = Shell("debugfs -R 'cat /etc/hello' " + at + " 2>/dev/null");
  EXPECT_EQ(cat.text, "hello from bootrino\n");
  ExpectClean(at);
}

INSTANTIATE_TEST_SUITE_P(Sizes, Ext4SizeTest,
                         ::testing::Values(SizeCase{64 * kMiB, 1 * kMiB, 2 * kMiB},
                                           SizeCase{2 * kGiB, 3 * kMiB, 4 * kMiB},
                                           SizeCase{8 * kGiB, 1 * kMiB, 8 * kMiB},
                                           // Fully zeroed inode tables would take 16 GiB, a zeroed journal 1 GiB.
                                           SizeCase{1024 * kGiB, 513 * kMiB, 64 * kMiB}),
                         [](const auto& info) { return std::to_string(info.param.size / kMiB) + "MiB"; });

// Every timestamp is 0, so nothing in the bytes depends on when they were made.
TEST_F(Ext4Test, TimestampsAreZero) {
  fs::path img = Image("a.img", kMiB, 64 * kMiB, 1);
  ASSERT_TRUE(MakeExt4At(img, kMiB, 64 * kMiB, Ext4Options{kLabel, kUuid}));
  std::string sb = ReadAt(img, kMiB + 1024, 1024);
  auto u32 = [&](std::size_t at) {
    std::uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = v << 8 | static_cast<unsigned char>(sb[at + i]);
    return v;
  };
  EXPECT_EQ(u32(0x2C), 0u);   // s_mtime
  EXPECT_EQ(u32(0x30), 0u);   // s_wtime
  EXPECT_EQ(u32(0x40), 0u);   // s_lastcheck
  EXPECT_EQ(u32(0x108), 0u);  // s_mkfs_time
  Output stat = Shell("debugfs -R 'stat /lost+found' " + At(img, kMiB) + " 2>/dev/null");
  EXPECT_NE(stat.text.find("crtime: 0x00000000:00000000"), std::string::npos) << stat.text;
}

// mke2fs with Debian 12's ext4 settings, the same UUID, label and hash seed
// makes the same filesystem: the superblock summaries agree but for times,
// the write counter and the checksum over them.
TEST_F(Ext4Test, SuperblockMatchesMke2fs) {
  // Debian 12's /etc/mke2fs.conf, less the other filesystem types.
  std::ofstream(dir_ / "mke2fs.conf") << R"([defaults]
  base_features = sparse_super,large_file,filetype,resize_inode,dir_index,ext_attr
  default_mntopts = acl,user_xattr
  enable_periodic_fsck = 0
  blocksize = 4096
  inode_size = 256
  inode_ratio = 16384
[fs_types]
  ext4 = {
    features = has_journal,extent,huge_file,flex_bg,metadata_csum,64bit,dir_nlink,extra_isize
  }
  small = {
    blocksize = 1024
    inode_ratio = 4096
  }
  floppy = {
    blocksize = 1024
    inode_ratio = 8192
  }
  big = {
    inode_ratio = 32768
  }
  huge = {
    inode_ratio = 65536
  }
)";
  auto summary = [](const std::string& dump) {
    std::istringstream in(dump);
    std::string out, line;
    while (std::getline(in, line)) {
      if (line.find("time:") != std::string::npos || line.starts_with("Last checked") ||
          line.starts_with("Filesystem created") || line.starts_with("Lifetime writes") ||
          line.starts_with("Checksum:") || line.starts_with("dumpe2fs ")) {
        continue;
      }
      out += line + "\n";
    }
    return out;
  };
  for (auto [size, block_size] : {std::pair{64 * kMiB, 4096u}, {64 * kMiB, 1024u}, {3 * kGiB, 4096u}}) {
    SCOPED_TRACE(std::to_string(size / kMiB) + " MiB, " + std::to_string(block_size) + "-byte blocks");
    fs::path ours = Image("ours.img", kMiB, size, 1), theirs = Image("theirs.img", kMiB, size, 1);
    ASSERT_TRUE(MakeExt4At(ours, kMiB, size, Ext4Options{kLabel, kUuid, block_size}));
    Output dump = Shell("dumpe2fs -h " + At(ours, kMiB));
    auto seed_at = dump.text.find("Directory Hash Seed:");
    ASSERT_NE(seed_at, std::string::npos) << dump.text;
    std::string seed = dump.text.substr(seed_at + 26, 36);
    Output mke2fs = Shell("MKE2FS_CONFIG=" + Quote(dir_ / "mke2fs.conf") + " mke2fs -q -F -t ext4 -b " +
                        std::to_string(block_size) + " -E offset=" + std::to_string(kMiB) + ",hash_seed=" + seed +
                        ",lazy_itable_init=1 -U " + kUuid + " -L " + kLabel + " " + Quote(theirs) + " " +
                        std::to_string(size / block_size));
    ASSERT_EQ(mke2fs.status, 0) << mke2fs.text;
    EXPECT_EQ(summary(dump.text), summary(Shell("dumpe2fs -h " + At(theirs, kMiB)).text));
    ExpectClean(At(ours, kMiB));
  }
}

// Without the discard (mke2fs -E nodiscard), as on a disk that cannot discard:
// the old signatures are wiped, the journal and the used inodes zeroed, and the
// rest of the inode tables left for the kernel to zero.
TEST_F(Ext4Test, WithoutDiscardOldSignaturesAreWiped) {
  fs::path img = Image("a.img", 2 * kMiB, 256 * kMiB, 3);
  Ext4Options options{kLabel, kUuid};
  options.discard = false;
  ASSERT_TRUE(MakeExt4At(img, 2 * kMiB, 256 * kMiB, options));
  ExpectClean(At(img, 2 * kMiB));
  Output blkid = Shell("blkid -p -O " + std::to_string(2 * kMiB) + " " + Quote(img));
  EXPECT_EQ(blkid.status, 0) << blkid.text;
  EXPECT_NE(blkid.text.find("TYPE=\"ext4\""), std::string::npos) << blkid.text;
  Output dump = Shell("dumpe2fs " + At(img, 2 * kMiB));
  EXPECT_NE(dump.text.find("Group 1: (Blocks 32768-65535) csum"), std::string::npos) << dump.text;
  EXPECT_EQ(dump.text.find("ITABLE_ZEROED"), std::string::npos) << "the kernel must zero the inode tables";
  Output mkdir = Shell("debugfs -w -R 'mkdir /x' " + At(img, 2 * kMiB));
  EXPECT_EQ(mkdir.status, 0) << mkdir.text;
  ExpectClean(At(img, 2 * kMiB));
}

TEST_F(Ext4Test, AnUpperCaseUuidIsTheSameUuid) {
  fs::path img = Image("a.img", kMiB, 64 * kMiB, 1);
  ASSERT_TRUE(MakeExt4At(img, kMiB, 64 * kMiB, Ext4Options{"", "0FC63DAF-8483-4772-8E79-3D69D8477DE4"}));
  Output blkid = Shell("blkid -p -O " + std::to_string(kMiB) + " " + Quote(img));
  EXPECT_NE(blkid.text.find("UUID=\"" + std::string(kUuid) + "\""), std::string::npos) << blkid.text;
  EXPECT_EQ(blkid.text.find("LABEL="), std::string::npos) << blkid.text;
}

// Every refusal comes before the first write, says what is wrong and what to do.
TEST_F(Ext4Test, BadArgumentsAreRefusedWithoutWriting) {
  fs::path img = Image("a.img", kMiB, 64 * kMiB, 1);
  const std::string whole = ReadAt(img, 0, 66 * kMiB);
  auto refused = [&](std::uint64_t offset, std::uint64_t size, Ext4Options options, ErrorKind kind,
                     const std::string& says, const fs::path& device) {
    auto made = MakeExt4At(device, offset, size, options);
    ASSERT_FALSE(made) << says;
    EXPECT_EQ(made.error().kind(), kind) << made.error().message();
    EXPECT_NE(made.error().message().find(says), std::string::npos) << made.error().message();
    EXPECT_FALSE(made.error().hint().empty()) << made.error().message();
  };
  const Ext4Options good{kLabel, kUuid};
  refused(2 * kMiB + 4096, 64 * kMiB, good, ErrorKind::kDisk, "end past the end", img);
  refused(UINT64_MAX - kMiB, 64 * kMiB, good, ErrorKind::kDisk, "end past the end", img);
  refused(kMiB, 4 * kMiB, good, ErrorKind::kDisk, "too small for ext4", img);
  refused(kMiB, 64 * kMiB, Ext4Options{"seventeen-bytes-x", kUuid}, ErrorKind::kUsage, "at most 16", img);
  refused(kMiB, 64 * kMiB, Ext4Options{std::string("a\0b", 3), kUuid}, ErrorKind::kUsage, "NUL", img);
  for (const char* uuid : {"", "not-a-uuid", "0fc63daf-8483-4772-8e79-3d69d8477de",
                           "0fc63daf-8483-4772-8e79-3d69d8477dex", "0fc63daf+8483-4772-8e79-3d69d8477de4",
                           "{0fc63daf-8483-4772-8e79-3d69d8477de}", "00000000-0000-0000-0000-000000000000"}) {
    SCOPED_TRACE(uuid);
    refused(kMiB, 64 * kMiB, Ext4Options{kLabel, uuid}, ErrorKind::kUsage, "filesystem UUID", img);
  }
  refused(kMiB, 64 * kMiB, Ext4Options{kLabel, kUuid, 512}, ErrorKind::kUsage, "block size 512", img);
  refused(kMiB, 64 * kMiB, Ext4Options{kLabel, kUuid, 8192}, ErrorKind::kUsage, "block size 8192", img);
  refused(kMiB, 64 * kMiB, good, ErrorKind::kDisk, "No such file", dir_ / "missing.img");
  refused(kMiB, 64 * kMiB, good, ErrorKind::kDisk, "neither a block device nor a regular file", dir_);
  EXPECT_TRUE(ReadAt(img, 0, 66 * kMiB) == whole) << "a refused call wrote to the image";
}

}  // namespace
}  // namespace disk
