#include "ramos/boot_plan.h"

#include <chrono>
#include <cstdio>
#include <filesystem>

#include <sys/random.h>

#include "base/base.h"
#include "kexec/kexec.h"
#include "observe/observe.h"
#include "ramos/archive.h"

namespace ramos {
namespace {

// The firmware boot's one initrd on the boot partition: the manifest's initrds,
// each padded, then the persistent overlay. One file, because the EFI stub
// concatenates several initrd= files unpadded, and an overlay that does not
// start 4-byte aligned after a compressed initrd is lost ("invalid magic").
constexpr const char* kDiskInitrdName = "bootrino-initrd.img";

disk::BootFile FromStaged(const fetch::StagedFile& s) {
  return {s.item->file->name, s.path, "", s.download.bytes, {}};
}

}  // namespace

HostConsoles HostConsoles::ThisMachine() {
  base::Sys& sys = base::RealSys();
  return {sys.ReadText("/proc/cmdline").value_or(""), sys.ReadText("/proc/consoles").value_or("")};
}

HostConsoles HostConsoles::CloudDefault(base::Arch arch) {
  if (arch == base::Arch::kAarch64) return {"", ""};
  return {"console=tty0 console=ttyS0,115200n8", ""};
}

// The boot id tells boots apart; it is no secret, so it must not wait for the
// entropy pool (about a second in a fresh VM): GRND_INSECURE (Linux 5.6+),
// else GRND_NONBLOCK, else the clock.
std::string NewBootId() {
  unsigned char bytes[8];
#ifndef GRND_INSECURE
  constexpr unsigned GRND_INSECURE = 0x0004;  // linux/random.h; older glibc headers lack it
#endif
  if (getrandom(bytes, sizeof bytes, GRND_INSECURE) != sizeof bytes &&
      getrandom(bytes, sizeof bytes, GRND_NONBLOCK) != sizeof bytes) {
    std::uint64_t now = static_cast<std::uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
    for (int i = 0; i < 8; ++i) bytes[i] = static_cast<unsigned char>(now >> (8 * i));
  }
  char hex[17];
  for (int i = 0; i < 8; ++i) snprintf(hex + 2 * i, 3, "%02x", bytes[i]);
  return hex;
}

base::Result<BootPlans> PlanBoot(const fetch::VerifiedManifest& vm, const std::vector<fetch::StagedFile>& staged,
                                 const std::string& dir, base::Arch arch, const HostConsoles& host,
                                 const RamOsSettings& settings, const std::string& boot_id,
                                 const kexec::KernelHeader& kernel) {
  const fetch::ArchPayload& payload = **vm.manifest.PayloadFor(arch);
  BootPlans plans;
  plans.boot_id = boot_id;
  std::vector<std::string> initrds;
  std::vector<std::uint64_t> initrd_sizes;
  for (const auto& s : staged) {
    if (s.item->role == "kernel") {
      plans.kexec.kernel_path = s.path;
      plans.disk.kernel = FromStaged(s);
      ASSIGN_OR_RETURN(bool decompress, kexec::NeedsDecompression(arch, kernel, s.path));
      if (decompress) {
        plans.kernel_source = s.path;
        plans.kexec.kernel_path = dir + "/kernel.Image";
        // The firmware cannot start a gzip'd or zstd'd Image: the disk gets the decompressed one, of the size
        // the file records (checked when it is decompressed). An EFI zboot file is a PE the firmware starts.
        if (kernel.format != kexec::KernelFormat::kZboot) {
          plans.disk.kernel = {s.item->file->name, plans.kexec.kernel_path, "", kernel.decompressed_size, {}};
        }
      }
    } else if (s.item->role == "initrd") {
      initrds.push_back(s.path);
      initrd_sizes.push_back(s.download.bytes);
    } else {
      plans.disk.files.push_back(FromStaged(s));
    }
  }
  // What every boot of this install shares, and what only the kexec boot has.
  std::vector<std::string> payload_names = {plans.disk.kernel.name};
  for (const auto& f : plans.disk.files) payload_names.push_back(f.name);
  const std::string manifest_json = observe::ManifestJson(vm).dump(2) + "\n";
  ASSIGN_OR_RETURN(PersonalFiles personal, Personalise(vm.manifest.boot->personalisation, settings, manifest_json,
                                                       plans.boot_id, payload_names));
  std::vector<kexec::OverlayFile> first_boot = personal.overlay;
  first_boot.push_back({"etc/bootrino/boot-id", plans.boot_id + "\n", 0644});
  ASSIGN_OR_RETURN(std::string once, kexec::BuildOverlay(first_boot));
  if (!personal.kexec_extra.empty()) {
    // A second newc archive right after the first (whose length is a multiple of 4): the kernel reads on.
    ASSIGN_OR_RETURN(std::string extra, ramos::BuildArchive(personal.kexec_extra, ramos::ArchiveFormat::kCpioNewc));
    once += extra;
  }
  ASSIGN_OR_RETURN(std::string persistent, kexec::BuildOverlay(personal.overlay));
  plans.kexec.initrd_path = fetch::StageMetaPath(dir, "initrd.img");
  plans.kexec_initrd = {plans.kexec.initrd_path, initrds, std::move(once), 0};
  plans.kexec_initrd.bytes = kexec::ComposedInitrdBytes(initrd_sizes, plans.kexec_initrd.overlay.size());
  kexec::CmdlineInputs inputs{payload.cmdline, host.cmdline, host.consoles, personal.kexec_params};
  inputs.bootrino_params.push_back("bootrino.id=" + plans.boot_id);
  ASSIGN_OR_RETURN(plans.kexec.cmdline, kexec::ComposeCmdline(inputs, arch));
  inputs.bootrino_params = personal.disk_params;
  ASSIGN_OR_RETURN(plans.disk.cmdline, kexec::ComposeCmdline(inputs, arch));
  // The disk's initrd is the same composition with the persistent overlay, streamed from the staged initrds.
  disk::BootFile disk_initrd{kDiskInitrdName, "", std::move(persistent), 0, {}};
  for (std::size_t i = 0; i < initrds.size(); ++i) {
    disk_initrd.parts.push_back({initrds[i], initrd_sizes[i], kexec::ComposedInitrdBytes({initrd_sizes[i]}, 0)});
  }
  disk_initrd.size = kexec::ComposedInitrdBytes(initrd_sizes, disk_initrd.data.size());
  plans.disk.initrds.push_back(std::move(disk_initrd));
  plans.disk.files.insert(plans.disk.files.end(), personal.boot_partition.begin(), personal.boot_partition.end());
  plans.personal = personal.summary;
  plans.disk.title = vm.manifest.meta.name + (vm.manifest.meta.version.empty() ? "" : " " + vm.manifest.meta.version);
  return plans;
}

base::Result<void> DiskCanBoot(base::Arch arch, const kexec::KernelHeader& kernel, const BootPlans& plans) {
  if (arch != base::Arch::kAarch64) return {};
  const std::string what = "the manifest's kernel " + plans.disk.kernel.name;
  const char* keep = "or pass --keep-disk to boot the RAM OS with kexec only (it will not survive a reboot)";
  if (!kernel.efi_stub) {
    return base::Fail(base::Error(base::ErrorKind::kManifest, what + " has no EFI stub, so the firmware could not "
                                                                    "start it from the disk")
                          .Hint(std::string("use a kernel built with CONFIG_EFI_STUB (every distribution's is), ") +
                                keep));
  }
  if (plans.disk.kernel.size == 0) {
    return base::Fail(base::Error(base::ErrorKind::kManifest, what + " does not record its decompressed size (a zstd "
                                                                    "frame without its content size, or an lzma or "
                                                                    "xz file made by a streaming compressor), which "
                                                                    "the disk's layout needs before it is "
                                                                    "decompressed")
                          .Hint(std::string("publish it gzip'd, as an EFI zboot vmlinuz, or uncompressed, ") + keep));
  }
  return {};
}

base::Result<void> ComposeKexecInitrd(const BootPlans& plans) {
  const InitrdPlan& initrd = plans.kexec_initrd;
  auto composed = kexec::ComposeInitrd(initrd.parts, initrd.overlay, initrd.path);
  if (!composed) {
    // The stage holds the payload already: what is short is room for this one.
    return base::Fail(fetch::ExplainNoSpace(std::move(composed).error(),
                                            std::filesystem::path(initrd.path).parent_path().string(), initrd.bytes,
                                            "composing the kexec boot's initrd"));
  }
  if (*composed != initrd.bytes) {
    return base::Fail(base::ErrorKind::kInternal, "composed " + initrd.path + " holds " + std::to_string(*composed) +
                                                      " bytes, planned " + std::to_string(initrd.bytes));
  }
  return {};
}

nlohmann::ordered_json BootJson(const BootPlans& plans) {
  return {{"kernel", plans.kexec.kernel_path}, {"initrd", plans.kexec.initrd_path},
          {"initrdBytes", plans.kexec_initrd.bytes}, {"initrdParts", plans.kexec_initrd.parts.size() + 1},
          {"cmdline", plans.kexec.cmdline}, {"diskCmdline", plans.disk.cmdline},
          {"bootId", plans.boot_id}, {"personalisation", plans.personal}};
}

}  // namespace ramos
