// The takeover executed against a recording Sys: the exact order of the
// commit for each safety rule, and a failure injected at every step of it.
// The disk is a memfd the fake hands out as /dev/vda, so the real writers
// (FAT32, ext4, GPT, MBR) run, and a test can tell whether a byte of it changed.
#include "takeover/execute.h"

#include <gtest/gtest.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "kexec/initrd.h"
#include "takeover/disk_takeover.h"
#include "tests/unit/fake_sys.h"
#include "tests/unit/scratch_dir.h"

namespace takeover {
namespace {

namespace fs = std::filesystem;
using testing_support::FakeSys;
using Log = std::vector<std::string>;

constexpr std::uint64_t kMiB = 1 << 20;
constexpr std::uint64_t kDiskBytes = 370 * kMiB;  // the smallest the layout takes with a 300 MiB boot partition
const dev_t kVda = makedev(252, 0), kVda1 = makedev(252, 1), kVda2 = makedev(252, 2), kVda15 = makedev(252, 15);

// What the host looks like: / on vda1 and /boot/efi on vda15, swap on vda2 and in /swap.img on /,
// /proc on no disk and /mnt on another one.
void DescribeHost(FakeSys& sys) {
  sys.files["/proc/self/mountinfo"] =
      "22 1 252:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n"
      "23 22 0:21 / /proc rw - proc proc rw\n"
      "24 22 252:15 / /boot/efi rw - vfat /dev/vda15 rw\n"
      "25 22 252:17 / /mnt rw - ext4 /dev/vdb1 rw\n";
  sys.files["/proc/swaps"] =
      "Filename\tType\tSize\tUsed\tPriority\n/dev/vda2 partition 1048572 0 -2\n/swap.img file 1048572 0 -3\n"
      "/dev/vdb2 partition 1048572 0 -4\n";
  sys.paths["/dev/vda2"] = {true, 0, kVda2};
  sys.paths["/dev/vdb2"] = {true, 0, makedev(252, 18)};
  sys.paths["/swap.img"] = {false, kVda1, 0};
  sys.paths["/proc/self/exe"] = {false, makedev(0, 30), 0};  // bootrino runs from a tmpfs
  sys.MakeDisk("/dev/vda", kDiskBytes, kVda);
}

class ExecuteTest : public testing_support::TempDirTest {
 protected:
  ExecuteTest() : TempDirTest("execute-test") {
    fs::create_directories(dir_ / ".bootrino");
    Write("vmlinuz", std::string(300000, 'K'));
    Write("initrd.gz", std::string(100000, 'I'));
    DescribeHost(sys_);
  }

  /// A plan as PlanTakeover makes one: kexec, the disk, no detach.
  TakeoverPlan Plan(BootPath path = BootPath::kKexec, bool with_disk = true) {
    TakeoverPlan plan;
    plan.arch = base::Arch::kX86_64;
    plan.name = "TestOS";
    plan.stage_dir = dir_.string();
    plan.path = path;
    const std::string kernel = (dir_ / "vmlinuz").string(), initrd = (dir_ / "initrd.gz").string();
    plan.boot.kexec = {kernel, (dir_ / ".bootrino/initrd.img").string(), "console=ttyS0 bootrino.id=1"};
    plan.boot.kexec_initrd = {plan.boot.kexec.initrd_path, {initrd}, "ONCE", kexec::ComposedInitrdBytes({100000}, 4)};
    plan.boot.disk.title = "TestOS 1";
    plan.boot.disk.kernel = {"vmlinuz", kernel, "", 300000, {}};
    // Composed from the staged initrd while the disk is written, as PlanBoot plans it.
    plan.boot.disk.initrds = {{"bootrino-initrd.img", "", "KEEP", kexec::ComposedInitrdBytes({100000}, 4),
                               {{initrd, 100000, kexec::ComposedInitrdBytes({100000}, 0)}}}};
    plan.boot.disk.cmdline = "console=ttyS0";
    if (with_disk) {
      disk::TargetDisk target{"vda", "/dev/vda", kDiskBytes, 512, "/dev/vda1", {"/", "/boot/efi"}, true,
                              {kVda, kVda1, kVda2, kVda15}};
      fetch::DiskSpec spec;
      spec.boot_partition_mib = 300;
      auto prepared = PlanDisk(kDiskBytes, 512, spec, plan.boot.disk, 7);
      EXPECT_TRUE(prepared) << prepared.error().message();
      plan.disk = DiskTakeover{target, std::move(*prepared)};
    }
    plan.steps = PlanSteps(plan.path, false, with_disk, false);
    return plan;
  }

  /// The disk as the fake holds it now, compared with how it started.
  bool DiskUntouched() const {
    const std::string start(kMiB, 'O');
    for (std::uint64_t at = 0; at < kDiskBytes; at += kMiB) {
      if (sys_.DiskBytes(at, kMiB) != start) return false;
    }
    return true;
  }

