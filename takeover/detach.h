// Letting the caller finish before the reboot. cloud-init runs user-data from
// its final stage; a kexec inside it would cut cloud-init off before it
// records the boot as finished (docs/architecture.md, facts the design rests on).
#pragma once

#include <string>
#include <string_view>

#include <sys/types.h>

#include "base/base.h"

namespace takeover {

/// The fields of /proc/PID/stat bootrino needs.
struct ProcStat {
  std::string comm;  ///< the executable's (or script's) name, at most 15 characters
  char state = '?';  ///< R, S, Z …
  pid_t ppid = 0;
};

/// Parses /proc/PID/stat; comm may itself hold spaces and parentheses.
[[nodiscard]] base::Result<ProcStat> ParseProcStat(std::string_view text);

/// The nearest ancestor named cloud-init, or 0 when bootrino does not run under it.
pid_t CloudInitAncestor();

/// The process whose exit bootrino waits for: the cloud-init ancestor if
/// there is one, else the parent.
pid_t WaitAnchor();

/// Forks. The parent gets true back and should exit 0 at once. The child
/// leaves the caller's session and output (stdio go to /dev/console, else
/// /dev/null), waits until `anchor` has exited or `timeout_s` passed, and
/// gets false back to go on and boot.
[[nodiscard]] base::Result<bool> DetachUntilGone(pid_t anchor, int timeout_s);

}  // namespace takeover
