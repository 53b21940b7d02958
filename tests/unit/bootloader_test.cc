#include "disk/bootloader.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "tests/unit/fat_sectors.h"

namespace disk {
namespace {

namespace fs = std::filesystem;
using test_fat::Le;

constexpr std::uint32_t kMagic = 0x3EB202FE;

std::uint32_t DwordSum(const std::string& s) {
  std::uint32_t sum = 0;
  for (std::size_t off = 0; off + 4 <= s.size(); off += 4) sum += Le(s, off, 4);
  return sum;
}

// The extent table and ADV pointers of a patched ldlinux.sys, decoded
// independently of bootloader.cc from the patch-area layout in syslxint.h.
struct Decoded {
  std::uint32_t data_sectors, adv_sectors, dwords;
  std::vector<std::pair<std::uint64_t, std::uint32_t>> extents;
  std::uint64_t adv0, adv1;
};
Decoded Decode(const std::string& sys) {
  std::size_t pa = 0;
  while (Le(sys, pa, 4) != kMagic) pa += 4;
  std::size_t epa = Le(sys, pa + 22, 2);
  std::size_t table = Le(sys, epa + 10, 2), count = Le(sys, epa + 12, 2), adv = Le(sys, epa, 2);
  Decoded d{Le(sys, pa + 8, 2), Le(sys, pa + 10, 2), Le(sys, pa + 12, 4), {}, 0, 0};
  for (std::size_t i = 0; i < count && Le(sys, table + 10 * i + 8, 2) != 0; ++i) {
    std::size_t e = table + 10 * i;
    d.extents.push_back({Le(sys, e, 4) | std::uint64_t{Le(sys, e + 4, 4)} << 32, Le(sys, e + 8, 2)});
  }
  d.adv0 = Le(sys, adv, 4) | std::uint64_t{Le(sys, adv + 4, 4)} << 32;
  d.adv1 = Le(sys, adv + 8, 4) | std::uint64_t{Le(sys, adv + 12, 4)} << 32;
  return d;
}

// syslinux is x86_64's BIOS loader: an aarch64 build carries none, and its tests say so instead of failing.
class SyslinuxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HasBiosLoader()) GTEST_SKIP() << "a " << base::ArchName(BootloaderArch()) << " build carries no syslinux";
  }
};

TEST(BootloaderTest, EmbeddedSystemdBootIsThePinnedOneForThisArchitecture) {
  const bool x86 = BootloaderArch() == base::Arch::kX86_64;
  EXPECT_EQ(SystemdBoot().size(), x86 ? 140891u : 123434u);
  EXPECT_EQ(SystemdBoot().substr(0, 2), "MZ");
  // The PE header's machine field: 0x8664 (x86_64) or 0xaa64 (aarch64), where the firmware looks for it.
  const std::uint32_t pe = Le(std::string(SystemdBoot().substr(0, 0x40)), 0x3c, 4);
  EXPECT_EQ(Le(std::string(SystemdBoot().substr(pe, 6)), 4, 2), x86 ? 0x8664u : 0xaa64u);
  EXPECT_EQ(EfiLoaderPath(), x86 ? "EFI/BOOT/BOOTX64.EFI" : "EFI/BOOT/BOOTAA64.EFI");
  EXPECT_EQ(HasBiosLoader(), x86);
}

TEST_F(SyslinuxTest, EmbeddedFilesAreThePinnedOnes) {
  EXPECT_EQ(GptMbr().size(), 440u);
  EXPECT_EQ(SyslinuxCore().size(), 58368u);
  EXPECT_EQ(SyslinuxCore().substr(0, 15), "\r\nSYSLINUX 6.04");
  EXPECT_EQ(SyslinuxBootSectorTemplate().size(), 512u);
  EXPECT_EQ(SyslinuxBootSectorTemplate().substr(3, 8), "SYSLINUX");
  EXPECT_EQ(SyslinuxBootSectorTemplate().substr(510), "\x55\xAA");
  EXPECT_EQ(SyslinuxC32().size(), 119532u);
  EXPECT_EQ(SyslinuxC32().substr(0, 4), "\x7F" "ELF");
  EXPECT_EQ(LdlinuxSysSize(SyslinuxCore()), 59392u);
}

