#include "disk/write.h"

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <optional>

#include <unistd.h>

#include "base/base.h"
#include "disk/bootloader.h"
#include "disk/ext4.h"
#include "disk/fat32.h"
#include "disk/gpt.h"
#include "disk/quiesce.h"

namespace disk {
namespace {

using base::ErrorKind;

constexpr const char* kLdlinuxSys = "ldlinux.sys";

// The names bootrino's own files take on the boot partition.
bool IsReservedName(const std::string& name) {
  std::string lower;
  for (char c : name) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return lower == "ldlinux.sys" || lower == "ldlinux.c32" || lower == "syslinux.cfg" || lower.starts_with("efi/") ||
         lower.starts_with("loader/");
}

FatFile ToFat(const BootFile& f) {
  return f.source.empty() ? FatFile{f.name, f.data, "", 0, f.parts} : FatFile{f.name, "", f.source, f.size, {}};
}

/// The files of the boot partition: bootloaders first (small, near the start), then the RAM OS.
base::Result<std::vector<FatFile>> BootPartitionFiles(const BootFiles& files, bool bios, bool uefi) {
  std::vector<FatFile> out;
  std::vector<std::string> initrds;
  for (const auto& f : files.initrds) initrds.push_back("/" + f.name);
  const std::string kernel = "/" + files.kernel.name;
  if (bios) {
    ASSIGN_OR_RETURN(std::string config, SyslinuxConfig(kernel, initrds, files.cmdline));
    // Filled in once its sectors are known.
    out.push_back({kLdlinuxSys, std::string(LdlinuxSysSize(SyslinuxCore()), '\0'), "", 0, {}});
    out.push_back({"ldlinux.c32", std::string(SyslinuxC32()), "", 0, {}});
    out.push_back({"syslinux.cfg", config, "", 0, {}});
  }
  if (uefi) {
    ASSIGN_OR_RETURN(std::string entry, BootEntry(files.title, kernel, initrds, files.cmdline));
    out.push_back({std::string(EfiLoaderPath()), std::string(SystemdBoot()), "", 0, {}});
    out.push_back({"loader/loader.conf", LoaderConf(), "", 0, {}});
    out.push_back({"loader/entries/bootrino.conf", entry, "", 0, {}});
  }
  std::vector<const BootFile*> payload = {&files.kernel};
  for (const auto& f : files.initrds) payload.push_back(&f);
  for (const auto& f : files.files) payload.push_back(&f);
  for (const BootFile* f : payload) {
    if (IsReservedName(f->name)) {
      return base::Fail(base::Error(ErrorKind::kManifest, "payload file \"" + f->name +
                                                              "\" would overwrite a bootloader file on the boot partition")
                            .Hint("rename it in the manifest"));
    }
    out.push_back(ToFat(*f));
  }
  return out;
}

/// write_bytes of /proc/self/io: what this process has sent (or caused to be
/// sent) to storage, counted as pages are dirtied or written directly. Unset
/// without task I/O accounting in the kernel.
std::optional<std::uint64_t> ProcessWriteBytes() {
  auto text = base::ReadFile("/proc/self/io", 4096);
  if (!text) return std::nullopt;
  const std::size_t at = text->find("\nwrite_bytes: ");
  if (at == std::string::npos) return std::nullopt;
  return std::strtoull(text->c_str() + at + 14, nullptr, 10);
}

/// The target must be the disk the layout was planned for, checked before the first write.
base::Result<void> CheckTarget(const Disk& target, const Layout& layout) {
  if (target.sector_size() != layout.sector_size) {
    return base::Fail(base::Error(ErrorKind::kDisk, target.name() + " has " + std::to_string(target.sector_size()) +
                                                        "-byte sectors, the layout was planned for " +
                                                        std::to_string(layout.sector_size) + "-byte sectors")
                          .Hint("plan the layout for this disk; nothing was written"));
  }
  if (target.bytes() / target.sector_size() != layout.disk_bytes / layout.sector_size) {
    return base::Fail(base::Error(ErrorKind::kDisk, target.name() + " holds " + std::to_string(target.bytes()) +
                                                        " bytes, the layout was planned for a disk of " +
                                                        std::to_string(layout.disk_bytes))
                          .Hint("plan the layout for this disk (its size is not the one planned for); "
                                "nothing was written"));
  }
  return {};
}

double Since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

std::uint64_t BootPartitionBytes(const BootFiles& files, bool bios, bool uefi) {
  constexpr std::uint64_t kSlack = 64 * 1024;  // configuration files and directories
  std::uint64_t total = kSlack + files.kernel.size;
  for (const auto& f : files.initrds) total += f.Bytes();
  for (const auto& f : files.files) total += f.Bytes();
  if (bios) total += LdlinuxSysSize(SyslinuxCore()) + SyslinuxC32().size();
  if (uefi) total += SystemdBoot().size();
  return total;
}

base::Result<PreparedDisk> PrepareDisk(const Layout& layout, BootFiles files) {
  ASSIGN_OR_RETURN(std::vector<FatFile> fat_files, BootPartitionFiles(files, layout.bios, layout.uefi));
  FatVolume volume{layout.boot.Sectors(), layout.sector_size, layout.boot.first_lba, layout.boot_volume_id,
                   layout.boot_label};
  ASSIGN_OR_RETURN(Fat32Image fat, Fat32Image::Plan(volume, std::move(fat_files)));
  if (layout.bios) {
    // syslinux finds itself through sector numbers patched into its own file and the boot sector.
    ASSIGN_OR_RETURN(FatPlacement where, fat.PlacementOf(kLdlinuxSys));
    ASSIGN_OR_RETURN(std::string ldlinux, BuildLdlinuxSys(SyslinuxCore(), where.first_sector, where.sectors));
    RETURN_IF_ERROR(fat.ReplaceData(kLdlinuxSys, std::move(ldlinux)));
    std::string boot_sector = fat.BootSector();
    RETURN_IF_ERROR(PatchFatBootSector(boot_sector, SyslinuxBootSectorTemplate(), SyslinuxCore(), where.first_sector));
    RETURN_IF_ERROR(fat.SetBootSector(std::move(boot_sector)));
  }
  return PreparedDisk{layout, std::move(files), std::make_shared<const Fat32Image>(std::move(fat))};
}

base::Result<WriteReport> WriteDisk(const Disk& target, const PreparedDisk& disk) {
  const auto start = std::chrono::steady_clock::now();
  const std::optional<std::uint64_t> written_before = ProcessWriteBytes();
  const Layout& layout = disk.layout;
  RETURN_IF_ERROR(CheckTarget(target, layout));
  const base::Fd& fd = target.fd();
  WriteReport report;
  // The filesystems first, then the table that makes them reachable, then the MBR code.
  RETURN_IF_ERROR(disk.boot->Write(target, layout.Offset(layout.boot)));
  report.bytes_written += disk.boot->geometry().DataStart() * layout.sector_size +
                          BootPartitionBytes(disk.files, layout.bios, layout.uefi);
  RETURN_IF_ERROR(MakeExt4(target, layout.Offset(layout.data), layout.Bytes(layout.data),
                           Ext4Options{layout.data_label, layout.data_uuid}));
  RETURN_IF_ERROR(target.Flush());
  RETURN_IF_ERROR(WritePartitionTable(target, layout));
  if (layout.bios) {
    std::string mbr(512, '\0');
    if (pread(fd.get(), mbr.data(), mbr.size(), 0) != 512) {
      const int err = errno;
      return base::Fail(base::Error(ErrorKind::kDisk, base::SysMessage("pread", "the new MBR", err), err)
                            .Hint("look for I/O errors in the kernel log (dmesg): the disk may be failing"));
    }
    RETURN_IF_ERROR(PatchMbrCode(mbr));
    RETURN_IF_ERROR(base::WriteAllAt(fd, mbr, 0));
    report.bytes_written += 512;
  }
  RETURN_IF_ERROR(target.Flush());
  report.seconds = Since(start);
  // Measured, when the kernel counts: ext4's metadata, the GPT and the signature wipes too.
  if (auto after = ProcessWriteBytes(); written_before && after && *after > *written_before) {
    report.bytes_written = *after - *written_before;
    report.measured = true;
  }
  return report;
}

}  // namespace disk
