#include "userdata/fields.h"

#include <algorithm>

#include "userdata/decode.h"
#include "userdata/reader_util.h"

namespace userdata {
namespace {

using base::ErrorKind;

bool HasSpaceOrControl(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](unsigned char c) { return c <= ' ' || c == 0x7f; });
}

bool IsHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// The words of an authorized_keys line; double-quoted option values may hold spaces.
std::vector<std::string_view> SplitKeyLine(std::string_view line) {
  std::vector<std::string_view> words;
  std::size_t start = std::string_view::npos;
  bool quoted = false;
  for (std::size_t i = 0; i <= line.size(); ++i) {
    const bool end = i == line.size() || ((line[i] == ' ' || line[i] == '\t') && !quoted);
    if (end) {
      if (start != std::string_view::npos) words.push_back(line.substr(start, i - start));
      start = std::string_view::npos;
      continue;
    }
    if (start == std::string_view::npos) start = i;
    if (line[i] == '"') quoted = !quoted;
  }
  return words;
}

// An SSH public key blob starts with its own type as a length-prefixed string (RFC 4253 §6.6).
bool BlobHasType(std::string_view blob, std::string_view type) {
  if (blob.size() < 4) return false;
  auto byte = [&](std::size_t i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(blob[i])); };
  const std::uint32_t length = byte(0) << 24 | byte(1) << 16 | byte(2) << 8 | byte(3);
  return length == type.size() && blob.size() >= 4 + length && blob.substr(4, length) == type;
}

// A flag's value: after its '=', else the next word (which it consumes).
std::string ValueFor(const std::vector<std::string>& args, std::size_t& i, bool has_value, std::string_view inline_value,
                     bool& missing) {
  missing = false;
  if (has_value) return std::string(inline_value);
  if (i + 1 >= args.size()) {
    missing = true;
    return "";
  }
  return args[++i];
}

// packaging/install.sh's argument loop: keep the two the same (the unit test
// InstallShOptionsMatchTheScript reads the script's case arms).
constexpr InstallShOption kInstallShOptions[] = {
    {"--base-url", true, ""},
    {"--sha256", true, ""},
    {"--key", true, ""},
    {"--dir", true, ""},
    {"--trust-server", false, ""},
    {"--allow-http", false, ""},
    {"--install-only", false, "install.sh --install-only installs bootrino and does not run it"},
    {"--help", false, "install.sh --help prints its usage and runs nothing"},
    {"-h", false, "install.sh -h prints its usage and runs nothing"},
};

const InstallShOption* FindInstallShOption(std::string_view word) {
  for (const InstallShOption& option : kInstallShOptions) {
    if (word == option.flag) return &option;
    if (option.takes_value && word.starts_with(option.flag) && word.substr(option.flag.size()).starts_with("=")) {
      return &option;
    }
  }
  return nullptr;
}

// The words install.sh hands to `bootrino run`: its own options (and their
// values) taken out wherever they are, up to a `--` that passes the rest on as
// it is. Sets d.runs_nothing when an option stops install.sh before the run.
base::Result<std::vector<std::string>> WithoutInstallShOptions(const std::vector<std::string>& args, Directive& d) {
  std::vector<std::string> run_args;
  bool passthru = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (passthru) {
      run_args.push_back(arg);
      continue;
    }
    if (arg == "--") {
      passthru = true;
      continue;
    }
    const InstallShOption* option = FindInstallShOption(arg);
    if (!option) {
      run_args.push_back(arg);
      continue;
    }
    if (option->takes_value && arg == option->flag && ++i >= args.size()) {
      return Bad("install.sh's " + arg + " needs a value",
                 "write " + arg + " VALUE or " + arg + "=VALUE (see install.sh --help)");
    }
    if (!option->runs_nothing.empty() && d.runs_nothing.empty()) d.runs_nothing = option->runs_nothing;
  }
  return run_args;
}

}  // namespace

std::span<const InstallShOption> InstallShOptions() { return kInstallShOptions; }

std::string CheckHttpUrl(std::string_view url) {
  if (!url.starts_with("http://") && !url.starts_with("https://")) return "not an http:// or https:// URL";
  if (url.size() > 4096) return "longer than 4096 characters";
  if (HasSpaceOrControl(url)) return "contains a space or a control character";
  if (url.find("://") + 3 >= url.size() || url[url.find("://") + 3] == '/') return "has no host";
  return "";
}

std::string CheckManifestRef(std::string_view ref) {
  std::size_t hash = ref.find('#');
  if (std::string problem = CheckHttpUrl(ref.substr(0, hash)); !problem.empty()) return problem;
  if (hash == std::string_view::npos) return "";
  std::string_view fragment = ref.substr(hash + 1);
  if (!fragment.starts_with("sha256=") || fragment.size() != 7 + 64 || !IsHex(fragment.substr(7))) {
    return "its fragment must be #sha256= and 64 lowercase hex digits";
  }
  return "";
}

std::string CheckHostname(std::string_view name) {
  if (name.empty() || name.size() > 253) return "must have 1 to 253 characters";
  std::size_t start = 0;
  while (start <= name.size()) {
    std::size_t dot = std::min(name.find('.', start), name.size());
    std::string_view label = name.substr(start, dot - start);
    if (label.empty() || label.size() > 63) return "each dot-separated label must have 1 to 63 characters";
    if (label.front() == '-' || label.back() == '-') return "a label may not start or end with '-'";
    if (!std::all_of(label.begin(), label.end(), [](char c) {
          return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
        })) {
      return "only letters, digits, '-' and '.' are allowed";
    }
    start = dot + 1;
  }
  return "";
}

