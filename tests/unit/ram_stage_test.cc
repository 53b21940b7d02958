// The RAM stage: a tmpfs of bootrino's own, sized for the payload rather than for wherever /run is, in
// a mount namespace of its own; the host's tmpfs, said so, when bootrino cannot mount; and nothing left
// behind on the way out.
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <unistd.h>

#include <gtest/gtest.h>

#include "agent/pipeline.h"
#include "tests/unit/fake_sys.h"

namespace agent {
namespace {

namespace fs = std::filesystem;

struct ScratchDir {
  fs::path path;
  ScratchDir() {
    std::string templ = (fs::temp_directory_path() / "bootrino-ramstage-test.XXXXXX").string();
    path = mkdtemp(templ.data());
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

std::string Slurp(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

fetch::PayloadFile File(std::uint64_t size) { return fetch::PayloadFile{"f", "f", {}, size, std::string(64, 'a')}; }

TEST(RamStage, SizedForTheFilesAndTheComposedInitrd) {
  fetch::ArchPayload payload;
  payload.kernel = File(10ull << 20);
  payload.initrds = {File(100ull << 20), File(20ull << 20)};
  payload.files = {File(205ull << 20)};
  fetch::StagePlan plan;
  plan.total_bytes = 335ull << 20;
  plan.ram_needed = 1ull << 40;
  // run composes the kexec boot's initrd (120 MiB) in the stage; the disk's is composed as the disk is written.
  EXPECT_EQ(StageWorkBytes(payload, base::Arch::kX86_64, StageFor::kRun), 120ull << 20);
  EXPECT_EQ(StageTmpfsBytes(plan, payload, base::Arch::kX86_64, StageFor::kRun),
            (335ull + 120) * (1 << 20) + kStageMarginBytes);
  // image composes nothing in the stage.
  EXPECT_EQ(StageWorkBytes(payload, base::Arch::kX86_64, StageFor::kImage), 0u);
  // arm64 decompresses its kernel in the stage: room for kKernelExpansionBudget times the file.
  EXPECT_EQ(StageWorkBytes(payload, base::Arch::kAarch64, StageFor::kRun), (120ull + 40) << 20);
  EXPECT_EQ(StageWorkBytes(payload, base::Arch::kAarch64, StageFor::kImage), 40ull << 20);
  // Never more than the RAM check allowed.
  plan.ram_needed = 400ull << 20;
  EXPECT_EQ(StageTmpfsBytes(plan, payload, base::Arch::kX86_64, StageFor::kRun), 400ull << 20);
}

TEST(RamStage, MountsItsOwnTmpfsInItsOwnMountNamespace) {
  testing_support::FakeSys sys;
  observe::Events events;
  EXPECT_EQ(MountRamStage("/run/bootrino-stage.1.abc", 123 << 20, sys, events), 123u << 20);
  EXPECT_EQ(sys.log, (std::vector<std::string>{"private mounts",
                                               "mount tmpfs /run/bootrino-stage.1.abc " + std::to_string(123 << 20)}));
}

TEST(RamStage, WithoutTheRightToMountStagesOnTheHostsTmpfsAndSaysSo) {
  for (const char* refused : {"private mounts", "mount tmpfs /dev/shm 4096"}) {
    ScratchDir scratch;
    testing_support::FakeSys sys;
    sys.fail[refused] = EPERM;
    observe::Events events;
    ASSERT_TRUE(events.Open((scratch.path / "events.json").string()));
    EXPECT_EQ(MountRamStage("/dev/shm", 4096, sys, events), 0u) << refused;
    const std::string logged = Slurp(scratch.path / "events.json");
    EXPECT_NE(logged.find(R"("phase":"stage","status":"shared","dir":"/dev/shm")"), std::string::npos) << logged;
    EXPECT_NE(logged.find("Operation not permitted"), std::string::npos) << logged;
    // No mount after a refused namespace: a mount in the host's namespace would outlive a killed bootrino.
    if (std::string(refused) == "private mounts") {
      EXPECT_EQ(sys.log, std::vector<std::string>{"private mounts"});
    }
  }
}

TEST(RamStage, RemovedOnTheWayOutMountAndDirectory) {
  ScratchDir scratch;
  const fs::path dir = scratch.path / "bootrino-stage.1.abc";
  fs::create_directories(dir / ".bootrino");
  std::ofstream(dir / "vmlinuz") << "kernel";
  testing_support::FakeSys sys;
  RemoveRamStage(RamStage{dir.string(), 1 << 20}, sys);
  EXPECT_EQ(sys.log, std::vector<std::string>{"unmount " + dir.string()});
  EXPECT_FALSE(fs::exists(dir));
}

TEST(RamStage, OnTheHostsTmpfsOnlyTheDirectoryGoes) {
  ScratchDir scratch;
  const fs::path dir = scratch.path / "bootrino-stage.1.abc";
  fs::create_directories(dir);
  testing_support::FakeSys sys;
  RemoveRamStage(RamStage{dir.string(), 0}, sys);
  EXPECT_TRUE(sys.log.empty());
  EXPECT_FALSE(fs::exists(dir));
  RemoveRamStage(RamStage{}, sys);  // a run stopped before it had a stage
  EXPECT_TRUE(sys.log.empty());
}

}  // namespace
}  // namespace agent
