// What the metadata services answer (AWS IMDSv2, GCP, DigitalOcean, Azure, Oracle,
// Hetzner, OpenStack, Vultr, Linode, Scaleway, Exoscale): anyone who
// can answer on 169.254.169.254 writes these bytes (on a host bootrino has
// identified as that cloud, or any host with --metadata any); and a config
// drive's meta_data.json, whoever made the volume labelled config-2.
// The first byte picks the parser (userdata/metadata.h, AddHeaderLine in
// http.h), the rest is the body; the choices from 8 to 18 run QueryMetadata
// whole against a fake service whose answers are the rest of the input, split
// at NUL bytes: each answer is one byte for its status (its low 3 bits pick
// 200, 200, 200, 404, 500, 401, 403, 301; its top bit adds Metadata-Flavor:
// Google) and the body; an empty one is a refused connection.
#include <algorithm>
#include <string>
#include <vector>

#include "tests/fuzz/fuzz_check.h"
#include "userdata/fields.h"
#include "userdata/http.h"
#include "userdata/metadata.h"

namespace {

using userdata::Cloud;
using userdata::Http;
using userdata::Metadata;

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool HasControl(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](unsigned char c) { return c < ' ' || c == 0x7f; });
}

std::size_t NonEmptyLines(std::string_view text) {
  std::size_t n = 0;
  while (!text.empty()) {
    const std::size_t nl = std::min(text.find('\n'), text.size());
    if (!std::all_of(text.begin(), text.begin() + nl, IsSpace)) ++n;
    text.remove_prefix(std::min(nl + 1, text.size()));
  }
  return n;
}

// What each of the services (and a config drive) promises to Resolve, whatever was answered.
void CheckMetadata(const userdata::InstanceFacts& m) {
  for (const std::string& key : m.ssh_keys) FUZZ_REQUIRE(userdata::CheckSshKey(key).empty());
  if (!m.hostname.empty()) FUZZ_REQUIRE(userdata::CheckHostname(m.hostname).empty());
}

void KeyList(std::string_view body, userdata::KeyListFormat format) {
  Metadata m;
  userdata::AddSshKeys(body, format, "fuzz", m);
  CheckMetadata(m);
  FUZZ_REQUIRE(m.ssh_keys.size() + m.notes.size() == NonEmptyLines(body));
}

// Answers in input order; when they run out, the service stops answering.
class ScriptedService : public Http {
 public:
  explicit ScriptedService(std::string_view script) {
    while (!script.empty()) {
      const std::size_t nul = std::min(script.find('\0'), script.size());
      answers_.emplace_back(script.substr(0, nul));
      script.remove_prefix(std::min(nul + 1, script.size()));
    }
  }

  base::Result<Response> Send(const Request& request) override {
    FUZZ_REQUIRE(request.url.starts_with(kBase));
    FUZZ_REQUIRE(!HasControl(request.url) && request.url.find(' ') == std::string::npos);
    for (const std::string& header : request.headers) FUZZ_REQUIRE(!HasControl(header));
    if (next_ >= answers_.size()) return base::Fail(base::ErrorKind::kNetwork, request.url + ": timed out");
    std::string_view answer = answers_[next_++];
    if (answer.empty()) return base::Fail(base::ErrorKind::kNetwork, request.url + ": connection refused");
    static constexpr long kStatus[] = {200, 200, 200, 404, 500, 401, 403, 301};
    const auto first = static_cast<unsigned char>(answer[0]);
    Response r;
    r.status = kStatus[first & 7];
    if (first & 0x80) r.headers.emplace_back("metadata-flavor", "Google");
    r.body = std::string(answer.substr(1));
    if (r.body.size() > request.max_bytes) return base::Fail(base::ErrorKind::kNetwork, request.url + ": too long");
    return r;
  }

  static constexpr std::string_view kBase = "http://169.254.169.254";

 private:
  std::vector<std::string> answers_;
  std::size_t next_ = 0;
};

