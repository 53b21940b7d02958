#include "fetch/url.h"

#include <memory>

#include <curl/curl.h>

namespace fetch {
namespace {

using base::ErrorKind;

struct CurlUrlDeleter {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};
struct CurlStringDeleter {
  void operator()(char* s) const { curl_free(s); }
};
using CurlUrl = std::unique_ptr<CURLU, CurlUrlDeleter>;
using CurlString = std::unique_ptr<char, CurlStringDeleter>;

base::Result<CurlUrl> Parse(std::string_view text) {
  CurlUrl url(curl_url());
  if (!url) return base::Fail(ErrorKind::kInternal, "curl_url() failed");
  std::string s(text);
  if (CURLUcode rc = curl_url_set(url.get(), CURLUPART_URL, s.c_str(), 0); rc != CURLUE_OK) {
    return base::Fail(ErrorKind::kManifest, "\"" + s + "\" is not a valid URL (" + curl_url_strerror(rc) + ")");
  }
  return url;
}

base::Result<std::string> Get(CURLU* url, CURLUPart part, unsigned flags = 0) {
  char* out = nullptr;
  if (CURLUcode rc = curl_url_get(url, part, &out, flags); rc != CURLUE_OK) {
    return base::Fail(ErrorKind::kManifest, std::string("URL part missing (") + curl_url_strerror(rc) + ")");
  }
  CurlString owned(out);
  return std::string(owned.get());
}

base::Result<void> RequireHttp(CURLU* url, std::string_view shown) {
  ASSIGN_OR_RETURN(std::string scheme, Get(url, CURLUPART_SCHEME));
  if (scheme != "http" && scheme != "https") {
    return base::Fail(ErrorKind::kManifest, "\"" + std::string(shown) + "\" is a " + scheme +
                                                " URL; only http and https are fetched");
  }
  return {};
}

}  // namespace

base::Result<std::string> ResolveUrl(std::string_view base, std::string_view reference) {
  ASSIGN_OR_RETURN(CurlUrl url, Parse(base));
  std::string ref(reference);
  // Setting a URL on a handle that already holds one resolves it as relative.
  if (CURLUcode rc = curl_url_set(url.get(), CURLUPART_URL, ref.c_str(), 0); rc != CURLUE_OK) {
    return base::Fail(ErrorKind::kManifest, "\"" + ref + "\" is not a valid URL (" + curl_url_strerror(rc) + ")");
  }
  RETURN_IF_ERROR(RequireHttp(url.get(), ref));
  return Get(url.get(), CURLUPART_URL);
}

base::Result<std::string> SignatureUrl(std::string_view manifest_url) {
  ASSIGN_OR_RETURN(CurlUrl url, Parse(manifest_url));
  ASSIGN_OR_RETURN(std::string path, Get(url.get(), CURLUPART_PATH));
  path += ".sig";
  curl_url_set(url.get(), CURLUPART_PATH, path.c_str(), 0);
  curl_url_set(url.get(), CURLUPART_FRAGMENT, nullptr, 0);
  return Get(url.get(), CURLUPART_URL);
}

std::string RedactUrl(std::string_view text) {
  auto url = Parse(text);
  if (!url) return std::string(text);
  curl_url_set(url->get(), CURLUPART_USER, nullptr, 0);
  curl_url_set(url->get(), CURLUPART_PASSWORD, nullptr, 0);
  auto out = Get(url->get(), CURLUPART_URL);
  return out ? *out : std::string(text);
}

}  // namespace fetch
