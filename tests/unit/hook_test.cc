#include "agent/hook.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "fetch/stage.h"
#include "tests/unit/scratch_dir.h"

namespace agent {
namespace {

namespace fs = std::filesystem;

std::string Slurp(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class HookTest : public testing_support::TempDirTest {
 protected:
  HookTest() : TempDirTest("hook-test") {}
};

TEST(HookArgv, SourcesTheSealedCopyNotAPath) {
  const std::vector<std::string> argv = HookArgv("bootrino_after_stage", 3);
  ASSERT_EQ(argv.size(), 4u);
  EXPECT_EQ(argv[0], "sh");
  EXPECT_EQ(argv[1], "-c");
  EXPECT_EQ(argv[2].rfind(". /proc/self/fd/3\n", 0), 0u) << argv[2];
  for (const std::string& arg : argv) EXPECT_EQ(arg.find(".bootrino/"), std::string::npos) << arg;
  EXPECT_TRUE(argv[2].ends_with("\nbootrino_after_stage"));
}

TEST(HookEnvironment, IsFixedAndNamesOnlyTheStage) {
  setenv("SECRET_TOKEN_X", "leaked", 1);
  const std::vector<std::string> env = HookEnvironment("/run/bootrino-stage.abc");
  unsetenv("SECRET_TOKEN_X");
  EXPECT_EQ(env, (std::vector<std::string>{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                                           "HOME=/root", "LANG=C", "BOOTRINO_STAGE_DIR=/run/bootrino-stage.abc"}));
}

// The staged bootrino.sh is rewritten after verification: the hook still runs the verified text.
TEST_F(HookTest, RunsTheVerifiedTextNotTheStagedFile) {
  const std::string verified = "#!/bin/sh\nafter() { echo verified > \"$BOOTRINO_STAGE_DIR/who\"; }\n";
  fs::create_directories(dir_ / ".bootrino");
  std::ofstream(fetch::StageMetaPath(dir_.string(), "bootrino.sh"))
      << "#!/bin/sh\nafter() { echo tampered > \"$BOOTRINO_STAGE_DIR/who\"; }\n";
  fetch::HookSpec hook;
  hook.function = "after";
  hook.timeout_seconds = 10;
  auto r = RunHook(hook, verified, dir_.string());
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(Slurp(dir_ / "who"), "verified\n");
}

TEST_F(HookTest, FailsWithTheHooksStatus) {
  fetch::HookSpec hook;
  hook.function = "after";
  hook.timeout_seconds = 10;
  auto r = RunHook(hook, "after() { exit 5; }\n", dir_.string());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), base::ErrorKind::kHook);
  EXPECT_NE(r.error().message().find("exited with status 5"), std::string::npos) << r.error().message();
}

}  // namespace
}  // namespace agent
