#include "kexec/preflight.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/base.h"
#include "kexec/cmdline.h"

namespace kexec {
namespace {

constexpr const char* kLockdownAdvice =
    "the kernel only kexecs kernels signed by a key it trusts: turn off Secure Boot for this instance "
    "(or boot the host without lockdown), or pass --fallback=reboot to write the disk and reboot through the "
    "firmware into the new OS";
// What the firmware can still do when this kernel cannot kexec at all.
constexpr const char* kFirmwareInstead =
    ", or pass --fallback=reboot to write the disk and reboot through the firmware into the new OS";

Check Ok(std::string name, std::string detail) { return Check{std::move(name), true, true, std::move(detail), ""}; }
Check Refuse(std::string name, std::string detail, std::string advice) {
  return Check{std::move(name), false, true, std::move(detail), std::move(advice)};
}
Check Warn(std::string name, std::string detail, std::string advice) {
  return Check{std::move(name), false, false, std::move(detail), std::move(advice)};
}

bool Locked(const std::string& lockdown) { return lockdown == "integrity" || lockdown == "confidentiality"; }

/// Whether a mount table (/proc/self/mounts) has efivarfs mounted anywhere.
bool EfivarfsMounted(std::string_view mounts) {
  std::size_t pos = 0;
  while (pos < mounts.size()) {
    std::size_t end = mounts.find('\n', pos);
    if (end == std::string_view::npos) end = mounts.size();
    std::string_view line = mounts.substr(pos, end - pos);
    // "SOURCE MOUNTPOINT FSTYPE OPTIONS 0 0": the third field.
    std::size_t a = line.find(' ');
    std::size_t b = a == std::string_view::npos ? a : line.find(' ', a + 1);
    std::size_t c = b == std::string_view::npos ? b : line.find(' ', b + 1);
    if (b != std::string_view::npos && line.substr(b + 1, c == std::string_view::npos ? c : c - b - 1) == "efivarfs") {
      return true;
    }
    pos = end + 1;
  }
  return false;
}

/// The answer of a load refused for the kernel's signature: its verification
/// error when signatures are enforced (KEXEC_SIG_FORCE), EPERM from lockdown.
bool SignatureRejected(const PreflightReport& host, int err) {
  switch (err) {
    case EKEYREJECTED:
    case ENOKEY:
    case EBADMSG:
    case ENODATA:
    case ENOPKG:
      return true;
    case EPERM:
      return Locked(host.lockdown);
    default:
      return false;
  }
}

}  // namespace

std::string LockdownMode(std::string_view securityfs_text, std::string_view cmdline) {
  auto open = securityfs_text.find('[');
  auto close = securityfs_text.find(']', open == std::string_view::npos ? 0 : open);
  if (open != std::string_view::npos && close != std::string_view::npos) {
    return std::string(securityfs_text.substr(open + 1, close - open - 1));
  }
  for (const auto& p : SplitCmdline(cmdline)) {
    if (p.starts_with("lockdown=")) return p.substr(9);
  }
  return "unknown";
}

bool PreflightReport::KexecSignedOnly() const {
  bool lockdown_refused = false;
  for (const Check& c : checks) {
    if (c.ok || !c.fatal) continue;
    if (c.name != "lockdown") return false;
    lockdown_refused = true;
  }
  return lockdown_refused;
}

bool PreflightReport::OnlyKexecRefused() const {
  return std::all_of(checks.begin(), checks.end(), [](const Check& c) {
    return c.ok || !c.fatal || c.name == "lockdown" || c.name == "kexec";
  });
}

base::Result<void> PreflightReport::Verdict() const {
  for (const Check& c : checks) {
    if (!c.ok && c.fatal) {
      return base::Fail(base::Error(base::ErrorKind::kPreflight, c.name + ": " + c.detail).Hint(c.advice));
    }
  }
  return {};
}

PreflightReport RunPreflight(base::Sys& sys) {
  PreflightReport r;
  r.machine = sys.Machine();
  r.arch = base::ParseArch(r.machine);
  if (r.arch) {
    r.checks.push_back(Ok("architecture", r.machine));
  } else {
    r.checks.push_back(Refuse("architecture", r.machine + " is not supported", "bootrino runs on x86_64 and aarch64"));
  }

  if (sys.HasCapSysBoot()) {
    r.checks.push_back(Ok("privileges", "CAP_SYS_BOOT held"));
  } else {
    r.checks.push_back(Refuse("privileges", "CAP_SYS_BOOT is missing", "run bootrino as root (sudo)"));
  }

  std::string cmdline = sys.ReadText("/proc/cmdline").value_or("");
  r.lockdown = LockdownMode(sys.ReadText("/sys/kernel/security/lockdown").value_or(""), cmdline);
  // efivarfs files are 4 bytes of attributes, then the value.
  if (auto secure_boot = sys.ReadText(kSecureBootVariable)) {
    r.secure_boot = secure_boot->size() >= 5 && secure_boot->back() == 1;
  } else if (sys.ReadText("/sys/firmware/efi/fw_platform_size")) {
    // A UEFI boot. A mounted efivarfs without the variable is firmware without
    // Secure Boot; without efivarfs there is no telling.
    r.secure_boot_unknown = !EfivarfsMounted(sys.ReadText("/proc/self/mounts").value_or(""));
  }
  if (Locked(r.lockdown)) {
    r.checks.push_back(Refuse("lockdown", "kernel lockdown is '" + r.lockdown + "'" +
                                              (r.secure_boot ? " (UEFI Secure Boot is on)" : ""),
                              kLockdownAdvice));
  } else {
    r.checks.push_back(Ok("lockdown", r.lockdown + (r.secure_boot ? ", Secure Boot on" : "")));
  }

  if (base::Trim(sys.ReadText("/proc/sys/kernel/kexec_load_disabled").value_or("0")) == "1") {
    r.checks.push_back(Refuse("kexec", "kexec is disabled until reboot (sysctl kernel.kexec_load_disabled = 1)",
                              std::string("reboot the host without setting kernel.kexec_load_disabled") +
                                  kFirmwareInstead));
  } else {
    int err = sys.KexecFileLoad(-1, -1, "", 0);
    if (err == EBADF) {
      r.checks.push_back(Ok("kexec", "kexec_file_load available"));
    } else if (err == ENOSYS) {
      // arm64 kernels before 5.0 have no kexec_file_load at all, whatever their configuration; and Debian builds
      // none of its arm64 kernels (bookworm, trixie, cloud or not) with CONFIG_KEXEC_FILE, while its amd64 ones
      // have it: a Debian arm64 host is the common case here, and the advice must not send it to Debian.
      const bool arm64 = r.arch == base::Arch::kAarch64;
      r.checks.push_back(Refuse("kexec",
                                arm64 ? "this kernel has no kexec_file_load (arm64 kernels before 5.0 have none, later "
                                        "ones need CONFIG_KEXEC_FILE, which Debian's arm64 kernels are built without)"
                                      : "this kernel has no kexec_file_load (CONFIG_KEXEC_FILE is off)",
                                std::string(arm64 ? "boot the host on an arm64 kernel 5.0 or later built with "
                                                    "CONFIG_KEXEC_FILE (Ubuntu's, Fedora's and Amazon Linux's are)"
                                                  : "use a distribution kernel 5.0 or later (Ubuntu, Debian, Fedora "
                                                    "and Amazon Linux have it)") +
                                    kFirmwareInstead));
    } else if (err == EPERM) {
      r.checks.push_back(Refuse("kexec", "kexec_file_load is not permitted (EPERM)",
                                "run as root outside a container; check kernel.kexec_load_disabled"));
    } else {
      r.checks.push_back(Warn("kexec", std::string("probing kexec_file_load gave ") + strerrorname_np(err),
                              "the load itself will tell"));
    }
  }

  if (r.secure_boot) {
    r.checks.push_back(Ok("secure-boot", "on: the firmware boots only signed bootloaders and kernels "
                                         "(the disk takeover and --fallback=reboot are refused: run "
                                         "--keep-disk)"));
  } else if (r.secure_boot_unknown) {
    r.checks.push_back(Warn("secure-boot", "UEFI host without efivarfs: whether Secure Boot is on is unknown",
                            "mount -t efivarfs efivarfs /sys/firmware/efi/efivars (until then the disk takeover and "
                            "--fallback=reboot are refused: run --keep-disk)"));
  } else {
    r.checks.push_back(Ok("secure-boot", "off"));
  }

  std::string hypervisor(base::Trim(sys.ReadText("/sys/hypervisor/type").value_or("")));
  if (hypervisor == "xen") {
    r.checks.push_back(Warn("hypervisor", "Xen guest",
                            "kexec on Xen guests (older AWS instance types) is known to hang; prefer a Nitro "
                            "(KVM) instance type"));
  } else {
    r.checks.push_back(Ok("hypervisor", hypervisor.empty() ? "no Xen" : hypervisor));
  }

  std::string consoles = sys.ReadText("/proc/consoles").value_or("");
  std::size_t pos = 0;
  while (pos < consoles.size()) {
    std::size_t end = consoles.find('\n', pos);
    if (end == std::string::npos) end = consoles.size();
    std::string line = consoles.substr(pos, end - pos);
    if (!line.empty()) r.consoles.push_back(line.substr(0, line.find(' ')));
    pos = end + 1;
  }
  std::string list;
  for (const auto& c : r.consoles) list += (list.empty() ? "" : ", ") + c;
  r.checks.push_back(Ok("consoles", list.empty() ? "none found" : list));
  return r;
}

base::Result<void> FirmwareFallback(const PreflightReport& host, const base::Error& kexec_refusal, bool at_load) {
  if (!host.secure_boot && !host.secure_boot_unknown) return {};
  // Why kexec did not do it, in the words that tell the user what would.
  std::string kexec;
  std::string remedy;
  if (at_load && SignatureRejected(host, kexec_refusal.sys_errno())) {
    kexec = "kexec refused this RAM OS's kernel as not signed by a key this host trusts (" + kexec_refusal.message() +
            "): a kernel signed by such a key would have kexec'd";
    remedy = "use a RAM OS whose kernel is signed by a key this host trusts (kexec then works), or ";
  } else if (at_load) {
    kexec = "kexec failed (" + kexec_refusal.message() + ")";
    remedy = "fix what the load says, or ";
  } else if (host.KexecSignedOnly()) {
    kexec = "kexec is refused too (" + kexec_refusal.message() +
            "): this host's kernel kexecs only kernels signed by a key it trusts, and bootrino does not try under "
            "lockdown";
  } else {
    kexec = "kexec is refused too (" + kexec_refusal.message() + "): this host refuses every kexec";
  }
  const std::string firmware =
      host.secure_boot
          ? "UEFI Secure Boot is on, and the disk bootrino writes boots through bootloaders and a kernel that are "
            "not signed: the firmware would refuse them and this instance would never boot again"
          : "this UEFI host does not show whether Secure Boot is on (efivarfs is not mounted), and under Secure "
            "Boot the unsigned disk bootrino writes would never boot";
  std::string hint = host.secure_boot
                         ? remedy + "turn Secure Boot off in the instance's settings and run again (lockdown goes "
                                    "with it); nothing on this host was changed"
                         : "mount -t efivarfs efivarfs /sys/firmware/efi/efivars and run again; nothing on this "
                           "host was changed";
  return base::Fail(base::Error(base::ErrorKind::kPreflight, "--fallback=reboot refused: " + firmware + "; " + kexec)
                        .Hint(std::move(hint)));
}

}  // namespace kexec
