// Can this host kexec into a new kernel? Every question is answered before
// anything is fetched or touched, and every "no" says why and what to do.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "base/sys.h"

namespace kexec {

struct Check {
  std::string name;    ///< "architecture", "privileges", "kexec", "lockdown" …
  bool ok = true;      ///< false: bootrino refuses (for the checks that matter)
  bool fatal = true;   ///< a failed non-fatal check is a warning
  std::string detail;  ///< what was found
  std::string advice;  ///< what to do when !ok
};

struct PreflightReport {
  std::string arch;
  std::string lockdown;  ///< "none", "integrity", "confidentiality" or "unknown"
  bool secure_boot = false;
  std::vector<std::string> consoles;  ///< from /proc/consoles
  std::vector<Check> checks;

  /// The first fatal failed check as a kPreflight error, or success.
  [[nodiscard]] base::Result<void> Verdict() const;
  /// True when every refusal is about kexec itself (lockdown, kexec_file_load):
  /// the firmware can still boot a new OS from the disk (--fallback=reboot).
  /// Not when bootrino lacks the privileges, which a reboot needs too.
  bool OnlyKexecRefused() const;
};

/// The lockdown mode from /sys/kernel/security/lockdown ("none [integrity] …"),
/// falling back to lockdown= on the kernel command line; "unknown" if neither says.
std::string LockdownMode(std::string_view securityfs_text, std::string_view cmdline);

/// Asks the host (through `sys`) everything kexec needs. Side-effect free: the
/// kexec_file_load probe passes invalid descriptors, which the kernel rejects
/// with EBADF when the syscall exists and is permitted.
PreflightReport RunPreflight(base::Sys& sys);

}  // namespace kexec