TEST_F(SyslinuxTest, LdlinuxSysIsPatchedLikeSyslinuxDoes) {
  auto sys = BuildLdlinuxSys(SyslinuxCore(), 5000, 116);
  ASSERT_TRUE(sys) << sys.error().message();
  ASSERT_EQ(sys->size(), 59392u);
  std::string core = sys->substr(0, 58368);
  EXPECT_EQ(DwordSum(core), kMagic);  // what the core checks before it runs
  Decoded d = Decode(*sys);
  EXPECT_EQ(d.data_sectors, 114u);
  EXPECT_EQ(d.adv_sectors, 2u);
  EXPECT_EQ(d.dwords, 58368u / 4);
  // Sector 5000 is found through the boot sector; the other 113 data sectors
  // are one run (runs stay under 128 sectors; the reference tests cover more).
  using Extents = std::vector<std::pair<std::uint64_t, std::uint32_t>>;
  EXPECT_EQ(d.extents, (Extents{{5001, 113}}));
  EXPECT_EQ(d.adv0, 5114u);
  EXPECT_EQ(d.adv1, 5115u);
  // An empty ADV, twice.
  std::string adv = sys->substr(58368, 512);
  EXPECT_EQ(sys->substr(58368 + 512), adv);
  EXPECT_EQ(Le(adv, 0, 4), 0x5A2D2FA5u);
  EXPECT_EQ(Le(adv, 4, 4), 0xA3041767u);
  EXPECT_EQ(Le(adv, 508, 4), 0xDD28BF64u);
  EXPECT_EQ(adv.substr(8, 500), std::string(500, '\0'));
  // The pristine core differs only in the patch area and its tables.
  std::size_t differing = 0;
  for (std::size_t i = 0; i < core.size(); ++i) differing += core[i] != SyslinuxCore()[i];
  EXPECT_GT(differing, 0u);
  EXPECT_LT(differing, 64u);
}

TEST_F(SyslinuxTest, PatchingDependsOnlyOnThePlacement) {
  auto direct = BuildLdlinuxSys(SyslinuxCore(), 5000, 120);  // a placement longer than the file is fine
  auto elsewhere = BuildLdlinuxSys(SyslinuxCore(), 777, 116);
  ASSERT_TRUE(direct && elsewhere);
  EXPECT_NE(*direct, *elsewhere);
  auto repatched = BuildLdlinuxSys(std::string_view(*elsewhere).substr(0, 58368), 5000, 116);
  ASSERT_TRUE(repatched);
  EXPECT_EQ(*repatched, *direct);
}

TEST_F(SyslinuxTest, LdlinuxSysRejectsImpossiblePlacements) {
  EXPECT_FALSE(BuildLdlinuxSys(SyslinuxCore(), 5000, 115));  // one sector short
  EXPECT_FALSE(BuildLdlinuxSys(SyslinuxCore(), 0, 116));     // sector 0 is the boot sector
  EXPECT_FALSE(BuildLdlinuxSys(SyslinuxCore(), ~0ull - 10, 116));
  EXPECT_FALSE(BuildLdlinuxSys(std::string(58368, '\0'), 5000, 116));  // no patch area
  EXPECT_FALSE(BuildLdlinuxSys(SyslinuxCore().substr(0, 58000), 5000, 116));
  // More pieces than the extent table holds: shrink the table to 4 entries.
  std::string core(SyslinuxCore());
  std::size_t pa = 0;
  while (Le(core, pa, 4) != kMagic) pa += 4;
  std::size_t epa = Le(core, pa + 22, 2);
  core[epa + 12] = 4;
  core[epa + 13] = 0;
  std::vector<std::uint64_t> scattered;
  for (std::uint64_t i = 0; i < 116; ++i) scattered.push_back(100 + 2 * i);
  auto result = BuildLdlinuxSys(core, scattered);
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message().find("pieces"), std::string::npos) << result.error().message();
  EXPECT_TRUE(BuildLdlinuxSys(SyslinuxCore(), scattered));  // the real table has 192 entries
}

std::string FakeFatBootSector() {
  std::string s(512, '\0');
  for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>(i * 7 + 1);
  s[11] = 0x00;  // 512 bytes per sector
  s[12] = 0x02;
  s[510] = 0x55;
  s[511] = static_cast<char>(0xAA);
  return s;
}

TEST_F(SyslinuxTest, BootSectorGetsTemplateCodeAndKeepsTheBpb) {
  std::string original = FakeFatBootSector(), sector = original;
  std::string_view tmpl = SyslinuxBootSectorTemplate();
  ASSERT_TRUE(PatchFatBootSector(sector, tmpl, SyslinuxCore(), 0x100000002ull));
  EXPECT_EQ(sector.substr(0, 11), tmpl.substr(0, 11));
  EXPECT_EQ(sector.substr(11, 0x5A - 11), original.substr(11, 0x5A - 11));  // the BPB
  EXPECT_EQ(sector.substr(0x1FE), "\x55\xAA");
  EXPECT_EQ(Le(sector, 0x11A, 4), 2u);  // low dword of the first sector, where the patch area says
  EXPECT_EQ(Le(sector, 0x120, 4), 1u);  // high dword
  for (std::size_t i = 0x5A; i < 0x1FE; ++i) {
    if ((i >= 0x11A && i < 0x11E) || (i >= 0x120 && i < 0x124)) continue;
    ASSERT_EQ(sector[i], tmpl[i]) << "offset " << i;
  }
}

