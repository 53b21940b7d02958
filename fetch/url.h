// URL arithmetic on http(s) URLs, done by libcurl's URL API (RFC 3986).
#pragma once

#include <string>
#include <string_view>

#include "base/base.h"

namespace fetch {

/// Resolves `reference` (absolute, or relative like "x86_64/vmlinuz") against
/// `base` (the manifest's URL). Only http and https results are accepted.
[[nodiscard]] base::Result<std::string> ResolveUrl(std::string_view base, std::string_view reference);

/// The URL of the detached signature next to a manifest: its path plus ".sig",
/// keeping any query string ("…/bootrino.sh?v=2" → "…/bootrino.sh.sig?v=2").
[[nodiscard]] base::Result<std::string> SignatureUrl(std::string_view manifest_url);

/// `url` with any user:password removed, and the values of query parameters
/// named like credentials (token, sig, X-Amz-Signature …) replaced by
/// REDACTED, for messages and logs.
std::string RedactUrl(std::string_view url);

/// The same for every URL ("scheme://…") inside a message: what libcurl,
/// a server's redirect or a manifest put into a text is redacted before the
/// text reaches stderr, an event file or the status URL.
std::string RedactUrlsInText(std::string_view text);

}  // namespace fetch