std::string CheckSshKey(std::string_view key) {
  if (key.size() > 16384) return "longer than 16384 characters";
  if (key.find_first_of(std::string_view("\n\r\0", 3)) != std::string_view::npos) return "holds a line break";
  auto words = SplitKeyLine(key);
  // [options] type base64 [comment]: the type is the first word a blob of that type follows.
  for (std::size_t i = 0; i + 1 < words.size(); ++i) {
    if (!words[i].starts_with("ssh-") && !words[i].starts_with("ecdsa-") && !words[i].starts_with("sk-")) continue;
    auto blob = DecodeBase64(words[i + 1]);
    if (blob && BlobHasType(*blob, words[i])) return "";
    return "the base64 after \"" + std::string(words[i]) + "\" is not a key of that type";
  }
  return "is not an OpenSSH public key line (\"ssh-ed25519 AAAA… comment\")";
}

std::string CheckPemPublicKey(std::string_view pem) {
  constexpr std::string_view kBegin = "-----BEGIN PUBLIC KEY-----", kEnd = "-----END PUBLIC KEY-----";
  while (!pem.empty() && (pem.back() == '\n' || pem.back() == '\r' || pem.back() == ' ')) pem.remove_suffix(1);
  while (!pem.empty() && (pem.front() == '\n' || pem.front() == '\r' || pem.front() == ' ')) pem.remove_prefix(1);
  if (!pem.starts_with(kBegin) || !pem.ends_with(kEnd)) {
    return "is not a PEM public key (from -----BEGIN PUBLIC KEY----- to -----END PUBLIC KEY-----)";
  }
  std::string_view body = pem.substr(kBegin.size(), pem.size() - kBegin.size() - kEnd.size());
  if (body.find("-----") != std::string_view::npos) return "holds more than one PEM block: give each key separately";
  auto der = DecodeBase64(body);
  if (!der || der->empty()) return "has a damaged base64 body";
  return "";
}

std::string SetRunOption(RunValues& values, const RunOptionSpec& spec, std::string_view text) {
  if (std::string problem = CheckRunOptionValue(spec, text); !problem.empty()) return problem;
  values.Set(spec.name, std::string(text));
  return "";
}

base::Result<Directive> ParseRunArgs(const std::vector<std::string>& given, ArgsFor to) {
  Directive d;
  std::vector<std::string> args = given;
  if (to == ArgsFor::kInstallSh) {
    ASSIGN_OR_RETURN(args, WithoutInstallShOptions(given, d));
    // install.sh stops before `bootrino run`: nothing of it is used, so nothing is checked.
    if (!d.runs_nothing.empty()) return d;
  }
  bool operands_only = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (!operands_only && arg == "--") {
      operands_only = true;
      continue;
    }
    if (operands_only || !arg.starts_with("-") || arg == "-") {
      if (!d.manifest.empty()) {
        return Bad("`bootrino run` is given a second manifest reference \"" + arg + "\" after \"" + d.manifest + "\"",
                   "give one manifest reference");
      }
      if (std::string problem = CheckManifestRef(arg); !problem.empty()) {
        return Bad("the manifest reference \"" + arg + "\" " + problem,
                   "write it as https://HOST/PATH/bootrino.sh#sha256=<64 hex digits> (or sign it and add trust:)");
      }
      d.manifest = arg;
      continue;
    }
    const std::size_t eq = arg.find('=');
    const std::string name = arg.substr(0, eq);
    const bool has_value = eq != std::string::npos;
    const std::string_view inline_value = has_value ? std::string_view(arg).substr(eq + 1) : std::string_view();
    // `bootrino run --from-userdata` in user-data names no manifest; Parse notes it.
    const bool from_userdata = name == "--from-userdata";
    const RunOptionSpec* spec = from_userdata ? nullptr : FindRunOption(name);
    if (spec && spec->flag != name) spec = nullptr;  // "--dry_run" is not a flag
    const bool is_bool = from_userdata || (spec && spec->type == OptionType::kFlag);
    if (!from_userdata) {
      if (!spec) {
        return Bad("`bootrino run " + name + "` is not an option user-data may give; it may give " +
                       UserdataKeyList(FromUserdata::kKey, true) + ", " + UserdataKeyList(FromUserdata::kOption, true) +
                       (to == ArgsFor::kInstallSh ? " (and install.sh its own: see install.sh --help)" : ""),
                   "see `bootrino run --help` and docs/userdata.md");
      }
      if (!UserdataMaySet(*spec)) {  // noted, never used; its value (a file, a device) is skipped with it
        d.refused.push_back({std::string(spec->name), "`bootrino run " + name + "`", ""});
        if (spec->type != OptionType::kFlag && !has_value && i + 1 < args.size()) ++i;
        continue;
      }
    }
    if (is_bool) {
      if (has_value) return Bad(name + " takes no value (found \"" + arg + "\")", "write " + name + " alone");
      if (spec) {
        (void)SetRunOption(d.options, *spec, "true");
      } else {
        d.from_userdata = true;
      }
      continue;
    }
    bool missing = false;
    std::string value = ValueFor(args, i, has_value, inline_value, missing);
    if (missing) return Bad(name + " needs a value", "write " + name + " VALUE or " + name + "=VALUE");
    if (std::string problem = SetRunOption(d.options, *spec, value); !problem.empty()) {
      return Bad(name + " \"" + value + "\": " + problem, "correct the value of " + name);
    }
  }
  if (d.manifest.empty() && !d.from_userdata) {
    return Bad("`bootrino run` has no manifest reference",
               "write `bootrino run https://HOST/PATH/bootrino.sh#sha256=HEX [--yes]`");
  }
  if (!d.manifest.empty() && d.from_userdata) {
    return Bad("`bootrino run --from-userdata` is also given a manifest reference",
               "give either a manifest reference or --from-userdata");
  }
  return d;
}

}  // namespace userdata
