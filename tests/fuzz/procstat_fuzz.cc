// takeover::ParseProcStat: /proc/PID/stat of bootrino's ancestors, read to find
// cloud-init. A process chooses its own comm (prctl, or its file name), so
// the text between the parentheses is anybody's.
#include "takeover/detach.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto stat = takeover::ParseProcStat(AsText(data, size));
  if (!stat) return 0;
  FUZZ_REQUIRE(stat->comm.size() + 2 <= size);
  FUZZ_REQUIRE(stat->ppid >= 0);
  return 0;
}
