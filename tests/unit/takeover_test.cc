// The takeover's decisions that can be checked without a disk: whether a
// failed mlockall stops the commit (only when bootrino runs from the disk it
// is about to rewrite, or may), whether the disk it would write could boot,
// and the "what to do" line every error gets.
#include "takeover/disk_takeover.h"

#include <cerrno>

#include <gtest/gtest.h>

#include "disk/bootloader.h"
#include "kexec/cmdline.h"
#include "observe/outcome.h"
#include "ramos/boot_plan.h"
#include "tests/unit/fake_sys.h"

namespace takeover {
namespace {

disk::TargetDisk Vda() {
  disk::TargetDisk t;
  t.name = "vda";
  t.device = "/dev/vda";
  t.mounts = {"/", "/boot/efi"};
  return t;
}

TEST(LockInMemory, LockedIsFine) {
  testing_support::FakeSys sys;
  observe::Events events;
  EXPECT_TRUE(LockInMemory(sys, Vda(), {10, 11}, dev_t{10}, events));
}

TEST(LockInMemory, UnlockedWhileRunningFromTheTargetStopsBeforeAnythingChanges) {
  testing_support::FakeSys sys;
  sys.lock_memory_errno = ENOMEM;
  observe::Events events;
  auto r = LockInMemory(sys, Vda(), {10, 11}, dev_t{11}, events);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), base::ErrorKind::kDisk);
  EXPECT_EQ(r.error().sys_errno(), ENOMEM);
  EXPECT_NE(r.error().message().find("bootrino runs from /dev/vda, which it is about to rewrite"), std::string::npos)
      << r.error().message();
  EXPECT_NE(r.error().hint().find("copy it to /run"), std::string::npos) << r.error().hint();
  EXPECT_NE(r.error().hint().find("nothing was changed"), std::string::npos) << r.error().hint();
}

TEST(LockInMemory, UnlockedAndUnsureWhereItRunsFromStopsToo) {
  testing_support::FakeSys sys;
  sys.lock_memory_errno = EPERM;
  observe::Events events;
  EXPECT_FALSE(LockInMemory(sys, Vda(), {10}, std::nullopt, events));
}

TEST(LockInMemory, UnlockedWhileRunningFromRamGoesOnWithAWarning) {
  testing_support::FakeSys sys;
  sys.lock_memory_errno = ENOMEM;
  observe::Events events;
  testing::internal::CaptureStderr();
  auto r = LockInMemory(sys, Vda(), {10, 11}, dev_t{42}, events);  // 42: the tmpfs under /run
  std::string said = testing::internal::GetCapturedStderr();
  EXPECT_TRUE(r);
  EXPECT_NE(said.find("mlockall"), std::string::npos) << said;
  EXPECT_NE(said.find("does not run from /dev/vda"), std::string::npos) << said;
}

TEST(WhatToDo, TheHintWhenThereIsOne) {
  EXPECT_EQ(observe::WhatToDo(base::Error(base::ErrorKind::kDisk, "x").Hint("do y")), "do y");
}

TEST(WhatToDo, AdviceForEveryKindWithoutAHint) {
  for (auto kind : {base::ErrorKind::kInternal, base::ErrorKind::kUsage, base::ErrorKind::kVerification,
                    base::ErrorKind::kNetwork, base::ErrorKind::kNotEnoughRam, base::ErrorKind::kPreflight,
                    base::ErrorKind::kManifest, base::ErrorKind::kHook, base::ErrorKind::kDisk}) {
    std::string advice = observe::WhatToDo(base::Error(kind, "something failed"));
    EXPECT_GT(advice.size(), 20u) << static_cast<int>(kind);
  }
  EXPECT_NE(observe::WhatToDo(base::Error(base::ErrorKind::kNetwork, "x")).find("nothing was changed"),
            std::string::npos);
}

TEST(Report, AlwaysPrintsAWhatToDoLine) {
  observe::Events events;
  testing::internal::CaptureStderr();
  int code = observe::Report(base::Error(base::ErrorKind::kDisk, "the disk is odd"), events, observe::Phase::kDisk);
  std::string said = testing::internal::GetCapturedStderr();
  EXPECT_EQ(code, 9);
  EXPECT_NE(said.find("bootrino: error: the disk is odd\n"), std::string::npos) << said;
  EXPECT_NE(said.find("bootrino: what to do: name the disk to replace with --disk"), std::string::npos) << said;
}

