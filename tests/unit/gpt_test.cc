// The GPT writer, checked by the reference tools: fdisk and sfdisk (util-linux)
// must read back exactly the layout's disk GUID, LBAs, types, GUIDs, names and
// attribute bits, and find nothing to fix. Images are sparse temporary files
// of 2 GiB (512-byte sectors) and 8 GiB (4096-byte sectors; Debian 12's sfdisk
// has no --sector-size, so fdisk -b reads those).
#include "disk/gpt.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include <gtest/gtest.h>

#include "tests/unit/disk_test_support.h"

#include "base/fd.h"

namespace disk {
namespace {

namespace fs = std::filesystem;
using base::ErrorKind;

constexpr std::uint64_t kMiB = 1 << 20, kGiB = kMiB << 10;

using test_support::Output;
using test_support::ReadAt;
using test_support::WriteAt;
/// sfdisk's and fdisk's stdout only: the tests parse it.
Output Shell(const std::string& command) { return test_support::Shell(command, /*with_stderr=*/false); }

/// A layout written by hand (not by PlanLayout), so the writer is checked on its own.
Layout TwoGiB512() {
  Layout l;
  l.disk_bytes = 2 * kGiB;
  l.sector_size = 512;
  l.disk_guid = "6F1C2D9A-0B4E-4C7A-9D21-5E8F3A6B7C10";
  l.boot = {1, "bootrino-boot", kEspTypeGuid, "0D2E5B7C-91A4-4F36-8B0C-2A7D9E1F4C53", 2048, 2048 + 1048576 - 1,
            kLegacyBiosBootable};
  // Bits 0 (required) and 60 (a type-specific bit) as well: every bit must reach the disk, not only bit 2.
  l.data = {2, "bootrino-data", kLinuxDataTypeGuid, "A3B4C5D6-E7F8-4A1B-8C2D-3E4F5A6B7C8D", 1050624, 4192255,
            (1ull << 0) | (1ull << 60)};
  l.bios = true;
  return l;
}

Layout EightGiB4096() {
  Layout l;
  l.disk_bytes = 8 * kGiB;
  l.sector_size = 4096;
  l.disk_guid = "11223344-5566-4778-899A-ABBCCDDEEFF0";
  l.boot = {1, "bootrino-boot", kEspTypeGuid, "F0E1D2C3-B4A5-4697-8877-665544332211", 256, 256 + 131072 - 1, 0};
  // Up to the last usable sector, which is not on a MiB boundary: libfdisk must not round the size.
  l.data = {2, "bootrino-data", kLinuxDataTypeGuid, "01234567-89AB-4CDE-8F01-23456789ABCD", 131328, 2097146, 0};
  l.bios = false;
  return l;
}

class GptTest : public test_support::TempDirTest {
 protected:
  GptTest() : TempDirTest("gpt") {}

  /// The table written through a handle opened on `path`, with the layout's sector size (as `image` does).
  static base::Result<void> WriteTable(const std::string& path, const Layout& l) {
    ASSIGN_OR_RETURN(Disk disk, Disk::Open(path, l.sector_size));
    return WritePartitionTable(disk, l);
  }
  /// A sparse image file of `bytes`.
  std::string Image(const std::string& name, std::uint64_t bytes) {
    std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary).close();
    fs::resize_file(path, bytes);
    return path;
  }
  /// What a GPT occupies: the first and last MiB (the partitions start at 1 MiB and end a MiB short).
  static std::string GptBytes(const std::string& path) {
    const std::uint64_t size = fs::file_size(path);
    return ReadAt(path, 0, kMiB) + ReadAt(path, size - kMiB, kMiB);
  }
  /// The file's data extents (SEEK_DATA to SEEK_HOLE) and their bytes: equal maps mean equal files.
  static std::map<std::uint64_t, std::string> DataExtents(const std::string& path) {
    std::map<std::uint64_t, std::string> out;
    auto fd = base::Open(path, O_RDONLY);
    if (!fd) {
      ADD_FAILURE() << fd.error().message();
      return out;
    }
    const off_t end = ::lseek(fd->get(), 0, SEEK_END);
    for (off_t pos = 0; pos < end;) {
      const off_t data = ::lseek(fd->get(), pos, SEEK_DATA);
      if (data < 0) break;  // ENXIO: only a hole is left
      const off_t hole = ::lseek(fd->get(), data, SEEK_HOLE);
      std::string bytes(static_cast<std::size_t>(hole - data), '\0');
      EXPECT_EQ(::pread(fd->get(), bytes.data(), bytes.size(), data), static_cast<ssize_t>(bytes.size()));
      out[static_cast<std::uint64_t>(data)] = std::move(bytes);
      pos = hole;
    }
    return out;
  }

