#include "base/arch.h"

#include <gtest/gtest.h>

#include <set>
#include <string_view>

namespace base {
namespace {

// The names are what manifests, --arch, user-data and the release binaries say: `uname -m`'s spelling.
TEST(Arch, NamesAreUnameSpellings) {
  EXPECT_EQ(ArchName(Arch::kX86_64), "x86_64");
  EXPECT_EQ(ArchName(Arch::kAarch64), "aarch64");
}

TEST(Arch, EveryArchitectureRoundTripsThroughItsName) {
  std::set<std::string_view> names;
  for (Arch arch : kArchitectures) {
    EXPECT_EQ(ParseArch(ArchName(arch)), arch) << ArchName(arch);
    names.insert(ArchName(arch));
  }
  EXPECT_EQ(names.size(), std::size(kArchitectures)) << "two architectures share a name";
}

// Other spellings of the same machines (Debian's, the kernel's arch/ directories), 32-bit personalities and
// near misses name no architecture: a manifest key or a machine that says them is refused, not guessed at.
TEST(Arch, OtherNamesAreUnknown) {
  for (std::string_view name : {"amd64", "arm64", "i686", "armv8l", "riscv64", "X86_64", "x86_64 ", "aarch", ""}) {
    EXPECT_EQ(ParseArch(name), std::nullopt) << '"' << name << '"';
  }
}

// --arch's choices are the list's names, in its order.
TEST(Arch, ChoicesFollowTheList) {
  ASSERT_EQ(std::size(kArchitectureNames), std::size(kArchitectures));
  for (std::size_t i = 0; i < std::size(kArchitectures); ++i) {
    EXPECT_EQ(kArchitectureNames[i], ArchName(kArchitectures[i]));
  }
  EXPECT_EQ(kArchitectureNames[0], "x86_64");
  EXPECT_EQ(kArchitectureNames[1], "aarch64");
}

static_assert(ParseArch("aarch64") == Arch::kAarch64, "ParseArch is usable at compile time");

}  // namespace
}  // namespace base
