// Throughput of each SHA-256 implementation this CPU supports.
//
// Hashes one 256 MiB buffer five times per implementation and reports the
// medians, in decimal MB/s (10^6 bytes per second, the unit `openssl speed`
// uses). Output lines are meant for bench/sha256.sh to parse:
//   sha256 <implementation> <cpu MB/s> <wall MB/s> <digest>
// "cpu" divides by the thread's CPU time, as `openssl speed` does by default
// (it divides by user time unless given -elapsed), so the two stay comparable
// when other processes share the cores; "wall" divides by elapsed time. The
// digest is printed so a run also shows every implementation agreeing.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fetch/fetch.h"

namespace {

constexpr std::size_t kBufferSize = std::size_t{256} << 20;
constexpr int kRuns = 5;

double ThreadCpuSeconds() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) +
         static_cast<double>(now.tv_nsec) * 1e-9;
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

}  // namespace

int main() {
  std::vector<std::byte> buffer(kBufferSize);
  std::mt19937_64 rng(42);
  for (std::size_t i = 0; i + 8 <= buffer.size(); i += 8) {
    const std::uint64_t word = rng();
    for (int j = 0; j < 8; ++j) {
      buffer[i + j] = static_cast<std::byte>(word >> (8 * j));
    }
  }

  std::printf("# default implementation: %.*s\n",
              static_cast<int>(fetch::Sha256Implementation().size()),
              fetch::Sha256Implementation().data());
  for (std::string_view name :
       fetch::internal::Sha256AvailableImplementations()) {
    if (!fetch::internal::Sha256ForceImplementation(name)) return 1;
    std::vector<double> cpu_rates;
    std::vector<double> wall_rates;
    std::string hex;
    for (int run = 0; run < kRuns; ++run) {
      const double cpu_start = ThreadCpuSeconds();
      const auto wall_start = std::chrono::steady_clock::now();
      fetch::Sha256 hasher;
      hasher.Update(std::span<const std::byte>(buffer));
      const fetch::Sha256Digest digest = hasher.Final();
      const std::chrono::duration<double> wall =
          std::chrono::steady_clock::now() - wall_start;
      const double cpu = ThreadCpuSeconds() - cpu_start;
      cpu_rates.push_back(static_cast<double>(kBufferSize) / cpu / 1e6);
      wall_rates.push_back(static_cast<double>(kBufferSize) / wall.count() /
                           1e6);
      hex = fetch::Sha256::Hex(digest);
    }
    std::printf("sha256 %.*s %.1f %.1f %s\n", static_cast<int>(name.size()),
                name.data(), Median(cpu_rates), Median(wall_rates),
                hex.c_str());
    std::fflush(stdout);
  }
  fetch::internal::Sha256ResetImplementation();
  return 0;
}
