// A manifest reference names the bootrino.sh to boot and how to trust it:
//   https://example.com/alpine/bootrino.sh#sha256=<64 hex>   (pinned by hash)
//   https://example.com/alpine/bootrino.sh                   (with --trust KEY: signed)
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/base.h"

namespace fetch {

struct ManifestRef {
  std::string url;                    ///< http(s) URL of the bootrino.sh, fragment removed
  std::optional<std::string> sha256;  ///< the pin, lowercase hex, when the reference has one

  /// The reference as the user would write it again.
  std::string ToString() const;
};

/// Parses "URL" or "URL#sha256=HEX". Errors are kUsage and show the accepted shapes.
[[nodiscard]] base::Result<ManifestRef> ParseReference(std::string_view text);

}  // namespace fetch
