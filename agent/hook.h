// Manifest hooks: shell functions of a verified bootrino.sh, run by /bin/sh on
// the host with a time limit. A failing hook aborts before anything changes.
#pragma once

#include <string>
#include <vector>

#include "base/base.h"
#include "fetch/fetch.h"

namespace agent {

/// The descriptor on which the hook's shell finds the verified manifest.
inline constexpr int kHookScriptFd = 3;

/// /bin/sh's argument list for a hook: it sources the verified manifest from
/// /proc/self/fd/`script_fd` (a sealed copy in memory, never a file on disk)
/// and calls `function`.
std::vector<std::string> HookArgv(const std::string& function, int script_fd);

/// The hook's whole environment: a fixed PATH, HOME, LANG=C and
/// BOOTRINO_STAGE_DIR; nothing of bootrino's own environment.
std::vector<std::string> HookEnvironment(const std::string& stage_dir);

/// Runs `hook.function` of `manifest_text` (the text bootrino verified) with
/// BOOTRINO_STAGE_DIR=`stage_dir`, stdin from /dev/null, its output on stderr,
/// in a session of its own. Every process it starts, daemons included, is
/// killed when it exits, at its time limit, or when bootrino is asked to stop.
/// Errors are kHook.
[[nodiscard]] base::Result<void> RunHook(const fetch::HookSpec& hook, const std::string& manifest_text,
                                         const std::string& stage_dir);

}  // namespace agent
