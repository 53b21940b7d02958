// fetch::ResolveUrl and friends on a manifest's payload URLs, which are
// relative or absolute and written by the manifest's author: whatever they
// say, bootrino fetches only http and https (no file://, no gopher://).
// Input: the base URL, a NUL, then the reference.
#include "base/text.h"
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
  (void)fetch::RedactUrlsInText(text);
  // What bootrino prints of any text is UTF-8 without a control character (C0, DEL, C1).
  const std::string shown = base::PrintableText(fetch::RedactUrlsInText(text), false);
  FUZZ_REQUIRE(base::IsUtf8(shown));
  for (std::size_t i = 0; i < shown.size(); ++i) {
    const auto c = static_cast<unsigned char>(shown[i]);
    FUZZ_REQUIRE(c >= 0x20 && c != 0x7f);
    FUZZ_REQUIRE(!(c == 0xc2 && i + 1 < shown.size() && static_cast<unsigned char>(shown[i + 1]) <= 0x9f));
  }
  return 0;
}
