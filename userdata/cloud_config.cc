#include "userdata/cloud_config.h"

#include <algorithm>
#include <set>

#include "userdata/shell.h"
#include "userdata/yaml_tree.h"

namespace userdata {
namespace {

using base::ErrorKind;
using Kind = YamlNode::Kind;

// The keys of `bootrino:` that are not options of `bootrino run`; those that are come from the table.
constexpr std::string_view kOwnKeys[] = {"manifest", "trust", "ssh_authorized_keys", "hostname", "options"};
constexpr std::string_view kExample =
    "bootrino:\n  manifest: https://HOST/PATH/bootrino.sh#sha256=<64 hex>\n  yes: true   (see docs/userdata.md)";

bool IsOwnKey(std::string_view key) {
  return std::find(std::begin(kOwnKeys), std::end(kOwnKeys), key) != std::end(kOwnKeys);
}

bool IsBootrinoKey(std::string_view key) {
  if (IsOwnKey(key)) return true;
  const RunOptionSpec* spec = FindRunOption(key);
  return spec && spec->name == key && spec->userdata == FromUserdata::kKey;
}

std::string BootrinoKeyList() {
  std::string out;
  for (std::string_view key : kOwnKeys) out += std::string(out.empty() ? "" : ", ") + std::string(key);
  return out + ", " + UserdataKeyList(FromUserdata::kKey);
}

std::unexpected<base::Error> BadAt(const YamlNode& node, const std::string& path, const std::string& problem,
                                   std::string hint = std::string(kExample)) {
  return base::Fail(base::Error(ErrorKind::kUsage, node.Where() + ": " + path + " " + problem).Hint(std::move(hint)));
}

std::string KindName(const YamlNode& node) {
  if (node.kind == Kind::kMapping) return "a mapping";
  if (node.kind == Kind::kSequence) return "a list";
  return node.IsNull() ? "empty" : "\"" + node.value + "\"";
}

base::Result<std::string> GetString(const YamlNode& node, const std::string& path) {
  if (node.kind != Kind::kScalar || node.IsNull()) return BadAt(node, path, "must be a string, not " + KindName(node));
  return node.value;
}

// YAML 1.1 booleans, as cloud-init's PyYAML reads them; quoted text is a string, not a boolean.
base::Result<bool> GetBool(const YamlNode& node, const std::string& path) {
  static const std::set<std::string> kTrue = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"};
  static const std::set<std::string> kFalse = {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"};
  if (node.kind == Kind::kScalar && node.plain && kTrue.contains(node.value)) return true;
  if (node.kind == Kind::kScalar && node.plain && kFalse.contains(node.value)) return false;
  return BadAt(node, path, "must be true or false (unquoted), not " + KindName(node));
}

// A list of strings; one string alone is taken as a list of one.
base::Result<std::vector<std::string>> GetStrings(const YamlNode& node, const std::string& path) {
  std::vector<std::string> out;
  if (node.kind == Kind::kScalar) {
    ASSIGN_OR_RETURN(auto s, GetString(node, path));
    out.push_back(std::move(s));
    return out;
  }
  if (node.kind != Kind::kSequence) return BadAt(node, path, "must be a list of strings, not " + KindName(node));
  for (std::size_t i = 0; i < node.items.size(); ++i) {
    ASSIGN_OR_RETURN(auto s, GetString(*node.items[i], path + "[" + std::to_string(i) + "]"));
    out.push_back(std::move(s));
  }
  return out;
}

// The value of an option of the table at `node`, checked as the command line checks it.
base::Result<void> ReadRunOption(const RunOptionSpec& spec, const YamlNode& value, const std::string& path,
                                 Directive& d) {
  std::string text;
  if (spec.type == OptionType::kFlag) {
    ASSIGN_OR_RETURN(bool on, GetBool(value, path));
    text = on ? "true" : "false";
  } else {
    const bool number =
        spec.type == OptionType::kInt || spec.type == OptionType::kNumber || spec.type == OptionType::kUnsigned;
    if (value.kind != Kind::kScalar || value.IsNull() || (number && !value.plain)) {
      return BadAt(value, path, number ? "must be a number, not " + KindName(value)
                                       : "must be a string, not " + KindName(value));
    }
    text = value.value;
  }
  if (std::string problem = SetRunOption(d.options, spec, text); !problem.empty()) {
    return BadAt(value, path, spec.type == OptionType::kUrl ? "\"" + text + "\" " + problem : problem,
                 "see docs/userdata.md for the options");
  }
  return {};
}

// An option user-data may not set is noted with the line at fault, and never used.
void Refused(const RunOptionSpec& spec, const YamlNode& at, const std::string& path, Directive& d) {
  d.refused.push_back({std::string(spec.name), path, at.Where()});
}

base::Result<void> ReadOptions(const YamlNode& node, Directive& d) {
  if (node.kind != Kind::kMapping) return BadAt(node, "bootrino.options", "must be a mapping, not " + KindName(node));
  std::set<std::string> seen;
  for (const auto& [key, value] : node.entries) {
    const std::string path = "bootrino.options." + key->value;
    const RunOptionSpec* spec = key->kind == Kind::kScalar ? FindRunOption(key->value) : nullptr;
    if (!spec || spec->name != key->value || spec->userdata == FromUserdata::kKey) {
      return BadAt(*key, "bootrino.options", "has no option \"" + key->value + "\"",
                   "options are: " + UserdataKeyList(FromUserdata::kOption) + " (and bootrino: itself has " +
                       UserdataKeyList(FromUserdata::kKey) + ")");
    }
    if (!UserdataMaySet(*spec)) {
      Refused(*spec, *key, path, d);
      continue;
    }
    if (!seen.insert(key->value).second) return BadAt(*key, path, "is given twice", "keep one");
    RETURN_IF_ERROR(ReadRunOption(*spec, *value, path, d));
  }
  return {};
}

// One key of the `bootrino:` mapping.
base::Result<void> ReadBootrinoKey(const std::string& key, const YamlNode& value, Directive& d) {
  const std::string path = "bootrino." + key;
  auto check = [&](const std::string& problem, const YamlNode& at, const std::string& what) -> base::Result<void> {
    if (problem.empty()) return {};
    return BadAt(at, path, "\"" + what + "\" " + problem);
  };
  if (key == "manifest") {
    ASSIGN_OR_RETURN(d.manifest, GetString(value, path));
    return check(CheckManifestRef(d.manifest), value, d.manifest);
  }
  if (key == "hostname") {
    ASSIGN_OR_RETURN(d.hostname, GetString(value, path));
    return check(CheckHostname(d.hostname), value, d.hostname);
  }
  if (const RunOptionSpec* spec = FindRunOption(key); spec && spec->userdata == FromUserdata::kKey) {
    return ReadRunOption(*spec, value, path, d);
  }
  if (key == "options") return ReadOptions(value, d);
  if (key == "trust" || key == "ssh_authorized_keys") {
    ASSIGN_OR_RETURN(auto list, GetStrings(value, path));
    for (std::size_t i = 0; i < list.size(); ++i) {
      const YamlNode& at = value.kind == Kind::kSequence ? *value.items[i] : value;
      const std::string problem = key == "trust" ? CheckPemPublicKey(list[i]) : CheckSshKey(list[i]);
      if (!problem.empty()) {
        return BadAt(at, path + "[" + std::to_string(i) + "]", problem,
                     key == "trust" ? "paste the output of `openssl ec -in key.pem -pubout` as a block scalar (|)"
                                    : "paste one line of a .pub file, e.g. ~/.ssh/id_ed25519.pub");
      }
    }
    auto& into = key == "trust" ? d.trust_keys : d.ssh_keys;
    into.insert(into.end(), list.begin(), list.end());
    return {};
  }
  return base::Fail(ErrorKind::kInternal, "bootrino." + key + " has no reader");
}

base::Result<Directive> ReadBootrino(const YamlNode& node) {
  Directive d;
  d.where = "bootrino: key at " + node.Where();
  if (node.kind == Kind::kScalar && !node.IsNull()) {  // `bootrino: URL` is short for `bootrino: {manifest: URL}`
    RETURN_IF_ERROR(ReadBootrinoKey("manifest", node, d));
    return d;
  }
  if (node.kind != Kind::kMapping) return BadAt(node, "bootrino", "must be a mapping, not " + KindName(node));
  std::set<std::string> seen;
  for (const auto& [key, value] : node.entries) {
    if (const RunOptionSpec* spec = key->kind == Kind::kScalar ? FindRunOption(key->value) : nullptr;
        spec && spec->name == key->value && !UserdataMaySet(*spec) && !IsOwnKey(key->value)) {
      Refused(*spec, *key, "bootrino." + key->value, d);
      continue;
    }
    if (key->kind != Kind::kScalar || !IsBootrinoKey(key->value)) {
      return BadAt(*key, "bootrino", "has no key " + KindName(*key), "its keys are: " + BootrinoKeyList());
    }
    if (!seen.insert(key->value).second) return BadAt(*key, "bootrino." + key->value, "is given twice", "keep one");
    RETURN_IF_ERROR(ReadBootrinoKey(key->value, *value, d));
  }
  return d;
}

// Keys cloud-init owns: a malformed one is noted and skipped, not fatal.
void ReadSshKeys(const YamlNode& node, const std::string& path, CloudConfig& out) {
  auto list = GetStrings(node, path);
  if (!list) {
    out.notes.push_back("ignored " + list.error().message());
    return;
  }
  for (const std::string& key : *list) {
    if (std::string problem = CheckSshKey(key); !problem.empty()) {
      out.notes.push_back("ignored a key in " + path + " at " + node.Where() + ": " + problem);
    } else {
      out.ssh_keys.push_back(key);
    }
  }
}

// runcmd items are shell text or argv lists; cloud-init runs them in order.
base::Result<void> ReadRuncmd(const YamlNode& node, CloudConfig& out) {
  if (node.kind != Kind::kSequence) return {};
  for (const auto& item : node.items) {
    base::Result<std::vector<Invocation>> found = std::vector<Invocation>{};
    if (item->kind == Kind::kScalar && !item->IsNull()) {
      found = FindInvocations(item->value);
    } else if (item->kind == Kind::kSequence) {
      std::vector<std::string> argv;
      for (const auto& word : item->items) argv.push_back(word->value);
      found = FindInvocationsInArgv(argv);
    }
    if (!found) return base::Fail(std::move(found).error().Context(item->Where() + ": runcmd"));
    for (const Invocation& invocation : *found) {
      auto directive =
          ParseRunArgs(invocation.args, invocation.to_install_sh ? ArgsFor::kInstallSh : ArgsFor::kBootrinoRun);
      if (!directive) return base::Fail(std::move(directive).error().Context(item->Where() + ": runcmd"));
      if (!directive->runs_nothing.empty()) {
        out.notes.push_back("runcmd at " + item->Where() + ": " + directive->runs_nothing +
                            ": no manifest or options are taken from it");
        continue;
      }
      directive->where = "runcmd at " + item->Where();
      for (RefusedOption& refused : directive->refused) refused.where = directive->where;
      out.runcmd.push_back(std::move(*directive));
    }
  }
  return {};
}

}  // namespace

base::Result<CloudConfig> ParseCloudConfig(std::string_view text) {
  ASSIGN_OR_RETURN(YamlRef root, LoadYaml(text));
  CloudConfig out;
  if (root->IsNull()) {
    out.notes.push_back("the cloud-config is empty");
    return out;
  }
  if (root->kind != Kind::kMapping) {
    return BadAt(*root, "cloud-config", "must be a mapping of keys (\"key: value\" lines), not " + KindName(*root));
  }
  const YamlNode* bootrino_key = nullptr;
  for (const auto& [key, value] : root->entries) {
    if (key->kind != Kind::kScalar) continue;
    const std::string& name = key->value;
    if (name == "bootrino") {
      if (bootrino_key) {
        return BadAt(*key, "bootrino", "is given twice (first at " + bootrino_key->Where() + ")", "keep one");
      }
      bootrino_key = key.get();
      ASSIGN_OR_RETURN(out.bootrino, ReadBootrino(*value));
    } else if (name == "ssh_authorized_keys") {
      ReadSshKeys(*value, "ssh_authorized_keys", out);
    } else if (name == "users" && value->kind == Kind::kSequence) {
      for (const auto& user : value->items) {
        if (user->kind != Kind::kMapping) continue;
        for (const auto& [field, keys] : user->entries) {
          if (field->value == "ssh_authorized_keys") ReadSshKeys(*keys, "users[].ssh_authorized_keys", out);
        }
      }
    } else if ((name == "hostname" || (name == "fqdn" && out.hostname.empty())) && value->kind == Kind::kScalar) {
      if (std::string problem = CheckHostname(value->value); !problem.empty()) {
        out.notes.push_back("ignored " + name + " \"" + value->value + "\" at " + value->Where() + ": " + problem);
      } else if (name == "hostname" || out.hostname.empty()) {
        out.hostname = value->value;
      }
    } else if (name == "runcmd") {
      RETURN_IF_ERROR(ReadRuncmd(*value, out));
    }
  }
  return out;
}

}  // namespace userdata
