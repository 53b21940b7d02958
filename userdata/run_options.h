// The options of `bootrino run`: one table from which the command line
// (agent/run_options.cc registers each with CLI11), the user-data reader (the
// `bootrino:` key of cloud-config and the words of a script's `bootrino run`)
// and the merge of the two are built, so that an option cannot be known to one
// and lost by another. It lives in userdata/ because both agent/ and userdata/
// need it and userdata/ may include only base/; it does not depend on CLI11.
// docs/userdata.md lists the user-data keys (a unit test keeps them equal).
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/base.h"

namespace userdata {

enum class OptionType {
  kFlag,      ///< given or not; in user-data true or false
  kInt,       ///< a whole number in [min, max]
  kNumber,    ///< a decimal number in [min, max]
  kUnsigned,  ///< any 64-bit unsigned number
  kChoice,    ///< one of `choices`
  kUrl,       ///< an http:// or https:// URL
  kText,      ///< anything (a device path, a file to create)
  kFile,      ///< an existing file on this host
  kFiles,     ///< an existing file on this host; may be given more than once
};

/// Whether, and where, user-data may set an option.
enum class FromUserdata {
  kNo,       ///< command line only (it names something on this host, or changes what `run` does to it)
  kRefused,  ///< command line only, because user-data must not be able to weaken verification
  kOption,   ///< under `bootrino: options:`, or as a flag of a script's `bootrino run`
  kKey,      ///< a key of `bootrino:` itself (yes, status_url), or as a flag of a script's `bootrino run`
};

struct RunOptionSpec {
  std::string_view name{};  ///< the user-data key and the name in JSON: "detach_timeout"
  std::string_view flag{};  ///< the command-line spelling: "--detach-timeout"
  OptionType type = OptionType::kFlag;
  double min = 0, max = 0;                      ///< kInt, kNumber
  std::span<const std::string_view> choices{};  ///< kChoice
  std::string_view default_value{};             ///< as text, "" when none; kFlag: "false"
  std::string_view help{};
  FromUserdata userdata = FromUserdata::kNo;
  std::string_view why_not{};  ///< kNo, kRefused: why user-data may not set it and what to do instead
  bool every_subcommand = false;  ///< also an option of inspect, fetch and image (not only run)
};

/// A range bound as help and messages show it: 1, 0.5, 86400 (no trailing zeros).
std::string FormatNumber(double n);

/// Every option of `bootrino run`, in the order `run --help` lists them.
std::span<const RunOptionSpec> RunOptionTable();

/// The option whose name ("detach_timeout") or flag ("--detach-timeout") this is; nullptr if none.
const RunOptionSpec* FindRunOption(std::string_view name_or_flag);

/// True when user-data may set this option.
bool UserdataMaySet(const RunOptionSpec& spec);

/// "" when `text` is a value of the option, else what is wrong with it. Flags
/// take "true" or "false"; kFile and kFiles are checked for existence by the
/// command line only (user-data cannot name them).
std::string CheckRunOptionValue(const RunOptionSpec& spec, std::string_view text);

/// The refusal for user-data that names an option it may not set (`where` is
/// "bootrino.options.insecure" or "--insecure"): kUsage, saying what to do instead.
base::Error NotFromUserdata(const RunOptionSpec& spec, std::string_view where);

/// An option user-data names that it may not set: `--insecure` or `--trust FILE`
/// on a one-liner's own command line, `options: {insecure: true}`. The reader
/// notes it and goes on, so that what else the user-data and the metadata service
/// give (SSH keys, hostname) is not lost with it; it is never used, and
/// `run --from-userdata` refuses to run while user-data names one.
struct RefusedOption {
  std::string name;        ///< its name in the table: "insecure"
  std::string as_written;  ///< "`bootrino run --insecure`", "bootrino.options.insecure"
  std::string where;       ///< "script, line 2", "line 4, column 5": where in the user-data
};

/// The refusal NotFromUserdata gives for `refused`, prefixed with where it is.
base::Error NotFromUserdata(const RefusedOption& refused);

/// One line for a warning: "`bootrino run --insecure` (script, line 2) is ignored: only the command line …".
std::string RefusedWarning(const RefusedOption& refused);

/// The user-data keys of `where` (kOption or kKey), or their flags, joined by ", ", for messages.
std::string UserdataKeyList(FromUserdata where, bool as_flags = false);

/// Whether a status URL may be used without --status-url-insecure: https, or
/// http to this machine (localhost, 127.0.0.0/8, [::1]); phase events are not
/// sent in the clear over a network.
bool StatusUrlAllowed(std::string_view url);

/// Option values as text, by option name, as the command line or user-data gave
/// them; an option that was not given is absent (and reads as its default).
class RunValues {
 public:
  /// Sets the option (kFiles: adds one more). The name must be in the table.
  void Set(std::string_view name, std::string text);
  bool Has(std::string_view name) const { return given_.contains(name); }
  /// The value given, else the table's default, else "".
  std::string Text(std::string_view name) const;
  bool Flag(std::string_view name) const { return Text(name) == "true"; }
  long long Int(std::string_view name) const;
  double Number(std::string_view name) const;
  std::uint64_t Unsigned(std::string_view name) const;
  /// kFiles: every value given, in order.
  std::vector<std::string> All(std::string_view name) const;
  /// The options given, by name.
  const std::map<std::string, std::vector<std::string>, std::less<>>& Given() const { return given_; }
  bool operator==(const RunValues&) const = default;

 private:
  std::map<std::string, std::vector<std::string>, std::less<>> given_;
};

/// What `run --from-userdata` runs with: every option the command line gives,
/// and each one user-data gives that the command line does not. Refuses (kUsage)
/// an option user-data may not set, and a status URL from user-data that
/// StatusUrlAllowed refuses unless the command line gives --status-url-insecure.
[[nodiscard]] base::Result<RunValues> MergeRunOptions(const RunValues& command_line, const RunValues& from_userdata);

/// For `run --from-userdata`: a manifest user-data names must be pinned
/// (#sha256=) or signed by a key user-data or the command line trusts;
/// otherwise only --insecure on the command line accepts it. kVerification, as
/// for `run URL`, and checked before any request.
[[nodiscard]] base::Result<void> CheckUserdataManifestTrusted(std::string_view manifest, std::size_t userdata_keys,
                                                              const RunValues& command_line);

}  // namespace userdata
