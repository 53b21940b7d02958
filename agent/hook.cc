#include "agent/hook.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/base.h"
#include "takeover/takeover.h"

namespace agent {
namespace {

using base::ErrorKind;
using Clock = std::chrono::steady_clock;

/// The verified manifest in a memfd sealed against every change, so that
/// nothing (the staged copy being rewritten included) alters what the hook runs.
base::Result<base::Fd> SealedCopy(const std::string& text) {
  base::Fd fd(memfd_create("bootrino.sh", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!fd.valid())
    return base::Fail(ErrorKind::kInternal, base::SysMessage("memfd_create", "for the hook", errno), errno);
  RETURN_IF_ERROR(base::WriteAllAt(fd, text, 0));
  if (fcntl(fd.get(), F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
    return base::Fail(ErrorKind::kInternal, base::SysMessage("sealing", "the hook's manifest", errno), errno);
  }
  return fd;
}

/// pid → parent pid of every process, from /proc/PID/stat.
std::map<pid_t, pid_t> ParentsOfAll() {
  std::map<pid_t, pid_t> parents;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; })) continue;
    auto text = base::ReadFile(entry.path().string() + "/stat", 4096);
    if (!text) continue;  // it has gone
    if (auto stat = takeover::ParseProcStat(*text)) parents[static_cast<pid_t>(std::stol(name))] = stat->ppid;
  }
  return parents;
}

/// Every descendant of this process, except those under `spared` (children it
/// had before the hook), direct children first.
std::vector<pid_t> Descendants(const std::set<pid_t>& spared) {
  const std::map<pid_t, pid_t> parents = ParentsOfAll();
  std::vector<pid_t> found{getpid()};
  for (std::size_t i = 0; i < found.size(); ++i) {
    for (const auto& [pid, ppid] : parents) {
      if (ppid == found[i] && !(i == 0 && spared.contains(pid))) found.push_back(pid);
    }
  }
  found.erase(found.begin());
  return found;
}

/// This process's children, to leave alone.
std::set<pid_t> ChildrenNow() {
  std::set<pid_t> children;
  for (const auto& [pid, ppid] : ParentsOfAll()) {
    if (ppid == getpid()) children.insert(pid);
  }
  return children;
}

/// Makes this process the reaper of the hook's orphans for as long as it lives:
/// a daemon that double-forks or calls setsid re-parents to bootrino, not to
/// init, and so cannot escape the kill that follows the hook.
class SubreaperScope {
 public:
  SubreaperScope() {
    prctl(PR_GET_CHILD_SUBREAPER, &was_);
    prctl(PR_SET_CHILD_SUBREAPER, 1);
  }
  ~SubreaperScope() { prctl(PR_SET_CHILD_SUBREAPER, was_); }
  SubreaperScope(const SubreaperScope&) = delete;
  SubreaperScope& operator=(const SubreaperScope&) = delete;

 private:
  int was_ = 0;
};

