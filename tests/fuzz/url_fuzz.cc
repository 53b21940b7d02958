// fetch::ResolveUrl and friends on a manifest's payload URLs, which are
// relative or absolute and written by the manifest's author: whatever they
// say, bootrino fetches only http and https (no file://, no gopher://).
// Input: the base URL, a NUL, then the reference.
#include "fetch/url.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text = AsText(data, size);
  std::size_t nul = text.find('\0');
  std::string_view base = nul == std::string_view::npos ? "https://mirror.example/os/bootrino.sh" : text.substr(0, nul);
  std::string_view reference = nul == std::string_view::npos ? text : text.substr(nul + 1);
  auto url = fetch::ResolveUrl(base, reference);
  if (url) {
    FUZZ_REQUIRE(url->starts_with("http://") || url->starts_with("https://"));
  } else {
    FUZZ_REQUIRE(url.error().kind() == base::ErrorKind::kManifest);
  }
  if (auto sig = fetch::SignatureUrl(reference)) {
    FUZZ_REQUIRE(sig->find(".sig") != std::string::npos);
  }
  (void)fetch::RedactUrl(reference);
  return 0;
}
