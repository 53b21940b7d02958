// The values user-data may give bootrino, checked the same way whichever form
// they came in (the `bootrino:` key of cloud-config, or the words of a
// `bootrino run` in a script): validators, the run flags user-data may set,
// and the words of a `bootrino run`.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "userdata/userdata.h"

namespace userdata {

/// Each returns "" when the value is acceptable, else what is wrong with it
/// (the caller says where it was).
std::string CheckManifestRef(std::string_view ref);  ///< http(s) URL, optional #sha256=HEX; no spaces
std::string CheckHttpUrl(std::string_view url);       ///< http(s) URL, no spaces or control characters
std::string CheckHostname(std::string_view name);     ///< RFC 1123 host name, 253 characters at most
std::string CheckSshKey(std::string_view key);        ///< one authorized_keys line with a known key type
std::string CheckPemPublicKey(std::string_view pem);  ///< one PEM "PUBLIC KEY" block

/// A `bootrino run` flag that user-data may set.
struct RunFlagSpec {
  enum class Type { kBool, kInt, kString };
  std::string_view key;   ///< its name under `options:` ("detach_timeout")
  std::string_view flag;  ///< its command-line spelling ("--detach-timeout")
  Type type;
};

/// The flag named by an options key or a command-line spelling; nullptr if none.
const RunFlagSpec* FindRunFlag(std::string_view key_or_flag);
/// "dry_run, detach, …" or "--dry-run, --detach, …", for messages.
std::string RunFlagList(bool as_flags);
/// Stores `value` ("true"/"false" for booleans, decimal for integers) in `flags`;
/// returns "" or what is wrong with it.
std::string SetRunFlag(RunFlags& flags, const RunFlagSpec& spec, std::string_view value);

/// What one source in user-data asks of bootrino: the `bootrino:` key, or one
/// `bootrino run` in a script.
struct Directive {
  std::string manifest;
  std::vector<std::string> trust_keys;
  std::vector<std::string> ssh_keys;
  std::string status_url;
  std::string hostname;
  std::optional<bool> yes;
  RunFlags options;
  bool from_userdata = false;  ///< `bootrino run --from-userdata`: names no manifest itself
  std::string where;           ///< "part 2 (text/x-shellscript), line 4", for messages
};

/// Reads the words after `bootrino run` (or after install.sh): one manifest
/// reference and the flags of RunFlagSpec plus --yes and --status-url, as
/// `--flag value` or `--flag=value`. Anything else is a kUsage error.
[[nodiscard]] base::Result<Directive> ParseRunArgs(const std::vector<std::string>& args);

}  // namespace userdata
