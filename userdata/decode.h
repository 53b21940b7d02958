// The encodings user-data arrives in: gzip (the whole of it, or a MIME part),
// base64 and quoted-printable (MIME transfer encodings).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "base/base.h"

namespace userdata {

/// True when `data` starts with the gzip magic (1f 8b).
bool IsGzip(std::string_view data);

/// Inflates one gzip stream. Refuses to produce more than `max_out` bytes or
/// more than kMaxGzipRatio times the input (a bomb), and refuses a truncated
/// stream or bytes after its end. Errors are kUsage.
[[nodiscard]] base::Result<std::string> Gunzip(std::string_view gzip, std::size_t max_out);

/// Decodes base64 (RFC 4648, standard alphabet, padding optional); line breaks
/// and spaces are skipped, anything else outside the alphabet is an error.
[[nodiscard]] base::Result<std::string> DecodeBase64(std::string_view text);

/// Decodes quoted-printable (RFC 2045): "=XX" escapes and "=" soft line breaks.
/// An "=" not followed by two hex digits is kept as written, as mail readers do.
std::string DecodeQuotedPrintable(std::string_view text);

}  // namespace userdata
