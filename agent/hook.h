// Manifest hooks: shell functions of a verified bootrino.sh, run by /bin/sh on
// the host with a time limit. A failing hook aborts before anything changes.
#pragma once

#include <string>

#include "base/result.h"
#include "fetch/manifest.h"

namespace agent {

/// Sources `script_path` in /bin/sh and calls `hook.function` with
/// BOOTRINO_STAGE_DIR=`stage_dir`; its output goes to stderr. Errors are kHook.
[[nodiscard]] base::Result<void> RunHook(const fetch::HookSpec& hook, const std::string& script_path,
                                         const std::string& stage_dir);

}  // namespace agent
