#include "agent/fallback.h"

namespace agent {

base::Result<BootPath> PathAfterPreflight(const kexec::PreflightReport& host, bool fallback_reboot) {
  auto verdict = host.Verdict();
  if (verdict) return BootPath::kKexec;
  if (!fallback_reboot || !host.OnlyKexecRefused()) return base::Fail(std::move(verdict).error());
  RETURN_IF_ERROR(kexec::FirmwareFallback(host, verdict.error(), /*at_load=*/false));
  return BootPath::kFirmware;
}

base::Result<BootPath> LoadOrFallBack(base::Sys& sys, const kexec::PreflightReport& host, const kexec::BootPlan& plan,
                                      bool fallback_reboot, Events& events) {
  auto loaded = kexec::Load(sys, plan);
  if (loaded) return BootPath::kKexec;
  if (!fallback_reboot) return base::Fail(std::move(loaded).error());
  RETURN_IF_ERROR(kexec::FirmwareFallback(host, loaded.error(), /*at_load=*/true));
  events.Warn(loaded.error().message() + "; --fallback=reboot: booting through the firmware instead");
  return BootPath::kFirmware;
}

}  // namespace agent