/// Kills and reaps every process the hook left behind. Killing a parent
/// re-parents its children to us (the subreaper), so rounds go on until no
/// descendant is left. Fails when some cannot be killed within 10 s (stuck in
/// the kernel).
base::Result<void> KillDescendants(const std::set<pid_t>& spared, const std::string& what) {
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (true) {
    const std::vector<pid_t> left = Descendants(spared);
    if (left.empty()) return {};
    if (Clock::now() >= deadline) {
      return base::Fail(base::Error(ErrorKind::kHook, what + " left " + std::to_string(left.size()) +
                                                          " process(es) that did not die when killed (first pid " +
                                                          std::to_string(left.front()) + ")")
                            .Hint("nothing was changed; reboot this machine before trying again"));
    }
    for (pid_t pid : left) kill(pid, SIGKILL);
    // Reap our own children (zombies included); grandchildren become ours as their parents go.
    for (pid_t pid : left) {
      if (!spared.contains(pid)) waitpid(pid, nullptr, WNOHANG);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

/// In the forked child: only async-signal-safe calls until execve.
[[noreturn]] void ExecHook(char* const* argv, char* const* envp, int devnull, int script) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int sig = 1; sig < NSIG; ++sig) signal(sig, SIG_DFL);  // bootrino's handlers and ignores are not the hook's
  setsid();  // a session and process group of its own, without bootrino's terminal
  dup2(devnull, STDIN_FILENO);
  dup2(STDERR_FILENO, STDOUT_FILENO);
  if (script == kHookScriptFd) {
    fcntl(script, F_SETFD, 0);
  } else {
    dup2(script, kHookScriptFd);  // a dup2'd descriptor is inherited by exec
  }
  // Nothing else of bootrino's (the run lock, sockets, files) goes to the hook.
  if (syscall(SYS_close_range, kHookScriptFd + 1, ~0U, 0) != 0) {
    rlimit limit{};
    rlim_t top = getrlimit(RLIMIT_NOFILE, &limit) == 0 ? std::min<rlim_t>(limit.rlim_cur, 1 << 16) : 1024;
    for (int fd = kHookScriptFd + 1; fd < static_cast<int>(top); ++fd) close(fd);
  }
  execve("/bin/sh", argv, envp);
  _exit(126);
}

std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

std::vector<std::string> HookArgv(const std::string& function, int script_fd) {
  // The function name was checked to be [A-Za-z0-9_]+ when the manifest was parsed.
  const std::string program = ". /proc/self/fd/" + std::to_string(script_fd) + "\nexec " +
                              std::to_string(script_fd) + "<&-\ncommand -v " + function +
                              " >/dev/null 2>&1 || { echo \"" + function +
                              " is not defined in the manifest\" >&2; exit 127; }\n" + function;
  return {"sh", "-c", program, "bootrino-hook"};
}

std::vector<std::string> HookEnvironment(const std::string& stage_dir) {
  return {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "LANG=C",
          "BOOTRINO_STAGE_DIR=" + stage_dir};
}

base::Result<void> RunHook(const fetch::HookSpec& hook, const std::string& manifest_text,
                           const std::string& stage_dir) {
  const std::string what = "hook " + hook.function;
  ASSIGN_OR_RETURN(base::Fd script, SealedCopy(manifest_text));
  ASSIGN_OR_RETURN(base::Fd devnull, base::Open("/dev/null", O_RDONLY));
  // Everything the child needs is made before fork: it may not allocate.
  std::vector<std::string> argv_strings = HookArgv(hook.function, kHookScriptFd);
  std::vector<std::string> env_strings = HookEnvironment(stage_dir);
  std::vector<char*> argv = Pointers(argv_strings);
  std::vector<char*> envp = Pointers(env_strings);

  SubreaperScope subreaper;
  const std::set<pid_t> spared = ChildrenNow();
  pid_t pid = fork();
  if (pid < 0) return base::Fail(ErrorKind::kInternal, base::SysMessage("fork", what, errno), errno);
  if (pid == 0) ExecHook(argv.data(), envp.data(), devnull.get(), script.get());

  const auto deadline = Clock::now() + std::chrono::seconds(hook.timeout_seconds);
  int status = 0;
  std::optional<base::Error> stopped;
  while (true) {
    pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (done < 0 && errno != EINTR) {
      stopped = base::Error(ErrorKind::kInternal, base::SysMessage("waitpid", what, errno));
    } else if (int sig = base::InterruptSignal()) {
      stopped = base::Error(ErrorKind::kHook, what + " was stopped: bootrino received " + base::SignalName(sig));
    } else if (Clock::now() >= deadline) {
      stopped = base::Error(ErrorKind::kHook, what + " did not finish within its " +
                                                  std::to_string(hook.timeout_seconds) + " s limit; killed")
                    .Hint("nothing was changed; fix the hook or raise boot.hooks.afterStage.timeoutSeconds");
    }
    if (stopped) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // Whether the hook finished or not, nothing it started outlives it.
  RETURN_IF_ERROR(KillDescendants(spared, what));
  if (stopped) return base::Fail(std::move(*stopped));
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  std::string how = WIFEXITED(status) ? "exited with status " + std::to_string(WEXITSTATUS(status))
                                      : "was killed by signal " + std::to_string(WTERMSIG(status));
  return base::Fail(base::Error(ErrorKind::kHook, what + " " + how)
                        .Hint("nothing was changed; its output is above. Fix the manifest's hook and run again"));
}

}  // namespace agent
