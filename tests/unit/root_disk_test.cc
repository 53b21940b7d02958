#include "disk/root_disk.h"

#include <filesystem>
#include <fstream>

#include <sys/sysmacros.h>

#include <gtest/gtest.h>

#include "base/mountinfo.h"

namespace disk {
namespace {

namespace fs = std::filesystem;

// A fake /proc + /sys tree shaped like the kernel's.
class FakeSystem {
 public:
  FakeSystem() : dir_(fs::temp_directory_path() / ("root_disk_test." + std::to_string(getpid()) + "." +
                                                   std::to_string(counter_++))) {
    fs::create_directories(dir_ / "proc/self");
    fs::create_directories(dir_ / "sys/dev/block");
  }
  ~FakeSystem() { fs::remove_all(dir_); }

  void Write(const std::string& rel, const std::string& text) {
    fs::create_directories((dir_ / rel).parent_path());
    std::ofstream(dir_ / rel) << text;
  }
  /// A disk NAME with partitions, its device numbers and size in 512-byte units.
  void AddDisk(const std::string& name, unsigned major, unsigned minor, std::uint64_t sectors,
               std::vector<std::string> parts, unsigned logical = 512) {
    std::string base = "sys/devices/pci0000:00/virtio/block/" + name;
    Write(base + "/size", std::to_string(sectors) + "\n");
    Write(base + "/queue/logical_block_size", std::to_string(logical) + "\n");
    Write(base + "/ro", "0\n");
    Write(base + "/dev", std::to_string(major) + ":" + std::to_string(minor) + "\n");
    fs::create_directories(dir_ / "sys/block");
    fs::create_symlink(dir_ / base, dir_ / ("sys/block/" + name));
    fs::create_symlink(dir_ / base, dir_ / ("sys/dev/block/" + std::to_string(major) + ":" + std::to_string(minor)));
    for (std::size_t i = 0; i < parts.size(); ++i) {
      Write(base + "/" + parts[i] + "/partition", std::to_string(i + 1) + "\n");
      Write(base + "/" + parts[i] + "/dev", std::to_string(major) + ":" + std::to_string(minor + 1 + i) + "\n");
      fs::create_symlink(dir_ / (base + "/" + parts[i]),
                         dir_ / ("sys/dev/block/" + std::to_string(major) + ":" + std::to_string(minor + 1 + i)));
    }
  }
  void AddStacked(const std::string& name, unsigned major, unsigned minor, const std::string& dm_name = "") {
    std::string base = "sys/devices/virtual/block/" + name;
    Write(base + "/size", "4194304\n");
    if (!dm_name.empty()) Write(base + "/dm/name", dm_name + "\n");
    fs::create_directories(dir_ / "sys/block");
    fs::create_symlink(dir_ / base, dir_ / ("sys/block/" + name));
    fs::create_symlink(dir_ / base, dir_ / ("sys/dev/block/" + std::to_string(major) + ":" + std::to_string(minor)));
  }
  SystemRoot Root() const { return {dir_.string()}; }

