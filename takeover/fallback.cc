#include "takeover/fallback.h"

namespace takeover {

base::Result<BootPath> PathAfterPreflight(const kexec::PreflightReport& host, bool fallback_reboot) {
  auto verdict = host.Verdict();
  if (verdict) return BootPath::kKexec;
  if (!fallback_reboot || !host.OnlyKexecRefused()) return base::Fail(std::move(verdict).error());
  RETURN_IF_ERROR(kexec::FirmwareFallback(host, verdict.error(), /*at_load=*/false));
  return BootPath::kFirmware;
}

base::Result<BootPath> LoadOrFallBack(base::Sys& sys, const kexec::PreflightReport& host, const kexec::BootPlan& plan,
                                      bool fallback_reboot, observe::Events& events) {
  auto loaded = kexec::Load(sys, plan);
  if (loaded) return BootPath::kKexec;
  if (!fallback_reboot) return base::Fail(std::move(loaded).error());
  RETURN_IF_ERROR(kexec::FirmwareFallback(host, loaded.error(), /*at_load=*/true));
  events.Warn(loaded.error().message() + "; --fallback=reboot: booting through the firmware instead");
  return BootPath::kFirmware;
}

base::Result<void> DiskTakeoverAllowed(const kexec::PreflightReport& host, bool keep_disk) {
  if (keep_disk || (!host.secure_boot && !host.secure_boot_unknown)) return {};
  const std::string why =
      host.secure_boot
          ? "UEFI Secure Boot is on, and the disk bootrino writes boots through bootloaders (syslinux, "
            "systemd-boot) and a kernel that are not signed: the firmware would refuse them and this instance would "
            "never boot again after its next reboot"
          : "this UEFI host does not show whether Secure Boot is on (efivarfs is not mounted), and under Secure "
            "Boot the unsigned bootloaders and kernel bootrino writes to the disk would never boot";
  const std::string hint =
      host.secure_boot
          ? "pass --keep-disk to boot the RAM OS by kexec only, the disk untouched (it will not survive a reboot), "
            "or turn Secure Boot off in the instance's settings and run again; nothing on this host was changed"
          : "pass --keep-disk to boot the RAM OS by kexec only, the disk untouched, or mount -t efivarfs efivarfs "
            "/sys/firmware/efi/efivars and run again; nothing on this host was changed";
  return base::Fail(base::Error(base::ErrorKind::kDisk, "the disk takeover refused: " + why).Hint(hint));
}

LoadedKernelGuard::~LoadedKernelGuard() {
  if (!loaded_) return;
  if (auto r = kexec::Unload(sys_); !r) {
    events_.Warn(r.error().message() + " (" + r.error().hint() + ")");
    events_.Emit(observe::Phase::kLoad, "unload-failed", {{"error", r.error().message()}});
    return;
  }
  events_.Say("unloaded the new kernel: nothing will boot it, this host goes on as it was");
  events_.Emit(observe::Phase::kLoad, "unloaded");
}

}  // namespace takeover
