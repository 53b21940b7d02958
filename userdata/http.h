// The one HTTP call user-data needs (a metadata service request), behind an
// interface so tests can answer it themselves. The libcurl implementation
// never uses a proxy, never follows redirects and gives up quickly: metadata
// services answer within milliseconds, and a host that has none must not wait.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace userdata {

class Http {
 public:
  struct Request {
    std::string method = "GET";
    std::string url;
    std::vector<std::string> headers;  ///< "Name: value"
    std::size_t max_bytes = 1 << 20;   ///< a longer body is an error
  };
  struct Response {
    long status = 0;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;  ///< lowercase names, trimmed values

    /// The value of header `lowercase_name`, or "".
    std::string Header(std::string_view lowercase_name) const;
  };

  virtual ~Http() = default;
  /// Any HTTP status is a Response; no answer at all (refused, timed out,
  /// unresolvable, too long) is a kNetwork error. Safe to call from several threads.
  [[nodiscard]] virtual base::Result<Response> Send(const Request& request) = 0;
};

/// Reads one header line of an answer as libcurl hands it over ("Name: value\r\n")
/// into `response`: the name lowercased, the value trimmed. A status line
/// ("HTTP/1.1 200 OK") starts a new response (after a 100 Continue), so it drops
/// the headers read so far; a line without ':' is skipped.
void AddHeaderLine(std::string_view line, Http::Response& response);

/// Requests with libcurl, one connection each: `connect` bounds the connection
/// (name resolution included), `total` the whole request.
std::unique_ptr<Http> NewCurlHttp(std::chrono::milliseconds connect, std::chrono::milliseconds total);

}  // namespace userdata
