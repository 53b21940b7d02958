#include "disk/bootloader.h"

#include <algorithm>

// The build passes each file's path (BOOTRINO_BOOTLOADER_<NAME>, from
// packaging/bootloaders.sh); .incbin copies it into .rodata, as net/ca_bundle.cc does
// (hidden symbols for the reason given there: aarch64 otherwise sees every file as empty).
#define BOOTRINO_EMBED(symbol, path)   \
  __asm__(".section .rodata\n"         \
          ".balign 16\n"               \
          #symbol "_start:\n"          \
          ".incbin \"" path "\"\n"     \
          #symbol "_end:\n"            \
          ".previous\n");              \
  extern "C" __attribute__((visibility("hidden"))) const char symbol##_start[]; \
  extern "C" __attribute__((visibility("hidden"))) const char symbol##_end[];

// syslinux only where there is a BIOS (x86_64 builds; disk/CMakeLists.txt).
#ifdef BOOTRINO_BOOTLOADER_GPTMBR
BOOTRINO_EMBED(bootrino_gptmbr, BOOTRINO_BOOTLOADER_GPTMBR)
BOOTRINO_EMBED(bootrino_ldlinux_sys, BOOTRINO_BOOTLOADER_LDLINUX_SYS)
BOOTRINO_EMBED(bootrino_ldlinux_bss, BOOTRINO_BOOTLOADER_LDLINUX_BSS)
BOOTRINO_EMBED(bootrino_ldlinux_c32, BOOTRINO_BOOTLOADER_LDLINUX_C32)
#define BOOTRINO_HAS_SYSLINUX 1
#else
#define BOOTRINO_HAS_SYSLINUX 0
#endif
BOOTRINO_EMBED(bootrino_systemd_boot, BOOTRINO_BOOTLOADER_SYSTEMD_BOOT)

