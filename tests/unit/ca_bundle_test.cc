#include "net/ca_bundle.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace net {
namespace {

// The bundle is the build machine's file, byte for byte: an embedding that loses it (as the aarch64 cross
// build once did, end - start being 0) leaves minimal hosts with no CA at all.
TEST(CaBundleTest, EmbedsTheBuildMachinesBundleWhole) {
  std::ifstream in(BOOTRINO_CA_BUNDLE_PATH, std::ios::binary);
  ASSERT_TRUE(in) << BOOTRINO_CA_BUNDLE_PATH;
  std::ostringstream file;
  file << in.rdbuf();
  ASSERT_GT(file.str().size(), 10000u);
  EXPECT_EQ(EmbeddedCaBundle(), file.str());
  EXPECT_NE(EmbeddedCaBundle().find("-----BEGIN CERTIFICATE-----"), std::string_view::npos);
}

}  // namespace
}  // namespace net
