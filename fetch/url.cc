#include "fetch/url.h"

#include <memory>

#include <curl/curl.h>

#include "base/base.h"

namespace fetch {
namespace {

using base::ErrorKind;

using CurlUrl = base::CHandle<CURLU, curl_url_cleanup>;
using CurlString = base::CHandle<char, curl_free>;

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
  if (!url) return RedactUrlsInText(text);
  curl_url_set(url->get(), CURLUPART_USER, nullptr, 0);
  curl_url_set(url->get(), CURLUPART_PASSWORD, nullptr, 0);
  curl_url_set(url->get(), CURLUPART_OPTIONS, nullptr, 0);
  auto out = Get(url->get(), CURLUPART_URL);
  return RedactUrlsInText(out ? *out : text);
}

namespace {

// Characters that end a URL inside a message: it is quoted, bracketed or
// followed by a space there. (':' and ',' may belong to a password.)
bool EndsUrl(char c) {
  return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '"' || c == '\'' || c == '<' || c == '>' ||
         c == '`' || c == '\\';
}

// Query parameters that carry a credential by name: presigned S3/GCS URLs,
// Azure SAS tokens, OAuth and API tokens, passwords.
bool IsSecretParameter(std::string_view name) {
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  for (std::string_view secret :
       {"password", "passwd", "pass", "pwd", "secret", "token", "access_token", "auth", "authorization", "key",
        "apikey", "api_key", "sig", "signature", "x-amz-signature", "x-amz-credential", "x-amz-security-token",
        "x-goog-signature", "x-goog-credential"}) {
    if (lower == secret) return true;
  }
  return false;
}

}  // namespace

std::string RedactUrlsInText(std::string_view text) {
  std::string out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t scheme_end = text.find("://", pos);
    if (scheme_end == std::string_view::npos) break;
    std::size_t start = scheme_end + 3;
    out.append(text.substr(pos, start - pos));
    // The authority runs to the first '/', '?' or '#'; userinfo is up to its last '@'.
    std::size_t end = start;
    while (end < text.size() && !EndsUrl(text[end]) && text[end] != '/' && text[end] != '?' && text[end] != '#') ++end;
    std::string_view authority = text.substr(start, end - start);
    if (auto at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
    out.append(authority);
    pos = end;
    // The path as it is, then each query parameter, its value hidden when its name says it is a secret.
    while (pos < text.size() && !EndsUrl(text[pos]) && text[pos] != '?' && text[pos] != '#') out += text[pos++];
    if (pos < text.size() && text[pos] == '?') {
      out += text[pos++];
      while (pos < text.size() && !EndsUrl(text[pos]) && text[pos] != '#') {
        std::size_t param_end = pos;
        while (param_end < text.size() && !EndsUrl(text[param_end]) && text[param_end] != '#' &&
               text[param_end] != '&' && text[param_end] != ';') {
          ++param_end;
        }
        std::string_view param = text.substr(pos, param_end - pos);
        std::size_t eq = param.find('=');
        if (eq != std::string_view::npos && IsSecretParameter(param.substr(0, eq))) {
          out.append(param.substr(0, eq + 1)).append("REDACTED");
        } else {
          out.append(param);
        }
        pos = param_end;
        if (pos < text.size() && (text[pos] == '&' || text[pos] == ';')) out += text[pos++];
      }
    }
  }
  if (pos < text.size()) out.append(text.substr(pos));
  return out;
}

}  // namespace fetch
