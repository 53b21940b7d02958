// Finding `bootrino run` in a user-data shell script without running it. The
// script is split into commands the way a POSIX shell would (quotes, escapes,
// comments, pipes, here-documents, NAME=value assignments); the exact rule for
// what counts as an invocation is in docs/userdata.md.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/base.h"

namespace userdata {

/// The words a script hands to `bootrino run`: the manifest reference and flags.
struct Invocation {
  std::vector<std::string> args;
  std::size_t line = 0;  ///< 1-based line where the command starts
  bool to_install_sh = false;  ///< the words go to install.sh, which runs `bootrino run` with the rest
};

/// Every bootrino invocation in `script`, in order. A kUsage error when an
/// invocation's words hold what only the shell could compute ($(…), `…`, a
/// variable not set by a plain NAME=value line before it).
[[nodiscard]] base::Result<std::vector<Invocation>> FindInvocations(std::string_view script);

/// The words after `bootrino run` when `argv` (cloud-config runcmd's list form)
/// runs it directly or through `sh -c`; empty when it does not run bootrino.
[[nodiscard]] base::Result<std::vector<Invocation>> FindInvocationsInArgv(const std::vector<std::string>& argv);

}  // namespace userdata
