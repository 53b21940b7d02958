#include "disk/layout.h"

#include <gtest/gtest.h>

namespace disk {
namespace {

constexpr std::uint64_t kMiB = 1 << 20, kGiB = kMiB << 10;

LayoutInput Input(std::uint64_t bytes, std::uint32_t sector = 512) {
  LayoutInput in;
  in.disk_bytes = bytes;
  in.sector_size = sector;
  in.seed = 42;
  in.bios_loader = true;  // the x86_64 builds' case; every build plans the same way
  return in;
}

TEST(PlanLayout, TwoGiBDiskWith512ByteSectors) {
  auto l = PlanLayout(Input(2 * kGiB));
  ASSERT_TRUE(l) << l.error().message();
  EXPECT_EQ(l->boot.first_lba, 2048u);
  EXPECT_EQ(l->boot.last_lba, 2048u + 512 * 2048 - 1);
  EXPECT_EQ(l->boot.type_guid, kEspTypeGuid);
  EXPECT_EQ(l->boot.attributes, kLegacyBiosBootable);
  EXPECT_EQ(l->data.first_lba, l->boot.last_lba + 1);
  // The backup GPT takes the last 33 sectors; the data partition ends on the last whole MiB before it.
  EXPECT_EQ(l->data.last_lba, 2 * kGiB / 512 - 2048 - 1);
  EXPECT_EQ(l->data.type_guid, kLinuxDataTypeGuid);
  EXPECT_TRUE(l->bios);
  EXPECT_TRUE(l->uefi);
  EXPECT_EQ(l->data_label, "bootrino-data");
}

TEST(PlanLayout, FourKiBSectorsHaveNoBiosBoot) {
  auto l = PlanLayout(Input(8 * kGiB, 4096));
  ASSERT_TRUE(l) << l.error().message();
  EXPECT_EQ(l->boot.first_lba, 256u);
  EXPECT_EQ(l->Bytes(l->boot), 512 * kMiB);
  EXPECT_FALSE(l->bios);
  EXPECT_TRUE(l->uefi);
  EXPECT_EQ(l->boot.attributes, 0u);
  EXPECT_EQ((l->data.last_lba + 1) * 4096 % kMiB, 0u);
  EXPECT_LT(l->data.last_lba, 8 * kGiB / 4096 - 6);
  EXPECT_EQ(l->no_bios, "no BIOS boot: syslinux reads 512-byte sectors only");
  EXPECT_EQ(ToJson(*l)["noBios"], l->no_bios);
  EXPECT_NE(Describe(*l).find("UEFI (systemd-boot); no BIOS boot: syslinux reads 512-byte sectors only"),
            std::string::npos)
      << Describe(*l);
}

// An aarch64 build carries no syslinux: its disks boot from UEFI only, and say why.
TEST(PlanLayout, ABuildWithoutABiosLoaderPlansUefiOnly) {
  LayoutInput in = Input(8 * kGiB);
  in.bios_loader = false;
  auto l = PlanLayout(in);
  ASSERT_TRUE(l) << l.error().message();
  EXPECT_FALSE(l->bios);
  EXPECT_TRUE(l->uefi);
  EXPECT_EQ(l->boot.attributes, 0u) << "no legacy-BIOS-bootable flag without a BIOS loader";
  EXPECT_EQ(l->no_bios, "no BIOS boot on " + std::string(base::ArchName(BootloaderArch())) + ": its firmware is UEFI");
  EXPECT_EQ(ToJson(*l)["noBios"], l->no_bios);
  EXPECT_NE(Describe(*l).find("UEFI (systemd-boot); no BIOS boot on"), std::string::npos) << Describe(*l);
  auto with_bios = PlanLayout(Input(8 * kGiB));
  ASSERT_TRUE(with_bios);
  EXPECT_TRUE(ToJson(*with_bios)["noBios"].is_null());
  EXPECT_EQ(with_bios->no_bios, "");
}

TEST(PlanLayout, OneTiBDiskAndOddSizesEndOnWholeMiB) {
  for (std::uint64_t bytes : {1024 * kGiB, 8 * kGiB + 12345 * 512, 3 * kGiB - 512}) {
    auto l = PlanLayout(Input(bytes));
    ASSERT_TRUE(l) << bytes << ": " << l.error().message();
    EXPECT_EQ((l->data.last_lba + 1) % 2048, 0u) << bytes;
    EXPECT_LE(l->data.last_lba, bytes / 512 - 34) << bytes;
  }
}

TEST(PlanLayout, SameSeedSamePlanOtherSeedOtherGuids) {
  auto a = PlanLayout(Input(8 * kGiB));
  auto b = PlanLayout(Input(8 * kGiB));
  LayoutInput other = Input(8 * kGiB);
  other.seed = 43;
  auto c = PlanLayout(other);
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(ToJson(*a), ToJson(*b));
  EXPECT_NE(a->disk_guid, c->disk_guid);
  EXPECT_NE(a->boot.uuid, a->data.uuid);
  EXPECT_NE(a->data_uuid, c->data_uuid);
  // Version 4 GUIDs in canonical text.
  EXPECT_EQ(a->disk_guid.size(), 36u);
  EXPECT_EQ(a->disk_guid[14], '4');
  EXPECT_TRUE(std::string("89AB").find(a->disk_guid[19]) != std::string::npos) << a->disk_guid;
  EXPECT_EQ(a->data_uuid, [&] {
    std::string s = a->data_uuid;
    for (char& ch : s) ch = static_cast<char>(std::tolower(ch));
    return s;
  }());
}

TEST(PlanLayout, DiskTooSmallSaysHowMuchIsNeeded) {
  auto l = PlanLayout(Input(512 * kMiB));
  ASSERT_FALSE(l);
  EXPECT_EQ(l.error().kind(), base::ErrorKind::kDisk);
  EXPECT_NE(l.error().message().find("the layout needs 578 MiB"), std::string::npos) << l.error().message();
  EXPECT_FALSE(l.error().hint().empty());
}

TEST(PlanLayout, BootFilesLargerThanTheBootPartitionAreAManifestError) {
  LayoutInput in = Input(8 * kGiB);
  in.boot_payload_bytes = 600 * kMiB;
  auto l = PlanLayout(in);
  ASSERT_FALSE(l);
  EXPECT_EQ(l.error().kind(), base::ErrorKind::kManifest);
  EXPECT_NE(l.error().hint().find("bootPartitionMiB"), std::string::npos);
  in.boot_mib = 700;
  EXPECT_TRUE(PlanLayout(in));
}

TEST(PlanLayout, RefusesWhatItCannotWrite) {
  LayoutInput in = Input(8 * kGiB, 1024);
  EXPECT_EQ(PlanLayout(in).error().kind(), base::ErrorKind::kDisk);
  in = Input(8 * kGiB);
  in.data_filesystem = "xfs";
  EXPECT_EQ(PlanLayout(in).error().kind(), base::ErrorKind::kManifest);
  in = Input(8 * kGiB);
  in.data_label = "a-label-longer-than-16";
  EXPECT_EQ(PlanLayout(in).error().kind(), base::ErrorKind::kManifest);
  in = Input(8 * kGiB);
  in.boot_mib = 100;
  EXPECT_EQ(PlanLayout(in).error().kind(), base::ErrorKind::kManifest);
}

TEST(PlanLayout, DescribeShowsBothPartitions) {
  auto l = PlanLayout(Input(8 * kGiB));
  ASSERT_TRUE(l);
  std::string text = Describe(*l);
  EXPECT_NE(text.find("1 boot  FAT32 BOOTRINO"), std::string::npos) << text;
  EXPECT_NE(text.find("BIOS (syslinux) + UEFI (systemd-boot)"), std::string::npos) << text;
  EXPECT_NE(text.find("2 data  ext4  bootrino-data"), std::string::npos) << text;
}

}  // namespace
}  // namespace disk
