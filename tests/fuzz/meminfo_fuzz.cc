// fetch::ParseMeminfo: /proc/meminfo decides whether a payload fits in RAM.
// The kernel writes it, but the parser must not trust its shape (containers
// and old kernels differ), and a value it returns must be what the line says.
#include "fetch/stage.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  for (std::string_view field : {"MemAvailable", "MemTotal"}) {
    auto bytes = fetch::ParseMeminfo(AsText(data, size), field);
    if (Refused(bytes, base::ErrorKind::kPreflight)) continue;
    FUZZ_REQUIRE(*bytes % 1024 == 0);
    FUZZ_REQUIRE(AsText(data, size).find(std::string(field) + ":") != std::string_view::npos);
  }
  return 0;
}
