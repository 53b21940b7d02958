// The FAT32 writer, checked by the reference tools: fsck.vfat (dosfstools)
// must find nothing to fix, mtools must list and copy back every file byte for
// byte under its long name, blkid must see the label and serial. Images are
// sparse temporary files; the partition sits at a non-zero offset between
// garbage that must stay untouched, over garbage that must not matter.
#include "disk/fat32.h"

#include <fcntl.h>
#include <gtest/gtest.h>

#include "tests/unit/disk_test_support.h"
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <tuple>

#include "disk/fat_dir.h"

namespace disk {
namespace {

namespace fs = std::filesystem;
using base::ErrorKind;
using namespace std::string_literals;

constexpr std::uint64_t kMiB = 1 << 20;

using test_support::Output;
using test_support::ReadAt;
using test_support::Shell;
using test_support::WriteAt;
inline std::string Random(std::size_t size, std::uint32_t seed) { return test_support::RandomBytes(size, seed); }

std::string Slurp(const fs::path& path) { return ReadAt(path, 0, static_cast<std::size_t>(fs::file_size(path))); }

FatFile Data(std::string path, std::string data) {
  return {.path = std::move(path), .data = std::move(data), .source = "", .size = 0, .parts = {}};
}

// A file copied from `source`; without `size`, the source's current size.
FatFile Sourced(std::string path, std::string source, std::uint64_t size = UINT64_MAX) {
  if (size == UINT64_MAX) size = fs::file_size(source);
  return {.path = std::move(path), .data = "", .source = std::move(source), .size = size, .parts = {}};
}

// Copies `size` bytes at `offset` of `from` into a new sparse file, reading
// only the data extents (SEEK_DATA): gigabytes of holes cost nothing.
bool ExtractSparse(const fs::path& from, std::uint64_t offset, std::uint64_t size, const fs::path& to) {
  base::Result<base::Fd> in = base::Open(from.string(), O_RDONLY);
  base::Result<base::Fd> out = base::Open(to.string(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (!in || !out || ::ftruncate(out->get(), static_cast<off_t>(size)) != 0) return false;
  std::string buffer(kMiB, '\0');
  for (off_t at = static_cast<off_t>(offset), end = static_cast<off_t>(offset + size); at < end;) {
    off_t data = ::lseek(in->get(), at, SEEK_DATA);
    if (data < 0 || data >= end) break;
    off_t hole = std::min<off_t>(::lseek(in->get(), data, SEEK_HOLE), end);
    for (at = data; at < hole;) {
      ssize_t n = ::pread(in->get(), buffer.data(), std::min<off_t>(hole - at, kMiB), at);
      if (n <= 0 || !base::WriteAllAt(*out, std::span<const char>(buffer.data(), static_cast<std::size_t>(n)),
                                      static_cast<std::uint64_t>(at) - offset)) {
        return false;
      }
      at += n;
    }
  }
  return true;
}

// ---- names ---------------------------------------------------------------

TEST(FatNames, ExactShortNamesNeedNoLongName) {
  EXPECT_EQ(fat::ExactShortName("BOOTX64.EFI"), "BOOTX64 EFI");
  EXPECT_EQ(fat::ExactShortName("EFI"), "EFI        ");
  EXPECT_EQ(fat::ExactShortName("LDLINUX.C32"), "LDLINUX C32");
  EXPECT_EQ(fat::ExactShortName("loader"), "");        // lower case
  EXPECT_EQ(fat::ExactShortName("VMLINUZ-VIRT"), "");  // 12 characters
  EXPECT_EQ(fat::ExactShortName("A.B.C"), "");
  EXPECT_EQ(fat::ExactShortName("A+B"), "");  // '+' is long-name only
  EXPECT_EQ(fat::ExactShortName("FILE."), "");
}

TEST(FatNames, GeneratedShortNamesFollowTheBasisRules) {
  EXPECT_EQ(fat::MakeShortName("loader", {}), "LOADER     ");  // only case differs: no tail
  EXPECT_EQ(fat::MakeShortName("vmlinuz-virt", {}), "VMLINU~1   ");
  EXPECT_EQ(fat::MakeShortName("vmlinuz-virt", {"VMLINU~1   "}), "VMLINU~2   ");
  EXPECT_EQ(fat::MakeShortName("bootrino.conf", {}), "BOOTRI~1CON");
  EXPECT_EQ(fat::MakeShortName("a b.txt", {}), "AB~1    TXT");
  EXPECT_EQ(fat::MakeShortName(".hidden", {}), "HIDDEN~1   ");
  EXPECT_EQ(fat::MakeShortName("x+y", {}), "X_Y~1      ");
  EXPECT_EQ(fat::MakeShortName("\xC3\xA9t\xC3\xA9", {}), "_T_~1      ");
  std::set<std::string> taken;
  for (int i = 1; i <= 9; ++i) taken.insert("LONGNA~" + std::to_string(i) + "   ");
  EXPECT_EQ(fat::MakeShortName("longname-file", taken), "LONGN~10   ");
}

TEST(FatNames, ChecksumMatchesMtools) {
  // mcopy wrote "vmlinuz-virt" as VMLINU~1 with checksum 0xF0 in its long-name entries.
  EXPECT_EQ(fat::ShortNameChecksum("VMLINU~1   "), 0xF0);
}

TEST(FatNames, LongNameEntriesAreTerminatedAndPadded) {
  std::string thirteen = fat::LongNameEntries(u"thirteen-char", 0x12);
  ASSERT_EQ(thirteen.size(), 32u);
  EXPECT_EQ(thirteen[0], 0x41);  // ordinal 1, last
  EXPECT_EQ(thirteen[11], 0x0F);
  EXPECT_EQ(thirteen[13], 0x12);
  EXPECT_EQ(thirteen.substr(30, 2), "r\0"s);  // exactly full: no terminator
  std::string two = fat::LongNameEntries(u"fourteen-chars", 0);
  ASSERT_EQ(two.size(), 64u);
  EXPECT_EQ(two[0], 0x42);
  EXPECT_EQ(two[32], 0x01);
  EXPECT_EQ(two.substr(1, 6), "s\0\0\0\xFF\xFF"s);  // 14th character, NUL, then 0xFFFF padding
}

TEST(FatNames, LongNamesAreChecked) {
  EXPECT_TRUE(fat::LongName("bootrino.conf"));
  EXPECT_EQ(*fat::LongName("\xC3\xA9"), u"\u00E9");
  EXPECT_EQ(*fat::LongName("\xF0\x9F\x98\x80"), u"\U0001F600");
  for (const std::string& bad : std::vector<std::string>{"", ".", "..", "a:b", "a\\b", "tab\t", "dot.", "space ",
                                                         "\xFF", "\xC3", "\xC0\x80", std::string(256, 'x')}) {
    auto r = fat::LongName(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().kind(), ErrorKind::kUsage);
  }
  EXPECT_TRUE(fat::LongName(std::string(255, 'x')));
}

TEST(FatNames, LabelsAreUpperCaseAndChecked) {
  EXPECT_EQ(*fat::LabelField("bootrino"), "BOOTRINO   ");
  EXPECT_EQ(*fat::LabelField(""), "NO NAME    ");
  EXPECT_FALSE(fat::LabelField("twelve-chars"));
  EXPECT_FALSE(fat::LabelField("a.b"));
}

// ---- geometry --------------------------------------------------------------

base::Result<Fat32Image> PlanEmpty(std::uint64_t bytes, std::uint32_t sector_size) {
  return Fat32Image::Plan(
      {.sectors = bytes / sector_size, .sector_size = sector_size, .hidden_sectors = 2048, .volume_id = 1, .label = ""},
      {});
}

TEST(Fat32Geometry, MatchesMkfsFatForTheSameSize) {
  fs::path img = fs::temp_directory_path() / ("bootrino-fat32-mkfs-" + std::to_string(getpid()));
  for (std::uint64_t mib : {40, 300, 512, 2048, 9000}) {
    fs::remove(img);
    ASSERT_EQ(Shell("truncate -s " + std::to_string(mib) + "M " + img.string()).status, 0);
    Output mkfs = Shell("mkfs.fat -F 32 " + img.string() + " && fsck.vfat -nv " + img.string());
    ASSERT_EQ(mkfs.status, 0) << mkfs.text;
    auto g = PlanEmpty(mib * kMiB, 512);
    ASSERT_TRUE(g) << g.error().message();
    std::uint64_t data_start = g->geometry().DataStart() * 512;
    EXPECT_NE(mkfs.text.find(std::to_string(g->geometry().ClusterBytes()) + " bytes per cluster"), std::string::npos)
        << mib << " MiB:\n"
        << mkfs.text;
    EXPECT_NE(mkfs.text.find("(= " + std::to_string(g->geometry().fat_sectors) + " sectors)"), std::string::npos)
        << mib << " MiB:\n"
        << mkfs.text;
    EXPECT_NE(mkfs.text.find("Data area starts at byte " + std::to_string(data_start)), std::string::npos)
        << mib << " MiB:\n"
        << mkfs.text;
    EXPECT_EQ(g->geometry().DataStart() % g->geometry().sectors_per_cluster, 0u);
  }
  fs::remove(img);
}

TEST(Fat32Geometry, TooSmallPartitionIsRefusedNamingTheMinimum) {
  for (std::uint32_t sector_size : {512u, 4096u}) {
    std::uint64_t min = Fat32Image::MinimumSectors(sector_size);
    auto ok = PlanEmpty(min * sector_size, sector_size);
    ASSERT_TRUE(ok) << ok.error().message();
    EXPECT_EQ(ok->geometry().clusters, 65525u);
    EXPECT_EQ(ok->geometry().sectors_per_cluster, 1u);
    auto small = PlanEmpty((min - 1) * sector_size, sector_size);
    ASSERT_FALSE(small);
    EXPECT_EQ(small.error().kind(), ErrorKind::kDisk);
    EXPECT_NE(small.error().message().find(std::to_string(min)), std::string::npos) << small.error().message();
    std::string min_mib = std::to_string((min * sector_size + kMiB - 1) / kMiB) + " MiB";
    EXPECT_NE(small.error().hint().find(min_mib), std::string::npos) << small.error().hint();
  }
  EXPECT_EQ(Fat32Image::MinimumSectors(512), 66581u);   // 32.5 MiB
  EXPECT_EQ(Fat32Image::MinimumSectors(4096), 65685u);  // 256.6 MiB
  auto odd = PlanEmpty(300 * kMiB, 1024);
  ASSERT_FALSE(odd);
  EXPECT_EQ(odd.error().kind(), ErrorKind::kDisk);
}

TEST(Fat32Geometry, BadFilesAreRefusedBeforeAnythingIsWritten) {
  FatVolume volume{
      .sectors = 300 * kMiB / 512, .sector_size = 512, .hidden_sectors = 2048, .volume_id = 1, .label = "BOOT"};
  auto too_big = Fat32Image::Plan(volume, {Sourced("initrd", "/nonexistent", 400 * kMiB)});
  ASSERT_FALSE(too_big);
  EXPECT_EQ(too_big.error().kind(), ErrorKind::kDisk);
  // 400 MiB and the root directory's cluster, rounded up; the data area of 300 MiB, rounded up.
  EXPECT_EQ(too_big.error().message(), "the boot partition files need 401 MiB but its FAT32 filesystem holds 300 MiB");
  EXPECT_NE(too_big.error().hint().find("larger"), std::string::npos);
  // Just fits: everything but the root directory's cluster.
  std::uint64_t free_bytes = (Fat32Image::Plan(volume, {})->geometry().clusters - 1) * 4096ull;
  EXPECT_TRUE(Fat32Image::Plan(volume, {Sourced("x", "/s", free_bytes)}));
  EXPECT_FALSE(Fat32Image::Plan(volume, {Sourced("x", "/s", free_bytes + 1)}));

  auto huge = Fat32Image::Plan(volume, {Sourced("x", "/s", 4ull << 30)});
  ASSERT_FALSE(huge);
  EXPECT_EQ(huge.error().kind(), ErrorKind::kUsage);
  EXPECT_FALSE(Fat32Image::Plan(volume, {Data("EFI/BOOT/X", "a"), Data("efi/boot/x", "b")}));
  EXPECT_FALSE(Fat32Image::Plan(volume, {Data("a", "a"), Data("a/b", "b")}));
  EXPECT_FALSE(Fat32Image::Plan(volume, {Data("a/b", "a"), Data("a", "b")}));
  EXPECT_FALSE(Fat32Image::Plan(volume, {Data("/abs", "a")}));
  EXPECT_FALSE(Fat32Image::Plan(volume, {Data("a//b", "a")}));
  EXPECT_FALSE(Fat32Image::Plan(
      {.sectors = 300 * kMiB / 512, .sector_size = 512, .hidden_sectors = 0, .volume_id = 0, .label = "far too long"},
      {}));
}

// ---- whole images, read back by the reference tools ---------------------------

struct ImageCase {
  std::uint64_t mib;
  std::uint32_t sector_size;
};

class Fat32ImageTest : public ::testing::TestWithParam<ImageCase> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("bootrino-fat32-" + std::to_string(getpid()) + "-" +
                                        std::to_string(GetParam().mib) + "-" + std::to_string(GetParam().sector_size));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // The files a boot partition holds, and names that stress the encoder.
  std::vector<FatFile> Files() {
    std::vector<FatFile> files = {
        Data("EFI/BOOT/BOOTX64.EFI", Random(100'000, 1)),
        Data("loader/loader.conf", "timeout 0\ndefault bootrino.conf\n"),
        Data("loader/entries/bootrino.conf", "title bootrino\nlinux /vmlinuz-virt\ninitrd /initramfs-virt\n"),
        Sourced("vmlinuz-virt", Source("kernel", Random(5 * kMiB + 123, 2))),  // more than one chunk
        Sourced("initramfs-virt", Source("initrd", Random(3 * kMiB, 3))),      // whole clusters
        Composed(),
        Data("ldlinux.sys", Random(59'392, 4)),
        Data("LDLINUX.C32", Random(120'000, 5)),
        Data("VMLINU~1", "a file literally named like a generated short name"),
        Data("empty", ""),
        Data("thirteen-char", "13"),
        Data("a name with spaces and.dots.txt", "spaces"),
        Data("\xC3\x9Cnic\xC3\xB8"
             "de-\xC3\xB1"
             "ame.conf",
             "utf-8"),
        Data("deep/er/and/deeper/Mixed.Case", "deep"),
    };
    for (int i = 0; i < 150; ++i) {  // a directory spanning several clusters
      files.push_back(Data("many/file-number-" + std::to_string(i) + "-of-many.txt", std::to_string(i)));
    }
    return files;
  }

  std::string Source(const std::string& name, const std::string& data) {
    std::ofstream(dir_ / name, std::ios::binary) << data;
    return (dir_ / name).string();
  }

  // An initrd composed while it is written: two staged files of odd sizes, each padded to 512 bytes (the
  // first across a chunk boundary), then an overlay.
  FatFile Composed() {
    return {.path = "bootrino-initrd.img",
            .data = "overlay after the parts",
            .source = "",
            .size = 0,
            .parts = {{Source("part1", Random(kMiB + 1, 6)), kMiB + 1, kMiB + 512},
                      {Source("part2", Random(700'001, 7)), 700'001, 700'416}}};
  }

  std::string Content(const FatFile& f) {
    if (!f.source.empty()) return Slurp(f.source);
    std::string out;
    for (const FilePart& p : f.parts) out += Slurp(p.source) + std::string(p.padded - p.size, '\0');
    return out + f.data;
  }

  FatVolume Volume() {
    return {.sectors = GetParam().mib * kMiB / GetParam().sector_size,
            .sector_size = GetParam().sector_size,
            .hidden_sectors = kOffset / GetParam().sector_size,
            .volume_id = 0x1234ABCD,
            .label = "bootrino"};
  }

  // A sparse image: garbage before the partition, over the start of it
  // (reserved sectors, FATs, root directory, first files) and after it.
  fs::path Image(const std::string& name) {
    fs::path img = dir_ / name;
    std::ofstream(img, std::ios::binary).close();
    fs::resize_file(img, kOffset + GetParam().mib * kMiB + kMiB);
    WriteAt(img, 0, Random(kOffset, 10));
    WriteAt(img, kOffset, Random(8 * kMiB, 11));
    WriteAt(img, kOffset + GetParam().mib * kMiB, Random(kMiB, 12));
    return img;
  }

  base::Result<void> WriteImage(const Fat32Image& image, const fs::path& img) {
    ASSIGN_OR_RETURN(Disk disk, Disk::Open(img.string(), GetParam().sector_size));
    return image.Write(disk, kOffset);
  }

  // Checks the partition of `img` with fsck.vfat, mtools and blkid.
  void ExpectReadsBack(const fs::path& img, const std::vector<FatFile>& files) {
    const std::string at = img.string() + "@@" + std::to_string(kOffset);
    fs::path part = dir_ / "partition";
    ASSERT_TRUE(ExtractSparse(img, kOffset, GetParam().mib * kMiB, part));
    // fsck.vfat exits 0 even for some differences it reports (a backup boot
    // sector that differs): any line but these is a finding.
    Output fsck = Shell("fsck.vfat -n -V " + part.string());
    EXPECT_EQ(fsck.status, 0) << fsck.text;
    std::istringstream fsck_lines(fsck.text);
    for (std::string line; std::getline(fsck_lines, line);) {
      bool expected = line.starts_with("fsck.fat ") || line == "Starting check/repair pass." ||
                      line == "Starting verification pass." || line.starts_with(part.string() + ": ");
      EXPECT_TRUE(expected) << fsck.text;
    }
    fs::remove(part);

    std::set<std::string> expected_paths;
    for (const FatFile& f : files) {
      for (std::size_t slash = f.path.find('/'); slash != std::string::npos; slash = f.path.find('/', slash + 1)) {
        expected_paths.insert("::/" + f.path.substr(0, slash));
      }
      expected_paths.insert("::/" + f.path);
    }
    Output mdir = Shell("mdir -/ -b -i " + at + " ::");
    ASSERT_EQ(mdir.status, 0) << mdir.text;
    std::set<std::string> listed;
    std::istringstream lines(mdir.text);
    for (std::string line; std::getline(lines, line);) {
      while (!line.empty() && line.back() == '/') line.pop_back();  // directories
      listed.insert(line);
    }
    EXPECT_EQ(listed, expected_paths) << mdir.text;

    for (std::size_t i = 0; i < files.size(); ++i) {
      fs::path out = dir_ / ("out" + std::to_string(i));
      Output copy = Shell("mcopy -n -i " + at + " '::/" + files[i].path + "' " + out.string());
      ASSERT_EQ(copy.status, 0) << files[i].path << ": " << copy.text;
      EXPECT_TRUE(Slurp(out) == Content(files[i])) << files[i].path;
      fs::remove(out);
    }

    Output blkid = Shell("blkid -p -O " + std::to_string(kOffset) + " " + img.string());
    EXPECT_EQ(blkid.status, 0) << blkid.text;
    EXPECT_NE(blkid.text.find(" LABEL=\"BOOTRINO\""), std::string::npos) << blkid.text;
    EXPECT_NE(blkid.text.find(" UUID=\"1234-ABCD\""), std::string::npos) << blkid.text;
    EXPECT_NE(blkid.text.find(" VERSION=\"FAT32\""), std::string::npos) << blkid.text;
    EXPECT_NE(blkid.text.find(" TYPE=\"vfat\""), std::string::npos) << blkid.text;
  }

  static constexpr std::uint64_t kOffset = 1 * kMiB;
  fs::path dir_;
};

TEST_P(Fat32ImageTest, ReferenceToolsReadBackEveryFile) {
  std::vector<FatFile> files = Files();
  auto image = Fat32Image::Plan(Volume(), files);
  ASSERT_TRUE(image) << image.error().message();
  fs::path img = Image("disk.img");
  std::string before = ReadAt(img, 0, kOffset), after = ReadAt(img, kOffset + GetParam().mib * kMiB, kMiB);
  auto written = WriteImage(*image, img);
  ASSERT_TRUE(written) << written.error().message();
  ExpectReadsBack(img, files);

  // Nothing outside the partition changed; the BPB has the partition's LBA.
  EXPECT_TRUE(ReadAt(img, 0, kOffset) == before);
  EXPECT_TRUE(ReadAt(img, kOffset + GetParam().mib * kMiB, kMiB) == after);
  const std::uint32_t ss = GetParam().sector_size;
  std::string sector0 = ReadAt(img, kOffset, ss);
  EXPECT_EQ(sector0, image->BootSector());
  EXPECT_EQ(ReadAt(img, kOffset + 6 * ss, ss), sector0);
  EXPECT_EQ(ReadAt(img, kOffset + 7 * ss, ss), ReadAt(img, kOffset + ss, ss));
  std::uint32_t hidden = 0;
  std::memcpy(&hidden, sector0.data() + 0x1C, 4);
  EXPECT_EQ(hidden, kOffset / ss);

  // Each placement is where the file's bytes are, contiguous.
  for (const char* path : {"vmlinuz-virt", "ldlinux.sys", "EFI/BOOT/BOOTX64.EFI"}) {
    auto f = std::find_if(files.begin(), files.end(), [&](const FatFile& x) { return x.path == path; });
    auto placement = image->PlacementOf(path);
    ASSERT_TRUE(placement) << placement.error().message();
    std::string content = Content(*f);
    EXPECT_EQ(placement->sectors, (content.size() + ss - 1) / ss) << path;
    EXPECT_TRUE(ReadAt(img, kOffset + placement->first_sector * ss, content.size()) == content) << path;
    std::uint64_t cluster = image->geometry().ClusterBytes();
    std::size_t padding = static_cast<std::size_t>((cluster - content.size() % cluster) % cluster);
    EXPECT_EQ(ReadAt(img, kOffset + placement->first_sector * ss + content.size(), padding), std::string(padding, '\0'))
        << path << ": the last cluster is not zero-padded";
  }
  auto empty = image->PlacementOf("empty");
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->sectors, 0u);
  EXPECT_FALSE(image->PlacementOf("no/such/file"));
}

// Checks of what does not depend on the size, on the smallest images.
class Fat32SmallTest : public Fat32ImageTest {};

TEST_P(Fat32SmallTest, OutputIsByteReproducible) {
  std::vector<FatFile> files = Files();
  auto first = Fat32Image::Plan(Volume(), files);
  auto second = Fat32Image::Plan(Volume(), files);
  ASSERT_TRUE(first && second);
  fs::path a = dir_ / "a.img", b = dir_ / "b.img";
  for (const fs::path& p : {a, b}) {
    std::ofstream(p, std::ios::binary).close();
    fs::resize_file(p, kOffset + GetParam().mib * kMiB);
  }
  ASSERT_TRUE(WriteImage(*first, a));
  ASSERT_TRUE(WriteImage(*second, b));
  Output cmp = Shell("cmp " + a.string() + " " + b.string());
  EXPECT_EQ(cmp.status, 0) << cmp.text;
}

INSTANTIATE_TEST_SUITE_P(SizesAndSectors, Fat32ImageTest,
                         ::testing::Values(ImageCase{300, 512}, ImageCase{300, 4096}, ImageCase{512, 512},
                                           ImageCase{512, 4096}, ImageCase{2048, 512}, ImageCase{2048, 4096}),
                         [](const auto& info) {
                           return std::to_string(info.param.mib) + "MiB_" + std::to_string(info.param.sector_size);
                         });

// The bootloader code's two edits: a patched ldlinux.sys and boot sector.
TEST_P(Fat32SmallTest, PatchedFileAndBootSectorAreWrittenAndStayConsistent) {
  std::vector<FatFile> files = Files();
  auto image = Fat32Image::Plan(Volume(), files);
  ASSERT_TRUE(image);
  auto placement = image->PlacementOf("ldlinux.sys");
  ASSERT_TRUE(placement);

  std::string patched = Random(59'392, 99);
  ASSERT_TRUE(image->ReplaceData("ldlinux.sys", patched));
  EXPECT_FALSE(image->ReplaceData("ldlinux.sys", patched + "x"));
  EXPECT_FALSE(image->ReplaceData("missing", patched));
  // ReplaceData may also stand in for a source file of the same size.
  std::string kernel = Random(5 * kMiB + 123, 98);
  ASSERT_TRUE(image->ReplaceData("vmlinuz-virt", kernel));

  std::string sector = image->BootSector();
  sector.replace(0, 11, "\xEB\x58\x90SYSLINUX");
  for (std::size_t i = 0x5A; i < 0x1FE; ++i) sector[i] = static_cast<char>(i * 7);
  std::string bad_bpb = sector;
  bad_bpb[0x1C] ^= 1;  // hidden sectors
  EXPECT_FALSE(image->SetBootSector(bad_bpb));
  EXPECT_FALSE(image->SetBootSector(sector.substr(0, 511)));
  std::string no_signature = sector;
  no_signature[0x1FF] = 0;
  EXPECT_FALSE(image->SetBootSector(no_signature));
  ASSERT_TRUE(image->SetBootSector(sector));
  EXPECT_EQ(image->BootSector(), sector);
  auto again = image->PlacementOf("ldlinux.sys");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->first_sector, placement->first_sector);

  fs::path img = Image("disk.img");
  ASSERT_TRUE(WriteImage(*image, img));
  for (FatFile& f : files) {
    if (f.path == "ldlinux.sys") f.data = patched;
    if (f.path == "vmlinuz-virt") f.source = Source("kernel", kernel);
  }
  ExpectReadsBack(img, files);  // fsck.vfat also compares sector 0 with its backup
  const std::uint32_t ss = GetParam().sector_size;
  EXPECT_EQ(ReadAt(img, kOffset, ss), sector);
  EXPECT_EQ(ReadAt(img, kOffset + 6 * ss, ss), sector);
  EXPECT_TRUE(ReadAt(img, kOffset + placement->first_sector * ss, patched.size()) == patched);
}

INSTANTIATE_TEST_SUITE_P(Sectors, Fat32SmallTest, ::testing::Values(ImageCase{300, 512}, ImageCase{300, 4096}),
                         [](const auto& info) {
                           return std::to_string(info.param.mib) + "MiB_" + std::to_string(info.param.sector_size);
                         });

TEST(Fat32Write, SourceThatChangedOrVanishedIsAnError) {
  fs::path dir = fs::temp_directory_path() / ("bootrino-fat32-source-" + std::to_string(getpid()));
  fs::create_directories(dir);
  fs::path kernel = dir / "kernel";
  std::ofstream(kernel, std::ios::binary) << Random(1000, 1);
  auto image = Fat32Image::Plan(
      {.sectors = 300 * kMiB / 512, .sector_size = 512, .hidden_sectors = 2048, .volume_id = 1, .label = ""},
      {Sourced("vmlinuz", kernel.string(), 1000)});
  ASSERT_TRUE(image);
  std::ofstream(kernel, std::ios::binary) << Random(999, 1);
  fs::path img = dir / "disk.img";
  std::ofstream(img, std::ios::binary).close();
  fs::resize_file(img, 301 * kMiB);
  auto fd = Disk::Open(img.string());
  ASSERT_TRUE(fd) << fd.error().message();
  // Nothing at all is written: the sources are checked before the first byte (the directory
  // clusters go first, and would land on the old root file system of a disk being taken over).
  auto untouched = [&] {
    std::ifstream in(img, std::ios::binary);
    std::string chunk(1 << 20, '\0');
    while (in.read(chunk.data(), static_cast<std::streamsize>(chunk.size())) || in.gcount() > 0) {
      if (chunk.find_first_not_of('\0', 0) < static_cast<std::size_t>(in.gcount())) return false;
    }
    return true;
  };
  auto written = image->Write(*fd, kMiB);
  ASSERT_FALSE(written);
  EXPECT_EQ(written.error().kind(), ErrorKind::kDisk);
  EXPECT_NE(written.error().message().find("1000 were planned"), std::string::npos) << written.error().message();
  EXPECT_TRUE(untouched());
  fs::remove(kernel);
  auto vanished = image->Write(*fd, kMiB);
  ASSERT_FALSE(vanished);
  EXPECT_EQ(vanished.error().kind(), ErrorKind::kDisk);
  EXPECT_NE(vanished.error().message().find("copying " + kernel.string()), std::string::npos)
      << vanished.error().message();
  EXPECT_TRUE(untouched());
  fs::remove_all(dir);
}

// A file composed of staged parts: each is checked before the first byte, like a source.
TEST(Fat32Write, APartThatChangedOrVanishedIsAnError) {
  fs::path dir = fs::temp_directory_path() / ("bootrino-fat32-part-" + std::to_string(getpid()));
  fs::create_directories(dir);
  fs::path first = dir / "initrd-1", second = dir / "initrd-2";
  std::ofstream(first, std::ios::binary) << Random(1000, 1);
  std::ofstream(second, std::ios::binary) << Random(3000, 2);
  auto image = Fat32Image::Plan(
      {.sectors = 300 * kMiB / 512, .sector_size = 512, .hidden_sectors = 2048, .volume_id = 1, .label = ""},
      {{.path = "initrd.img",
        .data = "tail",
        .source = "",
        .size = 0,
        .parts = {{first.string(), 1000, 1024}, {second.string(), 3000, 3072}}}});
  ASSERT_TRUE(image) << image.error().message();
  fs::path img = dir / "disk.img";
  std::ofstream(img, std::ios::binary).close();
  fs::resize_file(img, 301 * kMiB);
  auto fd = Disk::Open(img.string());
  ASSERT_TRUE(fd) << fd.error().message();
  std::ofstream(second, std::ios::binary) << Random(2999, 2);
  auto changed = image->Write(*fd, kMiB);
  ASSERT_FALSE(changed);
  EXPECT_EQ(changed.error().kind(), ErrorKind::kDisk);
  EXPECT_NE(changed.error().message().find("copying " + second.string() + " to the boot partition as initrd.img"),
            std::string::npos)
      << changed.error().message();
  EXPECT_NE(changed.error().message().find("3000 were planned"), std::string::npos) << changed.error().message();
  fs::remove(first);
  auto vanished = image->Write(*fd, kMiB);
  ASSERT_FALSE(vanished);
  EXPECT_NE(vanished.error().message().find("copying " + first.string()), std::string::npos)
      << vanished.error().message();
  auto padded_short = Fat32Image::Plan(
      {.sectors = 300 * kMiB / 512, .sector_size = 512, .hidden_sectors = 2048, .volume_id = 1, .label = ""},
      {{.path = "initrd.img", .data = "", .source = "", .size = 0, .parts = {{second.string(), 3000, 2048}}}});
  ASSERT_FALSE(padded_short) << "a part padded to less than its size";
  EXPECT_EQ(padded_short.error().kind(), ErrorKind::kInternal);
  fs::remove_all(dir);
}

// A disk that cannot hold the planned volume where it goes (too short, other sectors): refused before any write.
TEST(Fat32Write, ADiskThatDoesNotHoldTheVolumeIsRefusedUntouched) {
  fs::path dir = fs::temp_directory_path() / ("bootrino-fat32-short-" + std::to_string(getpid()));
  fs::create_directories(dir);
  auto image = Fat32Image::Plan(
      {.sectors = 300 * kMiB / 512, .sector_size = 512, .hidden_sectors = 2048, .volume_id = 1, .label = ""},
      {{"hello.txt", "hello", "", 0, {}}});
  ASSERT_TRUE(image) << image.error().message();
  fs::path img = dir / "disk.img";
  std::ofstream(img, std::ios::binary).close();
  fs::resize_file(img, 301 * kMiB);
  for (auto [offset, sector, says] : {std::tuple{2 * kMiB, 512u, "end past the end"},
                                      std::tuple{kMiB, 4096u, "4096-byte sectors"}}) {
    auto disk = Disk::Open(img.string(), sector);
    ASSERT_TRUE(disk) << disk.error().message();
    auto written = image->Write(*disk, offset);
    ASSERT_FALSE(written) << says;
    EXPECT_EQ(written.error().kind(), ErrorKind::kDisk);
    EXPECT_NE(written.error().message().find(says), std::string::npos) << written.error().message();
    EXPECT_NE(written.error().hint().find("nothing was written"), std::string::npos);
    struct stat st {};
    ASSERT_EQ(stat(img.c_str(), &st), 0);
    EXPECT_EQ(st.st_blocks, 0) << "the image was written";
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace disk
