#include "fetch/stage.h"

#include <cerrno>

#include <fcntl.h>
#include <sys/statfs.h>

#include <linux/magic.h>

#include <gtest/gtest.h>

#include "base/fd.h"
#include "fetch/block_writer.h"

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

// The budget says what the RAM check counts, line by line, and the refusal names every line.
TEST(MemAvailable, TheBudgetIsWhatIsChecked) {
  PayloadFile kernel{"k", "k", {}, 100ull << 20, std::string(64, 'a')};
  ArchPayload payload;
  payload.kernel = kernel;
  auto plan = PlanStage(payload, "https://example.com/bootrino.sh");
  ASSERT_TRUE(plan.has_value()) << plan.error().message();
  AddToBudget(*plan, "the kernel's copy made by kexec_file_load", 100ull << 20);
  AddToBudget(*plan, "nothing", 0);
  ASSERT_EQ(plan->budget.size(), 3u);
  EXPECT_EQ(plan->budget[0].what, "the staged files");
  EXPECT_EQ(plan->budget[1].what, "the kernel's copy made by kexec_file_load");
  EXPECT_EQ(plan->budget[2].what, "bootrino itself and working headroom");
  EXPECT_EQ(plan->ram_needed, (200ull << 20) + kRamHeadroomBytes);
  auto r = CheckFitsInRam(*plan, 250ull << 20);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("needs 264 MiB of RAM at once (100 MiB the staged files + 100 MiB the "
                                     "kernel's copy made by kexec_file_load + 64 MiB bootrino itself and working "
                                     "headroom) but only 250 MiB is available"),
            std::string::npos)
      << r.error().message();
}

// Writes like the stage's own sink: pwrite(2) at the offset, through base::WriteAllAt.
class FdSink : public Sink {
 public:
  explicit FdSink(base::Fd fd) : fd_(std::move(fd)) {}
  base::Result<void> Write(std::uint64_t offset, std::span<const char> bytes) override {
    return base::WriteAllAt(fd_, bytes, offset);
  }
  base::Result<void> Truncate(std::uint64_t) override { return {}; }
  base::Result<void> Read(std::uint64_t offset, std::span<char> bytes) override {
    return base::ReadExactlyAt(fd_, bytes, offset);
  }

 private:
  base::Fd fd_;
};

// What a download into a full filesystem gives: /dev/full answers every write with ENOSPC, as a full
// tmpfs does.
base::Error FullFilesystemError() {
  auto fd = base::Open("/dev/full", O_WRONLY);
  EXPECT_TRUE(fd) << fd.error().message();
  FdSink sink(std::move(*fd));
  BlockWriter writer(&sink, 4096, 2);
  const std::string bytes(3 * 4096 + 1, 'x');
  (void)writer.Append(std::span<const char>(bytes.data(), bytes.size()));
  auto flushed = writer.Flush();
  EXPECT_FALSE(flushed);
  return flushed ? base::Error(base::ErrorKind::kInternal, "the write did not fail") : flushed.error();
}

bool OnTmpfs(const char* dir) {
  struct statfs s {};
  return statfs(dir, &s) == 0 && s.f_type == TMPFS_MAGIC;
}

// The bug this guards against: a full /run during `run` came out as "pwrite: No space left on device"
// and "a bug in bootrino". A full RAM stage is a lack of RAM, said with the numbers.
TEST(NoSpace, AFullTmpfsIsNotEnoughRamWithTheNumbers) {
  const base::Error error = FullFilesystemError();
  ASSERT_EQ(error.sys_errno(), ENOSPC) << error.message();
  ASSERT_TRUE(IsNoSpace(error));
  ASSERT_TRUE(OnTmpfs("/dev/shm")) << "this test needs /dev/shm to be a tmpfs, as on every systemd host";
  const base::Error e = ExplainNoSpace(error, "/dev/shm", 335ull << 20);
  EXPECT_EQ(e.kind(), base::ErrorKind::kNotEnoughRam);
  EXPECT_EQ(e.sys_errno(), ENOSPC);
  EXPECT_NE(e.message().find("No space left on device"), std::string::npos) << e.message();
  EXPECT_NE(e.message().find("the filesystem holding /dev/shm is full (a tmpfs of "), std::string::npos)
      << e.message();
  EXPECT_NE(e.message().find("; the stage needs 335 MiB"), std::string::npos) << e.message();
  EXPECT_NE(e.hint().find("give the tmpfs holding /dev/shm at least 335 MiB"), std::string::npos) << e.hint();
  EXPECT_NE(e.hint().find("nothing was changed"), std::string::npos) << e.hint();
}

TEST(NoSpace, AFullDirectoryElsewhereIsTheDirectoryNamed) {
  base::Error quota(base::ErrorKind::kInternal, "pwrite fd 5: Disk quota exceeded", EDQUOT);
  const base::Error e = ExplainNoSpace(quota, "/proc", 2ull << 20, "composing the two initrds");
  EXPECT_EQ(e.kind(), base::ErrorKind::kUsage);
  EXPECT_NE(e.message().find("the disk quota of the filesystem holding /proc is spent"), std::string::npos)
      << e.message();
  EXPECT_NE(e.message().find("composing the two initrds needs 2 MiB"), std::string::npos) << e.message();
  EXPECT_NE(e.hint().find("name a stage directory on one with room"), std::string::npos) << e.hint();
}

TEST(NoSpace, OtherErrorsPassUnchanged) {
  base::Error io(base::ErrorKind::kInternal, "pwrite fd 5: Input/output error", EIO);
  EXPECT_FALSE(IsNoSpace(io));
  const base::Error e = ExplainNoSpace(io, "/dev/shm", 1);
  EXPECT_EQ(e.kind(), base::ErrorKind::kInternal);
  EXPECT_EQ(e.message(), "pwrite fd 5: Input/output error");
  EXPECT_EQ(e.hint(), "");
}

}  // namespace
}  // namespace fetch
