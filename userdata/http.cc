#include "userdata/http.h"

#include <algorithm>
#include <mutex>

#include <curl/curl.h>

namespace userdata {
namespace {

struct CurlEasyDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct CurlSlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

struct Transfer {
  Http::Response response;
  std::size_t max_bytes = 0;
  bool too_long = false;
};

size_t OnBody(char* data, size_t one, size_t count, void* user) {
  auto& t = *static_cast<Transfer*>(user);
  const size_t n = one * count;
  if (t.response.body.size() + n > t.max_bytes) {
    t.too_long = true;
    return 0;  // fewer bytes than offered: curl stops with CURLE_WRITE_ERROR
  }
  t.response.body.append(data, n);
  return n;
}

std::string Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  return std::string(s);
}

size_t OnHeader(char* data, size_t one, size_t count, void* user) {
  AddHeaderLine(std::string_view(data, one * count), static_cast<Transfer*>(user)->response);
  return one * count;
}

class CurlHttp : public Http {
 public:
  CurlHttp(std::chrono::milliseconds connect, std::chrono::milliseconds total) : connect_(connect), total_(total) {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  }

  base::Result<Response> Send(const Request& request) override {
    std::unique_ptr<CURL, CurlEasyDeleter> easy(curl_easy_init());
    if (!easy) return base::Fail(base::ErrorKind::kInternal, "curl_easy_init failed");
    std::unique_ptr<curl_slist, CurlSlistDeleter> headers;
    for (const std::string& h : request.headers) {
      curl_slist* grown = curl_slist_append(headers.get(), h.c_str());
      if (!grown) return base::Fail(base::ErrorKind::kInternal, "curl_slist_append failed");
      (void)headers.release();
      headers.reset(grown);
    }
    Transfer t;
    t.max_bytes = request.max_bytes;
    char errbuf[CURL_ERROR_SIZE] = {};
    CURL* c = easy.get();
    curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
    if (request.method != "GET") curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
    // Metadata services are link-local: a proxy from the environment must not see these requests.
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(connect_.count()));
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(total_.count()));
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // several threads ask at once
    curl_easy_setopt(c, CURLOPT_USERAGENT, "bootrino");
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, OnBody);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, OnHeader);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
    const CURLcode code = curl_easy_perform(c);
    const std::string what = request.method + " " + request.url;
    if (t.too_long) {
      return base::Fail(base::ErrorKind::kNetwork,
                        what + ": the answer is longer than " + std::to_string(request.max_bytes) + " bytes");
    }
    if (code != CURLE_OK) {
      return base::Fail(base::ErrorKind::kNetwork,
                        what + ": " + (errbuf[0] ? std::string(errbuf) : std::string(curl_easy_strerror(code))));
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &t.response.status);
    return std::move(t.response);
  }

 private:
  std::chrono::milliseconds connect_, total_;
};

}  // namespace

void AddHeaderLine(std::string_view line, Http::Response& response) {
  if (line.starts_with("HTTP/")) response.headers.clear();  // a new response (after a 100 Continue)
  const std::size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name(line.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    response.headers.emplace_back(std::move(name), Trim(line.substr(colon + 1)));
  }
}

std::string Http::Response::Header(std::string_view lowercase_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lowercase_name) return value;
  }
  return "";
}

std::unique_ptr<Http> NewCurlHttp(std::chrono::milliseconds connect, std::chrono::milliseconds total) {
  return std::make_unique<CurlHttp>(connect, total);
}

}  // namespace userdata
