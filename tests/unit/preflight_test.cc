#include "kexec/preflight.h"

#include <gtest/gtest.h>

#include "tests/unit/fake_sys.h"

namespace kexec {
namespace {

using testing_support::FakeSys;

FakeSys HealthyHost() {
  FakeSys sys;
  sys.files["/proc/cmdline"] = "root=/dev/vda1 console=ttyS0\n";
  sys.files["/sys/kernel/security/lockdown"] = "[none] integrity confidentiality\n";
  sys.files["/proc/consoles"] = "ttyS0                -W- (EC p a)    4:64\n";
  return sys;
}

const Check* Find(const PreflightReport& r, const std::string& name) {
  for (const auto& c : r.checks) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

TEST(Lockdown, ModeFromSecurityfsOrCmdline) {
  EXPECT_EQ(LockdownMode("none [integrity] confidentiality\n", ""), "integrity");
  EXPECT_EQ(LockdownMode("[none] integrity confidentiality\n", "lockdown=integrity"), "none");
  EXPECT_EQ(LockdownMode("", "quiet lockdown=confidentiality"), "confidentiality");
  EXPECT_EQ(LockdownMode("", "quiet"), "unknown");
}

TEST(Preflight, HealthyHostPasses) {
  FakeSys sys = HealthyHost();
  PreflightReport r = RunPreflight(sys);
  EXPECT_TRUE(r.Verdict()) << r.Verdict().error().message();
  EXPECT_EQ(r.arch, "x86_64");
  EXPECT_EQ(r.lockdown, "none");
  EXPECT_EQ(r.consoles, std::vector<std::string>{"ttyS0"});
  EXPECT_TRUE(sys.kexec_calls.empty()) << "the probe must not count as a load";
}

TEST(Preflight, LockdownIsRefusedWithAdvice) {
  FakeSys sys = HealthyHost();
  sys.files["/sys/kernel/security/lockdown"] = "none [integrity] confidentiality\n";
  sys.files["/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-e0a9e7c5e3c"] = std::string("\x06\0\0\0\x01", 5);
  auto verdict = RunPreflight(sys).Verdict();
  ASSERT_FALSE(verdict);
  EXPECT_EQ(verdict.error().kind(), base::ErrorKind::kPreflight);
  EXPECT_EQ(verdict.error().message(), "lockdown: kernel lockdown is 'integrity' (UEFI Secure Boot is on)");
  EXPECT_NE(verdict.error().hint().find("Secure Boot"), std::string::npos);
}

TEST(Preflight, LockdownOnTheCmdlineWithoutSecurityfs) {
  FakeSys sys = HealthyHost();
  sys.files.erase("/sys/kernel/security/lockdown");
  sys.files["/proc/cmdline"] = "console=ttyS0 lockdown=integrity";
  EXPECT_FALSE(RunPreflight(sys).Verdict());
}

TEST(Preflight, EachRefusalNamesItsCause) {
  struct Case {
    std::function<void(FakeSys&)> breakit;
    std::string expected;
  };
  std::vector<Case> cases = {
      {[](FakeSys& s) { s.machine = "riscv64"; }, "architecture: riscv64 is not supported"},
      {[](FakeSys& s) { s.cap_sys_boot = false; }, "privileges: CAP_SYS_BOOT is missing"},
      {[](FakeSys& s) { s.probe_errno = ENOSYS; }, "kexec: this kernel has no kexec_file_load"},
      {[](FakeSys& s) { s.probe_errno = EPERM; }, "kexec: kexec_file_load is not permitted"},
      {[](FakeSys& s) { s.files["/proc/sys/kernel/kexec_load_disabled"] = "1\n"; }, "kexec is disabled until reboot"},
  };
  for (const auto& c : cases) {
    FakeSys sys = HealthyHost();
    c.breakit(sys);
    auto verdict = RunPreflight(sys).Verdict();
    ASSERT_FALSE(verdict) << c.expected;
    EXPECT_NE(verdict.error().message().find(c.expected), std::string::npos) << verdict.error().message();
    EXPECT_FALSE(verdict.error().hint().empty());
  }
}

// --fallback=reboot goes on only when the firmware can still do what kexec cannot.
TEST(Preflight, OnlyKexecRefusalsLeaveTheFirmwareReboot) {
  FakeSys healthy = HealthyHost();
  EXPECT_TRUE(RunPreflight(healthy).OnlyKexecRefused());
  FakeSys locked = HealthyHost();
  locked.files["/sys/kernel/security/lockdown"] = "none [integrity] confidentiality\n";
  EXPECT_TRUE(RunPreflight(locked).OnlyKexecRefused());
  FakeSys nokexec = HealthyHost();
  nokexec.probe_errno = ENOSYS;
  EXPECT_TRUE(RunPreflight(nokexec).OnlyKexecRefused());
  FakeSys unprivileged = locked;
  unprivileged.cap_sys_boot = false;  // reboot(2) needs CAP_SYS_BOOT as much as kexec does
  EXPECT_FALSE(RunPreflight(unprivileged).OnlyKexecRefused());
  FakeSys foreign = HealthyHost();
  foreign.machine = "riscv64";
  EXPECT_FALSE(RunPreflight(foreign).OnlyKexecRefused());
}

TEST(Preflight, XenIsAWarningNotARefusal) {
  FakeSys sys = HealthyHost();
  sys.files["/sys/hypervisor/type"] = "xen\n";
  PreflightReport r = RunPreflight(sys);
  EXPECT_TRUE(r.Verdict());
  const Check* c = Find(r, "hypervisor");
  ASSERT_NE(c, nullptr);
  EXPECT_FALSE(c->ok);
  EXPECT_FALSE(c->fatal);
}

}  // namespace
}  // namespace kexec
