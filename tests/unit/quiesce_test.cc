// Waiting out udev while the takeover writes a disk: the one retry loop
// (how often, on which errors), the open that retries EBUSY and nothing else,
// the disk lock that gives up with what to do when another program holds it,
// and the flush of an image file.
#include "disk/quiesce.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <functional>
#include <fstream>

#include <gtest/gtest.h>

#include "base/fd.h"
#include "tests/unit/disk_test_support.h"

namespace disk {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

constexpr Patience kQuick{4, milliseconds(1)};

/// An attempt that fails with `code` `failures` times, then succeeds.
struct Flaky {
  long code;
  int failures;
  int calls = 0;
  long operator()() { return ++calls <= failures ? code : 0; }
};

TEST(RetryTransient, RetriesATransientErrorUntilItPasses) {
  Flaky attempt{EBUSY, 3};
  EXPECT_EQ(RetryTransient(kQuick, {EBUSY}, std::ref(attempt)), 0);
  EXPECT_EQ(attempt.calls, 4);
}

TEST(RetryTransient, GivesUpWhenPatienceRunsOut) {
  Flaky attempt{EBUSY, 100};
  EXPECT_EQ(RetryTransient(kQuick, {EBUSY}, std::ref(attempt)), EBUSY);
  EXPECT_EQ(attempt.calls, kQuick.tries);
}

TEST(RetryTransient, DoesNotRetryOtherErrors) {
  Flaky attempt{ENOENT, 100};
  EXPECT_EQ(RetryTransient(kQuick, {EBUSY, EINTR}, std::ref(attempt)), ENOENT);
  EXPECT_EQ(attempt.calls, 1);
}

TEST(RetryTransient, WaitsThePauseBetweenTries) {
  Flaky attempt{EINTR, 2};
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(RetryTransient(Patience{5, milliseconds(20)}, {EINTR}, std::ref(attempt)), 0);
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(40));
}

TEST(RetryTransient, TheUdevPatiencesAreFiveAndTenSeconds) {
  EXPECT_EQ((kRescanPatience.tries - 1) * kRescanPatience.pause, milliseconds(5000));
  EXPECT_EQ((kProbePatience.tries - 1) * kProbePatience.pause, milliseconds(10000));
}

class DiskFileTest : public test_support::TempDirTest {
 protected:
  DiskFileTest() : TempDirTest("quiesce") {}

  const std::string image_ = Write("disk.img", std::string(4096, 'x'));
};

TEST_F(DiskFileTest, OpenDiskOpensAnImageAndReportsAMissingOneAtOnce) {
  auto fd = OpenDisk(base::RealSys(), image_, kQuick);
  ASSERT_TRUE(fd) << fd.error().message();
  const auto start = std::chrono::steady_clock::now();
  auto missing = OpenDisk(base::RealSys(), (dir_ / "none.img").string(), Patience{50, milliseconds(100)});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().sys_errno(), ENOENT);
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(1000)) << "ENOENT was retried";
}

TEST_F(DiskFileTest, LockDiskTakesAFreeLock) {
  auto fd = OpenDisk(base::RealSys(), image_, kQuick);
  ASSERT_TRUE(fd);
  ASSERT_TRUE(LockDisk(base::RealSys(), *fd, image_, kQuick));
  // Held: another open of the file cannot take it.
  auto other = base::Open(image_, O_RDONLY);
  ASSERT_TRUE(other);
  EXPECT_NE(flock(other->get(), LOCK_EX | LOCK_NB), 0);
}

TEST_F(DiskFileTest, LockDiskGivesUpOnALockHeldElsewhereAndSaysWhatToDo) {
  auto holder = base::Open(image_, O_RDONLY);
  ASSERT_TRUE(holder);
  ASSERT_EQ(flock(holder->get(), LOCK_EX), 0);  // as udev's probe, or a partitioning tool, holds it
  auto fd = OpenDisk(base::RealSys(), image_, kQuick);
  ASSERT_TRUE(fd);
  auto locked = LockDisk(base::RealSys(), *fd, image_, kQuick);
  ASSERT_FALSE(locked);
  EXPECT_EQ(locked.error().kind(), base::ErrorKind::kDisk);
  EXPECT_EQ(locked.error().sys_errno(), EWOULDBLOCK);
  EXPECT_NE(locked.error().message().find(image_), std::string::npos) << locked.error().message();
  EXPECT_NE(locked.error().hint().find("stop it and run bootrino again"), std::string::npos)
      << locked.error().hint();
  // Released by its holder: the next try takes it.
  holder = base::Fd();
  EXPECT_TRUE(LockDisk(base::RealSys(), *fd, image_, kQuick));
}

TEST_F(DiskFileTest, FlushDiskAcceptsAnImageFile) {
  auto fd = OpenDisk(base::RealSys(), image_, kQuick);
  ASSERT_TRUE(fd);
  EXPECT_EQ(base::RealSys().FlushDisk(fd->get()), 0);  // the block-device ioctls answer ENOTTY here, which is fine
}

}  // namespace
}  // namespace disk
