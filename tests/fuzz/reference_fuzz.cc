// fetch::ParseReference: the REF argument, which arrives from user-data, a
// web page's one-liner or a Terraform variable. What it accepts must be an
// http(s) URL with at most a well-formed pin, and must print back to itself.
#include "fetch/reference.h"
#include "fetch/url.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto ref = fetch::ParseReference(AsText(data, size));
  if (Refused(ref, base::ErrorKind::kUsage, HintRule::kRequired)) return 0;
  FUZZ_REQUIRE(StartsWithNoCase(ref->url, "http://") || StartsWithNoCase(ref->url, "https://"));
  FUZZ_REQUIRE(ref->url.find('#') == std::string::npos);
  for (char c : ref->url) FUZZ_REQUIRE(static_cast<unsigned char>(c) > 0x20 && c != 0x7f);
  if (ref->sha256) {
    FUZZ_REQUIRE(ref->sha256->size() == 64);
    for (char c : *ref->sha256) FUZZ_REQUIRE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
  }
  auto again = fetch::ParseReference(ref->ToString());
  FUZZ_REQUIRE(again);
  FUZZ_REQUIRE(again->url == ref->url && again->sha256 == ref->sha256);
  // What trust.cc and every message do with the URL next.
  (void)fetch::SignatureUrl(ref->url);
  (void)fetch::RedactUrl(ref->url);
  return 0;
}