  /// What `fdisk -x` lists: the "Key: value" lines, and one row per partition.
  struct Listing {
    std::map<std::string, std::string> fields;
    std::vector<std::vector<std::string>> rows;  ///< device, start, end, sectors, type, uuid, name, attrs
  };
  static Listing FdiskList(const std::string& path, std::uint32_t sector_size) {
    Output out = Shell("fdisk -b " + std::to_string(sector_size) + " -x '" + path + "'");
    EXPECT_EQ(out.status, 0) << out.text;
    Listing listing;
    std::istringstream lines(out.text);
    bool in_rows = false;
    for (std::string line; std::getline(lines, line);) {
      if (line.starts_with("Device ")) {
        in_rows = true;
      } else if (in_rows && !line.empty()) {
        std::istringstream words(line);
        std::vector<std::string> row(7);
        for (auto& word : row) words >> word;  // the names here have no spaces
        std::string attrs;
        std::getline(words >> std::ws, attrs);
        row.push_back(attrs.substr(0, attrs.find_last_not_of(' ') + 1));
        listing.rows.push_back(row);
      } else if (auto colon = line.find(": "); colon != std::string::npos) {
        listing.fields[line.substr(0, colon)] = line.substr(colon + 2);
      }
    }
    return listing;
  }

  /// A fresh image named `name` of `l`'s size with `l`'s table written onto it; its path.
  base::Result<std::string> ImageWithTable(const Layout& l, const std::string& name = "disk.img") {
    const std::string path = Image(name, l.disk_bytes);
    RETURN_IF_ERROR(WriteTable(path, l));
    return path;
  }

  /// `command`, a partitioning tool's check of the table, passes and says so.
  static void ExpectVerified(const std::string& command) {
    Output verify = Shell(command);
    EXPECT_EQ(verify.status, 0) << verify.text;
    EXPECT_NE(verify.text.find("No errors detected"), std::string::npos) << verify.text;
  }

  /// fdisk must read back every field of `l` from `path`, and its check must pass; sector 0 is a
  /// protective MBR and the backup header sits in the last sector.
  void ExpectTable(const std::string& path, const Layout& l, const std::string& boot_attrs,
                   const std::string& data_attrs) {
    const std::string ss = std::to_string(l.sector_size);
    const std::uint64_t total = l.disk_bytes / l.sector_size, entry_sectors = 128 * 128 / l.sector_size;
    Listing t = FdiskList(path, l.sector_size);
    EXPECT_EQ(t.fields["Disklabel type"], "gpt");
    EXPECT_EQ(t.fields["Disk identifier"], l.disk_guid);
    EXPECT_EQ(t.fields["Sector size (logical/physical)"], ss + " bytes / " + ss + " bytes");
    EXPECT_EQ(t.fields["First usable LBA"], std::to_string(2 + entry_sectors));
    EXPECT_EQ(t.fields["Last usable LBA"], std::to_string(total - 2 - entry_sectors));
    EXPECT_EQ(t.fields["Alternative LBA"], std::to_string(total - 1));
    EXPECT_EQ(t.fields["Allocated partition entries"], "128");
    ASSERT_EQ(t.rows.size(), 2u);
    int i = 0;
    for (const auto& [p, attrs] : {std::pair{l.boot, boot_attrs}, std::pair{l.data, data_attrs}}) {
      EXPECT_EQ(t.rows[i++], (std::vector<std::string>{path + std::to_string(p.number), std::to_string(p.first_lba),
                                                       std::to_string(p.last_lba), std::to_string(p.Sectors()),
                                                       p.type_guid, p.uuid, p.name, attrs}));
    }
    ExpectVerified("printf 'v\\nq\\n' | fdisk -b " + ss + " '" + path + "'");
    ExpectProtectiveMbrAndBackup(path, l);
  }

