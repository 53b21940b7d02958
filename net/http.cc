#include "net/http.h"

#include <algorithm>
#include <memory>
#include <mutex>

#if defined(__x86_64__)
#include <cpuid.h>
#elif defined(__aarch64__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

#include "base/base.h"
#include "net/ca_bundle.h"

namespace net {
namespace {


struct Transfer {
  Response response;
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

size_t OnHeader(char* data, size_t one, size_t count, void* user) {
  AddHeaderLine(std::string_view(data, one * count), static_cast<Transfer*>(user)->response);
  return one * count;
}

}  // namespace

std::string_view Tls13Ciphers(bool aes_gcm_accelerated) {
  return aes_gcm_accelerated ? "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:"
                               "TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256"
                             : "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256:"
                               "TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256";
}

bool CpuAcceleratesAesGcm() {
#if defined(__x86_64__)
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  return __get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & bit_AES) && (ecx & bit_PCLMUL);
#elif defined(__aarch64__)
  const unsigned long hwcap = getauxval(AT_HWCAP);
  return (hwcap & HWCAP_AES) && (hwcap & HWCAP_PMULL);
#else
  return false;
#endif
}

void Configure(CURL* handle, const std::string& url, const Policy& policy) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  // Computed once; a string literal, so libcurl's copy of it is never dangling.
  static const std::string_view tls13_ciphers = Tls13Ciphers(CpuAcceleratesAesGcm());
  curl_easy_setopt(handle, CURLOPT_URL, url.c_str());
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(handle, CURLOPT_USERAGENT, "bootrino/" BOOTRINO_VERSION);
  if (policy.follow_redirects) {
    curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(handle, CURLOPT_MAXREDIRS, 10L);
    // Never follow a redirect from https down to plain http.
    const bool https = url.size() >= 8 && curl_strnequal(url.c_str(), "https://", 8);
    curl_easy_setopt(handle, CURLOPT_REDIR_PROTOCOLS_STR, https ? "https" : "http,https");
  } else {
    curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 0L);
  }
  if (!policy.use_proxy) {
    curl_easy_setopt(handle, CURLOPT_PROXY, "");
    curl_easy_setopt(handle, CURLOPT_NOPROXY, "*");
  }
  curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(policy.connect_timeout.count()));
  if (policy.total_timeout.count() > 0) {
    curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, static_cast<long>(policy.total_timeout.count()));
  }
  if (!policy.ca_file.empty()) {
    curl_easy_setopt(handle, CURLOPT_CAINFO, policy.ca_file.c_str());
  } else {
    // libcurl copies the blob struct; the bytes are static (CURL_BLOB_NOCOPY).
    curl_blob blob{const_cast<char*>(EmbeddedCaBundle().data()), EmbeddedCaBundle().size(), CURL_BLOB_NOCOPY};
    curl_easy_setopt(handle, CURLOPT_CAINFO_BLOB, &blob);
  }
  curl_easy_setopt(handle, CURLOPT_CAPATH, nullptr);
  curl_easy_setopt(handle, CURLOPT_TLS13_CIPHERS, tls13_ciphers.data());
}

base::Result<Response> Send(const Request& request, const Policy& policy) {
  base::CHandle<CURL, curl_easy_cleanup> easy(curl_easy_init());
  if (!easy) return base::Fail(base::ErrorKind::kInternal, "curl_easy_init failed");
  base::CHandle<curl_slist, curl_slist_free_all> headers;
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
  Configure(c, request.url, policy);
  if (!request.body.empty()) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(request.body.size()));
  }
  if (request.method != (request.body.empty() ? "GET" : "POST")) {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  if (request.privileged_source_port) {
    // 512-1023, where rresvport(3) looks: below 1024, and clear of the well-known ports services listen on.
    curl_easy_setopt(c, CURLOPT_LOCALPORT, 512L);
    curl_easy_setopt(c, CURLOPT_LOCALPORTRANGE, 512L);
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
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

void AddHeaderLine(std::string_view line, Response& response) {
  if (line.starts_with("HTTP/")) response.headers.clear();  // a new response (after a 100 Continue)
  const std::size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name(line.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    response.headers.emplace_back(std::move(name), std::string(base::Trim(line.substr(colon + 1))));
  }
}

std::string Response::Header(std::string_view lowercase_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lowercase_name) return value;
  }
  return "";
}

}  // namespace net
