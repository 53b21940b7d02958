#include "kexec/preflight.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "kexec/cmdline.h"

namespace kexec {
namespace {

constexpr const char* kLockdownAdvice =
    "the kernel only kexecs kernels signed by a key it trusts: turn off Secure Boot for this instance "
    "(or boot the host without lockdown), or pass --fallback=reboot to write the disk and reboot through the "
    "firmware into the new OS";

Check Ok(std::string name, std::string detail) { return Check{std::move(name), true, true, std::move(detail), ""}; }
Check Refuse(std::string name, std::string detail, std::string advice) {
  return Check{std::move(name), false, true, std::move(detail), std::move(advice)};
}
Check Warn(std::string name, std::string detail, std::string advice) {
  return Check{std::move(name), false, false, std::move(detail), std::move(advice)};
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
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
  r.arch = sys.Machine();
  if (r.arch == "x86_64" || r.arch == "aarch64") {
    r.checks.push_back(Ok("architecture", r.arch));
  } else {
    r.checks.push_back(Refuse("architecture", r.arch + " is not supported", "bootrino runs on x86_64 and aarch64"));
  }

  if (sys.HasCapSysBoot()) {
    r.checks.push_back(Ok("privileges", "CAP_SYS_BOOT held"));
  } else {
    r.checks.push_back(Refuse("privileges", "CAP_SYS_BOOT is missing", "run bootrino as root (sudo)"));
  }

  std::string cmdline = sys.ReadText("/proc/cmdline").value_or("");
  r.lockdown = LockdownMode(sys.ReadText("/sys/kernel/security/lockdown").value_or(""), cmdline);
  auto secure_boot = sys.ReadText("/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-e0a9e7c5e3c");
  // efivarfs files are 4 bytes of attributes, then the value.
  r.secure_boot = secure_boot && secure_boot->size() >= 5 && (*secure_boot)[4] == 1;
  if (r.lockdown == "integrity" || r.lockdown == "confidentiality") {
    r.checks.push_back(Refuse("lockdown", "kernel lockdown is '" + r.lockdown + "'" +
                                              (r.secure_boot ? " (UEFI Secure Boot is on)" : ""),
                              kLockdownAdvice));
  } else {
    r.checks.push_back(Ok("lockdown", r.lockdown + (r.secure_boot ? ", Secure Boot on" : "")));
  }

  if (Trim(sys.ReadText("/proc/sys/kernel/kexec_load_disabled").value_or("0")) == "1") {
    r.checks.push_back(Refuse("kexec", "kexec is disabled until reboot (sysctl kernel.kexec_load_disabled = 1)",
                              "reboot the host without setting kernel.kexec_load_disabled"));
  } else {
    int err = sys.KexecFileLoad(-1, -1, "", 0);
    if (err == EBADF) {
      r.checks.push_back(Ok("kexec", "kexec_file_load available"));
    } else if (err == ENOSYS) {
      r.checks.push_back(Refuse("kexec", "this kernel has no kexec_file_load (CONFIG_KEXEC_FILE is off)",
                                "use a distribution kernel (Ubuntu, Debian, Fedora and Amazon Linux have it)"));
    } else if (err == EPERM) {
      r.checks.push_back(Refuse("kexec", "kexec_file_load is not permitted (EPERM)",
                                "run as root outside a container; check kernel.kexec_load_disabled"));
    } else {
      r.checks.push_back(Warn("kexec", std::string("probing kexec_file_load gave ") + strerrorname_np(err),
                              "the load itself will tell"));
    }
  }

  std::string hypervisor = Trim(sys.ReadText("/sys/hypervisor/type").value_or(""));
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

}  // namespace kexec
