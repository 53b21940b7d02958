#include "kexec/preflight.h"

#include <gtest/gtest.h>

#include <initializer_list>

#include "tests/unit/fake_sys.h"

namespace kexec {
namespace {

using testing_support::FakeSys;

// Spelled out, not kSecureBootVariable: the EFI global variable GUID
// (UEFI spec, EFI_GLOBAL_VARIABLE), which a typo in the constant must not pass.
const std::string kRealSecureBootPath = "/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c";

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

// What the tests do to a host, by name.
using Change = void (*)(FakeSys&);
void Lock(FakeSys& s) { s.files["/sys/kernel/security/lockdown"] = "none [integrity] confidentiality\n"; }
void DisableKexecLoad(FakeSys& s) { s.files["/proc/sys/kernel/kexec_load_disabled"] = "1\n"; }
void NoKexecFileLoad(FakeSys& s) { s.probe_errno = ENOSYS; }
void Unprivileged(FakeSys& s) { s.cap_sys_boot = false; }
void Riscv(FakeSys& s) { s.machine = "riscv64"; }

// `host` with `changes` made to it, preflighted.
PreflightReport PreflightOf(FakeSys host, std::initializer_list<Change> changes = {}) {
  for (Change change : changes) change(host);
  return RunPreflight(host);
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
  EXPECT_EQ(r.machine, "x86_64");
  EXPECT_EQ(r.arch, base::Arch::kX86_64);
  EXPECT_EQ(r.lockdown, "none");
  EXPECT_EQ(r.consoles, std::vector<std::string>{"ttyS0"});
  EXPECT_TRUE(sys.kexec_calls.empty()) << "the probe must not count as a load";
}

TEST(Preflight, LockdownIsRefusedWithAdvice) {
  FakeSys sys = HealthyHost();
  sys.files["/sys/kernel/security/lockdown"] = "none [integrity] confidentiality\n";
  sys.files[kRealSecureBootPath] = std::string("\x06\0\0\0\x01", 5);
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
    Change breakit;
    std::string expected;
  };
  std::vector<Case> cases = {
      {Riscv, "architecture: riscv64 is not supported"},
      {Unprivileged, "privileges: CAP_SYS_BOOT is missing"},
      {NoKexecFileLoad, "kexec: this kernel has no kexec_file_load"},
      {[](FakeSys& s) { s.probe_errno = EPERM; }, "kexec: kexec_file_load is not permitted"},
      {DisableKexecLoad, "kexec is disabled until reboot"},
  };
  for (const auto& c : cases) {
    auto verdict = PreflightOf(HealthyHost(), {c.breakit}).Verdict();
    ASSERT_FALSE(verdict) << c.expected;
    EXPECT_NE(verdict.error().message().find(c.expected), std::string::npos) << verdict.error().message();
    EXPECT_FALSE(verdict.error().hint().empty());
  }
}

// A kernel that cannot kexec at all still lets the firmware boot the disk: the advice says so, and on arm64
// names the kernels that have no kexec_file_load (Debian's among them).
TEST(Preflight, NoKexecOffersTheFirmwareInstead) {
  for (const char* machine : {"x86_64", "aarch64"}) {
    FakeSys nokexec = HealthyHost();
    nokexec.machine = machine;
    nokexec.probe_errno = ENOSYS;
    auto verdict = RunPreflight(nokexec).Verdict();
    ASSERT_FALSE(verdict);
    EXPECT_NE(verdict.error().hint().find("--fallback=reboot"), std::string::npos) << verdict.error().hint();
    EXPECT_EQ(verdict.error().message().find("arm64 kernels before 5.0") != std::string::npos,
              std::string(machine) == "aarch64")
        << verdict.error().message();
    // Debian's amd64 kernels have kexec_file_load, its arm64 ones do not: the advice must not send an arm64
    // host to the distribution it is most likely running.
    EXPECT_EQ(verdict.error().hint().find("Debian") != std::string::npos, std::string(machine) == "x86_64")
        << verdict.error().hint();
  }
  auto verdict = PreflightOf(HealthyHost(), {DisableKexecLoad}).Verdict();
  ASSERT_FALSE(verdict);
  EXPECT_NE(verdict.error().hint().find("--fallback=reboot"), std::string::npos) << verdict.error().hint();
}

// --fallback=reboot goes on only when the firmware can still do what kexec cannot.
TEST(Preflight, OnlyKexecRefusalsLeaveTheFirmwareReboot) {
  EXPECT_TRUE(PreflightOf(HealthyHost()).OnlyKexecRefused());
  EXPECT_TRUE(PreflightOf(HealthyHost(), {Lock}).OnlyKexecRefused());
  EXPECT_TRUE(PreflightOf(HealthyHost(), {NoKexecFileLoad}).OnlyKexecRefused());
  // reboot(2) needs CAP_SYS_BOOT as much as kexec does.
  EXPECT_FALSE(PreflightOf(HealthyHost(), {Lock, Unprivileged}).OnlyKexecRefused());
  const PreflightReport foreign = PreflightOf(HealthyHost(), {Riscv});
  EXPECT_FALSE(foreign.OnlyKexecRefused());
  EXPECT_EQ(foreign.machine, "riscv64") << "reported as found";
  EXPECT_EQ(foreign.arch, std::nullopt);
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

// A UEFI host with Secure Boot on, as Debian's and Ubuntu's signed kernels
// leave it: lockdown=integrity by itself, kexec_file_load there and permitted.
FakeSys SecureBootHost() {
  FakeSys sys = HealthyHost();
  sys.files["/sys/firmware/efi/fw_platform_size"] = "64\n";
  sys.files["/proc/self/mounts"] = "sysfs /sys sysfs rw 0 0\nefivarfs /sys/firmware/efi/efivars efivarfs rw 0 0\n";
  sys.files[kRealSecureBootPath] = std::string("\x06\0\0\0\x01", 5);
  sys.files["/sys/kernel/security/lockdown"] = "none [integrity] confidentiality\n";
  return sys;
}

TEST(SecureBoot, ReadFromTheEfiVariable) {
  FakeSys on = SecureBootHost();
  PreflightReport r = RunPreflight(on);
  EXPECT_TRUE(r.secure_boot);
  EXPECT_FALSE(r.secure_boot_unknown);
  const Check* c = Find(r, "secure-boot");
  ASSERT_NE(c, nullptr);
  EXPECT_NE(c->detail.find("on"), std::string::npos) << c->detail;

  FakeSys off = SecureBootHost();
  off.files[kRealSecureBootPath] = std::string("\x06\0\0\0\x00", 5);
  EXPECT_FALSE(RunPreflight(off).secure_boot);
  FakeSys no_variable = SecureBootHost();  // firmware without Secure Boot: efivarfs lacks the variable
  no_variable.files.erase(kRealSecureBootPath);
  PreflightReport none = RunPreflight(no_variable);
  EXPECT_FALSE(none.secure_boot);
  EXPECT_FALSE(none.secure_boot_unknown);
  FakeSys bios = HealthyHost();  // no /sys/firmware/efi at all
  EXPECT_FALSE(RunPreflight(bios).secure_boot);
  EXPECT_FALSE(RunPreflight(bios).secure_boot_unknown);
}

TEST(SecureBoot, UnknownOnUefiWithoutEfivarfs) {
  FakeSys sys = SecureBootHost();
  sys.files.erase(kRealSecureBootPath);
  sys.files["/proc/self/mounts"] = "sysfs /sys sysfs rw 0 0\nproc /proc proc rw 0 0\n";
  PreflightReport r = RunPreflight(sys);
  EXPECT_FALSE(r.secure_boot);
  EXPECT_TRUE(r.secure_boot_unknown);
  const Check* c = Find(r, "secure-boot");
  ASSERT_NE(c, nullptr);
  EXPECT_FALSE(c->ok);
  EXPECT_FALSE(c->fatal) << "a warning: kexec itself does not care";
  EXPECT_NE(c->advice.find("mount -t efivarfs"), std::string::npos) << c->advice;
}

TEST(SecureBoot, LockdownAloneMeansSignedKernelsOnly) {
  EXPECT_TRUE(PreflightOf(SecureBootHost()).KexecSignedOnly());
  EXPECT_FALSE(PreflightOf(SecureBootHost(), {DisableKexecLoad}).KexecSignedOnly());
  EXPECT_FALSE(PreflightOf(SecureBootHost(), {NoKexecFileLoad}).KexecSignedOnly());
  EXPECT_FALSE(PreflightOf(HealthyHost()).KexecSignedOnly());
}

// The fallback writes syslinux / systemd-boot and the manifest's kernel, none
// of them signed: under Secure Boot that disk never boots.
TEST(FirmwareFallback, RefusedUnderSecureBootBeforeTheLoad) {
  FakeSys sys = SecureBootHost();
  PreflightReport r = RunPreflight(sys);
  auto verdict = r.Verdict();
  ASSERT_FALSE(verdict);
  auto fallback = FirmwareFallback(r, verdict.error(), /*at_load=*/false);
  ASSERT_FALSE(fallback);
  const base::Error& e = fallback.error();
  EXPECT_EQ(e.kind(), base::ErrorKind::kPreflight);
  EXPECT_NE(e.message().find("--fallback=reboot refused: UEFI Secure Boot is on"), std::string::npos) << e.message();
  EXPECT_NE(e.message().find("would never boot again"), std::string::npos) << e.message();
  EXPECT_NE(e.message().find("lockdown: kernel lockdown is 'integrity'"), std::string::npos) << e.message();
  EXPECT_NE(e.message().find("kexecs only kernels signed by a key it trusts"), std::string::npos) << e.message();
  EXPECT_NE(e.hint().find("turn Secure Boot off"), std::string::npos) << e.hint();
  EXPECT_NE(e.hint().find("nothing on this host was changed"), std::string::npos) << e.hint();
  EXPECT_TRUE(sys.kexec_calls.empty());
  EXPECT_EQ(sys.reboots, 0);
}

TEST(FirmwareFallback, SaysWhenTheHostRefusesEveryKexec) {
  FakeSys sys = SecureBootHost();
  sys.files["/proc/sys/kernel/kexec_load_disabled"] = "1\n";
  PreflightReport r = RunPreflight(sys);
  auto fallback = FirmwareFallback(r, r.Verdict().error(), /*at_load=*/false);
  ASSERT_FALSE(fallback);
  EXPECT_NE(fallback.error().message().find("this host refuses every kexec"), std::string::npos)
      << fallback.error().message();
  EXPECT_EQ(fallback.error().message().find("signed by"), std::string::npos) << fallback.error().message();
}

TEST(FirmwareFallback, SaysWhenASignedKernelWouldHaveKexecd) {
  // Secure Boot on without lockdown (a kernel that does not lock itself
  // down), signatures enforced: the load is refused for the kernel's signature.
  FakeSys sys = SecureBootHost();
  sys.files["/sys/kernel/security/lockdown"] = "[none] integrity confidentiality\n";
  PreflightReport r = RunPreflight(sys);
  ASSERT_TRUE(r.Verdict());
  for (int err : {EKEYREJECTED, ENOKEY, EBADMSG, ENODATA}) {
    base::Error load(base::ErrorKind::kPreflight, "kexec_file_load(3, 4, \"\", 0x0) = " + std::to_string(err), err);
    auto fallback = FirmwareFallback(r, load, /*at_load=*/true);
    ASSERT_FALSE(fallback);
    EXPECT_NE(fallback.error().message().find("a kernel signed by such a key would have kexec'd"), std::string::npos)
        << fallback.error().message();
    EXPECT_NE(fallback.error().hint().find("whose kernel is signed by a key this host trusts"), std::string::npos)
        << fallback.error().hint();
  }
  // Under lockdown, an unsigned kernel's load answers EPERM.
  FakeSys locked = SecureBootHost();
  PreflightReport lr = RunPreflight(locked);
  auto eperm = FirmwareFallback(lr, base::Error(base::ErrorKind::kPreflight, "= EPERM", EPERM), /*at_load=*/true);
  ASSERT_FALSE(eperm);
  EXPECT_NE(eperm.error().message().find("would have kexec'd"), std::string::npos) << eperm.error().message();
  // Any other failed load is no verdict on signatures.
  auto enomem = FirmwareFallback(r, base::Error(base::ErrorKind::kNotEnoughRam, "= ENOMEM", ENOMEM), true);
  ASSERT_FALSE(enomem);
  EXPECT_EQ(enomem.error().kind(), base::ErrorKind::kPreflight);
  EXPECT_EQ(enomem.error().message().find("signed by"), std::string::npos) << enomem.error().message();
  EXPECT_NE(enomem.error().message().find("kexec failed (= ENOMEM)"), std::string::npos) << enomem.error().message();
}

TEST(FirmwareFallback, RefusedWhenSecureBootIsUnknown) {
  FakeSys sys = SecureBootHost();
  sys.files.erase(kRealSecureBootPath);
  sys.files["/proc/self/mounts"] = "proc /proc proc rw 0 0\n";
  PreflightReport r = RunPreflight(sys);
  auto fallback = FirmwareFallback(r, r.Verdict().error(), false);
  ASSERT_FALSE(fallback);
  EXPECT_NE(fallback.error().hint().find("mount -t efivarfs"), std::string::npos) << fallback.error().hint();
}

TEST(FirmwareFallback, AllowedWithoutSecureBoot) {
  FakeSys bios = HealthyHost();  // the VM tier's --fallback=reboot host: lockdown=integrity, SeaBIOS
  bios.files["/sys/kernel/security/lockdown"] = "none [integrity] confidentiality\n";
  PreflightReport r = RunPreflight(bios);
  EXPECT_TRUE(FirmwareFallback(r, r.Verdict().error(), false));
  FakeSys uefi_off = SecureBootHost();
  uefi_off.files[kRealSecureBootPath] = std::string("\x06\0\0\0\x00", 5);
  PreflightReport off = RunPreflight(uefi_off);
  EXPECT_TRUE(FirmwareFallback(off, off.Verdict().error(), false));
}

}  // namespace
}  // namespace kexec
