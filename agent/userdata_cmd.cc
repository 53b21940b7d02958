// `bootrino userdata` and `bootrino run --from-userdata`: the reference and
// settings a cloud instance's user-data gives (userdata/ finds and parses it).
#include <algorithm>
#include <cstdio>

#include "agent/commands.h"
#include "agent/pipeline.h"
#include "agent/run_options.h"
#include "base/base.h"
#include "fetch/fetch.h"
#include "observe/observe.h"
#include "userdata/userdata.h"

namespace agent {
namespace {

// The host's sources, with the metadata services --metadata allows.
userdata::Sources HostSources(userdata::MetadataPolicy metadata) {
  userdata::Sources sources = userdata::HostSources();
  sources.metadata = metadata;
  return sources;
}

base::Result<userdata::Config> ResolveUserdata(const std::string& file, userdata::MetadataPolicy metadata) {
  userdata::Sources sources = HostSources(metadata);
  if (!file.empty()) sources.file = file;
  return userdata::Resolve(sources);
}

// A warning for each option user-data names but may not set: it is ignored.
void WarnRefused(const userdata::Config& config, observe::Events& events) {
  for (const userdata::RefusedOption& refused : config.refused) {
    events.Warn("user-data" + (config.source.empty() ? std::string() : " from " + config.source) + ": " +
                userdata::RefusedWarning(refused));
  }
}

}  // namespace

int Userdata(const CommonOptions& common, const UserdataOptions& options) {
  observe::Events events;
  if (auto r = events.Open(common.json_events); !r) return observe::Report(r.error(), events, observe::Phase::kStart);
  auto config = ResolveUserdata(options.file, options.metadata);
  if (!config) return observe::Report(config.error(), events, observe::Phase::kUserdata);
  WarnRefused(*config, events);
  // Shown, not used: credentials in its URLs stay out of the output, as from every other command.
  config->manifest = fetch::RedactUrl(config->manifest);
  if (config->options.Has("status_url")) {
    config->options.Set("status_url", fetch::RedactUrl(config->options.Text("status_url")));
  }
  if (common.json) {
    std::printf("%s\n", userdata::ToJson(*config).dump(2).c_str());
  } else {
    // Line by line: the lines are structure, each one's content is shown as every other output is.
    const std::string text = userdata::ToText(*config);
    for (std::size_t pos = 0; pos < text.size();) {
      const std::size_t nl = std::min(text.find('\n', pos), text.size());
      std::printf("%s\n", observe::Shown(std::string_view(text).substr(pos, nl - pos)).c_str());
      pos = nl + 1;
    }
  }
  return observe::kExitOk;
}

int RunFromUserdata(const std::string& ref, const userdata::RunValues& command_line) {
  observe::Events events;
  CommonOptions common;
  RunOptions options;
  ApplyRunOptions(command_line, common, options);
  if (auto r = events.Open(common.json_events); !r) return observe::Report(r.error(), events, observe::Phase::kStart);
  auto config = ResolveUserdata(options.userdata_file, options.metadata);
  if (!config) return observe::Report(config.error(), events, observe::Phase::kUserdata);
  // User-data that says --insecure (or names a file of this host) is not run at all: only the command line may.
  if (auto r = userdata::RefuseWhatUserdataMayNotSet(*config); !r)
    return observe::Report(r.error(), events, observe::Phase::kUserdata);
  if (auto r = userdata::RequireManifest(*config); !r)
    return observe::Report(r.error(), events, observe::Phase::kUserdata);
  if (!ref.empty() && ref != config->manifest) {
    return observe::Report(base::Error(base::ErrorKind::kUsage, "the command line names " + ref + " but user-data (" +
                                                           config->source + ") names " + config->manifest)
                      .Hint("give one reference: drop REF from the command line, or --from-userdata"),
                  events, observe::Phase::kUserdata);
  }
  events.Say("user-data from " + config->source + " names " + config->manifest);
  // The command line wins where both say something; user-data fills in the rest (userdata/run_options.h).
  auto merged = userdata::MergeRunOptions(command_line, config->options);
  if (!merged) return observe::Report(merged.error(), events, observe::Phase::kUserdata);
  // Before any request: what user-data names must be verifiable without the command line's --insecure.
  if (auto r = userdata::CheckUserdataManifestTrusted(config->manifest, config->trust_keys.size(), command_line); !r) {
    return observe::Report(r.error(), events, observe::Phase::kUserdata);
  }
  ApplyRunOptions(*merged, common, options);
  common.trust_pems.insert(common.trust_pems.end(), config->trust_keys.begin(), config->trust_keys.end());
  if (options.instance_settings) {  // --no-instance-settings: none of this instance's keys or hostname
    options.ssh_keys = config->ssh_keys;
    options.hostname = config->hostname;
  }
  options.from_userdata = false;
  options.instance_settings = false;  // just resolved, with the metadata service asked as `userdata` does
  return Run(config->manifest, common, options);
}

ramos::RamOsSettings InstanceSettings(const RunOptions& options, observe::Events& events) {
  ramos::RamOsSettings settings;
  settings.ssh_keys = options.ssh_keys;
  settings.hostname = options.hostname;
  settings.status_url = options.status_url;
  if (!options.instance_settings) return settings;
  userdata::Sources sources = HostSources(options.metadata);
  sources.strict = false;  // malformed user-data loses its own keys, not the platform's
  auto config = userdata::Resolve(sources);
  if (!config) {
    events.Warn("this instance gives the RAM OS nothing: " + config.error().message() +
                " (see `bootrino userdata`; --no-instance-settings skips it)");
    return settings;
  }
  if (config->user_data_error) {
    events.Warn("this instance's user-data gives the RAM OS nothing: " + config->user_data_error->message() +
                " (see `bootrino userdata`; --no-instance-settings skips it)");
  }
  // Only the SSH keys and the hostname are taken here: what user-data may not say is ignored, not a reason
  // to drop them.
  WarnRefused(*config, events);
  std::size_t added = 0;
  std::vector<std::string> origins;  // where what the RAM OS gets came from, each once
  auto add_origin = [&origins](const std::string& from) {
    if (!from.empty() && std::find(origins.begin(), origins.end(), from) == origins.end()) origins.push_back(from);
  };
  for (std::size_t i = 0; i < config->ssh_keys.size(); ++i) {
    const std::string& key = config->ssh_keys[i];
    if (std::find(settings.ssh_keys.begin(), settings.ssh_keys.end(), key) != settings.ssh_keys.end()) continue;
    settings.ssh_keys.push_back(key);
    ++added;
    if (i < config->ssh_key_from.size()) add_origin(config->ssh_key_from[i]);
  }
  if (settings.hostname.empty() && !config->hostname.empty()) {
    settings.hostname = config->hostname;
    add_origin(config->hostname_from);
  }
  if (!origins.empty()) {
    const std::string from = base::Join(origins, " and ");
    events.Emit(observe::Phase::kInstance, "ok",
                {{"from", from}, {"sshKeys", added}, {"hostname", settings.hostname}});
    events.Say("the RAM OS gets " + std::to_string(added) + " SSH key" + (added == 1 ? "" : "s") +
               (settings.hostname.empty() ? "" : " and hostname " + settings.hostname) + " from " + from);
  }
  return settings;
}

}  // namespace agent
