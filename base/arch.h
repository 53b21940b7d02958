// The architectures bootrino is built for and reads manifests for. Inside the program an architecture is an Arch;
// its name, as `uname -m` spells it, is for the edges only: the manifest's keys, --arch and user-data's
// `arch`, and what is printed. The manifest's keys, --arch's choices and the release binaries' names all come
// from the one list below.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

namespace base {

enum class Arch { kX86_64, kAarch64 };

/// Every architecture, in the order --arch's help and messages name them.
inline constexpr Arch kArchitectures[] = {Arch::kX86_64, Arch::kAarch64};

/// `arch` as `uname -m` spells it ("x86_64", "aarch64").
constexpr std::string_view ArchName(Arch arch) {
  switch (arch) {
    case Arch::kX86_64:
      return "x86_64";
    case Arch::kAarch64:
      return "aarch64";
  }
  return "unknown";  // not reached: every Arch is named above
}

/// The architecture `uname -m` calls `name`; nothing for a name bootrino has no architecture for ("amd64",
/// "i686", "armv8l").
constexpr std::optional<Arch> ParseArch(std::string_view name) {
  for (Arch arch : kArchitectures) {
    if (ArchName(arch) == name) return arch;
  }
  return std::nullopt;
}

/// kArchitectures' names, in the same order: --arch's and user-data's choices.
inline constexpr auto kArchitectureNames = [] {
  std::array<std::string_view, std::size(kArchitectures)> names{};
  for (std::size_t i = 0; i < names.size(); ++i) names[i] = ArchName(kArchitectures[i]);
  return names;
}();

}  // namespace base