 private:
  static inline int counter_ = 0;
  fs::path dir_;
};

std::string Line(int id, const std::string& dev, const std::string& mp, const std::string& fstype,
                 const std::string& source) {
  return std::to_string(id) + " 1 " + dev + " / " + mp + " rw,relatime shared:1 - " + fstype + " " + source +
         " rw\n";
}

// base::ParseMountinfo, the one parser disk/ (the root disk) and userdata/ (a NoCloud seed volume) use.
TEST(ParseMountinfo, ReadsFieldsAndUnescapes) {
  auto m = base::ParseMountinfo(
      "22 1 252:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw,discard\n"
      "23 22 0:21 / /proc rw - proc proc rw\n"
      "24 22 252:15 / /boot/my\\040efi rw - vfat /dev/vda15 rw\n"
      "garbage line\n"
      "25 22 x:y / /bad rw - ext4 /dev/x rw\n"
      "26 22 252:1 /srv/a\\134b /mnt/bind rw - ext4 /dev/vda1 rw\n"
      "27 22 252:99999999999 / /huge rw - ext4 /dev/x rw\n");
  ASSERT_EQ(m.size(), 4u);
  EXPECT_EQ(m[0].major, 252u);
  EXPECT_EQ(m[0].minor, 1u);
  EXPECT_EQ(m[0].root, "/");
  EXPECT_EQ(m[0].fstype, "ext4");
  EXPECT_EQ(m[0].source, "/dev/vda1");
  EXPECT_EQ(m[2].mount_point, "/boot/my efi");
  EXPECT_EQ(m[3].root, "/srv/a\\b") << "a bind mount of a subdirectory, its backslash unescaped";
  EXPECT_EQ(m[3].mount_point, "/mnt/bind");
}

TEST(FindRootDisk, VirtioPartitionIsTheWholeDisksChild) {
  FakeSystem sys;
  sys.AddDisk("vda", 252, 0, 20971520, {"vda1", "vda14", "vda15"});
  sys.Write("proc/self/mountinfo", Line(22, "252:1", "/", "ext4", "/dev/vda1") +
                                       Line(23, "0:21", "/proc", "proc", "proc") +
                                       Line(24, "252:3", "/boot/efi", "vfat", "/dev/vda15"));
  auto d = FindRootDisk(sys.Root());
  ASSERT_TRUE(d) << d.error().message();
  EXPECT_EQ(d->name, "vda");
  EXPECT_EQ(d->device, "/dev/vda");
  EXPECT_EQ(d->bytes, 20971520ull * 512);
  EXPECT_EQ(d->sector_size, 512u);
  EXPECT_EQ(d->root_source, "/dev/vda1");
  EXPECT_TRUE(d->holds_root);
  EXPECT_EQ(d->mounts, (std::vector<std::string>{"/", "/boot/efi"}));
}

TEST(MountsOn, SeesWhatWasMountedOrUnmountedSinceTheDiskWasChosen) {
  FakeSystem sys;
  sys.AddDisk("vda", 252, 0, 20971520, {"vda1", "vda14", "vda15"});
  sys.AddDisk("vdb", 252, 16, 20971520, {"vdb1"});
  sys.Write("proc/self/mountinfo", Line(22, "252:1", "/", "ext4", "/dev/vda1"));
  auto d = FindRootDisk(sys.Root());
  ASSERT_TRUE(d) << d.error().message();
  EXPECT_EQ(d->mounts, std::vector<std::string>{"/"});
  EXPECT_EQ(d->devices, (std::vector<dev_t>{makedev(252, 0), makedev(252, 1), makedev(252, 2), makedev(252, 3)}));
  auto points = [](const std::vector<MountEntry>& mounts) {
    std::vector<std::string> out;
    for (const auto& m : mounts) out.push_back(m.mount_point);
    return out;
  };
  // Mounted since: /boot/efi (ahead of / in the table); /mnt is on another disk, /proc on none.
  auto now = ParseMountinfo(Line(24, "252:3", "/boot/efi", "vfat", "/dev/vda15") +
                            Line(22, "252:1", "/", "ext4", "/dev/vda1") + Line(23, "0:21", "/proc", "proc", "proc") +
                            Line(25, "252:17", "/mnt", "ext4", "/dev/vdb1"));
  EXPECT_EQ(points(MountsOn(*d, now)), (std::vector<std::string>{"/", "/boot/efi"}));
  EXPECT_EQ(points(MountsOn(*d, ParseMountinfo(Line(24, "252:3", "/boot/efi", "vfat", "/dev/vda15")))),
            std::vector<std::string>{"/boot/efi"});
}

TEST(FindRootDisk, NvmeXenAndScsiNamesComeFromSysfsNotGuesses) {
  for (auto [disk, part] : {std::pair{"nvme0n1", "nvme0n1p1"}, {"xvda", "xvda1"}, {"sda", "sda1"}}) {
    FakeSystem sys;
    sys.AddDisk(disk, 259, 0, 16777216, {part}, 4096);
    sys.AddDisk("sdb", 8, 16, 16777216, {"sdb1"});
    sys.Write("proc/self/mountinfo", Line(1, "259:1", "/", "ext4", std::string("/dev/") + part) +
                                         Line(2, "8:17", "/mnt", "ext4", "/dev/sdb1"));
    auto d = FindRootDisk(sys.Root());
    ASSERT_TRUE(d) << disk << ": " << d.error().message();
    EXPECT_EQ(d->name, disk);
    EXPECT_EQ(d->sector_size, 4096u);
    EXPECT_EQ(d->mounts, std::vector<std::string>{"/"}) << "/mnt is on another disk";
  }
}

TEST(FindRootDisk, RootOnTheWholeDisk) {
  FakeSystem sys;
  sys.AddDisk("vdb", 252, 16, 4194304, {});
  sys.Write("proc/self/mountinfo", Line(1, "252:16", "/", "ext4", "/dev/vdb"));
  auto d = FindRootDisk(sys.Root());
  ASSERT_TRUE(d) << d.error().message();
  EXPECT_EQ(d->name, "vdb");
}

TEST(FindRootDisk, RefusesLvmRaidNetworkAndRamRoots) {
  struct Case {
    std::string mountinfo, expect;
  };
  FakeSystem sys;
  sys.AddStacked("dm-0", 253, 0, "ubuntu--vg-root");
  sys.AddStacked("md0", 9, 0);
  for (const Case& c : {Case{Line(1, "253:0", "/", "ext4", "/dev/mapper/ubuntu--vg-root"), "dm-0 (ubuntu--vg-root)"},
                        Case{Line(1, "9:0", "/", "ext4", "/dev/md0"), "software RAID md0"},
                        Case{Line(1, "0:50", "/", "nfs4", "server:/export"), "on the network"},
                        Case{Line(1, "0:2", "/", "rootfs", "rootfs"), "is not on a disk"},
                        Case{Line(1, "0:2", "/", "tmpfs", "none"), "is not on a disk"}}) {
    sys.Write("proc/self/mountinfo", c.mountinfo);
    auto d = FindRootDisk(sys.Root());
    ASSERT_FALSE(d) << c.mountinfo;
    EXPECT_EQ(d.error().kind(), base::ErrorKind::kDisk);
    EXPECT_NE(d.error().message().find(c.expect), std::string::npos) << d.error().message();
    EXPECT_NE(d.error().hint().find("--keep-disk"), std::string::npos);
  }
}

TEST(FindRootDisk, RefusesADiskWhosePartitionIsHeldByLvm) {
  FakeSystem sys;
  sys.AddDisk("vda", 252, 0, 4194304, {"vda1", "vda2"});
  sys.Write("sys/devices/pci0000:00/virtio/block/vda/vda2/holders/dm-0/dev", "253:0\n");
  sys.Write("proc/self/mountinfo", Line(1, "252:1", "/", "ext4", "/dev/vda1"));
  auto d = FindRootDisk(sys.Root());
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().message().find("in use by dm-0"), std::string::npos) << d.error().message();
}

TEST(FindRootDisk, RefusesAReadOnlyDisk) {
  FakeSystem sys;
  sys.AddDisk("vda", 252, 0, 4194304, {"vda1"});
  sys.Write("sys/devices/pci0000:00/virtio/block/vda/ro", "1\n");
  sys.Write("proc/self/mountinfo", Line(1, "252:1", "/", "ext4", "/dev/vda1"));
  auto d = FindRootDisk(sys.Root());
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().kind(), base::ErrorKind::kDisk);
  EXPECT_NE(d.error().message().find("/dev/vda is read-only"), std::string::npos) << d.error().message();
  EXPECT_NE(d.error().hint().find("--keep-disk"), std::string::npos);
}

TEST(FindRootDisk, TheLastRootMountIsTheVisibleOne) {
  FakeSystem sys;
  sys.AddDisk("vda", 252, 0, 4194304, {"vda1"});
  sys.Write("proc/self/mountinfo", Line(1, "0:2", "/", "rootfs", "rootfs") + Line(2, "252:1", "/", "ext4", "/dev/vda1"));
  auto d = FindRootDisk(sys.Root());
  ASSERT_TRUE(d) << d.error().message();
  EXPECT_EQ(d->name, "vda");
}

TEST(DescribeDisk, RefusesWhatIsNotABlockDevice) {
  FakeSystem sys;
  sys.Write("proc/self/mountinfo", "");
  auto d = DescribeDisk("/dev/does-not-exist", sys.Root());
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().kind(), base::ErrorKind::kDisk);
  sys.Write("dev/regular", "x");
  d = DescribeDisk("/dev/regular", sys.Root());
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().message().find("not a block device"), std::string::npos);
}

}  // namespace
}  // namespace disk