namespace disk {
namespace {

using base::ErrorKind;

std::string_view Embedded(const char* start, const char* end) {
  return std::string_view(start, static_cast<std::size_t>(end - start));
}

// Little-endian fields at any offset; callers check the bounds.
std::uint32_t Get(std::string_view s, std::size_t off, int bytes) {
  std::uint32_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(s[off + i]);
  return v;
}
void Put(std::string& s, std::size_t off, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) s[off + i] = static_cast<char>((v >> (8 * i)) & 0xFF);
}

// syslinux's struct patch_area and struct ext_patch_area (libinstaller/syslxint.h).
constexpr std::uint32_t kLdlinuxMagic = 0x3EB202FE;
constexpr std::size_t kPatchAreaSize = 24;    // magic, instance, data/adv sectors, dwords, checksum, maxtransfer, epa
constexpr std::size_t kExtPatchAreaSize = 20;  // ten u16 fields
constexpr std::size_t kExtentSize = 10;        // {u64 lba, u16 len}, packed
// struct fat_boot_sector: the jump and OEM name, then the code after the FAT32 BPB, up to the 0x55AA signature.
constexpr std::size_t kBootHeadEnd = 11;
constexpr std::size_t kBootCodeBegin = 0x5A;
constexpr std::size_t kBootCodeEnd = 0x1FE;
// The ADV (advconst.h / setadv.c): two identical 512-byte copies.
constexpr std::size_t kAdvSize = 512;
constexpr std::uint32_t kAdvMagic1 = 0x5A2D2FA5;  // head
constexpr std::uint32_t kAdvMagic2 = 0xA3041767;  // makes the dword sum come out right
constexpr std::uint32_t kAdvMagic3 = 0xDD28BF64;  // tail

/// Where the installer's fields live inside one core image.
struct PatchArea {
  std::size_t base = 0;  // offset of the magic
  std::size_t adv_pointers = 0;
  std::size_t extents = 0;
  std::size_t extent_count = 0;
  std::size_t sect1_low = 0;   // boot-sector offsets of ldlinux.sys's first sector, low and high dword
  std::size_t sect1_high = 0;
};

base::Result<PatchArea> FindPatchArea(std::string_view core) {
  auto bad = [](std::string what) {
    return base::Fail(base::Error(ErrorKind::kInternal, "the embedded syslinux core is malformed: " + what)
                          .Hint("rebuild bootrino; packaging/bootloaders.sh verifies the core against its pin"));
  };
  if (core.empty() || core.size() % kSyslinuxSectorSize != 0) {
    return bad(std::to_string(core.size()) + " bytes is not a whole number of 512-byte sectors");
  }
  PatchArea pa;
  // syslinux scans dword by dword from the start (syslxmod.c).
  for (pa.base = 0; pa.base + kPatchAreaSize <= core.size(); pa.base += 4) {
    if (Get(core, pa.base, 4) == kLdlinuxMagic) break;
  }
  if (pa.base + kPatchAreaSize > core.size()) return bad("no patch area (magic 0x3EB202FE)");
  std::size_t epa = Get(core, pa.base + 22, 2);
  if (epa + kExtPatchAreaSize > core.size()) return bad("the extended patch area lies outside the image");
  pa.adv_pointers = Get(core, epa + 0, 2);
  pa.extents = Get(core, epa + 10, 2);
  pa.extent_count = Get(core, epa + 12, 2);
  pa.sect1_low = Get(core, epa + 14, 2);
  pa.sect1_high = Get(core, epa + 16, 2);
  if (pa.adv_pointers + 16 > core.size() || pa.extents + pa.extent_count * kExtentSize > core.size()) {
    return bad("the extent table or ADV pointers lie outside the image");
  }
  for (std::size_t off : {pa.sect1_low, pa.sect1_high}) {
    if (off < kBootCodeBegin || off + 4 > kBootCodeEnd) return bad("its boot-sector pointer is outside the code area");
  }
  return pa;
}

struct Extent {
  std::uint64_t lba;
  std::uint16_t len;
};

// syslxmod.c's generate_extents: runs of consecutive sectors, each under 64 KiB
// and not crossing a 64 KiB boundary of the address it is loaded to (from 0x8000).
std::vector<Extent> Extents(std::span<const std::uint64_t> sectors) {
  std::vector<Extent> out;
  std::uint32_t addr = 0x8000, base = addr;
  std::uint64_t lba = 0;
  std::uint32_t len = 0;
  for (std::uint64_t sect : sectors) {
    if (len) {
      std::uint32_t xbytes = (len + 1) * kSyslinuxSectorSize;
      if (sect == lba + len && xbytes < 65536 && ((addr ^ (base + xbytes - 1)) & 0xFFFF0000) == 0) {
        ++len;
        addr += kSyslinuxSectorSize;
        continue;
      }
      out.push_back({lba, static_cast<std::uint16_t>(len)});
    }
    base = addr;
    lba = sect;
    len = 1;
    addr += kSyslinuxSectorSize;
  }
  if (len) out.push_back({lba, static_cast<std::uint16_t>(len)});
  return out;
}

// An empty ADV: both copies carry the magics and a checksum over zeros.
std::string EmptyAdv() {
  std::string copy(kAdvSize, '\0');
  Put(copy, 0, kAdvMagic1, 4);
  Put(copy, 4, kAdvMagic2, 4);  // ADV_MAGIC2 minus the sum of the (zero) data dwords
  Put(copy, kAdvSize - 4, kAdvMagic3, 4);
  return copy + copy;
}

base::Result<void> CheckPath(std::string_view what, std::string_view path) {
  bool bad = path.size() < 2 || path[0] != '/' ||
             std::any_of(path.begin(), path.end(), [](char c) {
               return c == ',' || static_cast<unsigned char>(c) <= ' ' || c == 0x7F;
             });
  if (!bad) return {};
  return base::Fail(base::Error(ErrorKind::kUsage, std::string(what) + " path \"" + std::string(path) +
                                                       "\" cannot be written to a bootloader configuration")
                        .Hint("use an absolute path on the boot partition without spaces or commas, "
                              "e.g. /bootrino/vmlinuz"));
}

base::Result<void> CheckOneLine(std::string_view what, std::string_view text) {
  if (text.find_first_of("\r\n") == std::string_view::npos) return {};
  return base::Fail(base::Error(ErrorKind::kUsage, std::string(what) + " contains a line break")
                        .Hint("give the " + std::string(what) + " as a single line"));
}

base::Result<void> CheckBootFiles(std::string_view kernel, const std::vector<std::string>& initrds,
                                  std::string_view cmdline) {
  RETURN_IF_ERROR(CheckPath("kernel", kernel));
  for (const std::string& initrd : initrds) RETURN_IF_ERROR(CheckPath("initrd", initrd));
  return CheckOneLine("kernel command line", cmdline);
}

}  // namespace

