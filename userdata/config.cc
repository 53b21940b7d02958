// Showing a Config (`bootrino userdata [--json]`) and what `run --from-userdata` requires of it.
#include "userdata/config.h"

namespace userdata {
namespace {

// The value of an option as JSON: flags as booleans, numbers as numbers.
nlohmann::ordered_json OptionJson(const RunValues& values, const RunOptionSpec& spec) {
  switch (spec.type) {
    case OptionType::kFlag: return values.Flag(spec.name);
    case OptionType::kInt: return values.Int(spec.name);
    case OptionType::kNumber: return values.Number(spec.name);
    case OptionType::kUnsigned: return values.Unsigned(spec.name);
    default: return values.Text(spec.name);
  }
}

// The options user-data gave under `options:` (unset ones omitted), in the table's order.
nlohmann::ordered_json OptionsJson(const RunValues& values) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const RunOptionSpec& spec : RunOptionTable()) {
    if (spec.userdata == FromUserdata::kOption && values.Has(spec.name)) j[spec.name] = OptionJson(values, spec);
  }
  return j;
}

// `s` with each byte that is not part of a well-formed UTF-8 sequence replaced by
// U+FFFD. nlohmann's dump() throws on malformed UTF-8, and a Config may hold any
// bytes: a URL or an SSH key comment from a script, a note quoting user-data.
std::string Utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t n = c < 0x80                ? 1
                          : c >= 0xc2 && c <= 0xdf ? 2
                          : c >= 0xe0 && c <= 0xef ? 3
                          : c >= 0xf0 && c <= 0xf4 ? 4
                                                   : 0;
    // The second byte's range rules out overlong forms, surrogates and code points past U+10FFFF (RFC 3629 §4).
    unsigned char low = 0x80, high = 0xbf;
    if (c == 0xe0) low = 0xa0;
    if (c == 0xed) high = 0x9f;
    if (c == 0xf0) low = 0x90;
    if (c == 0xf4) high = 0x8f;
    bool ok = n != 0 && i + n <= s.size();
    for (std::size_t k = 1; ok && k < n; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      ok = k == 1 ? b >= low && b <= high : (b & 0xc0) == 0x80;
    }
    if (ok) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

std::vector<std::string> Utf8(const std::vector<std::string>& list) {
  std::vector<std::string> out;
  out.reserve(list.size());
  for (const std::string& s : list) out.push_back(Utf8(s));
  return out;
}

// "ssh-ed25519 AAAAC3…abcd alice@host": keys are long; the type, the blob's ends and the comment identify one.
std::string ShortKey(const std::string& key) {
  if (key.size() <= 72) return key;
  return key.substr(0, 40) + "…" + key.substr(key.size() - 28);
}

}  // namespace

nlohmann::ordered_json ToJson(const Config& config) {
  nlohmann::ordered_json j;
  j["source"] = Utf8(config.source);
  j["cloud"] = config.cloud;
  j["manifest"] = Utf8(config.manifest);
  j["yes"] = config.options.Flag("yes");
  j["options"] = OptionsJson(config.options);
  j["trust_keys"] = Utf8(config.trust_keys);
  j["ssh_keys"] = Utf8(config.ssh_keys);
  j["hostname"] = Utf8(config.hostname);
  // Which source gave what: the user-data, cloud-init's record of the instance, a metadata service.
  j["from"] = {{"hostname", Utf8(config.hostname_from)}, {"ssh_keys", Utf8(config.ssh_key_from)}};
  if (config.instance_data.empty()) {
    j["instance_data"] = nullptr;
  } else {
    j["instance_data"] = {{"path", config.instance_data},
                          {"platform", Utf8(config.platform)},
                          {"region", Utf8(config.region)},
                          {"instance_id", Utf8(config.instance_id)}};
  }
  j["metadata_service"] = Utf8(config.metadata_url);
  j["status_url"] = Utf8(config.options.Text("status_url"));
  j["refused"] = nlohmann::ordered_json::array();
  for (const RefusedOption& refused : config.refused) {
    const RunOptionSpec* spec = FindRunOption(refused.name);
    j["refused"].push_back({{"option", refused.name},
                            {"flag", spec ? std::string(spec->flag) : std::string()},
                            {"as_written", Utf8(refused.as_written)},
                            {"where", Utf8(refused.where)}});
  }
  j["notes"] = Utf8(config.notes);
  return j;
}

std::string ToText(const Config& config) {
  auto or_none = [](const std::string& s) { return s.empty() ? std::string("(none)") : s; };
  std::string out;
  out += "source:     " + or_none(config.source) + "\n";
  out += "cloud:      " + or_none(config.cloud) + "\n";
  out += "manifest:   " + or_none(config.manifest) + "\n";
  out += "yes:        " + std::string(config.options.Flag("yes") ? "true" : "false") + "\n";
  const std::string options = OptionsJson(config.options).dump();
  out += "options:    " + (options == "{}" ? std::string("(none)") : options) + "\n";
  out += "trust keys: " + std::to_string(config.trust_keys.size()) + "\n";
  out += "ssh keys:   " + std::to_string(config.ssh_keys.size()) + "\n";
  for (std::size_t i = 0; i < config.ssh_keys.size(); ++i) {
    out += "  " + ShortKey(config.ssh_keys[i]) +
           (i < config.ssh_key_from.size() ? "  (from " + config.ssh_key_from[i] + ")" : std::string()) + "\n";
  }
  out += "hostname:   " + or_none(config.hostname) +
         (config.hostname_from.empty() ? std::string() : "  (from " + config.hostname_from + ")") + "\n";
  if (!config.instance_data.empty()) {
    out += "instance:   " + config.instance_data + ": platform " + or_none(config.platform) + ", region " +
           or_none(config.region) + ", id " + or_none(config.instance_id) + "\n";
  }
  if (!config.metadata_url.empty()) out += "metadata:   " + config.metadata_url + "\n";
  out += "status url: " + or_none(config.options.Text("status_url")) + "\n";
  for (const RefusedOption& refused : config.refused) out += "refused: " + RefusedWarning(refused) + "\n";
  for (const std::string& note : config.notes) out += "note: " + note + "\n";
  return out;
}

base::Result<void> RefuseWhatUserdataMayNotSet(const Config& config) {
  if (config.refused.empty()) return {};
  base::Error error = NotFromUserdata(config.refused.front());
  return base::Fail(config.source.empty() ? std::move(error) : std::move(error).Context("user-data from " + config.source));
}

base::Result<void> RequireManifest(const Config& config) {
  if (!config.manifest.empty()) return {};
  std::string message = config.source.empty() ? "no user-data found"
                                              : "the user-data from " + config.source + " names no manifest";
  for (const std::string& note : config.notes) message += "\n  " + note;
  return base::Fail(
      base::Error(base::ErrorKind::kUsage, std::move(message))
          .Hint("give the instance user-data such as\n  #cloud-config\n  bootrino:\n    manifest: "
                "https://HOST/PATH/bootrino.sh#sha256=<64 hex>\n    yes: true\n(docs/userdata.md); "
                "`bootrino userdata` shows what bootrino found"));
}

}  // namespace userdata
