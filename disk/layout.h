// The disk layout bootrino writes: a GPT (with a protective MBR) holding a
// FAT32 boot partition, which both BIOS (syslinux) and UEFI (systemd-boot)
// boot from, and a data partition over the rest of the disk. Planning is pure
// and byte-reproducible from a seed; writing is in gpt.h, fat32.h, ext4.h.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "base/base.h"
#include "disk/bootloader.h"

namespace disk {

/// One GPT partition, in logical sectors of the disk.
struct Partition {
  int number = 0;         ///< 1-based partition number
  std::string name;       ///< GPT partition name (UTF-16 on disk), e.g. "bootrino-boot"
  std::string type_guid;  ///< canonical upper-case GUID text, e.g. the ESP's C12A7328-…
  std::string uuid;       ///< unique partition GUID, upper-case text
  std::uint64_t first_lba = 0;
  std::uint64_t last_lba = 0;     ///< inclusive
  std::uint64_t attributes = 0;   ///< GPT attribute bits (bit 2: legacy BIOS bootable)

  std::uint64_t Sectors() const { return last_lba - first_lba + 1; }
};

inline constexpr std::uint64_t kLegacyBiosBootable = 1ull << 2;
inline constexpr const char* kEspTypeGuid = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B";
inline constexpr const char* kLinuxDataTypeGuid = "0FC63DAF-8483-4772-8E79-3D69D8477DE4";

/// What the plan is made from.
struct LayoutInput {
  std::uint64_t disk_bytes = 0;
  std::uint32_t sector_size = 512;     ///< logical sector size: 512 or 4096
  std::uint64_t boot_mib = 512;        ///< boot partition size (the manifest's bootPartitionMiB)
  std::uint64_t boot_payload_bytes = 0;  ///< what must fit on the boot partition (files + bootloaders)
  std::string data_label = "bootrino-data";
  std::string data_filesystem = "ext4";
  std::uint64_t seed = 0;              ///< every GUID, UUID and serial is derived from it
  bool bios_loader = HasBiosLoader();  ///< syslinux can be installed (this build carries it)
};

/// A complete, printable plan. Equal inputs give equal plans.
struct Layout {
  std::uint64_t disk_bytes = 0;
  std::uint32_t sector_size = 512;
  std::string disk_guid;
  Partition boot;                  ///< partition 1: FAT32, ESP type, legacy-BIOS-bootable
  Partition data;                  ///< partition 2: data_filesystem over the rest
  std::string boot_label;          ///< FAT volume label, at most 11 characters
  std::uint32_t boot_volume_id = 0;  ///< FAT serial number
  std::string data_label;
  std::string data_filesystem;
  std::string data_uuid;           ///< filesystem UUID of the data partition, lower-case text
  bool bios = true;                ///< BIOS boot (syslinux) is installed; syslinux needs 512-byte sectors
  std::string no_bios;             ///< why not, when it is not (NoBiosReason)
  bool uefi = true;                ///< UEFI boot (systemd-boot) is installed

  std::uint64_t Offset(const Partition& p) const { return p.first_lba * sector_size; }
  std::uint64_t Bytes(const Partition& p) const { return p.Sectors() * sector_size; }
};

/// Plans the layout. Errors: kDisk when the disk is too small or has an
/// unsupported sector size; kManifest when the manifest's disk settings are
/// unusable (boot files larger than the boot partition, unknown filesystem).
[[nodiscard]] base::Result<Layout> PlanLayout(const LayoutInput& input);

/// The plan as `--json` prints it.
nlohmann::ordered_json ToJson(const Layout& layout);

/// Whether a disk of `sector_size` planned by this build boots from BIOS too, and if not, why not ("" when it
/// does): syslinux reads 512-byte sectors only, and aarch64 builds carry no syslinux.
std::string NoBiosReason(std::uint32_t sector_size, bool bios_loader);

/// The plan as `--dry-run` prints it: three lines.
std::string Describe(const Layout& layout);

}  // namespace disk