// Each build writes its own architecture's bootloaders: a disk for another would never boot again.
TEST(BootloadersFor, OnlyThisBuildsArchitecture) {
  const base::Arch mine = disk::BootloaderArch();
  EXPECT_TRUE(BootloadersFor(mine).has_value());
  const base::Arch other = mine == base::Arch::kX86_64 ? base::Arch::kAarch64 : base::Arch::kX86_64;
  auto r = BootloadersFor(other);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind(), base::ErrorKind::kDisk);
  const std::string says = "carries the " + std::string(base::ArchName(mine)) +
                           " bootloaders only: it cannot make a disk bootable on " + std::string(base::ArchName(other));
  EXPECT_NE(r.error().message().find(says), std::string::npos)
      << r.error().message();
  EXPECT_NE(r.error().hint().find("bootrino-" + std::string(base::ArchName(other)) + " release"), std::string::npos)
      << r.error().hint();
  EXPECT_NE(r.error().hint().find("--keep-disk"), std::string::npos) << r.error().hint();
}

// On aarch64 the firmware starts the kernel from the disk through systemd-boot: a PE, of a size known before
// the layout is planned. x86_64 kernels go to the disk as they are.
TEST(DiskCanBoot, Arm64NeedsAnEfiStubAndAKnownSize) {
  ramos::BootPlans plans;
  plans.disk.kernel = {"vmlinuz", "/stage/kernel.Image", "", 30 << 20, {}};
  kexec::KernelHeader gz;
  gz.format = kexec::KernelFormat::kGzip;
  gz.content = kexec::KernelFormat::kArm64Image;
  gz.efi_stub = true;
  gz.decompressed_size = 30 << 20;
  EXPECT_TRUE(ramos::DiskCanBoot(base::Arch::kAarch64, gz, plans).has_value());

  kexec::KernelHeader no_stub = gz;
  no_stub.efi_stub = false;
  auto stub = ramos::DiskCanBoot(base::Arch::kAarch64, no_stub, plans);
  ASSERT_FALSE(stub.has_value());
  EXPECT_EQ(stub.error().kind(), base::ErrorKind::kManifest);
  EXPECT_NE(stub.error().message().find("vmlinuz has no EFI stub"), std::string::npos) << stub.error().message();
  EXPECT_NE(stub.error().hint().find("CONFIG_EFI_STUB"), std::string::npos) << stub.error().hint();
  EXPECT_NE(stub.error().hint().find("--keep-disk"), std::string::npos) << stub.error().hint();
  EXPECT_TRUE(ramos::DiskCanBoot(base::Arch::kX86_64, no_stub, plans).has_value()) << "x86_64 does not look at it";

  ramos::BootPlans unsized = plans;
  unsized.disk.kernel.size = 0;  // a zstd frame that does not record its content size
  auto size = ramos::DiskCanBoot(base::Arch::kAarch64, gz, unsized);
  ASSERT_FALSE(size.has_value());
  EXPECT_EQ(size.error().kind(), base::ErrorKind::kManifest);
  EXPECT_NE(size.error().message().find("does not record its decompressed size"), std::string::npos)
      << size.error().message();
  EXPECT_NE(size.error().hint().find("gzip'd"), std::string::npos) << size.error().hint();
}

// `bootrino image` knows nothing of the machine the disk will boot: on x86_64 its serial console is ttyS0 (after
// the screen, so that it is /dev/console); an arm64 one is a PL011 or a 16550, which its firmware names when the
// command line names none. x86's ttyS0 there would leave the RAM OS's /dev/console on the screen of a PL011 machine.
TEST(HostConsoles, CloudDefaultNamesTheSerialConsoleOnlyWhereItIsKnown) {
  auto composed = [](base::Arch arch, std::string manifest) {
    const ramos::HostConsoles host = ramos::HostConsoles::CloudDefault(arch);
    auto cmdline = kexec::ComposeCmdline({std::move(manifest), host.cmdline, host.consoles, {}}, arch);
    EXPECT_TRUE(cmdline.has_value());
    return cmdline.value_or("");
  };
  EXPECT_EQ(composed(base::Arch::kX86_64, "quiet"), "quiet console=tty0 console=ttyS0,115200n8");
  EXPECT_EQ(composed(base::Arch::kAarch64, "quiet"), "quiet");
  EXPECT_EQ(composed(base::Arch::kAarch64, "quiet console=ttyAMA0"), "quiet console=ttyAMA0")
      << "a manifest's own console stays";
}

}  // namespace
}  // namespace takeover
