// 5 to 7: performing a takeover plan, step by step, through base::Sys. The
// safety rules of docs/architecture.md hold here, and the unit tests check
// them against a recording Sys with a failure injected at every step:
// - nothing is written before the kernel is loaded (when the plan boots by kexec);
// - from the old system's quiescing to the first write, a failure undoes it all
//   (thaw, remount read-write, swapon) and unloads the kernel: the host is as it was;
// - the partition table and the MBR code are written last;
// - past the first write there is no way back: a failure boots the loaded kernel anyway.
#pragma once

#include "base/base.h"
#include "observe/observe.h"
#include "takeover/plan.h"

namespace takeover {

struct Outcome {
  int exit_code = 0;
  /// This process is the parent of a detached run: the child owns the stage
  /// directory and the loaded kernel from now on.
  bool handed_over = false;
};

/// Performs `plan.steps` in order. Returns only when bootrino stops: an
/// error (reported, with its exit code), the detached parent, or a reboot
/// that failed.
Outcome Execute(const TakeoverPlan& plan, base::Sys& sys, observe::Events& events);

}  // namespace takeover
