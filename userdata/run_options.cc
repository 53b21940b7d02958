#include "userdata/run_options.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <memory>

#include <curl/curl.h>

#include "base/base.h"
#include "userdata/config.h"
#include "userdata/fields.h"

namespace userdata {
namespace {

using base::ErrorKind;
using T = OptionType;
using U = FromUserdata;

constexpr std::string_view kNetworks[] = {"auto", "dhcp", "static"};
constexpr std::string_view kFallbacks[] = {"none", "reboot"};

constexpr std::string_view kOnThisHost = "it names a file on this host";

// The defaults of the transfer options are fetch::TransferOptions' (a unit test checks they agree).
constexpr RunOptionSpec kTable[] = {
    {.name = "status_url", .flag = "--status-url", .type = T::kUrl,
     .help = "POST each phase event as JSON to this URL (best effort, never delays the boot); the RAM OS finds it "
             "in /etc/bootrino/status-url to report its own arrival",
     .userdata = U::kKey},
    {.name = "status_url_insecure", .flag = "--status-url-insecure", .type = T::kFlag, .default_value = "false",
     .help = "accept a plain http:// status URL to another machine, from the command line or user-data (the "
             "events then cross the network unencrypted)",
     .userdata = U::kRefused,
     .why_not = "user-data must not be able to send this machine's events in the clear"},
    {.name = "metadata", .flag = "--metadata", .type = T::kChoice, .choices = kMetadataPolicyNames,
     .default_value = MetadataPolicyName(MetadataPolicy::kIdentified),
     .help = "which cloud metadata services may give user-data, SSH keys and the hostname: 'identified' asks only "
             "the service of the cloud this host is shown to be by DMI, /sys/hypervisor/uuid or cloud-init's record "
             "(/run/cloud-init); 'any' also asks AWS, GCP and DigitalOcean on a host shown to be none of them, and "
             "believes whoever answers 169.254.169.254 - only on a network you trust; 'never' asks none "
             "(docs/userdata.md)",
     .why_not = "user-data may itself come from a metadata service: it cannot choose which services to believe"},
    {.name = "no_instance_settings", .flag = "--no-instance-settings", .type = T::kFlag, .default_value = "false",
     .help = "do not give the RAM OS this instance's SSH keys and hostname (from its user-data and metadata "
             "service)"},
    {.name = "network", .flag = "--network", .type = T::kChoice, .choices = kNetworks, .default_value = "auto",
     .help = "the RAM OS's network: 'dhcp' (its own), 'static' (this host's addresses, routes and DNS written into "
             "it), 'auto' (dhcp only when this host's own IPv4 came from DHCP, never on DigitalOcean; else static)",
     .userdata = U::kOption},
    {.name = "from_userdata", .flag = "--from-userdata", .type = T::kFlag, .default_value = "false",
     .help = "take the reference and settings from this instance's user-data (see `bootrino userdata`)",
     .why_not = "user-data is what it reads"},
    {.name = "userdata_file", .flag = "--userdata-file", .type = T::kFile,
     .help = "with --from-userdata: read this file instead", .why_not = kOnThisHost},
    {.name = "dry_run", .flag = "--dry-run", .type = T::kFlag, .default_value = "false",
     .help = "fetch and verify into RAM, print the plan, change nothing", .userdata = U::kOption},
    {.name = "yes", .flag = "--yes", .type = T::kFlag, .default_value = "false",
     .help = "confirm that the root disk may be replaced", .userdata = U::kKey},
    {.name = "disk", .flag = "--disk", .type = T::kText,
     .help = "the whole disk to replace when it is not the one holding / (default: the disk holding /)",
     .why_not = "it names a device of this host"},
    {.name = "keep_disk", .flag = "--keep-disk", .type = T::kFlag, .default_value = "false",
     .help = "boot the RAM OS with kexec only and leave the disk alone (the RAM OS will not survive a reboot)"},
    {.name = "fallback", .flag = "--fallback", .type = T::kChoice, .choices = kFallbacks, .default_value = "none",
     .help = "when kexec is refused (lockdown, no kexec_file_load): 'reboot' writes the disk and reboots through "
             "the firmware into the RAM OS (refused under UEFI Secure Boot, whose firmware would not boot that "
             "disk); 'none' stops before anything is changed",
     .userdata = U::kOption},
    {.name = "detach", .flag = "--detach", .type = T::kFlag, .default_value = "false",
     .help = "exit 0 once the OS is verified and loaded; reboot into it after the caller has exited (automatic "
             "under cloud-init, which must finish first)",
     .userdata = U::kOption},
    {.name = "detach_timeout", .flag = "--detach-timeout", .type = T::kInt, .min = 1, .max = 86400,
     .default_value = "600", .help = "reboot anyway after this many seconds", .userdata = U::kOption},
    {.name = "seed", .flag = "--seed", .type = T::kUnsigned,
     .help = "derive the disk's GUIDs from this number (the plan --dry-run prints is then the one written; "
             "default: random)"},
    {.name = "json", .flag = "--json", .type = T::kFlag, .default_value = "false", .help = "print the plan as JSON"},
    {.name = "trust", .flag = "--trust", .type = T::kFiles,
     .help = "EC P-256 public key (PEM) trusted to sign manifests; repeatable",
     .why_not = "it names a file on this host; give trusted keys as PEM text under `bootrino: trust:`",
     .every_subcommand = true},
    {.name = "ca_file", .flag = "--ca-file", .type = T::kFile,
     .help = "PEM CA bundle for HTTPS (default: the system's, else built in)", .why_not = kOnThisHost,
     .every_subcommand = true},
    {.name = "insecure", .flag = "--insecure", .type = T::kFlag, .default_value = "false",
     .help = "accept a manifest that is neither pinned nor signed (dangerous); never from user-data",
     .userdata = U::kRefused,
     .why_not = "user-data must not be able to turn verification off (pin the manifest with #sha256= or sign it)",
     .every_subcommand = true},
    {.name = "json_events", .flag = "--json-events", .type = T::kText,
     .help = "append one JSON line per phase event to FILE", .why_not = kOnThisHost, .every_subcommand = true},
    {.name = "arch", .flag = "--arch", .type = T::kChoice, .choices = base::kArchitectureNames,
     .help = "payload architecture to use (default: this machine's, uname -m)", .userdata = U::kOption,
     .every_subcommand = true},
    {.name = "retries", .flag = "--retries", .type = T::kInt, .min = 1, .max = 100, .default_value = "5",
     .help = "tries per URL before the next mirror", .userdata = U::kOption, .every_subcommand = true},
    {.name = "retry_delay", .flag = "--retry-delay", .type = T::kNumber, .min = 0, .max = 60, .default_value = "1",
     .help = "seconds before the first retry; doubles each time", .every_subcommand = true},
    {.name = "connect_timeout", .flag = "--connect-timeout", .type = T::kInt, .min = 1, .max = 600,
     .default_value = "15", .help = "seconds to establish a connection", .every_subcommand = true},
    {.name = "stall_timeout", .flag = "--stall-timeout", .type = T::kInt, .min = 1, .max = 3600,
     .default_value = "30", .help = "retry a transfer slower than 1 KiB/s for this long", .every_subcommand = true},
    {.name = "parallel", .flag = "--parallel", .type = T::kInt, .min = 1, .max = 16, .default_value = "4",
     .help = "transfers at once: files, and byte ranges of large files (--segments)", .every_subcommand = true},
    {.name = "segments", .flag = "--segments", .type = T::kInt, .min = 1, .max = 16, .default_value = "4",
     .help = "connections one file of 32 MiB or more may use at once, each fetching byte ranges of it, for servers "
             "that cap each connection's rate (at most --parallel); 1 fetches every file in one stream",
     .every_subcommand = true},
};


std::string OneOf(std::span<const std::string_view> choices) {
  std::string out;
  for (std::size_t i = 0; i < choices.size(); ++i) {
    if (i) out += i + 1 == choices.size() ? " or " : ", ";
    out += choices[i];
  }
  return out;
}

// The host of an http(s) URL, without brackets, port or user name.
std::string_view UrlHost(std::string_view url) {
  const std::size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return {};
  std::string_view authority = url.substr(scheme + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  // Parsers disagree on a backslash (browsers read it as '/'): no host is better than the wrong one.
  if (authority.find('\\') != std::string_view::npos) return {};
  if (std::size_t at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  if (authority.starts_with("[")) {
    const std::size_t close = authority.find(']');
    return close == std::string_view::npos ? std::string_view() : authority.substr(1, close - 1);
  }
  return authority.substr(0, authority.find(':'));
}

bool IsLoopbackHost(std::string_view host) {
  std::string h(host);
  std::transform(h.begin(), h.end(), h.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (h == "localhost" || h == "localhost.") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, h.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  return inet_pton(AF_INET6, h.c_str(), &v6) == 1 && std::memcmp(&v6, &in6addr_loopback, sizeof v6) == 0;
}

}  // namespace

std::string FormatNumber(double n) {
  std::string s = std::to_string(n);
  s.erase(s.find_last_not_of('0') + 1);
  if (s.back() == '.') s.pop_back();
  return s;
}

std::span<const RunOptionSpec> RunOptionTable() { return kTable; }

const RunOptionSpec* FindRunOption(std::string_view name_or_flag) {
  for (const RunOptionSpec& spec : kTable) {
    if (spec.name == name_or_flag || spec.flag == name_or_flag) return &spec;
  }
  return nullptr;
}

bool UserdataMaySet(const RunOptionSpec& spec) {
  return spec.userdata == FromUserdata::kOption || spec.userdata == FromUserdata::kKey;
}

std::string CheckRunOptionValue(const RunOptionSpec& spec, std::string_view text) {
  const char* const first = text.data();
  const char* const last = text.data() + text.size();
  switch (spec.type) {
    case T::kFlag:
      return text == "true" || text == "false" ? "" : "must be true or false";
    case T::kInt: {
      long long n = 0;
      auto [end, ec] = std::from_chars(first, last, n);
      if (text.empty() || ec != std::errc() || end != last) return "must be a whole number";
      if (n < spec.min || n > spec.max) return "must be between " + FormatNumber(spec.min) + " and " + FormatNumber(spec.max);
      return "";
    }
    case T::kNumber: {
      double n = 0;
      auto [end, ec] = std::from_chars(first, last, n, std::chars_format::fixed);
      if (text.empty() || ec != std::errc() || end != last) return "must be a number";
      if (!(n >= spec.min && n <= spec.max)) return "must be between " + FormatNumber(spec.min) + " and " + FormatNumber(spec.max);
      return "";
    }
    case T::kUnsigned: {
      std::uint64_t n = 0;
      auto [end, ec] = std::from_chars(first, last, n);
      return text.empty() || ec != std::errc() || end != last ? "must be a whole number from 0 to 2^64-1" : "";
    }
    case T::kChoice:
      return std::find(spec.choices.begin(), spec.choices.end(), text) != spec.choices.end()
                 ? ""
                 : "must be " + OneOf(spec.choices);
    case T::kUrl:
      return CheckHttpUrl(text);
    case T::kText:
    case T::kFile:
    case T::kFiles:
      return text.empty() ? "must not be empty" : "";
  }
  return "";
}

base::Error NotFromUserdata(const RunOptionSpec& spec, std::string_view where) {
  std::string message = std::string(where) + " cannot come from user-data";
  if (!spec.why_not.empty()) message += ": " + std::string(spec.why_not);
  if (spec.userdata == FromUserdata::kRefused) {
    return base::Error(ErrorKind::kUsage, std::move(message))
        .Hint("the command line must say it: remove it from user-data and run `bootrino run --from-userdata " +
              std::string(spec.flag) + "` yourself if you mean it");
  }
  return base::Error(ErrorKind::kUsage, std::move(message))
      .Hint("give " + std::string(spec.flag) + " on the command line; user-data may set " +
            UserdataKeyList(FromUserdata::kKey, true) + ", " + UserdataKeyList(FromUserdata::kOption, true));
}

base::Error NotFromUserdata(const RefusedOption& refused) {
  const RunOptionSpec* spec = FindRunOption(refused.name);
  if (!spec) return base::Error(ErrorKind::kInternal, "user-data named an option with no entry in the table: " + refused.name);
  base::Error error = NotFromUserdata(*spec, refused.as_written);
  return refused.where.empty() ? std::move(error) : std::move(error).Context(refused.where);
}

std::string RefusedWarning(const RefusedOption& refused) {
  const RunOptionSpec* spec = FindRunOption(refused.name);
  std::string line = refused.as_written + (refused.where.empty() ? "" : " (" + refused.where + ")") +
                     " is ignored: only the command line may give " + std::string(spec ? spec->flag : refused.name);
  if (spec && !spec->why_not.empty()) line += " (" + std::string(spec->why_not) + ")";
  return line;
}

std::string UserdataKeyList(FromUserdata where, bool as_flags) {
  std::string out;
  for (const RunOptionSpec& spec : kTable) {
    if (spec.userdata != where) continue;
    if (!out.empty()) out += ", ";
    out += as_flags ? spec.flag : spec.name;
  }
  return out;
}

bool StatusUrlAllowed(std::string_view url) {
  // Judged by libcurl's own URL parser, the one that sends the events: the
  // host checked is the host reached. Parsers disagree on a backslash
  // (browsers read it as '/'), so a URL holding one is refused outright.
  if (url.find('\\') != std::string_view::npos) return false;
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> parsed(curl_url(), curl_url_cleanup);
  if (!parsed || curl_url_set(parsed.get(), CURLUPART_URL, std::string(url).c_str(), 0) != CURLUE_OK) return false;
  auto part = [&](CURLUPart which) {
    char* out = nullptr;
    if (curl_url_get(parsed.get(), which, &out, 0) != CURLUE_OK) return std::string();
    std::string value(out);
    curl_free(out);
    return value;
  };
  std::string scheme = part(CURLUPART_SCHEME);
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (scheme == "https") return true;
  if (scheme != "http") return false;
  std::string host = part(CURLUPART_HOST);
  if (host.starts_with("[") && host.ends_with("]")) host = host.substr(1, host.size() - 2);
  return IsLoopbackHost(host);
}

void RunValues::Set(std::string_view name, std::string text) {
  auto& values = given_[std::string(name)];
  const RunOptionSpec* spec = FindRunOption(name);
  if (!spec || spec->type != T::kFiles) values.clear();
  values.push_back(std::move(text));
}

std::string RunValues::Text(std::string_view name) const {
  if (auto it = given_.find(name); it != given_.end() && !it->second.empty()) return it->second.back();
  const RunOptionSpec* spec = FindRunOption(name);
  return spec ? std::string(spec->default_value) : std::string();
}

long long RunValues::Int(std::string_view name) const {
  const std::string text = Text(name);
  long long n = 0;
  std::from_chars(text.data(), text.data() + text.size(), n);
  return n;
}

double RunValues::Number(std::string_view name) const {
  const std::string text = Text(name);
  double n = 0;
  std::from_chars(text.data(), text.data() + text.size(), n, std::chars_format::fixed);
  return n;
}

std::uint64_t RunValues::Unsigned(std::string_view name) const {
  const std::string text = Text(name);
  std::uint64_t n = 0;
  std::from_chars(text.data(), text.data() + text.size(), n);
  return n;
}

std::vector<std::string> RunValues::All(std::string_view name) const {
  auto it = given_.find(name);
  return it == given_.end() ? std::vector<std::string>() : it->second;
}

base::Result<RunValues> MergeRunOptions(const RunValues& command_line, const RunValues& from_userdata) {
  RunValues out = command_line;
  for (const auto& [name, texts] : from_userdata.Given()) {
    const RunOptionSpec* spec = FindRunOption(name);
    if (!spec) return base::Fail(ErrorKind::kInternal, "user-data gave an option with no entry in the table: " + name);
    if (!UserdataMaySet(*spec)) return base::Fail(NotFromUserdata(*spec, name));
    if (command_line.Has(name)) continue;  // the command line wins
    for (const std::string& text : texts) out.Set(name, text);
  }
  if (!command_line.Has("status_url") && from_userdata.Has("status_url") &&
      !StatusUrlAllowed(from_userdata.Text("status_url")) && !command_line.Flag("status_url_insecure")) {
    return base::Fail(
        base::Error(ErrorKind::kUsage, "user-data's status_url is plain http:// to another machine (" +
                                           std::string(UrlHost(from_userdata.Text("status_url"))) +
                                           "): this machine's events would cross the network unencrypted")
            .Hint("make it https:// (or a URL on this machine: localhost, 127.0.0.1, [::1]); or, if you mean it, "
                  "pass --status-url-insecure on the command line"));
  }
  return out;
}

base::Result<void> CheckUserdataManifestTrusted(std::string_view manifest, std::size_t userdata_keys,
                                                const RunValues& command_line) {
  const bool pinned = manifest.find("#sha256=") != std::string_view::npos;
  const bool signed_ = userdata_keys > 0 || !command_line.All("trust").empty();
  if (pinned || signed_ || command_line.Flag("insecure")) return {};
  return base::Fail(
      base::Error(ErrorKind::kVerification,
                  "refusing the manifest user-data names (" + std::string(manifest.substr(0, manifest.find('#'))) +
                      "): it is neither pinned by hash nor signed, and user-data cannot say --insecure")
          .Hint("pin it in user-data (manifest: URL#sha256=<64 hex>), or sign it and list the public key under "
                "`bootrino: trust:` (or pass --trust KEYFILE); only --insecure on this command line accepts it "
                "unverified"));
}

}  // namespace userdata
