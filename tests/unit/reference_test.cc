#include "fetch/reference.h"

#include <gtest/gtest.h>

namespace fetch {
namespace {

constexpr const char* kPin = "0a7b2a5eb7b8e7a8f5c1d5e8f0f3b2a1c4d6e8f0a2b4c6d8e0f2a4b6c8d0e2f4";

TEST(Reference, PinnedAndUnpinned) {
  auto pinned = ParseReference(std::string("https://example.org/a/bootrino.sh#sha256=") + kPin);
  ASSERT_TRUE(pinned) << pinned.error().message();
  EXPECT_EQ(pinned->url, "https://example.org/a/bootrino.sh");
  EXPECT_EQ(pinned->sha256, kPin);
  EXPECT_EQ(pinned->ToString(), std::string("https://example.org/a/bootrino.sh#sha256=") + kPin);

  auto plain = ParseReference("  http://127.0.0.1:8080/bootrino.sh?v=2\n");
  ASSERT_TRUE(plain) << plain.error().message();
  EXPECT_EQ(plain->url, "http://127.0.0.1:8080/bootrino.sh?v=2");
  EXPECT_FALSE(plain->sha256);
}

TEST(Reference, PinIsCaseInsensitive) {
  std::string upper(kPin);
  for (auto& c : upper) c = static_cast<char>(std::toupper(c));
  auto ref = ParseReference("HTTPS://example.org/bootrino.sh#sha256=" + upper);
  ASSERT_TRUE(ref);
  EXPECT_EQ(ref->sha256, kPin);
}

TEST(Reference, Refusals) {
  struct Case {
    std::string text, expected;
  };
  std::vector<Case> cases = {
      {"", "it is empty"},
      {"   ", "it is empty"},
      {"ftp://example.org/bootrino.sh", "not an http:// or https:// URL"},
      {"example.org/bootrino.sh", "not an http:// or https:// URL"},
      {"/srv/bootrino.sh", "not an http:// or https:// URL"},
      {"https:///bootrino.sh", "has no host"},
      {"https://", "has no host"},
      {"https://example.org/boot rino.sh", "spaces or control characters"},
      {"https://example.org/bootrino.sh#md5=abc", "must be sha256="},
      {"https://example.org/bootrino.sh#sha256=abc", "exactly 64 hexadecimal digits"},
      {"https://example.org/bootrino.sh#sha256=" + std::string(kPin) + "0", "exactly 64"},
      {"https://example.org/bootrino.sh#sha256=" + std::string(64, 'z'), "exactly 64"},
      {"https://example.org/bootrino.sh#", "must be sha256="},
  };
  for (const auto& c : cases) {
    auto ref = ParseReference(c.text);
    ASSERT_FALSE(ref) << c.text;
    EXPECT_EQ(ref.error().kind(), base::ErrorKind::kUsage);
    EXPECT_NE(ref.error().message().find(c.expected), std::string::npos)
        << c.text << " -> " << ref.error().message();
    EXPECT_NE(ref.error().hint().find("--trust"), std::string::npos);
  }
}

// argv is bytes; a reference that is not UTF-8 (a Latin-1 terminal, a
// mangled copy) is the caller's mistake, said as a usage error, not a crash
// when it reaches the JSON events.
TEST(Reference, NotUtf8IsAUsageError) {
  for (std::string bad : {std::string("https://example.org/caf\xe9/bootrino.sh"),
                          std::string("https://example.org/\xc0\xaf/bootrino.sh"),  // overlong '/'
                          std::string("https://example.org/\xed\xa0\x80/bootrino.sh"),  // a surrogate
                          std::string("https://example.org/bootrino.sh\xff")}) {
    auto ref = ParseReference(bad + std::string("#sha256=") + kPin);
    ASSERT_FALSE(ref) << bad;
    EXPECT_EQ(ref.error().kind(), base::ErrorKind::kUsage);
    EXPECT_NE(ref.error().message().find("UTF-8"), std::string::npos) << ref.error().message();
  }
  auto ok = ParseReference(std::string("https://example.org/caf\xc3\xa9/bootrino.sh#sha256=") + kPin);
  EXPECT_TRUE(ok) << ok.error().message();
}

}  // namespace
}  // namespace fetch
