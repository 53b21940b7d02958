// How `run` boots the new OS: by kexec, or (--fallback=reboot) through the
// firmware from the disk it writes; and when it must stop instead. Both
// decisions are taken before anything is written: after the preflight, and at
// the kernel's load.
#pragma once

#include "agent/events.h"
#include "base/result.h"
#include "base/sys.h"
#include "kexec/load.h"
#include "kexec/preflight.h"

namespace agent {

enum class BootPath { kKexec, kFirmware };

/// 1: kKexec when the preflight refuses nothing. kFirmware with
/// --fallback=reboot when only kexec is refused and the firmware can boot the
/// disk bootrino writes (not under UEFI Secure Boot, kexec::FirmwareFallback).
/// Otherwise the refusal: the preflight's, or the fallback's.
[[nodiscard]] base::Result<BootPath> PathAfterPreflight(const kexec::PreflightReport& host, bool fallback_reboot);

/// 5: loads `plan` into `sys` (kKexec). A refused load, with --fallback=reboot,
/// turns to the firmware (kFirmware, said as a warning) under the same
/// condition; otherwise its error, or the fallback's refusal.
[[nodiscard]] base::Result<BootPath> LoadOrFallBack(base::Sys& sys, const kexec::PreflightReport& host,
                                                    const kexec::BootPlan& plan, bool fallback_reboot,
                                                    Events& events);

}  // namespace agent
