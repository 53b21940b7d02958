// `run`'s choice between kexec, --fallback=reboot's firmware boot and a stop,
// against a recording Sys: under UEFI Secure Boot the fallback is refused
// before the kernel's load (preflight) or right after the refused load, so no
// kexec image is left loaded, no reboot happens and `run` stops before its
// commit: nothing is written. The disk takeover itself is refused under
// Secure Boot unless --keep-disk, and a kernel loaded before a stop is unloaded.
#include "takeover/fallback.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>
#include <utility>

#include "tests/unit/fake_sys.h"
#include "tests/unit/scratch_dir.h"

namespace takeover {
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

// Whether `result` failed with an error of `kind` whose message says each of `message_parts` and whose hint
// each of `hint_parts`.
template <typename T>
::testing::AssertionResult FailedWith(const base::Result<T>& result, base::ErrorKind kind,
                                      std::initializer_list<std::string> message_parts,
                                      std::initializer_list<std::string> hint_parts = {}) {
  if (result) return ::testing::AssertionFailure() << "it succeeded";
  const base::Error& e = result.error();
  if (e.kind() != kind) return ::testing::AssertionFailure() << "another kind of error: " << e.message();
  for (const auto& [text, parts] : {std::pair{e.message(), message_parts}, std::pair{e.hint(), hint_parts}}) {
    for (const std::string& part : parts) {
      if (text.find(part) == std::string::npos)
        return ::testing::AssertionFailure() << "no \"" << part << "\" in: " << text;
    }
  }
  return ::testing::AssertionSuccess();
}

class Staged : public testing_support::TempDirTest {
 protected:
  Staged() : TempDirTest("fallback-test") {}
  const kexec::BootPlan plan_{Write("vmlinuz", "not signed"), Write("initrd", "initrd"), "console=ttyS0"};
  observe::Events events_;
};

TEST_F(Staged, SecureBootAndLockdownStopAtThePreflightBeforeAnyLoad) {
  FakeSys sys = Host(/*secure_boot=*/true, /*lockdown=*/true);
  kexec::PreflightReport host = kexec::RunPreflight(sys);
  auto path = PathAfterPreflight(host, /*fallback_reboot=*/true);
  EXPECT_TRUE(FailedWith(path, base::ErrorKind::kPreflight,
                         {"--fallback=reboot refused: UEFI Secure Boot is on", "signed by a key it trusts"}));
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
  EXPECT_TRUE(FailedWith(loaded, base::ErrorKind::kPreflight,
                         {"EKEYREJECTED", "a kernel signed by such a key would have kexec'd"}));
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

// Secure Boot with a kernel that does not lock itself down: kexec works, but
// the disk bootrino writes (unsigned syslinux / systemd-boot and kernel) would
// never boot. The takeover is refused before anything is loaded or written,
// unless --keep-disk.
TEST_F(Staged, SecureBootRefusesTheDiskTakeoverBeforeAnyLoad) {
  FakeSys sys = Host(/*secure_boot=*/true, /*lockdown=*/false);
  kexec::PreflightReport host = kexec::RunPreflight(sys);
  ASSERT_TRUE(host.Verdict()) << "kexec itself is allowed here";
  auto allowed = DiskTakeoverAllowed(host, /*keep_disk=*/false);
  // kDisk: exit 9, as the other disk refusals.
  EXPECT_TRUE(FailedWith(allowed, base::ErrorKind::kDisk, {"UEFI Secure Boot is on", "never boot again"},
                         {"--keep-disk", "turn Secure Boot off"}));
  EXPECT_TRUE(sys.kexec_calls.empty()) << "no kexec load";
  EXPECT_EQ(sys.unloads, 0);
  EXPECT_EQ(sys.reboots, 0);
}

TEST_F(Staged, SecureBootAllowsKexecOnlyWithKeepDisk) {
  FakeSys sys = Host(/*secure_boot=*/true, /*lockdown=*/false);
  kexec::PreflightReport host = kexec::RunPreflight(sys);
  EXPECT_TRUE(DiskTakeoverAllowed(host, /*keep_disk=*/true));
}

TEST_F(Staged, WithoutSecureBootTheDiskTakeoverIsAllowed) {
  FakeSys sys = Host(/*secure_boot=*/false, /*lockdown=*/false);
  kexec::PreflightReport host = kexec::RunPreflight(sys);
  auto allowed = DiskTakeoverAllowed(host, /*keep_disk=*/false);
  EXPECT_TRUE(allowed) << allowed.error().message();
  FakeSys bios = Host(false, false);  // no UEFI at all
  bios.files.erase(kSecureBoot);
  bios.files.erase("/sys/firmware/efi/fw_platform_size");
  EXPECT_TRUE(DiskTakeoverAllowed(kexec::RunPreflight(bios), false));
}

TEST_F(Staged, UnknownSecureBootRefusesTheDiskTakeover) {
  FakeSys sys = Host(/*secure_boot=*/false, /*lockdown=*/false);
  sys.files.erase(kSecureBoot);
  sys.files["/proc/self/mounts"] = "sysfs /sys sysfs rw 0 0\n";  // UEFI, efivarfs not mounted
  kexec::PreflightReport host = kexec::RunPreflight(sys);
  ASSERT_TRUE(host.secure_boot_unknown);
  auto allowed = DiskTakeoverAllowed(host, /*keep_disk=*/false);
  EXPECT_TRUE(FailedWith(allowed, base::ErrorKind::kDisk, {"efivarfs is not mounted"}, {"--keep-disk"}));
  EXPECT_TRUE(DiskTakeoverAllowed(host, /*keep_disk=*/true));
}

// The load is kernel-global: a stop between it and the commit must not leave
// it for a later `systemctl kexec` to boot.
TEST_F(Staged, AFailureAfterTheLoadUnloadsTheKernel) {
  FakeSys sys = Host(false, false);
  kexec::PreflightReport host = kexec::RunPreflight(sys);
  testing::internal::CaptureStderr();
  {
    LoadedKernelGuard loaded(sys, events_);
    auto path = LoadOrFallBack(sys, host, plan_, false, events_);
    ASSERT_TRUE(path) << path.error().message();
    loaded.Loaded();
    // Then detach, the old system's quiescing, the disk's open or a signal fails: `run` returns.
  }
  std::string said = testing::internal::GetCapturedStderr();
  ASSERT_EQ(sys.kexec_calls.size(), 1u);
  EXPECT_EQ(sys.unloads, 1) << "kexec_file_load(-1, -1, \"\", KEXEC_FILE_UNLOAD)";
  EXPECT_NE(said.find("unloaded the new kernel"), std::string::npos) << said;
}

TEST_F(Staged, AFailedUnloadIsSaidWithWhatToDo) {
  FakeSys sys = Host(false, false);
  sys.unload_errno = EBUSY;
  testing::internal::CaptureStderr();
  {
    LoadedKernelGuard loaded(sys, events_);
    loaded.Loaded();
  }
  std::string said = testing::internal::GetCapturedStderr();
  EXPECT_NE(said.find("could not unload the new kernel (KEXEC_FILE_UNLOAD)"), std::string::npos) << said;
  EXPECT_NE(said.find("EBUSY"), std::string::npos) << said;
  EXPECT_NE(said.find("kexec -u"), std::string::npos) << said;
}

TEST_F(Staged, TheCommitAndTheDetachedParentKeepTheKernelLoaded) {
  FakeSys sys = Host(false, false);
  {
    LoadedKernelGuard loaded(sys, events_);
    ASSERT_TRUE(kexec::Load(sys, plan_));
    loaded.Loaded();
    loaded.Keep();  // the commit writes the disk, or the reboot goes ahead
  }
  EXPECT_EQ(sys.unloads, 0);
  {
    LoadedKernelGuard loaded(sys, events_);
    ASSERT_TRUE(kexec::Load(sys, plan_));
    loaded.Loaded();
    loaded.HandOver();  // the detached parent returns 0; its child boots what was loaded
  }
  EXPECT_EQ(sys.unloads, 0);
  {
    LoadedKernelGuard nothing_loaded(sys, events_);  // a dry run, or --fallback=reboot's firmware path
  }
  EXPECT_EQ(sys.unloads, 0);
  EXPECT_EQ(sys.kexec_calls.size(), 2u);
}

}  // namespace
}  // namespace takeover