void Query(Cloud cloud, std::string_view script) {
  ScriptedService service(script);
  std::string why_not;
  auto result = userdata::QueryMetadata(cloud, std::string(ScriptedService::kBase) + "/", service, why_not);
  if (!result) {
    FUZZ_REQUIRE(result.error().kind() == base::ErrorKind::kNetwork || result.error().kind() == base::ErrorKind::kUsage);
    FUZZ_REQUIRE(!result.error().message().empty());
    // The service's own failures pass through as the Http said them; bootrino's verdicts say what to do.
    if (result.error().kind() == base::ErrorKind::kUsage) FUZZ_REQUIRE(!result.error().hint().empty());
    return;
  }
  if (!*result) {
    FUZZ_REQUIRE(!why_not.empty());
    return;
  }
  const Metadata& m = **result;
  FUZZ_REQUIRE(m.cloud == cloud);
  FUZZ_REQUIRE(m.user_data_url.starts_with(ScriptedService::kBase));
  CheckMetadata(m);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view body = AsText(data + 1, size - 1);
  switch (data[0] % 20) {
    case 0: {  // PUT /latest/api/token, Linode's /v1/token: the token is sent back in a header
      const auto token = userdata::ParseSessionToken(body);
      if (token) {
        FUZZ_REQUIRE(!token->empty() && !IsSpace(token->front()) && !IsSpace(token->back()));
        FUZZ_REQUIRE(!HasControl(*token));
      }
      break;
    }
    case 1: {  // /latest/meta-data/public-keys/: each index becomes part of a path
      const auto indexes = userdata::ParseAwsKeyIndexes(body);
      FUZZ_REQUIRE(indexes.size() <= NonEmptyLines(body));
      for (const std::string& index : indexes) {
        FUZZ_REQUIRE(!index.empty() && std::all_of(index.begin(), index.end(), [](char c) { return c >= '0' && c <= '9'; }));
      }
      break;
    }
    case 2: KeyList(body, userdata::KeyListFormat::kPlain); break;  // openssh-key, DigitalOcean public-keys
    case 3: KeyList(body, userdata::KeyListFormat::kGcp); break;    // GCP ssh-keys attributes
    case 4: {  // local-hostname, instance/hostname, DigitalOcean hostname
      Metadata m;
      userdata::AddHostname(body, "fuzz", m);
      CheckMetadata(m);
      FUZZ_REQUIRE(m.hostname.empty() || m.notes.empty());
      break;
    }
    case 5: {  // DigitalOcean /metadata/v1/id
      std::string_view id = body;
      while (!id.empty() && IsSpace(id.front())) id.remove_prefix(1);
      while (!id.empty() && IsSpace(id.back())) id.remove_suffix(1);
      const bool digits = !id.empty() && std::all_of(id.begin(), id.end(), [](char c) { return c >= '0' && c <= '9'; });
      FUZZ_REQUIRE(userdata::IsDropletId(body) == digits);
      break;
    }
    case 6: {  // GCP user-data and its user-data-encoding attribute: "ENCODING\0USER-DATA"
      const std::size_t nul = std::min(body.find('\0'), body.size());
      auto decoded = userdata::DecodeGcpUserData(std::string(body.substr(std::min(nul + 1, body.size()))),
                                                 body.substr(0, nul));
      if (!decoded) {
        FUZZ_REQUIRE(decoded.error().kind() == base::ErrorKind::kUsage && !decoded.error().hint().empty());
      } else {
        FUZZ_REQUIRE(decoded->size() <= body.size());
      }
      break;
    }
    case 7: {  // response header lines as libcurl hands them over, one per '\n'
      Http::Response r;
      std::size_t lines = 0;
      for (std::string_view rest = body; !rest.empty(); ++lines) {
        const std::size_t nl = rest.find('\n') == std::string_view::npos ? rest.size() : rest.find('\n') + 1;
        userdata::AddHeaderLine(rest.substr(0, nl), r);
        rest.remove_prefix(nl);
      }
      FUZZ_REQUIRE(r.headers.size() <= lines);
      for (const auto& [name, value] : r.headers) {
        FUZZ_REQUIRE(std::none_of(name.begin(), name.end(), [](char c) { return c >= 'A' && c <= 'Z'; }));
        FUZZ_REQUIRE(name.find(':') == std::string::npos);
        // Leading blanks and trailing whitespace (the line's CRLF among it) are not the value.
        FUZZ_REQUIRE(value.empty() || (value.front() != ' ' && value.front() != '\t' && !IsSpace(value.back())));
      }
      break;
    }
    case 8: Query(Cloud::kAws, body); break;
    case 9: Query(Cloud::kGcp, body); break;
    case 10: Query(Cloud::kDigitalOcean, body); break;
    case 11: Query(Cloud::kAzure, body); break;
    case 12: Query(Cloud::kOracle, body); break;
    case 13: Query(Cloud::kHetzner, body); break;
    case 14: Query(Cloud::kOpenStack, body); break;
    case 15: Query(Cloud::kVultr, body); break;
    case 16: Query(Cloud::kLinode, body); break;
    case 17: Query(Cloud::kScaleway, body); break;
    case 18: Query(Cloud::kExoscale, body); break;
    case 19: {  // OpenStack's meta_data.json: a config drive's (the service's is case 14's first answer)
      std::string why_not;
      const auto meta = userdata::ParseOpenStackMetaData(body, "fuzz", why_not);
      if (!meta) {
        FUZZ_REQUIRE(!why_not.empty());
        break;
      }
      FUZZ_REQUIRE(!meta->uuid.empty());
      CheckMetadata(*meta);
      break;
    }
  }
  return 0;
}
