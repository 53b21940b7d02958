// The bootloaders bootrino installs itself, as byte patches and text, so no
// installer binary has to exist on the host: syslinux for BIOS (gptmbr in the
// MBR, a patched FAT boot sector, ldlinux.sys + ldlinux.c32 on the FAT
// partition) and systemd-boot for UEFI (\EFI\BOOT\BOOTX64.EFI or BOOTAA64.EFI,
// loader.conf and one Boot Loader Specification entry). The files are Debian
// 12's, embedded at build time by packaging/bootloaders.sh (docs/bootloaders.md:
// versions, licences, sources), each build only its own architecture's: an
// aarch64 binary has systemd-bootaa64.efi and no syslinux (arm64 firmware is
// UEFI). What syslinux's installer writes, and so what this file writes in its
// place, is syslinux's libinstaller/syslxint.h and syslxmod.c, reimplemented here.
//
// With the FAT writer: plan the files (ldlinux.sys is LdlinuxSysSize() bytes),
// take ldlinux.sys's placement, replace its data with BuildLdlinuxSys(), patch
// the writer's boot sector with PatchFatBootSector() (and its backup copy).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/base.h"

namespace disk {

/// syslinux reads its disk in 512-byte sectors only: no 4Kn disks.
inline constexpr std::uint32_t kSyslinuxSectorSize = 512;

/// The architecture whose firmware this binary's bootloaders serve: the only one it can make a bootable disk for.
base::Arch BootloaderArch();
/// Whether this binary carries syslinux (x86_64): a disk it writes can boot from BIOS as well as UEFI.
bool HasBiosLoader();
/// Where the firmware looks for the removable-media loader: "EFI/BOOT/BOOTX64.EFI" or "EFI/BOOT/BOOTAA64.EFI".
std::string_view EfiLoaderPath();

/// The embedded files; each is the exact bytes pinned in packaging/bootloaders.sh. Without
/// HasBiosLoader() the syslinux ones are empty.
std::string_view GptMbr();            ///< 440 bytes of MBR code (syslinux-common: mbr/gptmbr.bin)
std::string_view SyslinuxCore();      ///< ldlinux.sys core image, unpatched, without the ADV
std::string_view SyslinuxBootSectorTemplate();  ///< 512-byte FAT boot-sector template (ldlinux.bss)
std::string_view SyslinuxC32();       ///< ldlinux.c32 from the same build as the core
std::string_view SystemdBoot();       ///< systemd-boot for BootloaderArch(), to be copied to EfiLoaderPath()

/// Size of the ldlinux.sys file for `core`: the core plus the 1,024-byte ADV.
std::uint64_t LdlinuxSysSize(std::string_view core);

/// The content of /ldlinux.sys when the file occupies `sectors` (partition-
/// relative 512-byte sectors, in file order; entries past the file's size are
/// ignored): `core` with its patch area filled in (sector counts, extent
/// table, ADV pointers, checksum) followed by an empty ADV. `core` may be
/// pristine or already patched: the result depends only on the sectors.
/// Errors (kInternal): `core` has no valid patch area, too few sectors, or the
/// file is too fragmented for the extent table.
[[nodiscard]] base::Result<std::string> BuildLdlinuxSys(std::string_view core,
                                                        std::span<const std::uint64_t> sectors);
/// Same, for a file stored contiguously from `first_sector` over `sector_count` sectors.
[[nodiscard]] base::Result<std::string> BuildLdlinuxSys(std::string_view core, std::uint64_t first_sector,
                                                        std::uint64_t sector_count);

/// Makes a FAT boot sector load syslinux: bytes 0–10 and 0x5A–0x1FD come from
/// `boot_template`, then ldlinux.sys's first partition-relative sector is
/// written where `core`'s patch area says. The BPB (11–0x59) and the 0x55AA
/// signature are kept. Errors (kInternal): `boot_sector` is not a 512-byte
/// FAT boot sector with 512-byte sectors, or the template/core are malformed;
/// `boot_sector` is unchanged then.
[[nodiscard]] base::Result<void> PatchFatBootSector(std::string& boot_sector, std::string_view boot_template,
                                                    std::string_view core, std::uint64_t ldlinux_first_sector);

/// Writes GptMbr() into bytes 0–439 of `mbr_sector` and keeps the rest (disk
/// signature, partition table, 0x55AA). Errors (kInternal): not 512 bytes.
[[nodiscard]] base::Result<void> PatchMbrCode(std::string& mbr_sector);

/// syslinux.cfg that boots `kernel` with `initrds` (in order) and `cmdline`
/// at once, talking on the first serial port (115200 8N1) as well as the
/// screen. Paths are absolute on the FAT partition, e.g. "/bootrino/vmlinuz".
/// Errors (kUsage): a path that is not absolute or holds whitespace or a
/// comma, or a command line with a line break.
[[nodiscard]] base::Result<std::string> SyslinuxConfig(std::string_view kernel,
                                                       const std::vector<std::string>& initrds,
                                                       std::string_view cmdline);

/// loader/loader.conf for systemd-boot: no menu, no editor, no automatic
/// entries, so the one entry in loader/entries/ boots at once.
std::string LoaderConf();

/// A Boot Loader Specification entry (loader/entries/NAME.conf): title,
/// linux, one initrd line per initrd in order, options. Same path rules and
/// errors as SyslinuxConfig(); the title must be one line.
[[nodiscard]] base::Result<std::string> BootEntry(std::string_view title, std::string_view kernel,
                                                  const std::vector<std::string>& initrds,
                                                  std::string_view cmdline);

}  // namespace disk
