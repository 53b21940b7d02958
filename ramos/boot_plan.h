// 4: planning the boot, both ways the RAM OS is reached: the kexec load now
// (one composed initrd with a one-time overlay) and the firmware path later
// (the same kernel, initrds and command line on the boot partition, with a
// persistent overlay and without the one-time boot id).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/base.h"
#include "disk/disk.h"
#include "fetch/fetch.h"
#include "kexec/kexec.h"
#include "observe/observe.h"
#include "ramos/personalise.h"

namespace ramos {

/// One initrd to compose in the stage directory: the manifest's staged
/// initrds in order, each padded (kexec::ComposeInitrd), then an overlay.
struct InitrdPlan {
  std::string path;                ///< where it is composed
  std::vector<std::string> parts;  ///< the staged initrds
  std::string overlay;             ///< bootrino's archive(s), appended
  std::uint64_t bytes = 0;         ///< the composed size
};

struct BootPlans {
  kexec::BootPlan kexec;
  /// Set on arm64 when the manifest's kernel is compressed: that staged file, decompressed into
  /// kexec.kernel_path before the load (kexec::DecompressKernel).
  std::string kernel_source;
  disk::BootFiles disk;
  std::string boot_id;
  nlohmann::ordered_json personal;  ///< what Personalise generated, for the plan report
  /// At kexec.initrd_path: with the one-time overlay (boot id). The boot partition's initrd (in `disk`, with
  /// the persistent overlay) is composed while the disk is written, from the same staged initrds: RAM holds one
  /// composed initrd, not two.
  InitrdPlan kexec_initrd;
};

/// Where the host's console settings come from: this machine, or (for a disk
/// image made elsewhere) a typical cloud instance's serial console.
struct HostConsoles {
  std::string cmdline;   ///< /proc/cmdline
  std::string consoles;  ///< /proc/consoles
  static HostConsoles ThisMachine();
  /// An instance of `arch` that is not this machine. x86_64: the screen and the first 16550 UART, ttyS0, which
  /// every x86 cloud's serial console is. aarch64: none, so that the kernel takes the serial console the firmware
  /// names (ACPI's SPCR table, which arm64 clouds provide, or a device tree's stdout-path): arm64 instances have a
  /// PL011 (ttyAMA0) or a 16550 (ttyS0), and a console= naming the other would leave /dev/console on the screen.
  static HostConsoles CloudDefault(base::Arch arch);
};

/// Plans both boots, purely: their initrds (each the manifest's initrds + an
/// overlay): the kexec boot's is composed in the stage directory `dir` (ComposeKexecInitrd), the disk's as the
/// disk is written.
/// `settings` reach the RAM OS as the manifest's personalisation style says
/// (ramos/personalise.h); `boot_id` tells this boot apart (NewBootId). `kernel` is what the staged kernel
/// file is: on arm64 a compressed one is to be decompressed into the stage first (BootPlans::kernel_source),
/// and one kexec cannot take is refused here (kManifest).
[[nodiscard]] base::Result<BootPlans> PlanBoot(const fetch::VerifiedManifest& vm,
                                               const std::vector<fetch::StagedFile>& staged, const std::string& dir,
                                               base::Arch arch, const HostConsoles& host, const RamOsSettings& settings,
                                               const std::string& boot_id, const kexec::KernelHeader& kernel);

/// Refuses (kManifest) a disk whose firmware could not start the planned kernel: on aarch64 it must be a PE
/// (an Image with an EFI stub, an EFI zboot file) for systemd-boot, and a decompressed one must record its size.
/// x86_64 kernels are started by syslinux or the firmware as they are.
[[nodiscard]] base::Result<void> DiskCanBoot(base::Arch arch, const kexec::KernelHeader& kernel,
                                             const BootPlans& plans);

/// Writes the kexec boot's initrd into the stage directory (RAM only); a size
/// other than the planned one is an internal error.
[[nodiscard]] base::Result<void> ComposeKexecInitrd(const BootPlans& plans);

/// The "plan" event: what the kexec boot gets.
nlohmann::ordered_json BootJson(const BootPlans& plans);

/// A new boot id: 16 hex digits, not secret, never waiting for entropy.
std::string NewBootId();

}  // namespace ramos
