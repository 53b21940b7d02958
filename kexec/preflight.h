// Can this host kexec into a new kernel? Every question is answered before
// anything is fetched or touched, and every "no" says why and what to do.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/base.h"

namespace kexec {

struct Check {
  std::string name;    ///< "architecture", "privileges", "kexec", "lockdown" …
  bool ok = true;      ///< false: bootrino refuses (for the checks that matter)
  bool fatal = true;   ///< a failed non-fatal check is a warning
  std::string detail;  ///< what was found
  std::string advice;  ///< what to do when !ok
};

/// The EFI variable that says whether UEFI Secure Boot is on (last byte 1), as
/// efivarfs shows it: 4 bytes of attributes, then the value.
inline constexpr const char* kSecureBootVariable =
    "/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c";

struct PreflightReport {
  std::string machine;             ///< uname -m, as found: it may be an architecture bootrino has none for
  std::optional<base::Arch> arch;  ///< `machine`, when bootrino runs on it
  std::string lockdown;  ///< "none", "integrity", "confidentiality" or "unknown"
  bool secure_boot = false;
  /// A UEFI host whose SecureBoot variable cannot be read (efivarfs not mounted).
  bool secure_boot_unknown = false;
  std::vector<std::string> consoles;  ///< from /proc/consoles
  std::vector<Check> checks;

  /// The first fatal failed check as a kPreflight error, or success.
  [[nodiscard]] base::Result<void> Verdict() const;
  /// True when every refusal is about kexec itself (lockdown, kexec_file_load):
  /// the firmware can still boot a new OS from the disk (--fallback=reboot).
  /// Not when bootrino lacks the privileges, which a reboot needs too.
  bool OnlyKexecRefused() const;
  /// True when lockdown is the only thing against kexec: kexec_file_load is
  /// there and permitted, and the kernel takes only kernels signed by a key it trusts.
  bool KexecSignedOnly() const;
};

/// The lockdown mode from /sys/kernel/security/lockdown ("none [integrity] …"),
/// falling back to lockdown= on the kernel command line; "unknown" if neither says.
std::string LockdownMode(std::string_view securityfs_text, std::string_view cmdline);

/// Asks the host (through `sys`) everything kexec needs. Side-effect free: the
/// kexec_file_load probe passes invalid descriptors, which the kernel rejects
/// with EBADF when the syscall exists and is permitted.
PreflightReport RunPreflight(base::Sys& sys);

/// Whether --fallback=reboot may write the disk and reboot through the firmware
/// now that kexec was refused (`kexec_refusal`: the preflight's verdict, or the
/// failed load's error). The disk bootrino writes boots through syslinux or
/// systemd-boot into the manifest's kernel, none of them signed: with UEFI
/// Secure Boot on the firmware refuses them and the instance never boots again.
/// So then, or when bootrino cannot tell, the fallback is refused (kPreflight),
/// saying whether a kernel signed by a key this host trusts would have kexec'd.
/// `at_load`: the refusal is the load's, not the preflight's. Called before
/// anything is written.
[[nodiscard]] base::Result<void> FirmwareFallback(const PreflightReport& host, const base::Error& kexec_refusal,
                                                  bool at_load);

}  // namespace kexec