#if BOOTRINO_HAS_SYSLINUX
base::Arch BootloaderArch() { return base::Arch::kX86_64; }
bool HasBiosLoader() { return true; }
std::string_view EfiLoaderPath() { return "EFI/BOOT/BOOTX64.EFI"; }
std::string_view GptMbr() { return Embedded(bootrino_gptmbr_start, bootrino_gptmbr_end); }
std::string_view SyslinuxCore() { return Embedded(bootrino_ldlinux_sys_start, bootrino_ldlinux_sys_end); }
std::string_view SyslinuxBootSectorTemplate() {
  return Embedded(bootrino_ldlinux_bss_start, bootrino_ldlinux_bss_end);
}
std::string_view SyslinuxC32() { return Embedded(bootrino_ldlinux_c32_start, bootrino_ldlinux_c32_end); }
#else
base::Arch BootloaderArch() { return base::Arch::kAarch64; }
bool HasBiosLoader() { return false; }
std::string_view EfiLoaderPath() { return "EFI/BOOT/BOOTAA64.EFI"; }
std::string_view GptMbr() { return {}; }
std::string_view SyslinuxCore() { return {}; }
std::string_view SyslinuxBootSectorTemplate() { return {}; }
std::string_view SyslinuxC32() { return {}; }
#endif
std::string_view SystemdBoot() { return Embedded(bootrino_systemd_boot_start, bootrino_systemd_boot_end); }

std::uint64_t LdlinuxSysSize(std::string_view core) { return core.size() + 2 * kAdvSize; }

base::Result<std::string> BuildLdlinuxSys(std::string_view core, std::span<const std::uint64_t> sectors) {
  ASSIGN_OR_RETURN(PatchArea pa, FindPatchArea(core));
  // Sector 0 is found through the boot sector; the last two hold the ADV copies.
  std::size_t nsect = core.size() / kSyslinuxSectorSize + 2;
  if (sectors.size() < nsect) {
    return base::Fail(ErrorKind::kInternal, "ldlinux.sys needs " + std::to_string(nsect) + " sectors, its placement has " +
                                                std::to_string(sectors.size()));
  }
  std::vector<Extent> extents = Extents(sectors.subspan(1, nsect - 3));
  if (extents.size() > pa.extent_count) {
    return base::Fail(base::Error(ErrorKind::kInternal,
                                  "ldlinux.sys is in " + std::to_string(extents.size()) + " pieces; syslinux can load " +
                                      std::to_string(pa.extent_count) + " at most")
                          .Hint("place ldlinux.sys in contiguous clusters"));
  }
  std::string out(core);
  Put(out, pa.base + 8, nsect - 2, 2);  // data sectors, not counting the ADV
  Put(out, pa.base + 10, 2, 2);         // ADV sectors
  Put(out, pa.base + 12, core.size() / 4, 4);
  std::fill_n(out.begin() + static_cast<std::ptrdiff_t>(pa.extents), pa.extent_count * kExtentSize, '\0');
  for (std::size_t i = 0; i < extents.size(); ++i) {
    Put(out, pa.extents + i * kExtentSize, extents[i].lba, 8);
    Put(out, pa.extents + i * kExtentSize + 8, extents[i].len, 2);
  }
  Put(out, pa.adv_pointers, sectors[nsect - 2], 8);
  Put(out, pa.adv_pointers + 8, sectors[nsect - 1], 8);
  // The core checks that its dwords sum to the magic.
  Put(out, pa.base + 16, 0, 4);
  std::uint32_t sum = 0;
  for (std::size_t off = 0; off < out.size(); off += 4) sum += Get(out, off, 4);
  Put(out, pa.base + 16, kLdlinuxMagic - sum, 4);
  return out + EmptyAdv();
}