  /// Sector 0 is a protective MBR and nothing else; the backup header sits in the last sector.
  static void ExpectProtectiveMbrAndBackup(const std::string& path, const Layout& l) {
    const std::string mbr = ReadAt(path, 0, l.sector_size);
    EXPECT_EQ(mbr.substr(0, 446), std::string(446, '\0')) << "boot code and disk signature must be zero";
    EXPECT_EQ(static_cast<unsigned char>(mbr[446 + 4]), 0xEE) << "partition 1 must be the protective 0xEE";
    EXPECT_EQ(mbr.substr(446 + 16, 48), std::string(48, '\0')) << "partitions 2-4 must be empty";
    EXPECT_EQ(mbr.substr(510, 2), "\x55\xAA");
    EXPECT_EQ(mbr.substr(512), std::string(l.sector_size - 512, '\0'));
    EXPECT_EQ(ReadAt(path, l.sector_size, 8), "EFI PART");
    EXPECT_EQ(ReadAt(path, l.disk_bytes - l.sector_size, 8), "EFI PART");
  }
};

TEST_F(GptTest, TwoGiBWith512ByteSectorsReadsBackExactly) {
  const Layout l = TwoGiB512();
  const auto image = ImageWithTable(l);
  ASSERT_TRUE(image) << image.error().message();
  const std::string& path = *image;
  ExpectTable(path, l, "LegacyBIOSBootable", "RequiredPartition GUID:60");
  ExpectVerified("sfdisk --verify '" + path + "'");

  // And as the text sfdisk -d prints (the form systemd-repart's tests compare), device name aside.
  Output dump = Shell("sfdisk -d '" + path + "'");
  ASSERT_EQ(dump.status, 0) << dump.text;
  EXPECT_EQ(dump.text,
            "label: gpt\n"
            "label-id: 6F1C2D9A-0B4E-4C7A-9D21-5E8F3A6B7C10\n"
            "device: " + path + "\n"
            "unit: sectors\n"
            "first-lba: 34\n"
            "last-lba: 4194270\n"
            "sector-size: 512\n"
            "\n" +
            path + "1 : start=        2048, size=     1048576, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, "
                   "uuid=0D2E5B7C-91A4-4F36-8B0C-2A7D9E1F4C53, name=\"bootrino-boot\", attrs=\"LegacyBIOSBootable\"\n" +
            path + "2 : start=     1050624, size=     3141632, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, "
                   "uuid=A3B4C5D6-E7F8-4A1B-8C2D-3E4F5A6B7C8D, name=\"bootrino-data\", "
                   "attrs=\"RequiredPartition GUID:60\"\n");
}

TEST_F(GptTest, EightGiBWith4096ByteSectorsReadsBackExactly) {
  const Layout l = EightGiB4096();
  const auto image = ImageWithTable(l);
  ASSERT_TRUE(image) << image.error().message();
  ExpectTable(*image, l, "", "");
  // Read as 512-byte sectors the disk has no valid GPT: the sector size really is 4096.
  Output as512 = Shell("sfdisk -d '" + *image + "'");
  EXPECT_EQ(as512.text.find("label: gpt"), std::string::npos) << as512.text;
}

// Same layout, same bytes: written twice onto one image, and onto a second image. The images are
// compared by their data extents (cmp would read gigabytes of holes).
TEST_F(GptTest, WritingIsByteReproducible) {
  for (const Layout& l : {TwoGiB512(), EightGiB4096()}) {
    const std::string a = Image("a.img", l.disk_bytes), b = Image("b.img", l.disk_bytes);
    ASSERT_TRUE(WriteTable(a, l));
    const auto first = DataExtents(a);
    ASSERT_TRUE(WriteTable(a, l));
    EXPECT_TRUE(DataExtents(a) == first) << "a second write over the same image differs";
    ASSERT_TRUE(WriteTable(b, l));
    EXPECT_TRUE(DataExtents(b) == first) << "a write onto another image differs";
    EXPECT_EQ(fs::file_size(b), l.disk_bytes);
    // Only the GPT's own sectors were written, at both ends.
    std::uint64_t data_bytes = 0;
    for (const auto& [offset, bytes] : first) data_bytes += bytes.size();
    EXPECT_LE(data_bytes, 2 * kMiB);
    ASSERT_FALSE(first.empty());
    EXPECT_EQ(first.begin()->first, 0u);
    EXPECT_GE(first.rbegin()->first + first.rbegin()->second.size(), l.disk_bytes - kMiB);
    fs::remove(a);
    fs::remove(b);
  }
}

// Whatever table the disk had (here an MBR with other partitions, made by sfdisk) is replaced wholly.
TEST_F(GptTest, ReplacesAnOldTableWithTheSameBytes) {
  const Layout l = TwoGiB512();
  const std::string fresh = Image("fresh.img", l.disk_bytes), old = Image("old.img", l.disk_bytes);
  Output mbr = Shell("echo 'label: dos\n,100MiB,83\n,,83' | sfdisk -q '" + old + "' 2>&1");
  ASSERT_EQ(mbr.status, 0) << mbr.text;
  ASSERT_TRUE(WriteTable(fresh, l));
  auto written = WriteTable(old, l);
  ASSERT_TRUE(written) << written.error().message();
  EXPECT_TRUE(GptBytes(old) == GptBytes(fresh));
  ExpectTable(old, l, "LegacyBIOSBootable", "RequiredPartition GUID:60");
}

// An old filesystem signature between the GPT and the first partition (iso9660's, at 32 KiB) would leave
// blkid seeing two things on the disk: it is wiped.
TEST_F(GptTest, OldSignaturesOnTheWholeDiskAreWiped) {
  const Layout l = TwoGiB512();
  const std::string path = Image("disk.img", l.disk_bytes);
  WriteAt(path, 32768, "\x01" "CD001" "\x01");
  Output before = Shell("blkid -p -o value -s TYPE '" + path + "'");
  ASSERT_EQ(before.text, "iso9660\n") << "the test's stand-in signature is not recognised";
  auto written = WriteTable(path, l);
  ASSERT_TRUE(written) << written.error().message();
  EXPECT_NE(ReadAt(path, 32769, 5), "CD001");
  Output after = Shell("blkid -p -o export '" + path + "'");
  EXPECT_NE(after.text.find("PTTYPE=gpt\n"), std::string::npos) << after.text;
  EXPECT_EQ(after.text.find("iso9660"), std::string::npos) << after.text;
}

TEST_F(GptTest, PlannedLayoutsAreWritten) {
  for (std::uint32_t sector : {512u, 4096u}) {
    LayoutInput in;
    in.disk_bytes = 3 * kGiB + 7 * kMiB;
    in.sector_size = sector;
    in.seed = 7;
    auto l = PlanLayout(in);
    ASSERT_TRUE(l) << l.error().message();
    const auto image = ImageWithTable(*l, "planned.img");
    ASSERT_TRUE(image) << sector << ": " << image.error().message();
    ExpectTable(*image, *l, l->bios ? "LegacyBIOSBootable" : "", "");
  }
}

TEST_F(GptTest, MissingDeviceIsAClearError) {
  const std::string path = (dir_ / "no-such-disk").string();
  auto written = WriteTable(path, TwoGiB512());
  ASSERT_FALSE(written);
  EXPECT_EQ(written.error().kind(), ErrorKind::kDisk);
  EXPECT_NE(written.error().message().find(path), std::string::npos) << written.error().message();
  EXPECT_NE(written.error().message().find("No such file"), std::string::npos) << written.error().message();
  EXPECT_FALSE(written.error().hint().empty());
  EXPECT_FALSE(fs::exists(path));
}

// An image smaller (or larger) than the disk the layout was planned for: refused before any write.
TEST_F(GptTest, ImageOfAnotherSizeIsRefusedAndLeftUntouched) {
  const Layout l = TwoGiB512();
  for (std::uint64_t bytes : {kGiB, 2 * kGiB + kMiB}) {
    const std::string path = Image("small.img", bytes);
    const std::string head(kMiB, 'h'), tail(kMiB, 't');
    WriteAt(path, 0, head);
    WriteAt(path, bytes - kMiB, tail);
    auto written = WriteTable(path, l);
    ASSERT_FALSE(written) << bytes;
    EXPECT_EQ(written.error().kind(), ErrorKind::kDisk);
    const std::string& message = written.error().message();
    EXPECT_NE(message.find(bytes < l.disk_bytes ? "does not fit" : "larger than planned"), std::string::npos)
        << message;
    EXPECT_NE(written.error().hint().find("nothing was written"), std::string::npos) << written.error().hint();
    EXPECT_EQ(fs::file_size(path), bytes);
    EXPECT_TRUE(ReadAt(path, 0, kMiB) == head);
    EXPECT_TRUE(ReadAt(path, bytes - kMiB, kMiB) == tail);
    fs::remove(path);
  }
}

// The handle says what sector size the image has; a layout planned for another is refused.
TEST_F(GptTest, AHandleWithAnotherSectorSizeIsRefusedAndLeftUntouched) {
  const Layout l = EightGiB4096();
  const std::string path = Image("disk.img", l.disk_bytes);
  auto disk = Disk::Open(path, 512);
  ASSERT_TRUE(disk) << disk.error().message();
  auto written = WritePartitionTable(*disk, l);
  ASSERT_FALSE(written);
  EXPECT_EQ(written.error().kind(), ErrorKind::kDisk);
  EXPECT_NE(written.error().message().find("512-byte logical sectors"), std::string::npos) << written.error().message();
  EXPECT_EQ(ReadAt(path, 0, kMiB), std::string(kMiB, '\0'));
}

TEST_F(GptTest, InconsistentLayoutsAreRefusedBeforeOpening) {
  const std::string path = Image("disk.img", 2 * kGiB);
  auto refused = [&](Layout l, const std::string& expect) {
    auto written = WriteTable(path, l);
    ASSERT_FALSE(written) << expect;
    EXPECT_EQ(written.error().kind(), ErrorKind::kInternal);
    EXPECT_NE(written.error().message().find(expect), std::string::npos) << written.error().message();
  };
  Layout l = TwoGiB512();
  l.data.first_lba = l.boot.last_lba;  // one shared sector
  refused(l, "overlap");
  l = TwoGiB512();
  l.data.last_lba = 4194271;  // one past the last usable sector
  refused(l, "outside the GPT's usable sectors");
  l = TwoGiB512();
  l.boot.first_lba = 33;  // inside the primary entries
  refused(l, "outside the GPT's usable sectors");
  l = TwoGiB512();
  l.disk_guid = "not-a-guid";
  refused(l, "not a GUID");
  l = TwoGiB512();
  l.data.name = std::string(37, 'n');
  refused(l, "longer than");
  l = TwoGiB512();
  l.sector_size = 1024;
  refused(l, "sector size");
  EXPECT_EQ(ReadAt(path, 0, kMiB), std::string(kMiB, '\0'));
}

TEST_F(GptTest, DirectoryIsRefused) {
  auto dir = WriteTable(dir_.string(), TwoGiB512());
  ASSERT_FALSE(dir);
  EXPECT_EQ(dir.error().kind(), ErrorKind::kDisk);
  EXPECT_NE(dir.error().message().find("neither a block device nor a regular file"), std::string::npos);
}

}  // namespace
}  // namespace disk
