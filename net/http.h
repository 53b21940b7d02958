// libcurl with bootrino's rules, in one place: http and https only, never a
// redirect from https down to http, no signals (several threads transfer at
// once), the CA bundle given with --ca-file or the one compiled in, and a
// user agent that names bootrino. fetch/ configures its parallel transfers
// with Configure; user-data's metadata requests and the status URL's POSTs
// are single requests (Send).
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <curl/curl.h>

#include "base/base.h"

namespace net {

struct Policy {
  std::string ca_file;            ///< --ca-file; empty: the CA bundle compiled in (net/ca_bundle.h)
  bool follow_redirects = false;  ///< up to 10, and from https only to https
  bool use_proxy = true;          ///< false: no proxy from the environment (link-local metadata services)
  std::chrono::milliseconds connect_timeout{10000};  ///< name resolution included
  std::chrono::milliseconds total_timeout{0};        ///< 0: none (fetch/ watches for stalls instead)
};

/// Sets bootrino's rules on `handle`, whose request goes to `url`.
void Configure(CURL* handle, const std::string& url, const Policy& policy);

/// The TLS 1.3 cipher suites bootrino offers, in its order of preference (for
/// CURLOPT_TLS13_CIPHERS): AES-GCM first when `aes_gcm_accelerated`, since
/// then it is several times faster than ChaCha20-Poly1305; ChaCha20-Poly1305
/// first otherwise (mbedTLS's own order), as it is faster than AES in portable
/// code. The same suites either way (mbedTLS's TLS 1.3 defaults); TLS 1.2 keeps
/// mbedTLS's defaults.
std::string_view Tls13Ciphers(bool aes_gcm_accelerated);

/// Whether this CPU has the instructions Nettle's AES-GCM (under mbedTLS) uses:
/// AES and carry-less multiply (x86_64: AES-NI and PCLMULQDQ; aarch64: AES and PMULL).
bool CpuAcceleratesAesGcm();

struct Request {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  ///< "Name: value"
  std::size_t max_bytes = 1 << 20;   ///< a longer answer is an error
  std::string body;                  ///< sent when not empty (a POST's JSON)
  bool privileged_source_port = false;  ///< from a source port below 1024, which only root can bind (the proof of
                                        ///< root Scaleway's metadata service asks before it gives user-data)
};

struct Response {
  long status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  ///< lowercase names, trimmed values

  /// The value of header `lowercase_name`, or "".
  std::string Header(std::string_view lowercase_name) const;
};

/// One request on a connection of its own. Any HTTP status is a Response; no
/// answer at all (refused, timed out, unresolvable, too long) is a kNetwork
/// error. Safe to call from several threads.
[[nodiscard]] base::Result<Response> Send(const Request& request, const Policy& policy);

/// Reads one header line of an answer as libcurl hands it over ("Name: value\r\n")
/// into `response`: the name lowercased, the value trimmed. A status line
/// ("HTTP/1.1 200 OK") starts a new response (after a 100 Continue), so it drops
/// the headers read so far; a line without ':' is skipped.
void AddHeaderLine(std::string_view line, Response& response);

}  // namespace net
