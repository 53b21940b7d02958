#include "fetch/reference.h"

#include <algorithm>
#include <cctype>

#include "base/base.h"

namespace fetch {
namespace {

using base::ErrorKind;

constexpr const char* kShapes =
    "write it as https://HOST/PATH/bootrino.sh#sha256=<64 hex digits> (pinned), or give the URL "
    "with --trust KEYFILE (signed by bootrino.sh.sig)";

std::unexpected<base::Error> Bad(std::string what) {
  return base::Fail(base::Error(ErrorKind::kUsage, "manifest reference: " + what).Hint(kShapes));
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), s.begin(),
                    [](char p, char c) { return p == std::tolower(static_cast<unsigned char>(c)); });
}

}  // namespace

std::string ManifestRef::ToString() const { return sha256 ? url + "#sha256=" + *sha256 : url; }

base::Result<ManifestRef> ParseReference(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  if (text.empty()) return Bad("it is empty");
  // URLs, messages and events are UTF-8 text; other bytes are a mistyped or
  // mis-encoded argument, not something to fetch.
  if (!base::IsUtf8(text)) return Bad("it is not UTF-8 text (percent-encode other bytes: %XX)");
  for (char c : text) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return Bad("it contains spaces or control characters");
  }
  ManifestRef ref;
  std::string_view url = text;
  if (auto hash = text.find('#'); hash != std::string_view::npos) {
    url = text.substr(0, hash);
    std::string_view fragment = text.substr(hash + 1);
    if (!fragment.starts_with("sha256=")) {
      return Bad("the part after '#' must be sha256=<64 hex digits>, not \"" + std::string(fragment) + "\"");
    }
    std::string pin(fragment.substr(7));
    std::transform(pin.begin(), pin.end(), pin.begin(), [](unsigned char c) { return std::tolower(c); });
    bool hex = pin.size() == 64 && std::all_of(pin.begin(), pin.end(), [](char c) {
                 return std::isdigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'f');
               });
    if (!hex) return Bad("sha256=… must be exactly 64 hexadecimal digits (sha256sum's output)");
    ref.sha256 = pin;
  }
  if (!StartsWithNoCase(url, "https://") && !StartsWithNoCase(url, "http://")) {
    return Bad("\"" + std::string(url) + "\" is not an http:// or https:// URL");
  }
  std::string_view rest = url.substr(url.find("://") + 3);
  if (rest.empty() || rest.front() == '/') return Bad("\"" + std::string(url) + "\" has no host");
  ref.url = std::string(url);
  return ref;
}

}  // namespace fetch
