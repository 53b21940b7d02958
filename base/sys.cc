#include "base/sys.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <linux/kexec.h>
#include <linux/reboot.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

namespace base {
namespace {

class LinuxSys : public Sys {
 public:
  Result<std::string> ReadText(const std::string& path) override { return ReadFile(path, 1 << 20); }

  int KexecFileLoad(int kernel_fd, int initrd_fd, const std::string& cmdline, unsigned long flags) override {
    // The length counts the trailing NUL (kexec_file_load(2)); an empty
    // command line is passed as length 0 and NULL.
    const char* text = cmdline.empty() ? nullptr : cmdline.c_str();
    unsigned long length = cmdline.empty() ? 0 : cmdline.size() + 1;
    if (syscall(SYS_kexec_file_load, kernel_fd, initrd_fd, length, text, flags) == 0) return 0;
    return errno;
  }

  int Reboot(RebootTarget target, bool sync_first) override {
    if (sync_first) sync();
    int cmd = target == RebootTarget::kKexec ? LINUX_REBOOT_CMD_KEXEC : LINUX_REBOOT_CMD_RESTART;
    syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, cmd, nullptr);
    return errno;
  }

  bool HasCapSysBoot() override {
    // CapEff in /proc/self/status is a hex mask; CAP_SYS_BOOT is bit 22 (linux/capability.h).
    auto status = ReadFile("/proc/self/status", 1 << 16);
    if (!status) return geteuid() == 0;
    auto at = status->find("CapEff:");
    if (at == std::string::npos) return geteuid() == 0;
    unsigned long long mask = std::strtoull(status->c_str() + at + 7, nullptr, 16);
    return (mask >> 22) & 1;
  }

  int LockMemory() override { return mlockall(MCL_CURRENT) == 0 ? 0 : errno; }

  std::string Machine() override {
    utsname u{};
    uname(&u);
    return u.machine;
  }

  Result<std::vector<InterfaceAddress>> InterfaceAddresses() override {
    ifaddrs* list = nullptr;
    if (getifaddrs(&list) != 0) {
      int err = errno;
      return Fail(ErrorKind::kInternal, std::string("getifaddrs: ") + std::strerror(err), err);
    }
    std::unique_ptr<ifaddrs, void (*)(ifaddrs*)> owner(list, freeifaddrs);
    std::vector<InterfaceAddress> out;
    for (const ifaddrs* i = list; i; i = i->ifa_next) {
      if (!i->ifa_addr || !i->ifa_netmask || !i->ifa_name) continue;
      const int family = i->ifa_addr->sa_family;
      if (family != AF_INET && family != AF_INET6) continue;
      const bool v6 = family == AF_INET6;
      const void* addr = v6 ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in6*>(i->ifa_addr)->sin6_addr)
                            : static_cast<const void*>(&reinterpret_cast<const sockaddr_in*>(i->ifa_addr)->sin_addr);
      const auto* mask = v6 ? reinterpret_cast<const unsigned char*>(
                                  &reinterpret_cast<const sockaddr_in6*>(i->ifa_netmask)->sin6_addr)
                            : reinterpret_cast<const unsigned char*>(
                                  &reinterpret_cast<const sockaddr_in*>(i->ifa_netmask)->sin_addr);
      char text[INET6_ADDRSTRLEN] = {};
      if (!inet_ntop(family, addr, text, sizeof text)) continue;
      unsigned prefix = 0;
      for (int b = 0; b < (v6 ? 16 : 4); ++b) prefix += static_cast<unsigned>(__builtin_popcount(mask[b]));
      out.push_back({i->ifa_name, text, prefix, v6});
    }
    return out;
  }
};

}  // namespace

Sys& RealSys() {
  static LinuxSys sys;
  return sys;
}

}  // namespace base
