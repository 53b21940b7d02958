// userdata::Parse on any bytes: whoever can set an instance's user-data (or
// answer as its metadata service) writes them, in every shape Parse reads
// (#cloud-config YAML, MIME multipart, gzip, base64 and quoted-printable
// parts, #! scripts). Beyond not crashing: an error is kUsage and says what to
// do; what passes holds the validators' promises (fields.h) that `bootrino run
// --from-userdata` relies on, and prints as `bootrino userdata [--json]` does.
#include <algorithm>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/fuzz/fuzz_check.h"
#include "userdata/fields.h"
#include "userdata/config.h"

namespace {

bool Unique(const std::vector<std::string>& list) {
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (std::find(list.begin() + i + 1, list.end(), list[i]) != list.end()) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto config = userdata::Parse(AsText(data, size));
  if (Refused(config, base::ErrorKind::kUsage, HintRule::kRequired)) return 0;
  const userdata::Config& c = *config;
  // Parse reads bytes; where they came from is Resolve's to say.
  FUZZ_REQUIRE(c.source.empty() && c.cloud.empty());
  if (!c.manifest.empty()) FUZZ_REQUIRE(userdata::CheckManifestRef(c.manifest).empty());
  FUZZ_REQUIRE(userdata::RequireManifest(c).has_value() == !c.manifest.empty());
  if (!c.hostname.empty()) FUZZ_REQUIRE(userdata::CheckHostname(c.hostname).empty());
  for (const std::string& key : c.ssh_keys) FUZZ_REQUIRE(userdata::CheckSshKey(key).empty());
  for (const std::string& pem : c.trust_keys) FUZZ_REQUIRE(userdata::CheckPemPublicKey(pem).empty());
  FUZZ_REQUIRE(Unique(c.ssh_keys) && Unique(c.trust_keys));
  // Only options user-data may set, each with a value the command line would accept too.
  for (const auto& [name, texts] : c.options.Given()) {
    const userdata::RunOptionSpec* spec = userdata::FindRunOption(name);
    FUZZ_REQUIRE(spec && userdata::UserdataMaySet(*spec));
    for (const std::string& text : texts) FUZZ_REQUIRE(userdata::CheckRunOptionValue(*spec, text).empty());
  }

  const std::string text = userdata::ToText(c);
  FUZZ_REQUIRE(text.find("manifest:   " + (c.manifest.empty() ? std::string("(none)") : c.manifest) + "\n") !=
               std::string::npos);
  // `bootrino userdata --json` dumps with nlohmann's default, strict handler,
  // which throws on text that is not UTF-8: ToJson must never hand it any.
  std::string json;
  try {
    json = userdata::ToJson(c).dump(2);
  } catch (const nlohmann::json::exception& e) {
    std::fprintf(stderr, "ToJson(config).dump(): %s\n", e.what());
    FUZZ_REQUIRE(!"the Config prints as JSON");
  }
  const auto back = nlohmann::json::parse(json);
  FUZZ_REQUIRE(back["manifest"].get<std::string>().empty() == c.manifest.empty());
  FUZZ_REQUIRE(back["ssh_keys"].size() == c.ssh_keys.size());
  FUZZ_REQUIRE(back["notes"].size() == c.notes.size());
  return 0;
}
