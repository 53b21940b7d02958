#include "base/interrupt.h"

#include <gtest/gtest.h>

#include <csignal>

#include <sys/wait.h>
#include <unistd.h>

namespace base {
namespace {

// The record is process-wide and one-way, so each case runs in a child of its own.
int InChild(int (*body)()) {
  pid_t pid = fork();
  if (pid == 0) _exit(body());
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

TEST(Interrupt, ASignalBeforeTheCommitPointIsRecordedAndRefusesIt) {
  EXPECT_EQ(InChild([] {
              InstallInterruptHandlers();
              if (InterruptSignal() != 0) return 1;
              kill(getpid(), SIGHUP);
              kill(getpid(), SIGTERM);  // the first one is the one reported
              if (InterruptSignal() != SIGHUP) return 2;
              if (EnterCommit()) return 3;
              return 0;
            }),
            0);
}

TEST(Interrupt, PastTheCommitPointSignalsAreBlocked) {
  EXPECT_EQ(InChild([] {
              InstallInterruptHandlers();
              if (!EnterCommit()) return 1;
              kill(getpid(), SIGTERM);
              kill(getpid(), SIGINT);
              if (InterruptSignal() != 0) return 2;
              sigset_t pending;
              sigpending(&pending);
              if (!sigismember(&pending, SIGTERM) || !sigismember(&pending, SIGINT)) return 3;
              return 0;
            }),
            0);
}

TEST(Interrupt, SignalNames) {
  EXPECT_EQ(SignalName(SIGTERM), "SIGTERM");
  EXPECT_EQ(SignalName(SIGINT), "SIGINT");
  EXPECT_EQ(SignalName(SIGHUP), "SIGHUP");
}

}  // namespace
}  // namespace base
