#include "disk/layout.h"

#include <cinttypes>
#include <cstdio>

#include "base/base.h"

namespace disk {
namespace {

using base::ErrorKind;

constexpr std::uint64_t kMiB = 1 << 20;
constexpr std::uint64_t kMinDataMiB = base::kMinDataPartitionMiB;
constexpr std::uint64_t kMinBootMiB = base::kMinBootPartitionMiB;

/// splitmix64: a tiny, well-known generator; enough to spread one seed into GUIDs.
class SeedStream {
 public:
  explicit SeedStream(std::uint64_t seed) : state_(seed) {}
  std::uint64_t Next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  /// A random (version 4, RFC 4122 variant) GUID in canonical text.
  std::string Guid(bool upper) {
    std::uint64_t hi = Next(), lo = Next();
    hi = (hi & ~0xF000ull) | 0x4000ull;                       // version 4 in time_hi_and_version
    lo = (lo & 0x3FFFFFFFFFFFFFFFull) | 0x8000000000000000ull;  // variant 10xx
    char text[37];
    std::snprintf(text, sizeof text, upper ? "%08" PRIX64 "-%04" PRIX64 "-%04" PRIX64 "-%04" PRIX64 "-%012" PRIX64
                                           : "%08" PRIx64 "-%04" PRIx64 "-%04" PRIx64 "-%04" PRIx64 "-%012" PRIx64,
                  hi >> 32, (hi >> 16) & 0xFFFF, hi & 0xFFFF, lo >> 48, lo & std::uint64_t{0xFFFFFFFFFFFF});
    return text;
  }

