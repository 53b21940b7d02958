#include "takeover/detach.h"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <limits>
#include <thread>

#include <fcntl.h>
#include <unistd.h>

#include "base/base.h"

namespace takeover {
namespace {

base::Result<ProcStat> StatOf(pid_t pid) {
  ASSIGN_OR_RETURN(std::string text, base::ReadFile("/proc/" + std::to_string(pid) + "/stat", 4096));
  return ParseProcStat(text);
}

bool Gone(pid_t pid) {
  if (kill(pid, 0) != 0 && errno == ESRCH) return true;
  auto stat = StatOf(pid);
  return !stat || stat->state == 'Z';  // a zombie has finished; only its reaping is left
}

}  // namespace

base::Result<ProcStat> ParseProcStat(std::string_view text) {
  auto bad = [] { return base::Fail(base::ErrorKind::kInternal, "cannot parse /proc/PID/stat"); };
  // "1234 (comm) S 1 …": comm is everything between the first '(' and the last ')'.
  auto open = text.find('(');
  auto close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open || close + 4 > text.size()) {
    return bad();
  }
  ProcStat s;
  s.comm = std::string(text.substr(open + 1, close - open - 1));
  s.state = text[close + 2];
  std::string_view rest = text.substr(close + 4);
  std::int64_t ppid = 0;
  std::size_t digits = 0;
  for (; digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9'; ++digits) {
    ppid = ppid * 10 + (rest[digits] - '0');
    if (ppid > std::numeric_limits<pid_t>::max()) return bad();  // not a pid, and it would overflow
  }
  if (digits == 0) return bad();
  s.ppid = static_cast<pid_t>(ppid);
  return s;
}

pid_t CloudInitAncestor() {
  pid_t pid = getppid();
  for (int depth = 0; pid > 1 && depth < 64; ++depth) {
    auto stat = StatOf(pid);
    if (!stat) return 0;
    if (stat->comm == "cloud-init") return pid;
    pid = stat->ppid;
  }
  return 0;
}

pid_t WaitAnchor() {
  pid_t cloud_init = CloudInitAncestor();
  return cloud_init ? cloud_init : getppid();
}

base::Result<bool> DetachUntilGone(pid_t anchor, int timeout_s) {
  std::fflush(nullptr);
  pid_t child = fork();
  if (child < 0) return base::Fail(base::ErrorKind::kInternal, base::SysMessage("fork", "to detach", errno), errno);
  if (child > 0) return true;
  // The child: no terminal, no pipe of the caller's held open (a caller
  // reading our output would otherwise wait for us), no signal of its session.
  setsid();
  signal(SIGHUP, SIG_IGN);
  signal(SIGPIPE, SIG_IGN);
  int out = open("/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC);
  if (out < 0) out = open("/dev/null", O_WRONLY | O_CLOEXEC);
  int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (in >= 0) dup2(in, STDIN_FILENO);
  if (out >= 0) {
    dup2(out, STDOUT_FILENO);
    dup2(out, STDERR_FILENO);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  while (!Gone(anchor) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

}  // namespace takeover