  FakeSys sys_;
  observe::Events events_;
};

// The whole commit, in the order the safety rules demand.
const Log kCommit = {
    "kexec load",                      // rule 2: the kernel is loaded before anything is changed
    "commit point",                    // signals no longer stop bootrino
    "mlockall",                        // rule 4: bootrino needs nothing from the disk from here on
    "sync",                            // before any freeze: a sync would wait for a frozen filesystem
    "swapoff /dev/vda2", "swapoff /swap.img",  // the swap on this disk; not /dev/vdb2
    "freeze /boot/efi", "freeze /",    // the deepest first; /mnt is on another disk
    "open /dev/vda", "flock",          // opened once, locked against udev
    "flush (no partition table)",      // the filesystems are written first...
    "flush (with a partition table)",  // ...the partition table and the MBR code last
    "reboot kexec"};

TEST_F(ExecuteTest, TheCommitInTheOrderTheSafetyRulesDemand) {
  const Outcome outcome = Execute(Plan(), sys_, events_);
  EXPECT_EQ(sys_.log, kCommit);
  EXPECT_NE(outcome.exit_code, 0) << "the fake's reboot returns, which is an error";
  EXPECT_FALSE(outcome.handed_over);
  EXPECT_EQ(sys_.DiskBytes(512, 8), "EFI PART");
  EXPECT_EQ(sys_.DiskBytes(510, 2), "\x55\xaa");
  EXPECT_FALSE(sys_.last_reboot_synced) << "no sync once the old filesystems are frozen";
  ASSERT_EQ(sys_.kexec_calls.size(), 1u);
  EXPECT_EQ(sys_.kexec_calls[0].cmdline, "console=ttyS0 bootrino.id=1");
  EXPECT_EQ(fs::file_size(dir_ / ".bootrino/initrd.img"), kexec::ComposedInitrdBytes({100000}, 4));
}

// From the first change to the first write, a failure undoes everything, in reverse, and unloads the
// kernel: the host is as it was, the disk not written.
TEST_F(ExecuteTest, AFailureBeforeTheFirstWriteUndoesEverythingInReverse) {
  const std::map<std::string, Log> undo = {
      {"kexec load", {}},
      {"commit point", {"kexec unload"}},  // a signal came first: it stops bootrino here
      {"swapoff /dev/vda2", {"kexec unload"}},
      {"swapoff /swap.img", {"swapon /dev/vda2", "kexec unload"}},
      {"freeze /boot/efi", {"swapon /swap.img", "swapon /dev/vda2", "kexec unload"}},
      {"freeze /", {"thaw /boot/efi", "swapon /swap.img", "swapon /dev/vda2", "kexec unload"}},
      {"open /dev/vda", {"thaw /", "thaw /boot/efi", "swapon /swap.img", "swapon /dev/vda2", "kexec unload"}},
      {"flock", {"thaw /", "thaw /boot/efi", "swapon /swap.img", "swapon /dev/vda2", "kexec unload"}},
  };
  for (const auto& [step, expected_undo] : undo) {
    SCOPED_TRACE(step);
    FakeSys sys;
    DescribeHost(sys);
    // A freeze that fails with EPERM falls back to remounting read-only; make that fail too.
    sys.fail[step] = step.starts_with("freeze") ? EPERM : EIO;
    if (step.starts_with("freeze")) sys.fail["remount-ro " + step.substr(7)] = EBUSY;
    const Outcome outcome = Execute(Plan(), sys, events_);
    EXPECT_NE(outcome.exit_code, 0);
    Log expected(kCommit.begin(), std::find(kCommit.begin(), kCommit.end(), step) + 1);
    if (step.starts_with("freeze")) expected.push_back("remount-ro " + step.substr(7));
    expected.insert(expected.end(), expected_undo.begin(), expected_undo.end());
    EXPECT_EQ(sys.log, expected);
    std::string start(kMiB, 'O');
    EXPECT_EQ(sys.DiskBytes(0, kMiB), start) << "written before the commit's first write";
    EXPECT_EQ(sys.reboots, 0);
  }
}

TEST_F(ExecuteTest, NothingIsOpenedOrWrittenWhenTheKernelIsRefused) {
  sys_.load_errno = EKEYREJECTED;
  const Outcome outcome = Execute(Plan(), sys_, events_);
  EXPECT_NE(outcome.exit_code, 0);
  EXPECT_EQ(sys_.log, Log{"kexec load"});
  EXPECT_TRUE(DiskUntouched());
}

TEST_F(ExecuteTest, MlockallFailingWhileRunningFromRamIsOnlyAWarning) {
  sys_.lock_memory_errno = ENOMEM;
  Execute(Plan(), sys_, events_);
  EXPECT_EQ(sys_.log, kCommit);
}

TEST_F(ExecuteTest, MlockallFailingWhileRunningFromTheDiskStopsAndUndoesTheLoad) {
  sys_.paths["/proc/self/exe"] = {false, kVda1, 0};  // bootrino runs from /, on the disk it would rewrite
  sys_.lock_memory_errno = ENOMEM;
  const Outcome outcome = Execute(Plan(), sys_, events_);
  EXPECT_NE(outcome.exit_code, 0);
  EXPECT_EQ(sys_.log, (Log{"kexec load", "commit point", "mlockall", "kexec unload"}));
  EXPECT_TRUE(DiskUntouched());
}

TEST_F(ExecuteTest, AFreezeThatCannotFreezeRemountsReadOnlyAndIsUndoneReadWrite) {
  sys_.fail["freeze /boot/efi"] = EOPNOTSUPP;
  sys_.fail["open /dev/vda"] = EACCES;
  const Outcome outcome = Execute(Plan(), sys_, events_);
  EXPECT_NE(outcome.exit_code, 0);
  EXPECT_EQ(sys_.log, (Log{"kexec load", "commit point", "mlockall", "sync", "swapoff /dev/vda2", "swapoff /swap.img",
                           "freeze /boot/efi", "remount-ro /boot/efi", "freeze /", "open /dev/vda", "thaw /",
                           "remount-rw /boot/efi", "swapon /swap.img", "swapon /dev/vda2", "kexec unload"}));
}

TEST_F(ExecuteTest, ADeviceReplacedAtTheNameSinceIsNotWritten) {
  sys_.disk_rdev = makedev(8, 0);  // /dev/vda now opens another disk
  const Outcome outcome = Execute(Plan(), sys_, events_);
  EXPECT_NE(outcome.exit_code, 0);
  EXPECT_TRUE(DiskUntouched());
  EXPECT_EQ(sys_.log.back(), "kexec unload");
  EXPECT_EQ(std::count(sys_.log.begin(), sys_.log.end(), "thaw /"), 1);
}

// Past the first write there is no way back: the old system stays frozen and the loaded kernel boots.
TEST_F(ExecuteTest, AFailureAfterTheFirstWriteBootsTheLoadedKernelAnyway) {
  for (const std::string step : {"flush (no partition table)", "flush (with a partition table)"}) {
    SCOPED_TRACE(step);
    FakeSys sys;
    DescribeHost(sys);
    sys.fail[step] = EIO;
    Execute(Plan(), sys, events_);
    Log expected(kCommit.begin(), std::find(kCommit.begin(), kCommit.end(), step) + 1);
    expected.push_back("reboot kexec");
    EXPECT_EQ(sys.log, expected) << "nothing thawed, nothing unloaded";
    EXPECT_EQ(sys.unloads, 0);
  }
}

TEST_F(ExecuteTest, TheFirmwarePathWritesTheDiskAndRebootsThroughTheFirmware) {
  Execute(Plan(BootPath::kFirmware), sys_, events_);
  Log expected(kCommit.begin() + 1, kCommit.end() - 1);
  expected.push_back("reboot firmware");
  EXPECT_EQ(sys_.log, expected) << "no kexec load on the firmware path";
  EXPECT_EQ(sys_.DiskBytes(512, 8), "EFI PART");
}

TEST_F(ExecuteTest, WithoutTheDiskOnlyTheKernelIsLoadedAndBooted) {
  const Outcome outcome = Execute(Plan(BootPath::kKexec, false), sys_, events_);
  EXPECT_NE(outcome.exit_code, 0);
  EXPECT_EQ(sys_.log, (Log{"kexec load", "commit point", "reboot kexec", "kexec unload"}))
      << "the reboot failed: the host goes on as it was, nothing loaded";
  EXPECT_TRUE(sys_.last_reboot_synced);
  EXPECT_TRUE(DiskUntouched());
}

TEST(PlanSteps, LoadBeforeAnyChangeAndTheDiskBeforeTheBoot) {
  EXPECT_EQ(PlanSteps(BootPath::kKexec, false, true, true),
            (std::vector<Step>{Step::kComposeInitrd, Step::kLoadKernel, Step::kDetach, Step::kCommitPoint,
                               Step::kStopOldSystem, Step::kOpenDisk, Step::kWriteDisk, Step::kBoot}));
  // The firmware boots the disk, whose initrd is composed as it is written: nothing to compose in RAM.
  EXPECT_EQ(PlanSteps(BootPath::kFirmware, false, true, false),
            (std::vector<Step>{Step::kCommitPoint, Step::kStopOldSystem, Step::kOpenDisk, Step::kWriteDisk,
                               Step::kBoot}));
  EXPECT_EQ(PlanSteps(BootPath::kKexec, false, false, false),
            (std::vector<Step>{Step::kComposeInitrd, Step::kLoadKernel, Step::kCommitPoint, Step::kBoot}));
  // arm64 with a compressed kernel: the Image is made in RAM first, like the initrd, before the load.
  EXPECT_EQ(PlanSteps(BootPath::kKexec, true, false, false),
            (std::vector<Step>{Step::kDecompressKernel, Step::kComposeInitrd, Step::kLoadKernel, Step::kCommitPoint,
                               Step::kBoot}));
}

}  // namespace
}  // namespace takeover
