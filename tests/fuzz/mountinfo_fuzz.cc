// base::ParseMountinfo: /proc/self/mountinfo decides which disk holds /, the
// disk bootrino then replaces, and where a NoCloud seed volume is mounted.
// Mount points are chosen by whoever mounted them, escapes included (proc(5)).
#include "base/mountinfo.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<base::MountEntry> mounts = base::ParseMountinfo(AsText(data, size));
  std::size_t lines = 1;
  for (std::size_t i = 0; i < size; ++i) lines += data[i] == '\n';
  FUZZ_REQUIRE(mounts.size() <= lines);
  for (const auto& m : mounts) {
    FUZZ_REQUIRE(m.mount_point.size() <= size);
    FUZZ_REQUIRE(m.root.size() <= size);
    FUZZ_REQUIRE(!m.fstype.empty());
  }
  return 0;
}
