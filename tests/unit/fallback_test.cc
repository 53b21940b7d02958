// `run`'s choice between kexec, --fallback=reboot's firmware boot and a stop,
// against a recording Sys: under UEFI Secure Boot the fallback is refused
// before the kernel's load (preflight) or right after the refused load, so no
// kexec image is left loaded, no reboot happens and `run` stops before its
// commit: nothing is written.
#include "agent/fallback.h"

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "tests/unit/fake_sys.h"

namespace agent {
namespace {

using testing_support::FakeSys;

const std::string kSecureBoot = "/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c";

FakeSys Host(bool secure_boot, bool lockdown) {
  FakeSys sys;
  sys.files["/proc/cmdline"] = "root=/dev/vda1 console=ttyS0\n";
  sys.files["/sys/kernel/security/lockdown"] =
      lockdown ? "none [integrity] confidentiality\n" : "[none] integrity confidentiality\n";
  sys.files["/proc/consoles"] = "ttyS0                -W- (EC p a)    4:64\n";
  sys.files["/sys/firmware/efi/fw_platform_size"] = "64\n";
  sys.files["/proc/self/mounts"] = "efivarfs /sys/firmware/efi/efivars efivarfs rw 0 0\n";
  sys.files[kSecureBoot] = std::string("\x06\0\0\0", 4) + (secure_boot ? '\x01' : '\x00');
  return sys;
}

class Staged : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/bootrino-fallback-test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    std::ofstream(dir_ + "/vmlinuz") << "not signed";
    std::ofstream(dir_ + "/initrd") << "initrd";
    plan_ = {dir_ + "/vmlinuz", dir_ + "/initrd", "console=ttyS0"};
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
  kexec::BootPlan plan_;
  Events events_;
};

TEST_F(Staged, SecureBootAndLockdownStopAtThePreflightBeforeAnyLoad) {
  FakeSys sys = Host(/*secure_boot=*/true, /*lockdown=*/true);
  kexec::PreflightReport host = kexec::RunPreflight(sys);
  auto path = PathAfterPreflight(host, /*fallback_reboot=*/true);
  ASSERT_FALSE(path);
  EXPECT_EQ(path.error().kind(), base::ErrorKind::kPreflight);
  EXPECT_NE(path.error().message().find("--fallback=reboot refused: UEFI Secure Boot is on"), std::string::npos)
      << path.error().message();
  EXPECT_NE(path.error().message().find("signed by a key it trusts"), std::string::npos) << path.error().message();
  EXPECT_TRUE(sys.kexec_calls.empty());
  EXPECT_EQ(sys.reboots, 0);
}

TEST_F(Staged, SecureBootStopsAtARefusedLoadBeforeTheCommit) {
  FakeSys sys = Host(/*secure_boot=*/true, /*lockdown=*/false);
  sys.load_errno = EKEYREJECTED;
  kexec::PreflightReport host = kexec::RunPreflight(sys);
  auto path = PathAfterPreflight(host, true);
  ASSERT_TRUE(path) << path.error().message();
  EXPECT_EQ(*path, BootPath::kKexec);
  testing::internal::CaptureStderr();
  auto loaded = LoadOrFallBack(sys, host, plan_, /*fallback_reboot=*/true, events_);
  std::string said = testing::internal::GetCapturedStderr();
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().kind(), base::ErrorKind::kPreflight);
  EXPECT_NE(loaded.error().message().find("EKEYREJECTED"), std::string::npos) << loaded.error().message();
  EXPECT_NE(loaded.error().message().find("a kernel signed by such a key would have kexec'd"), std::string::npos)
      << loaded.error().message();
  EXPECT_EQ(said.find("booting through the firmware"), std::string::npos) << said;
  ASSERT_EQ(sys.kexec_calls.size(), 1u) << "the one refused load";
  EXPECT_EQ(sys.reboots, 0);
}

// What vm.fallback_reboot runs: lockdown without Secure Boot (SeaBIOS).
TEST_F(Staged, WithoutSecureBootTheFirmwareStillBootsTheDisk) {
  FakeSys sys = Host(/*secure_boot=*/false, /*lockdown=*/true);
  kexec::PreflightReport host = kexec::RunPreflight(sys);
  auto path = PathAfterPreflight(host, true);
  ASSERT_TRUE(path) << path.error().message();
  EXPECT_EQ(*path, BootPath::kFirmware);
  EXPECT_FALSE(PathAfterPreflight(host, /*fallback_reboot=*/false));

  FakeSys open = Host(false, false);
  open.load_errno = EKEYREJECTED;
  kexec::PreflightReport open_host = kexec::RunPreflight(open);
  testing::internal::CaptureStderr();
  auto loaded = LoadOrFallBack(open, open_host, plan_, true, events_);
  std::string said = testing::internal::GetCapturedStderr();
  ASSERT_TRUE(loaded) << loaded.error().message();
  EXPECT_EQ(*loaded, BootPath::kFirmware);
  EXPECT_NE(said.find("--fallback=reboot: booting through the firmware instead"), std::string::npos) << said;
  EXPECT_EQ(open.reboots, 0) << "the reboot comes after the commit, not here";
}

TEST_F(Staged, WithoutTheFallbackARefusedLoadIsTheLoadsError) {
  FakeSys sys = Host(true, false);
  sys.load_errno = EKEYREJECTED;
  kexec::PreflightReport host = kexec::RunPreflight(sys);
  auto loaded = LoadOrFallBack(sys, host, plan_, /*fallback_reboot=*/false, events_);
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().message().find("the kernel's signature was rejected"), std::string::npos)
      << loaded.error().message();
  EXPECT_EQ(loaded.error().message().find("--fallback=reboot"), std::string::npos) << loaded.error().message();
}

TEST_F(Staged, ALoadThatWorksIsKexec) {
  FakeSys sys = Host(true, false);
  kexec::PreflightReport host = kexec::RunPreflight(sys);
  auto loaded = LoadOrFallBack(sys, host, plan_, true, events_);
  ASSERT_TRUE(loaded) << loaded.error().message();
  EXPECT_EQ(*loaded, BootPath::kKexec);
  EXPECT_EQ(sys.kexec_calls.size(), 1u);
}

}  // namespace
}  // namespace agent
