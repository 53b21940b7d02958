// The architectures bootrino is built for and reads manifests for, as `uname -m` spells them: the manifest's
// keys, --arch's choices and the release binaries' names all come from this one list.
#pragma once

#include <string_view>

namespace base {

inline constexpr std::string_view kArchitectures[] = {"x86_64", "aarch64"};

}  // namespace base
