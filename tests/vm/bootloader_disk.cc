// Test tool for tests/vm/bootloader_boot.sh: makes a disk image bootable with
// disk/bootloader.h alone, the way bootrino's disk writer does, while mkfs.fat,
// mtools and sfdisk stand in for the FAT and GPT writers (tested elsewhere).
//   bootloader_disk files DIR KERNEL CMDLINE [INITRD...]
//       the bootloader files, by their paths on the FAT partition, into DIR;
//       ldlinux.sys is a placeholder of its final size, to be placed first
//   bootloader_disk syslinux PARTITION_IMAGE
//       finds ldlinux.sys's sectors in the FAT32 image, writes the patched file
//       there, and patches the boot sector and its backup
//   bootloader_disk mbr DISK_IMAGE
//       puts gptmbr's code into the MBR
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "disk/bootloader.h"
#include "tests/unit/fat_sectors.h"

namespace {

namespace fs = std::filesystem;

int Die(const std::string& what) {
  std::cerr << "bootloader_disk: " << what << "\n";
  return 1;
}

bool WriteFile(const fs::path& path, std::string_view data) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  return static_cast<bool>(out);
}

bool WriteAt(const std::string& image, std::uint64_t offset, std::string_view data) {
  std::fstream io(image, std::ios::binary | std::ios::in | std::ios::out);
  io.seekp(static_cast<std::streamoff>(offset));
  io.write(data.data(), static_cast<std::streamsize>(data.size()));
  return static_cast<bool>(io);
}

int Files(const fs::path& dir, const std::string& kernel, const std::string& cmdline,
          const std::vector<std::string>& initrds) {
  auto cfg = disk::SyslinuxConfig(kernel, initrds, cmdline);
  auto entry = disk::BootEntry("bootrino boot test", kernel, initrds, cmdline);
  if (!cfg) return Die(cfg.error().message());
  if (!entry) return Die(entry.error().message());
  bool ok = WriteFile(dir / "ldlinux.sys", std::string(disk::LdlinuxSysSize(disk::SyslinuxCore()), '\0')) &&
            WriteFile(dir / "ldlinux.c32", disk::SyslinuxC32()) && WriteFile(dir / "syslinux.cfg", *cfg) &&
            WriteFile(dir / "EFI/BOOT/BOOTX64.EFI", disk::SystemdBoot()) &&
            WriteFile(dir / "loader/loader.conf", disk::LoaderConf()) &&
            WriteFile(dir / "loader/entries/bootrino.conf", *entry);
  return ok ? 0 : Die("cannot write into " + dir.string());
}

int Syslinux(const std::string& image_path) {
  std::string image = test_fat::ReadFile(image_path);
  if (image.size() < 512) return Die(image_path + " is not a FAT image");
  std::vector<std::uint64_t> sectors = test_fat::FileSectors(image, "LDLINUX SYS");
  if (sectors.empty()) return Die("no /ldlinux.sys in " + image_path);
  auto sys = disk::BuildLdlinuxSys(disk::SyslinuxCore(), sectors);
  if (!sys) return Die(sys.error().message());
  for (std::size_t i = 0; i < sectors.size(); ++i) {
    if (!WriteAt(image_path, sectors[i] * 512, std::string_view(*sys).substr(i * 512, 512))) {
      return Die("cannot write " + image_path);
    }
  }
  std::string boot = image.substr(0, 512);
  auto patched =
      disk::PatchFatBootSector(boot, disk::SyslinuxBootSectorTemplate(), disk::SyslinuxCore(), sectors[0]);
  if (!patched) return Die(patched.error().message());
  std::uint64_t backup = test_fat::Le(image, 0x32, 2);  // BPB_BkBootSec
  if (!WriteAt(image_path, 0, boot) || (backup && !WriteAt(image_path, backup * 512, boot))) {
    return Die("cannot write " + image_path);
  }
  return 0;
}

int Mbr(const std::string& image_path) {
  std::string mbr = test_fat::ReadFile(image_path).substr(0, 512);
  auto patched = disk::PatchMbrCode(mbr);
  if (!patched) return Die(patched.error().message());
  return WriteAt(image_path, 0, mbr) ? 0 : Die("cannot write " + image_path);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() >= 4 && args[0] == "files") {
    return Files(args[1], args[2], args[3], std::vector<std::string>(args.begin() + 4, args.end()));
  }
  if (args.size() == 2 && args[0] == "syslinux") return Syslinux(args[1]);
  if (args.size() == 2 && args[0] == "mbr") return Mbr(args[1]);
  return Die("usage: bootloader_disk files DIR KERNEL CMDLINE [INITRD...] | syslinux PARTITION_IMAGE | mbr DISK_IMAGE");
}
