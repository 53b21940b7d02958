// URL arithmetic on http(s) URLs, done by libcurl's URL API (RFC 3986).
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace fetch {

/// Resolves `reference` (absolute, or relative like "x86_64/vmlinuz") against
/// `base` (the manifest's URL). Only http and https results are accepted.
[[nodiscard]] base::Result<std::string> ResolveUrl(std::string_view base, std::string_view reference);

/// The URL of the detached signature next to a manifest: its path plus ".sig",
/// keeping any query string ("…/bootrino.sh?v=2" → "…/bootrino.sh.sig?v=2").
[[nodiscard]] base::Result<std::string> SignatureUrl(std::string_view manifest_url);

/// `url` with any user:password removed, for messages and logs.
std::string RedactUrl(std::string_view url);

}  // namespace fetch
