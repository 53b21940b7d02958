#include "fetch/stage.h"

#include <gtest/gtest.h>

namespace fetch {
namespace {

PayloadFile File(std::string name, std::string url, std::uint64_t size, std::vector<std::string> mirrors = {}) {
  return PayloadFile{std::move(name), std::move(url), std::move(mirrors), size, std::string(64, 'a')};
}

TEST(StagePlan, OrderUrlsAndTotals) {
  ArchPayload p;
  p.kernel = File("vmlinuz", "x86_64/vmlinuz", 100);
  p.initrds = {File("a.gz", "a.gz", 10), File("b.gz", "https://cdn.example/b.gz", 20)};
  p.files = {File("boot/modloop", "x86_64/modloop", 5, {"https://m1.example/modloop", "mirror2/modloop"})};
  auto plan = PlanStage(p, "http://127.0.0.1:9/os/bootrino.sh");
  ASSERT_TRUE(plan) << plan.error().message();
  ASSERT_EQ(plan->items.size(), 4u);
  EXPECT_EQ(plan->items[0].role, "kernel");
  EXPECT_EQ(plan->items[0].urls, std::vector<std::string>{"http://127.0.0.1:9/os/x86_64/vmlinuz"});
  EXPECT_EQ(plan->items[1].role, "initrd");
  EXPECT_EQ(plan->items[1].file->name, "a.gz");
  EXPECT_EQ(plan->items[2].urls[0], "https://cdn.example/b.gz");
  EXPECT_EQ(plan->items[3].role, "file");
  EXPECT_EQ(plan->items[3].urls, (std::vector<std::string>{"http://127.0.0.1:9/os/x86_64/modloop",
                                                            "https://m1.example/modloop",
                                                            "http://127.0.0.1:9/os/mirror2/modloop"}));
  EXPECT_EQ(plan->total_bytes, 135u);
  EXPECT_EQ(plan->ram_needed, 135u + kRamHeadroomBytes);
}

TEST(StagePlan, BadUrlNamesTheFile) {
  ArchPayload p;
  p.kernel = File("vmlinuz", "gopher://example.org/k", 1);
  auto plan = PlanStage(p, "https://example.org/bootrino.sh");
  ASSERT_FALSE(plan);
  EXPECT_NE(plan.error().message().find("vmlinuz: "), std::string::npos) << plan.error().message();
}

TEST(MemAvailable, Parses) {
  const char* meminfo = "MemTotal:       24000000 kB\nMemFree:  1 kB\nMemAvailable:   2048 kB\n";
  EXPECT_EQ(*ParseMeminfo(meminfo, "MemAvailable"), 2048u * 1024);
  EXPECT_EQ(*ParseMeminfo(meminfo, "MemTotal"), 24000000ull * 1024);
  EXPECT_EQ(*ParseMeminfo("MemAvailable: 0 kB\n", "MemAvailable"), 0u);
}

TEST(MemAvailable, RefusesWhatItCannotRead) {
  for (const char* text : {"", "MemTotal: 5 kB\n", "MemAvailable:\n", "MemAvailable: 12 MB\n", "MemAvailable: x kB\n",
                           "XMemAvailable: 5 kB\n", "MemAvailable: 99999999999999999999999 kB\n"}) {
    auto r = ParseMeminfo(text, "MemAvailable");
    EXPECT_FALSE(r) << text;
    if (!r) {
      EXPECT_EQ(r.error().kind(), base::ErrorKind::kPreflight);
    }
  }
}

TEST(MemTotal, MinimumRam) {
  EXPECT_TRUE(CheckMinRam(0, 0));
  EXPECT_TRUE(CheckMinRam(512, 512ull << 20));
  auto r = CheckMinRam(512, 256ull << 20);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), base::ErrorKind::kNotEnoughRam);
  EXPECT_NE(r.error().message().find("needs at least 512 MiB of RAM; this machine has 256 MiB"), std::string::npos);
}

TEST(MemAvailable, FitOrRefuseWithNumbers) {
  StagePlan plan;
  plan.total_bytes = 512ull << 20;
  plan.ram_needed = plan.total_bytes + kRamHeadroomBytes;
  EXPECT_TRUE(CheckFitsInRam(plan, plan.ram_needed));
  auto r = CheckFitsInRam(plan, plan.ram_needed - 1);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), base::ErrorKind::kNotEnoughRam);
  EXPECT_NE(r.error().message().find("needs 576 MiB"), std::string::npos) << r.error().message();
  EXPECT_NE(r.error().message().find("only 576 MiB is available"), std::string::npos) << r.error().message();
  EXPECT_NE(r.error().hint().find("nothing was fetched"), std::string::npos);
}

}  // namespace
}  // namespace fetch
