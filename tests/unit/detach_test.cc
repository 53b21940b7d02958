#include "takeover/detach.h"

#include <gtest/gtest.h>
#include <unistd.h>

namespace takeover {
namespace {

TEST(ProcStat, ParsesCommWithSpacesAndParentheses) {
  auto s = ParseProcStat("4242 (cloud-init) S 1 4242 4242 0 -1 4194560 …");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->comm, "cloud-init");
  EXPECT_EQ(s->state, 'S');
  EXPECT_EQ(s->ppid, 1);
  auto odd = ParseProcStat("7 (a) b (c)) Z 33 7 7 0");
  ASSERT_TRUE(odd);
  EXPECT_EQ(odd->comm, "a) b (c)");
  EXPECT_EQ(odd->state, 'Z');
  EXPECT_EQ(odd->ppid, 33);
}

TEST(ProcStat, RefusesGarbage) {
  EXPECT_FALSE(ParseProcStat(""));
  EXPECT_FALSE(ParseProcStat("12 no-parens S 1"));
  EXPECT_FALSE(ParseProcStat("12 (x)"));
  EXPECT_FALSE(ParseProcStat("12 (x) S -1"));
}

// Found by tests/fuzz/procstat_fuzz: a long ppid overflowed int (undefined behaviour).
TEST(ProcStat, PpidOutOfRangeIsRefused) {
  EXPECT_FALSE(ParseProcStat("77 (a) Z 99999999999 1"));
  auto largest = ParseProcStat("77 (a) S 2147483647 1");
  ASSERT_TRUE(largest);
  EXPECT_EQ(largest->ppid, 2147483647);
}

TEST(ProcStat, ThisProcessIsNotUnderCloudInit) {
  EXPECT_EQ(CloudInitAncestor(), 0);
  EXPECT_EQ(WaitAnchor(), getppid());
}

}  // namespace
}  // namespace takeover
