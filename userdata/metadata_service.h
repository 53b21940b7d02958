// What the metadata service clients share (metadata.cc, metadata_clouds.cc): requests to one service with
// the headers it requires, and the readers of its answers. Private to userdata/.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/base.h"
#include "userdata/config.h"
#include "userdata/http.h"
#include "userdata/metadata.h"

namespace userdata {

/// Requests to one service, with the headers it requires.
class Service {
 public:
  Service(Http& http, std::string base_url, std::vector<std::string> headers)
      : http_(http), base_(std::move(base_url)), headers_(std::move(headers)) {
    while (base_.ends_with("/")) base_.pop_back();
  }

  std::string Url(std::string_view path) const { return base_ + std::string(path); }

  base::Result<Http::Response> Send(std::string method, std::string_view path, std::vector<std::string> extra = {},
                                    std::size_t max_bytes = 1 << 20) {
    Http::Request request{std::move(method), Url(path), headers_, max_bytes, ""};
    request.headers.insert(request.headers.end(), extra.begin(), extra.end());
    request.privileged_source_port = privileged_;
    return http_.Send(request);
  }
  base::Result<Http::Response> Get(std::string_view path) { return Send("GET", path); }

  /// GET `path` (with the `extra` headers) to learn whether this service is there at all: nullopt, with why in
  /// `why_not`, when nothing answered (no connection, a timeout); the answer, whatever its status, otherwise.
  std::optional<Http::Response> Probe(std::string_view path, std::string& why_not,
                                      std::vector<std::string> extra = {}) {
    auto r = Send("GET", path, std::move(extra));
    if (!r) {
      why_not = r.error().message();
      return std::nullopt;
    }
    return std::move(*r);
  }

  void AddHeader(std::string header) { headers_.push_back(std::move(header)); }

  /// Sends every later request from a source port below 1024: the proof of root a service may ask for.
  void FromPrivilegedPort() { privileged_ = true; }

  // The user-data at `path`: 404 (or an empty body) means none; any other failure is an error.
  base::Result<std::optional<std::string>> UserData(std::string_view path, Metadata& m) {
    m.user_data_url = Url(path);
    auto r = Send("GET", path, {}, kMaxUserDataBytes);
    const std::string root_only =
        "this service gives user-data only to requests from a port below 1024, which only root can send: run "
        "bootrino as root, or give the user-data as a file";
    if (!r) {
      if (privileged_) return base::Fail(std::move(r).error().Context("reading user-data").Hint(root_only));
      return base::Fail(std::move(r).error().Context("reading user-data"));
    }
    if (r->status == 404 || (r->status == 200 && r->body.empty())) return std::optional<std::string>();
    if (r->status != 200) {
      return base::Fail(base::Error(base::ErrorKind::kNetwork, "GET " + Url(path) + " answered HTTP " +
                                                             std::to_string(r->status))
                            .Hint(privileged_ ? root_only
                                              : "the metadata service is failing: retry, or give the user-data as "
                                                "a file"));
    }
    return std::optional<std::string>(std::move(r->body));
  }

  // A small text value; "" when absent or unreadable (noted).
  std::string Text(std::string_view path, Metadata& m) {
    auto r = Get(path);
    if (!r) {
      m.notes.push_back(r.error().message());
      return "";
    }
    if (r->status != 200) {
      if (r->status != 404) m.notes.push_back("GET " + Url(path) + " answered HTTP " + std::to_string(r->status));
      return "";
    }
    return r->body;
  }

 private:
  Http& http_;
  std::string base_;
  std::vector<std::string> headers_;
  bool privileged_ = false;
};

// The clients of metadata_clouds.cc: nullopt (and why, in `why_not`) when nothing answers as that service.
base::Result<std::optional<Metadata>> QueryAzure(Service& s, std::string& why_not);
base::Result<std::optional<Metadata>> QueryOracle(Service& s, std::string& why_not);
base::Result<std::optional<Metadata>> QueryHetzner(Service& s, std::string& why_not);
base::Result<std::optional<Metadata>> QueryOpenStack(Service& s, std::string& why_not);
base::Result<std::optional<Metadata>> QueryVultr(Service& s, std::string& why_not);
base::Result<std::optional<Metadata>> QueryLinode(Service& s, std::string& why_not);
base::Result<std::optional<Metadata>> QueryScaleway(Service& s, std::string& why_not);
base::Result<std::optional<Metadata>> QueryExoscale(Service& s, std::string& why_not);

/// A service of a plain-text file per value (DigitalOcean's, Exoscale's): `id` must answer with what `is_id`
/// accepts (`what_id`; it tells the service from something else answering there), then come the user-data
/// (404: none), the keys (one a line) and the hostname.
struct PlainTextService {
  Cloud cloud;
  std::string_view name;  ///< "DigitalOcean", for messages
  std::string_view id, what_id, user_data, keys, hostname;
  bool (*is_id)(std::string_view body);
};
base::Result<std::optional<Metadata>> QueryPlainText(Service& s, const PlainTextService& layout, std::string& why_not);

/// "HTTP 404".
inline std::string Status(const Http::Response& r) { return "HTTP " + std::to_string(r.status); }

}  // namespace userdata