base::Result<std::string> BuildLdlinuxSys(std::string_view core, std::uint64_t first_sector,
                                          std::uint64_t sector_count) {
  std::uint64_t needed = LdlinuxSysSize(core) / kSyslinuxSectorSize;
  if (first_sector == 0 || first_sector + sector_count < first_sector) {
    return base::Fail(ErrorKind::kInternal, "ldlinux.sys placement at sector " + std::to_string(first_sector) +
                                                " (+" + std::to_string(sector_count) + ") is impossible");
  }
  std::vector<std::uint64_t> sectors(std::min(sector_count, needed));
  for (std::size_t i = 0; i < sectors.size(); ++i) sectors[i] = first_sector + i;
  return BuildLdlinuxSys(core, sectors);
}

base::Result<void> PatchFatBootSector(std::string& boot_sector, std::string_view boot_template,
                                      std::string_view core, std::uint64_t ldlinux_first_sector) {
  if (boot_sector.size() != kSyslinuxSectorSize || Get(boot_sector, 0x1FE, 2) != 0xAA55 ||
      Get(boot_sector, 11, 2) != kSyslinuxSectorSize) {
    return base::Fail(ErrorKind::kInternal,
                      "syslinux can only be installed in a FAT boot sector with 512-byte sectors (got " +
                          std::to_string(boot_sector.size()) + " bytes)");
  }
  if (boot_template.size() != kSyslinuxSectorSize) {
    return base::Fail(base::Error(ErrorKind::kInternal, "the embedded syslinux boot-sector template is " +
                                                            std::to_string(boot_template.size()) + " bytes, not 512")
                          .Hint("rebuild bootrino; packaging/bootloaders.sh verifies it against its pin"));
  }
  ASSIGN_OR_RETURN(PatchArea pa, FindPatchArea(core));
  boot_sector.replace(0, kBootHeadEnd, boot_template.substr(0, kBootHeadEnd));
  boot_sector.replace(kBootCodeBegin, kBootCodeEnd - kBootCodeBegin,
                      boot_template.substr(kBootCodeBegin, kBootCodeEnd - kBootCodeBegin));
  Put(boot_sector, pa.sect1_low, ldlinux_first_sector & 0xFFFFFFFF, 4);
  Put(boot_sector, pa.sect1_high, ldlinux_first_sector >> 32, 4);
  return {};
}

base::Result<void> PatchMbrCode(std::string& mbr_sector) {
  if (mbr_sector.size() != 512) {
    return base::Fail(ErrorKind::kInternal, "an MBR is 512 bytes, got " + std::to_string(mbr_sector.size()));
  }
  std::string_view code = GptMbr();
  mbr_sector.replace(0, code.size(), code);
  return {};
}

base::Result<std::string> SyslinuxConfig(std::string_view kernel, const std::vector<std::string>& initrds,
                                         std::string_view cmdline) {
  RETURN_IF_ERROR(CheckBootFiles(kernel, initrds, cmdline));
  // SERIAL must be the first directive (syslinux's doc/syslinux.txt); CONSOLE 1 keeps the screen too.
  // PROMPT 0 boots DEFAULT at once unless Shift or Alt is held.
  std::string cfg = "SERIAL 0 115200\nCONSOLE 1\nPROMPT 0\nDEFAULT bootrino\nLABEL bootrino\n";
  cfg += "  LINUX " + std::string(kernel) + "\n";
  if (!initrds.empty()) {
    cfg += "  INITRD ";
    for (std::size_t i = 0; i < initrds.size(); ++i) cfg += (i ? "," : "") + initrds[i];
    cfg += "\n";
  }
  if (!cmdline.empty()) cfg += "  APPEND " + std::string(cmdline) + "\n";
  return cfg;
}

std::string LoaderConf() {
  // timeout 0: no menu unless a key is pressed; the entry is the only one, so no "default" is needed.
  return "timeout 0\neditor no\nauto-entries no\nauto-firmware no\n";
}

base::Result<std::string> BootEntry(std::string_view title, std::string_view kernel,
                                    const std::vector<std::string>& initrds, std::string_view cmdline) {
  RETURN_IF_ERROR(CheckOneLine("boot entry title", title));
  RETURN_IF_ERROR(CheckBootFiles(kernel, initrds, cmdline));
  std::string entry = "title " + std::string(title.empty() ? "bootrino" : title) + "\n";
  entry += "linux " + std::string(kernel) + "\n";
  for (const std::string& initrd : initrds) entry += "initrd " + initrd + "\n";
  if (!cmdline.empty()) entry += "options " + std::string(cmdline) + "\n";
  return entry;
}

}  // namespace disk