TEST_F(SyslinuxTest, BootSectorRejectsWhatIsNotAFatBootSectorAndLeavesItAlone) {
  std::string no_signature = FakeFatBootSector();
  no_signature[511] = 0;
  std::string copy = no_signature;
  EXPECT_FALSE(PatchFatBootSector(copy, SyslinuxBootSectorTemplate(), SyslinuxCore(), 2048));
  EXPECT_EQ(copy, no_signature);
  std::string big_sectors = FakeFatBootSector();
  big_sectors[12] = 0x10;  // 4096-byte sectors: syslinux cannot read them
  EXPECT_FALSE(PatchFatBootSector(big_sectors, SyslinuxBootSectorTemplate(), SyslinuxCore(), 2048));
  std::string sector = FakeFatBootSector();
  EXPECT_FALSE(PatchFatBootSector(sector, SyslinuxBootSectorTemplate().substr(1), SyslinuxCore(), 2048));
  EXPECT_FALSE(PatchFatBootSector(sector, SyslinuxBootSectorTemplate(), std::string(512, 'x'), 2048));
  EXPECT_EQ(sector, FakeFatBootSector());
}

TEST_F(SyslinuxTest, MbrCodeReplacesOnlyTheFirst440Bytes) {
  std::string mbr(512, '\x5A');
  mbr[510] = 0x55;
  ASSERT_TRUE(PatchMbrCode(mbr));
  EXPECT_EQ(mbr.substr(0, 440), GptMbr());
  EXPECT_EQ(mbr.substr(440, 70), std::string(70, '\x5A'));
  EXPECT_EQ(mbr[510], 0x55);
  std::string short_sector(440, '\0');
  EXPECT_FALSE(PatchMbrCode(short_sector));
}

TEST(BootloaderTest, SyslinuxConfigBootsTheEntryAtOnceOnSerialAndScreen) {
  auto cfg = SyslinuxConfig("/bootrino/vmlinuz", {"/bootrino/initrd-0", "/bootrino/initrd-1"},
                            "console=ttyS0,115200 quiet");
  ASSERT_TRUE(cfg) << cfg.error().message();
  EXPECT_EQ(*cfg,
            "SERIAL 0 115200\n"
            "CONSOLE 1\n"
            "PROMPT 0\n"
            "DEFAULT bootrino\n"
            "LABEL bootrino\n"
            "  LINUX /bootrino/vmlinuz\n"
            "  INITRD /bootrino/initrd-0,/bootrino/initrd-1\n"
            "  APPEND console=ttyS0,115200 quiet\n");
  auto bare = SyslinuxConfig("/k", {}, "");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->find("INITRD"), std::string::npos);
  EXPECT_EQ(bare->find("APPEND"), std::string::npos);
}

TEST(BootloaderTest, BootEntryFollowsTheBootLoaderSpecification) {
  auto entry = BootEntry("Alpine 3.20", "/bootrino/vmlinuz", {"/bootrino/initrd-0", "/bootrino/initrd-1"},
                         "console=ttyS0 modules=virtio");
  ASSERT_TRUE(entry) << entry.error().message();
  EXPECT_EQ(*entry,
            "title Alpine 3.20\n"
            "linux /bootrino/vmlinuz\n"
            "initrd /bootrino/initrd-0\n"
            "initrd /bootrino/initrd-1\n"
            "options console=ttyS0 modules=virtio\n");
  EXPECT_EQ(LoaderConf(), "timeout 0\neditor no\nauto-entries no\nauto-firmware no\n");
}

TEST(BootloaderTest, ConfigurationsRejectWhatTheirSyntaxCannotHold) {
  for (std::string bad : {"", "/", "vmlinuz", "/boot/vm linuz", "/a,b", "/a\tb", "/a\nb"}) {
    EXPECT_FALSE(SyslinuxConfig(bad, {}, "")) << bad;
    EXPECT_FALSE(BootEntry("t", bad, {}, "")) << bad;
    EXPECT_FALSE(SyslinuxConfig("/k", {bad}, "")) << bad;
    EXPECT_FALSE(BootEntry("t", "/k", {bad}, "")) << bad;
  }
  auto line_break = SyslinuxConfig("/k", {}, "a\nDEFAULT evil");
  ASSERT_FALSE(line_break);
  EXPECT_EQ(line_break.error().kind(), base::ErrorKind::kUsage);
  EXPECT_FALSE(line_break.error().hint().empty());
  EXPECT_FALSE(BootEntry("t", "/k", {}, "a\rb"));
  EXPECT_FALSE(BootEntry("two\nlines", "/k", {}, ""));
}

