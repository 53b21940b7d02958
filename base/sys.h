// The narrow layer between bootrino and the syscalls that change the machine
// or reveal its state. RealSys calls the kernel; tests use a recording fake,
// so every plan's side effects can be asserted exactly (docs/architecture.md, rule 6).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/fd.h"
#include "base/result.h"

namespace base {

enum class RebootTarget { kKexec, kFirmware };

/// One IPv4 or IPv6 address of a network interface, as getifaddrs(3) reports it.
struct InterfaceAddress {
  std::string interface;  ///< "eth0"
  std::string address;    ///< "203.0.113.5", "2001:db8::5"
  unsigned prefix = 0;    ///< bits set in the netmask
  bool ipv6 = false;
};

class Sys {
 public:
  virtual ~Sys() = default;

  /// Reads a small text file such as /proc/cmdline or /sys/kernel/security/lockdown.
  /// An absent file is an error with sys_errno() == ENOENT.
  [[nodiscard]] virtual Result<std::string> ReadText(const std::string& path) = 0;

  /// kexec_file_load(2). Returns the raw errno on failure (0 on success); the
  /// caller classifies it. `initrd_fd` < 0 means no initrd.
  virtual int KexecFileLoad(int kernel_fd, int initrd_fd, const std::string& cmdline, unsigned long flags) = 0;

  /// reboot(2) into the loaded kexec kernel or through the firmware, after
  /// sync(2) when `sync_first` (not once the old filesystems are frozen: a sync
  /// would wait for them). Returns only on failure, with errno.
  virtual int Reboot(RebootTarget target, bool sync_first) = 0;

  /// True when the effective capability set holds CAP_SYS_BOOT.
  virtual bool HasCapSysBoot() = 0;

  /// mlockall(MCL_CURRENT): this process's pages stay in RAM from now on.
  /// Returns 0, or errno.
  virtual int LockMemory() = 0;

  /// uname(2)'s machine field ("x86_64", "aarch64").
  virtual std::string Machine() = 0;

  /// getifaddrs(3): every IPv4 and IPv6 address of every interface, in its order.
  [[nodiscard]] virtual Result<std::vector<InterfaceAddress>> InterfaceAddresses() = 0;
};

/// The real thing.
Sys& RealSys();

}  // namespace base
