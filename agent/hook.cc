#include "agent/hook.h"

#include "base/fd.h"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

namespace agent {

base::Result<void> RunHook(const fetch::HookSpec& hook, const std::string& script_path, const std::string& stage_dir) {
  using base::ErrorKind;
  const std::string what = "hook " + hook.function;
  // The function name was checked to be [A-Za-z0-9_]+ when the manifest was parsed.
  const std::string program = ". \"$1\"\ncommand -v " + hook.function + " >/dev/null 2>&1 || { echo \"" +
                              hook.function + " is not defined in the manifest\" >&2; exit 127; }\n" + hook.function;
  pid_t pid = fork();
  if (pid < 0) return base::Fail(ErrorKind::kInternal, base::SysMessage("fork", what, errno), errno);
  if (pid == 0) {
    setpgid(0, 0);  // its own process group, so a timeout kills everything it started
    dup2(STDERR_FILENO, STDOUT_FILENO);
    setenv("BOOTRINO_STAGE_DIR", stage_dir.c_str(), 1);
    execl("/bin/sh", "sh", "-c", program.c_str(), "bootrino-hook", script_path.c_str(), static_cast<char*>(nullptr));
    _exit(126);
  }
  setpgid(pid, pid);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(hook.timeout_seconds);
  int status = 0;
  while (true) {
    pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (done < 0 && errno != EINTR) return base::Fail(ErrorKind::kInternal, base::SysMessage("waitpid", what, errno));
    if (std::chrono::steady_clock::now() >= deadline) {
      kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
      return base::Fail(base::Error(ErrorKind::kHook, what + " did not finish within its " +
                                                          std::to_string(hook.timeout_seconds) + " s limit; killed")
                            .Hint("nothing was changed; fix the hook or raise boot.hooks.afterStage.timeoutSeconds"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(-pid, SIGKILL);  // leave no background children of the hook behind
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  std::string how = WIFEXITED(status) ? "exited with status " + std::to_string(WEXITSTATUS(status))
                                      : "was killed by signal " + std::to_string(WTERMSIG(status));
  return base::Fail(base::Error(ErrorKind::kHook, what + " " + how)
                        .Hint("nothing was changed; its output is above. Fix the manifest's hook and run again"));
}

}  // namespace agent