// Debian's own installer (kept by packaging/bootloaders.sh, same build as the
// embedded core) on a real FAT32 image is the reference: bootrino's patch of
// the pristine core with the same sectors must give the same bytes.
class SyslinuxReferenceTest : public SyslinuxTest {
 protected:
  void SetUp() override {
    SyslinuxTest::SetUp();
    if (IsSkipped()) return;
    dir_ = fs::temp_directory_path() / ("bootrino-syslinux-" + std::to_string(getpid()));
    fs::create_directories(dir_);
    image_ = (dir_ / "fat.img").string();
    installer_ = std::string(BOOTRINO_BOOTLOADERS_DIR) + "/reference/syslinux";
    ASSERT_TRUE(fs::exists(installer_)) << installer_ << " is missing: run packaging/bootloaders.sh";
    setenv("MTOOLS_SKIP_CHECK", "1", 1);
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  void Sh(const std::string& cmd) { ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd; }

  // A fresh FAT32 image; `fragmented` leaves one-cluster holes at its start
  // and points the free-cluster hint there so the installer's file is scattered.
  void MakeFat(bool fragmented) {
    Sh("truncate -s 64M '" + image_ + "' && mkfs.fat -F 32 -S 512 -s 1 -h 2048 '" + image_ + "' >/dev/null");
    if (!fragmented) return;
    Sh("head -c 512 /dev/urandom > '" + (dir_ / "one").string() + "'");
    for (int i = 0; i < 30; ++i) Sh("mcopy -i '" + image_ + "' '" + (dir_ / "one").string() + "' ::/f" + std::to_string(i));
    for (int i = 0; i < 30; i += 2) Sh("mdel -i '" + image_ + "' ::/f" + std::to_string(i));
    Sh("printf '\\002\\000\\000\\000' | dd of='" + image_ + "' bs=1 seek=1004 conv=notrunc status=none");
  }

  // Runs the reference installer; returns ldlinux.sys's sectors and checks
  // every byte bootrino would write against what the installer wrote.
  std::vector<std::uint64_t> InstallAndCompare() {
    std::string pristine_boot = test_fat::ReadFile(image_).substr(0, 512);
    EXPECT_EQ(std::system(("'" + installer_ + "' --install '" + image_ + "'").c_str()), 0);
    std::string sys = (dir_ / "ldlinux.sys").string(), c32 = (dir_ / "ldlinux.c32").string();
    EXPECT_EQ(std::system(("mcopy -n -i '" + image_ + "' ::/ldlinux.sys '" + sys + "' && mcopy -n -i '" + image_ +
                           "' ::/ldlinux.c32 '" + c32 + "'").c_str()),
              0);
    std::string image = test_fat::ReadFile(image_);
    std::vector<std::uint64_t> sectors = test_fat::FileSectors(image, "LDLINUX SYS");
    EXPECT_EQ(sectors.size(), 116u);
    if (sectors.size() != 116) return sectors;

    auto ours = BuildLdlinuxSys(SyslinuxCore(), sectors);
    EXPECT_TRUE(ours);
    std::string theirs = test_fat::ReadFile(sys);
    EXPECT_TRUE(ours && *ours == theirs) << "ldlinux.sys differs from Debian's installer";
    EXPECT_EQ(test_fat::ReadFile(c32), SyslinuxC32());

    std::string boot = pristine_boot;
    EXPECT_TRUE(PatchFatBootSector(boot, SyslinuxBootSectorTemplate(), SyslinuxCore(), sectors[0]));
    EXPECT_EQ(boot, image.substr(0, 512)) << "the boot sector differs from Debian's installer";
    return sectors;
  }

  fs::path dir_;
  std::string image_, installer_;
};

TEST_F(SyslinuxReferenceTest, ContiguousFileMatchesDebiansInstaller) {
  MakeFat(false);
  std::vector<std::uint64_t> sectors = InstallAndCompare();
  ASSERT_EQ(sectors.size(), 116u);
  ASSERT_EQ(sectors.back(), sectors.front() + 115);  // really contiguous
  auto ours = BuildLdlinuxSys(SyslinuxCore(), sectors.front(), 116);
  ASSERT_TRUE(ours);
  EXPECT_EQ(*ours, test_fat::ReadFile((dir_ / "ldlinux.sys").string()));
}

TEST_F(SyslinuxReferenceTest, ScatteredFileMatchesDebiansInstaller) {
  MakeFat(true);
  std::vector<std::uint64_t> sectors = InstallAndCompare();
  ASSERT_EQ(sectors.size(), 116u);
  std::size_t runs = 1;
  for (std::size_t i = 1; i < sectors.size(); ++i) runs += sectors[i] != sectors[i - 1] + 1;
  EXPECT_GE(runs, 10u) << "the image was not fragmented; the test proves less than it should";
}

}  // namespace
}  // namespace disk