 private:
  std::uint64_t state_;
};

std::string Mib(std::uint64_t bytes) { return std::to_string((bytes + kMiB - 1) / kMiB) + " MiB"; }

}  // namespace

base::Result<Layout> PlanLayout(const LayoutInput& in) {
  if (in.sector_size != 512 && in.sector_size != 4096) {
    return base::Fail(base::Error(ErrorKind::kDisk, "the disk's logical sector size is " +
                                                        std::to_string(in.sector_size) +
                                                        " bytes; bootrino writes disks with 512- or 4096-byte sectors only")
                          .Hint("pass --keep-disk to boot the RAM OS with kexec only (it will not survive a reboot)"));
  }
  if (in.data_filesystem != "ext4") {
    return base::Fail(ErrorKind::kManifest, "data partition filesystem \"" + in.data_filesystem +
                                                "\" is not supported; use \"ext4\"");
  }
  if (in.data_label.empty() || in.data_label.size() > 16) {
    return base::Fail(ErrorKind::kManifest,
                      "data partition label \"" + in.data_label + "\" must be 1 to 16 bytes (an ext4 label)");
  }
  if (in.boot_mib < kMinBootMiB) {
    return base::Fail(ErrorKind::kManifest, "boot partition of " + std::to_string(in.boot_mib) +
                                                " MiB is below the FAT32 minimum of " + std::to_string(kMinBootMiB) +
                                                " MiB; raise disk.bootPartitionMiB in the manifest");
  }
  const std::uint64_t boot_bytes = in.boot_mib * kMiB;
  // FAT metadata and per-file cluster slack take a few MiB of the partition.
  const std::uint64_t boot_room = boot_bytes - boot_bytes / 64;
  if (in.boot_payload_bytes > boot_room) {
    return base::Fail(base::Error(ErrorKind::kManifest, "the boot files (" + Mib(in.boot_payload_bytes) +
                                                 ") do not fit a boot partition of " + Mib(boot_bytes))
        .Hint("raise disk.bootPartitionMiB in the manifest to at least " +
              std::to_string((in.boot_payload_bytes * 65 / 64 + kMiB - 1) / kMiB + 1)));
  }

  const std::uint64_t ss = in.sector_size;
  const std::uint64_t total = in.disk_bytes / ss;
  const std::uint64_t align = kMiB / ss;
  // The backup GPT: 128 entries of 128 bytes, then its header in the last sector.
  const std::uint64_t entry_sectors = (128 * 128 + ss - 1) / ss;
  const std::uint64_t need_bytes = (1 + in.boot_mib + kMinDataMiB + 1) * kMiB;
  if (in.disk_bytes < need_bytes || total <= entry_sectors + 1) {
    return base::Fail(base::Error(ErrorKind::kDisk, "the disk holds " + Mib(in.disk_bytes) + ", the layout needs " +
                                             Mib(need_bytes) + " (boot " + std::to_string(in.boot_mib) +
                                             " MiB + data at least " + std::to_string(kMinDataMiB) + " MiB)")
        .Hint("use a larger disk, or lower disk.bootPartitionMiB in the manifest"));
  }
  const std::uint64_t last_usable = total - 1 - entry_sectors - 1;

  SeedStream seed(in.seed);
  Layout out;
  out.disk_bytes = in.disk_bytes;
  out.sector_size = in.sector_size;
  out.disk_guid = seed.Guid(true);
  out.boot = {1, "bootrino-boot", kEspTypeGuid, seed.Guid(true), align, align + in.boot_mib * align - 1, 0};
  out.no_bios = NoBiosReason(in.sector_size, in.bios_loader);
  out.bios = out.no_bios.empty();
  out.uefi = true;
  if (out.bios) out.boot.attributes = kLegacyBiosBootable;
  const std::uint64_t data_first = out.boot.last_lba + 1;
  const std::uint64_t data_end = (last_usable + 1) / align * align;  // whole MiB, like sfdisk
  out.data = {2, "bootrino-data", kLinuxDataTypeGuid, seed.Guid(true), data_first, data_end - 1, 0};
  out.boot_label = "BOOTRINO";
  out.boot_volume_id = static_cast<std::uint32_t>(seed.Next());
  out.data_label = in.data_label;
  out.data_filesystem = in.data_filesystem;
  out.data_uuid = seed.Guid(false);
  return out;
}

nlohmann::ordered_json ToJson(const Layout& l) {
  auto part = [&](const Partition& p) {
    return nlohmann::ordered_json{{"number", p.number}, {"name", p.name},       {"type", p.type_guid},
                                  {"uuid", p.uuid},     {"firstLba", p.first_lba}, {"lastLba", p.last_lba},
                                  {"bytes", l.Bytes(p)}, {"attributes", p.attributes}};
  };
  return {{"diskBytes", l.disk_bytes}, {"sectorSize", l.sector_size}, {"diskGuid", l.disk_guid},
          {"boot", part(l.boot)},      {"bootLabel", l.boot_label},   {"bootVolumeId", l.boot_volume_id},
          {"data", part(l.data)},      {"dataLabel", l.data_label},   {"dataFilesystem", l.data_filesystem},
          {"dataUuid", l.data_uuid},   {"bios", l.bios},              {"uefi", l.uefi},
          {"noBios", l.bios ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(l.no_bios)}};
}

std::string NoBiosReason(std::uint32_t sector_size, bool bios_loader) {
  if (!bios_loader)
    return "no BIOS boot on " + std::string(base::ArchName(BootloaderArch())) + ": its firmware is UEFI";
  if (sector_size != 512) return "no BIOS boot: syslinux reads 512-byte sectors only";
  return "";
}

std::string Describe(const Layout& l) {
  char line[256];
  std::string out;
  std::snprintf(line, sizeof line, "GPT, %u-byte sectors, %s, disk %s\n", l.sector_size,
                Mib(l.disk_bytes).c_str(), l.disk_guid.c_str());
  out += line;
  const std::string loaders = l.bios && l.uefi ? "BIOS (syslinux) + UEFI (systemd-boot)"
                              : l.uefi       ? "UEFI (systemd-boot); " + l.no_bios
                                             : "";
  std::snprintf(line, sizeof line, "  1 boot  FAT32 %-16s %10s  sectors %" PRIu64 "-%" PRIu64 "  %s\n",
                l.boot_label.c_str(), Mib(l.Bytes(l.boot)).c_str(), l.boot.first_lba, l.boot.last_lba,
                loaders.c_str());
  out += line;
  std::snprintf(line, sizeof line, "  2 data  %-5s %-16s %10s  sectors %" PRIu64 "-%" PRIu64 "\n",
                l.data_filesystem.c_str(), l.data_label.c_str(), Mib(l.Bytes(l.data)).c_str(), l.data.first_lba,
                l.data.last_lba);
  out += line;
  return out;
}

}  // namespace disk
