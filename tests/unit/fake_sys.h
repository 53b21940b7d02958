// A recording Sys for unit tests: files are a map, syscalls return scripted
// errnos, and every kexec call is remembered for assertions.
#pragma once

#include <cerrno>
#include <map>
#include <string>
#include <vector>

#include <linux/kexec.h>

#include "base/sys.h"

namespace testing_support {

class FakeSys : public base::Sys {
 public:
  struct KexecCall {
    bool kernel_valid, initrd_valid;
    std::string cmdline;
    unsigned long flags;
  };

  std::map<std::string, std::string> files;
  std::string machine = "x86_64";
  bool cap_sys_boot = true;
  int probe_errno = EBADF;  ///< what kexec_file_load(-1, -1, …) answers
  int load_errno = 0;       ///< what a real load answers
  int reboot_errno = EINVAL;
  int lock_memory_errno = 0;  ///< what mlockall answers
  std::vector<base::InterfaceAddress> addresses;  ///< what getifaddrs answers
  int unload_errno = 0;     ///< what kexec_file_load(…, KEXEC_FILE_UNLOAD) answers
  std::vector<KexecCall> kexec_calls;  ///< loads (probes and unloads are not loads)
  int unloads = 0;                     ///< kexec_file_load(-1, -1, "", KEXEC_FILE_UNLOAD) calls
  int reboots = 0;
  base::RebootTarget last_reboot = base::RebootTarget::kFirmware;
  bool last_reboot_synced = false;

  base::Result<std::string> ReadText(const std::string& path) override {
    auto it = files.find(path);
    if (it == files.end()) return base::Fail(base::ErrorKind::kInternal, "open " + path + ": ENOENT", ENOENT);
    return it->second;
  }
  int KexecFileLoad(int kernel_fd, int initrd_fd, const std::string& cmdline, unsigned long flags) override {
    if (flags & KEXEC_FILE_UNLOAD) {
      // The kernel ignores the descriptors with this flag; bootrino passes -1, -1 and no command line.
      if (kernel_fd == -1 && initrd_fd == -1 && cmdline.empty()) ++unloads;
      return unload_errno;
    }
    if (kernel_fd < 0) return probe_errno;
    kexec_calls.push_back({kernel_fd >= 0, initrd_fd >= 0, cmdline, flags});
    return load_errno;
  }
  int Reboot(base::RebootTarget target, bool sync_first) override {
    ++reboots;
    last_reboot = target;
    last_reboot_synced = sync_first;
    return reboot_errno;
  }
  bool HasCapSysBoot() override { return cap_sys_boot; }
  int LockMemory() override { return lock_memory_errno; }
  std::string Machine() override { return machine; }
  base::Result<std::vector<base::InterfaceAddress>> InterfaceAddresses() override { return addresses; }
};

}  // namespace testing_support
