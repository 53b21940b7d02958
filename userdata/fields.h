// The values user-data may give bootrino, checked the same way whichever form
// they came in (the `bootrino:` key of cloud-config, or the words of a
// `bootrino run` in a script): validators, and the words of a `bootrino run`.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/base.h"
#include "userdata/config.h"
#include "userdata/run_options.h"

namespace userdata {

/// Each returns "" when the value is acceptable, else what is wrong with it
/// (the caller says where it was).
std::string CheckManifestRef(std::string_view ref);  ///< http(s) URL, optional #sha256=HEX; no spaces
std::string CheckHttpUrl(std::string_view url);       ///< http(s) URL, no spaces or control characters
std::string CheckHostname(std::string_view name);     ///< RFC 1123 host name, 253 characters at most
std::string CheckSshKey(std::string_view key);        ///< one authorized_keys line with a known key type
std::string CheckPemPublicKey(std::string_view pem);  ///< one PEM "PUBLIC KEY" block

/// Sets an option of the table (userdata/run_options.h) from user-data: ""
/// when it was set, else what is wrong with `text` (the caller says where).
/// The caller has checked that user-data may set it.
std::string SetRunOption(RunValues& values, const RunOptionSpec& spec, std::string_view text);

/// What one source in user-data asks of bootrino: the `bootrino:` key, or one
/// `bootrino run` in a script.
struct Directive {
  std::string manifest;
  std::vector<std::string> trust_keys;
  std::vector<std::string> ssh_keys;
  std::string hostname;
  RunValues options;  ///< the options of `bootrino run` it sets (yes and status_url among them)
  std::vector<RefusedOption> refused;  ///< options it names that user-data may not set: noted, never used
  bool from_userdata = false;  ///< `bootrino run --from-userdata`: names no manifest itself
  /// Non-empty when the line runs no bootrino at all (install.sh --install-only
  /// or --help): why, for a note; nothing else in it is set then.
  std::string runs_nothing;
  std::string where;           ///< "part 2 (text/x-shellscript), line 4", for messages
};

/// One of install.sh's own options: it concerns the install, not the run, and
/// install.sh takes it out of the words it hands to `bootrino run`.
struct InstallShOption {
  std::string_view flag;       ///< "--sha256"
  bool takes_value;            ///< `--flag VALUE` and `--flag=VALUE`
  std::string_view runs_nothing;  ///< non-empty: with it install.sh runs no bootrino (why)
};

/// install.sh's options, exactly as packaging/install.sh's argument loop reads
/// them (`--` excepted: it ends them). The one copy on the C++ side; a unit test
/// compares it with the script.
std::span<const InstallShOption> InstallShOptions();

/// Where the words of an invocation go.
enum class ArgsFor {
  kBootrinoRun,  ///< `bootrino run WORDS`
  kInstallSh,    ///< `… install.sh | sh -s -- WORDS` or `sh install.sh WORDS`
};

/// Reads the words after `bootrino run` (or after install.sh): one manifest
/// reference and the flags of the options user-data may set (run_options.h), as
/// `--flag value` or `--flag=value`, and --from-userdata. For install.sh, its own
/// options (InstallShOptions) are skipped first, wherever they are, and a `--`
/// hands the rest over as it is, as install.sh does. A flag of the table that
/// user-data may not set (--insecure, --trust FILE) is skipped with its value and
/// listed in `refused` (its `where` left for the caller). Anything else is a kUsage error.
[[nodiscard]] base::Result<Directive> ParseRunArgs(const std::vector<std::string>& args,
                                                   ArgsFor to = ArgsFor::kBootrinoRun);

}  // namespace userdata
