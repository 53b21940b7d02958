#include "fetch/url.h"

#include <gtest/gtest.h>

namespace fetch {
namespace {

TEST(Url, RelativeReferencesResolveAgainstTheManifest) {
  const std::string base = "https://example.org/os/alpine/bootrino.sh?v=3";
  EXPECT_EQ(*ResolveUrl(base, "x86_64/vmlinuz"), "https://example.org/os/alpine/x86_64/vmlinuz");
  EXPECT_EQ(*ResolveUrl(base, "../common/modloop"), "https://example.org/os/common/modloop");
  EXPECT_EQ(*ResolveUrl(base, "/root.gz"), "https://example.org/root.gz");
  EXPECT_EQ(*ResolveUrl(base, "//mirror.example.net/a"), "https://mirror.example.net/a");
  EXPECT_EQ(*ResolveUrl(base, "http://other.example/k"), "http://other.example/k");
}

TEST(Url, OnlyHttpAndHttpsAreFetched) {
  auto r = ResolveUrl("https://example.org/bootrino.sh", "file:///etc/shadow");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), base::ErrorKind::kManifest);
  EXPECT_NE(r.error().message().find("only http and https"), std::string::npos);
  EXPECT_FALSE(ResolveUrl("https://example.org/bootrino.sh", "ftp://example.org/k"));
  EXPECT_FALSE(ResolveUrl("https://example.org/bootrino.sh", "http://[::1"));
}

TEST(Url, SignatureSitsNextToTheManifest) {
  EXPECT_EQ(*SignatureUrl("https://example.org/a/bootrino.sh"), "https://example.org/a/bootrino.sh.sig");
  EXPECT_EQ(*SignatureUrl("http://127.0.0.1:8080/bootrino.sh?v=2"), "http://127.0.0.1:8080/bootrino.sh.sig?v=2");
}

TEST(Url, RedactionDropsCredentials) {
  EXPECT_EQ(RedactUrl("https://user:secret@example.org/bootrino.sh"), "https://example.org/bootrino.sh");
  EXPECT_EQ(RedactUrl("https://example.org/bootrino.sh"), "https://example.org/bootrino.sh");
  EXPECT_EQ(RedactUrl("https://ghp_token@example.org/bootrino.sh"), "https://example.org/bootrino.sh");
  EXPECT_EQ(RedactUrl("https://example.org/a.img?X-Amz-Credential=AKIA%2F1&X-Amz-Signature=abc&v=2"),
            "https://example.org/a.img?X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED&v=2");
  EXPECT_EQ(RedactUrl("https://example.org/a.img?sv=2020&sig=xyz#frag"), "https://example.org/a.img?sv=2020&sig=REDACTED#frag");
}

// Messages carry URLs that went through no RedactUrl: libcurl's error text, a
// redirect target, a URL a manifest wrote. Every one in a text is redacted.
TEST(Url, RedactionInsideMessages) {
  EXPECT_EQ(RedactUrlsInText("vmlinuz: https://user:secret@127.0.0.1:8080/k: HTTP 404 after 2 tries; "
                             "http://a:b@mirror.example/k?token=t0k&x=1: Could not resolve host"),
            "vmlinuz: https://127.0.0.1:8080/k: HTTP 404 after 2 tries; "
            "http://mirror.example/k?token=REDACTED&x=1: Could not resolve host");
  EXPECT_EQ(RedactUrlsInText("\"https://u:p@ss@h/x\" is not valid"), "\"https://h/x\" is not valid");
  EXPECT_EQ(RedactUrlsInText("redirect to 'https://me:pw@other.example' refused"),
            "redirect to 'https://other.example' refused");
  EXPECT_EQ(RedactUrlsInText("https://example.org/a@b/c"), "https://example.org/a@b/c");  // '@' in a path
  EXPECT_EQ(RedactUrlsInText("no URL: user:secret@host"), "no URL: user:secret@host");
  EXPECT_EQ(RedactUrlsInText(""), "");
  EXPECT_EQ(RedactUrlsInText("ends with ://"), "ends with ://");
}

}  // namespace
}  // namespace fetch
