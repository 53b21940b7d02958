// The one HTTP call user-data needs (a metadata service request), behind an
// interface so tests can answer it themselves. The libcurl implementation
// (net/http.h) never uses a proxy, never follows redirects and gives up
// quickly: metadata services answer within milliseconds, and a host that has
// none must not wait.
#pragma once

#include <chrono>
#include <memory>

#include "base/base.h"
#include "net/net.h"

namespace userdata {

class Http {
 public:
  using Request = net::Request;
  using Response = net::Response;

  virtual ~Http() = default;
  /// Any HTTP status is a Response; no answer at all (refused, timed out,
  /// unresolvable, too long) is a kNetwork error. Safe to call from several threads.
  [[nodiscard]] virtual base::Result<Response> Send(const Request& request) = 0;
};

using net::AddHeaderLine;

/// Requests with libcurl, one connection each: `connect` bounds the connection
/// (name resolution included), `total` the whole request.
std::unique_ptr<Http> NewCurlHttp(std::chrono::milliseconds connect, std::chrono::milliseconds total);

}  // namespace userdata
