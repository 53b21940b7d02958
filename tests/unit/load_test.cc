#include "kexec/load.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <linux/kexec.h>

#include "tests/unit/fake_sys.h"

namespace kexec {
namespace {

using testing_support::FakeSys;
namespace fs = std::filesystem;

class LoadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("bootrino-load-" + std::to_string(getpid()));
    fs::create_directories(dir_);
    std::ofstream(dir_ / "vmlinuz") << "kernel";
    std::ofstream(dir_ / "initrd") << "initrd";
  }
  void TearDown() override { fs::remove_all(dir_); }
  BootPlan Plan(bool with_initrd) {
    return BootPlan{(dir_ / "vmlinuz").string(), with_initrd ? (dir_ / "initrd").string() : "", "console=ttyS0"};
  }
  fs::path dir_;
};

TEST_F(LoadTest, LoadsWithInitrd) {
  FakeSys sys;
  ASSERT_TRUE(Load(sys, Plan(true)));
  ASSERT_EQ(sys.kexec_calls.size(), 1u);
  EXPECT_TRUE(sys.kexec_calls[0].initrd_valid);
  EXPECT_EQ(sys.kexec_calls[0].flags, 0u);
  EXPECT_EQ(sys.kexec_calls[0].cmdline, "console=ttyS0");
}

TEST_F(LoadTest, NoInitrdSetsTheFlag) {
  FakeSys sys;
  ASSERT_TRUE(Load(sys, Plan(false)));
  EXPECT_FALSE(sys.kexec_calls[0].initrd_valid);
  EXPECT_EQ(sys.kexec_calls[0].flags, static_cast<unsigned long>(KEXEC_FILE_NO_INITRAMFS));
}

TEST_F(LoadTest, ErrorsAreClassifiedAndShowTheCall) {
  struct Case {
    int err;
    base::ErrorKind kind;
    std::string words;
  };
  for (const Case& c : std::vector<Case>{{EKEYREJECTED, base::ErrorKind::kPreflight, "signature was rejected"},
                                         {ENOKEY, base::ErrorKind::kPreflight, "signature was rejected"},
                                         {EBADMSG, base::ErrorKind::kPreflight, "signature was rejected"},
                                         {EPERM, base::ErrorKind::kPreflight, "not permitted"},
                                         {ENOEXEC, base::ErrorKind::kManifest, "not a kernel this host can load"},
                                         {ENOSYS, base::ErrorKind::kPreflight, "no kexec_file_load"},
                                         {ENOMEM, base::ErrorKind::kNotEnoughRam, "out of memory"},
                                         {EINVAL, base::ErrorKind::kManifest, "invalid argument"}}) {
    FakeSys sys;
    sys.load_errno = c.err;
    auto r = Load(sys, Plan(true));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind(), c.kind) << c.words;
    EXPECT_EQ(r.error().sys_errno(), c.err);
    EXPECT_NE(r.error().message().find(c.words), std::string::npos) << r.error().message();
    EXPECT_NE(r.error().message().find("kexec_file_load("), std::string::npos);
    EXPECT_NE(r.error().message().find(std::string(") = ") + strerrorname_np(c.err)), std::string::npos);
  }
}

TEST(DescribeCall, LooksLikeStrace) {
  EXPECT_EQ(DescribeCall(3, 4, "console=ttyS0", 0, EKEYREJECTED),
            "kexec_file_load(3, 4, \"console=ttyS0\", 0x0) = EKEYREJECTED");
  EXPECT_EQ(DescribeCall(3, -1, std::string(100, 'a'), 4, EPERM),
            "kexec_file_load(3, -1, \"" + std::string(57, 'a') + "...\", 0x4) = EPERM");
}

TEST_F(LoadTest, MissingKernelFileFailsBeforeTheSyscall) {
  FakeSys sys;
  BootPlan plan = Plan(true);
  plan.kernel_path += ".missing";
  EXPECT_FALSE(Load(sys, plan));
  EXPECT_TRUE(sys.kexec_calls.empty());
}

TEST(Boot, ReturnsOnlyOnFailure) {
  FakeSys sys;
  auto r = Boot(sys);
  ASSERT_FALSE(r);
  EXPECT_EQ(sys.reboots, 1);
  EXPECT_EQ(sys.last_reboot, base::RebootTarget::kKexec);
  EXPECT_TRUE(sys.last_reboot_synced);
  EXPECT_NE(r.error().message().find("reboot(LINUX_REBOOT_CMD_KEXEC) = EINVAL"), std::string::npos);
}

TEST(Boot, AfterTheDiskCommitItDoesNotSync) {
  FakeSys sys;
  auto r = Boot(sys, /*disk_committed=*/true);
  ASSERT_FALSE(r);
  EXPECT_FALSE(sys.last_reboot_synced);
  EXPECT_NE(r.error().hint().find("reset the machine"), std::string::npos);
}

}  // namespace
}  // namespace kexec
