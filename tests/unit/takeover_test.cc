// The takeover's decisions that can be checked without a disk: whether a
// failed mlockall stops the commit (only when bootrino runs from the disk it
// is about to rewrite, or may), and the "what to do" line every error gets.
#include "agent/takeover.h"

#include <cerrno>

#include <gtest/gtest.h>

#include "agent/pipeline.h"
#include "tests/unit/fake_sys.h"

namespace agent {
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
  EXPECT_EQ(WhatToDo(base::Error(base::ErrorKind::kDisk, "x").Hint("do y")), "do y");
}

TEST(WhatToDo, AdviceForEveryKindWithoutAHint) {
  for (auto kind : {base::ErrorKind::kInternal, base::ErrorKind::kUsage, base::ErrorKind::kVerification,
                    base::ErrorKind::kNetwork, base::ErrorKind::kNotEnoughRam, base::ErrorKind::kPreflight,
                    base::ErrorKind::kManifest, base::ErrorKind::kHook, base::ErrorKind::kDisk}) {
    std::string advice = WhatToDo(base::Error(kind, "something failed"));
    EXPECT_GT(advice.size(), 20u) << static_cast<int>(kind);
  }
  EXPECT_NE(WhatToDo(base::Error(base::ErrorKind::kNetwork, "x")).find("nothing was changed"), std::string::npos);
}

TEST(Report, AlwaysPrintsAWhatToDoLine) {
  observe::Events events;
  testing::internal::CaptureStderr();
  int code = Report(base::Error(base::ErrorKind::kDisk, "the disk is odd"), events, "disk");
  std::string said = testing::internal::GetCapturedStderr();
  EXPECT_EQ(code, 9);
  EXPECT_NE(said.find("bootrino: error: the disk is odd\n"), std::string::npos) << said;
  EXPECT_NE(said.find("bootrino: what to do: name the disk to replace with --disk"), std::string::npos) << said;
}

}  // namespace
}  // namespace agent
