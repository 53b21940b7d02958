#include "kexec/load.h"

#include <algorithm>
#include <cerrno>
#include <initializer_list>
#include <cstring>

#include <fcntl.h>
#include <linux/kexec.h>

namespace kexec {
namespace {

using base::ErrorKind;

std::string ErrnoName(int err) {
  const char* name = strerrorname_np(err);
  return name ? name : std::to_string(err);
}

}  // namespace

std::string DescribeCall(int kernel_fd, int initrd_fd, const std::string& cmdline, unsigned long flags, int err) {
  std::string shown = cmdline.size() > 60 ? cmdline.substr(0, 57) + "..." : cmdline;
  char hex[32];
  snprintf(hex, sizeof hex, "0x%lx", flags);
  return "kexec_file_load(" + std::to_string(kernel_fd) + ", " + std::to_string(initrd_fd) + ", \"" + shown +
         "\", " + hex + ") = " + ErrnoName(err);
}

namespace {

/// What a kexec_file_load errno means for the user, and what to do about it.
struct LoadErrorMeaning {
  std::initializer_list<int> errnos;
  ErrorKind kind;
  const char* meaning;
  const char* hint;
};

const LoadErrorMeaning kLoadErrorMeanings[] = {
    {{EKEYREJECTED, ENOKEY, EBADMSG}, ErrorKind::kPreflight, "the kernel's signature was rejected",
     "this host only kexecs kernels signed by a key it trusts (lockdown or Secure Boot): "
     "use a signed kernel, or turn off Secure Boot for this instance"},
    {{EPERM}, ErrorKind::kPreflight, "not permitted",
     "needs root (CAP_SYS_BOOT); kernel lockdown and kernel.kexec_load_disabled also forbid it"},
    {{ENOEXEC}, ErrorKind::kManifest, "not a kernel this host can load",
     "the manifest's kernel must be a bzImage (x86_64) or Image (aarch64) for this architecture"},
    {{ENOSYS}, ErrorKind::kPreflight, "this kernel has no kexec_file_load",
     "use a distribution kernel built with CONFIG_KEXEC_FILE"},
    {{ENOMEM}, ErrorKind::kNotEnoughRam, "out of memory while loading",
     "use an instance with more memory or a smaller payload"},
    {{EBUSY}, ErrorKind::kPreflight, "another kexec load is in progress", "wait for it to finish, then retry"},
    {{EINVAL}, ErrorKind::kManifest, "invalid argument (command line too long, or a malformed image)",
     "check the manifest's kernel and cmdline"},
};

}  // namespace

base::Error ClassifyLoadError(int err, const std::string& call) {
  for (const LoadErrorMeaning& m : kLoadErrorMeanings) {
    if (std::find(m.errnos.begin(), m.errnos.end(), err) != m.errnos.end()) {
      return std::move(base::Error(m.kind, call + ": " + m.meaning, err).Hint(m.hint));
    }
  }
  return std::move(
      base::Error(ErrorKind::kInternal, call + ": " + std::strerror(err), err).Hint("report this, with the line above"));
}

base::Result<void> Load(base::Sys& sys, const BootPlan& plan) {
  ASSIGN_OR_RETURN(base::Fd kernel, base::Open(plan.kernel_path, O_RDONLY));
  base::Fd initrd;
  unsigned long flags = 0;
  if (plan.initrd_path.empty()) {
    flags |= KEXEC_FILE_NO_INITRAMFS;
  } else {
    ASSIGN_OR_RETURN(initrd, base::Open(plan.initrd_path, O_RDONLY));
  }
  int err = sys.KexecFileLoad(kernel.get(), initrd.valid() ? initrd.get() : -1, plan.cmdline, flags);
  if (err == 0) return {};
  return base::Fail(ClassifyLoadError(err, DescribeCall(kernel.get(), initrd.get(), plan.cmdline, flags, err)));
}

base::Result<void> Unload(base::Sys& sys) {
  int err = sys.KexecFileLoad(-1, -1, "", KEXEC_FILE_UNLOAD);
  if (err == 0) return {};
  return base::Fail(base::Error(ErrorKind::kInternal,
                                "could not unload the new kernel (KEXEC_FILE_UNLOAD): " +
                                    DescribeCall(-1, -1, "", KEXEC_FILE_UNLOAD, err),
                                err)
                        .Hint("the new kernel may still be loaded: run `kexec -u` (kexec-tools) before this host "
                              "reboots, or a `systemctl kexec` would boot it"));
}

base::Result<void> Boot(base::Sys& sys, bool disk_committed) {
  int err = sys.Reboot(base::RebootTarget::kKexec, !disk_committed);
  return base::Fail(base::Error(ErrorKind::kInternal, "reboot(LINUX_REBOOT_CMD_KEXEC) = " + ErrnoName(err), err)
                        .Hint(disk_committed ? "the disk now holds the new OS: reset the machine to boot it"
                                             : "the new kernel was loaded but the reboot failed; the host is unchanged"));
}

}  // namespace kexec
