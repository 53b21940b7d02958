// `bootrino userdata` and `bootrino run --from-userdata`: the reference and
// settings a cloud instance's user-data gives (userdata/ finds and parses it).
#include <cstdio>

#include "agent/commands.h"
#include "agent/exit_codes.h"
#include "agent/pipeline.h"
#include "userdata/userdata.h"

namespace agent {
namespace {

base::Result<userdata::Config> ResolveUserdata(const std::string& file) {
  userdata::Sources sources = userdata::HostSources();
  if (!file.empty()) sources.file = file;
  return userdata::Resolve(sources);
}

}  // namespace

int Userdata(const CommonOptions& common, const UserdataOptions& options) {
  Events events;
  if (auto r = events.Open(common.json_events); !r) return Report(r.error(), events, "start");
  auto config = ResolveUserdata(options.file);
  if (!config) return Report(config.error(), events, "userdata");
  if (common.json) {
    std::printf("%s\n", userdata::ToJson(*config).dump(2).c_str());
  } else {
    std::fputs(userdata::ToText(*config).c_str(), stdout);
  }
  return kExitOk;
}

int RunFromUserdata(const std::string& ref, CommonOptions common, RunOptions options) {
  Events events;
  auto config = ResolveUserdata(options.userdata_file);
  if (!config) return Report(config.error(), events, "userdata");
  if (auto r = userdata::RequireManifest(*config); !r) return Report(r.error(), events, "userdata");
  if (!ref.empty() && ref != config->manifest) {
    return Report(base::Error(base::ErrorKind::kUsage, "the command line names " + ref + " but user-data (" +
                                                           config->source + ") names " + config->manifest)
                      .Hint("give one reference: drop REF from the command line, or --from-userdata"),
                  events, "userdata");
  }
  events.Say("user-data from " + config->source + " names " + config->manifest);
  // The command line wins where both say something; user-data fills in the rest.
  const userdata::RunFlags& f = config->options;
  options.yes = options.yes || config->yes;
  options.dry_run = options.dry_run || f.dry_run.value_or(false);
  options.detach = options.detach || f.detach.value_or(false);
  if (f.detach_timeout_s) options.detach_timeout_s = *f.detach_timeout_s;
  if (f.retries) common.transfer.tries = *f.retries;
  if (f.arch && common.arch.empty()) common.arch = *f.arch;
  common.insecure = common.insecure || f.insecure.value_or(false);
  common.trust_pems.insert(common.trust_pems.end(), config->trust_keys.begin(), config->trust_keys.end());
  options.ssh_keys = config->ssh_keys;
  options.hostname = config->hostname;
  if (options.status_url.empty()) options.status_url = config->status_url;
  options.from_userdata = false;
  return Run(config->manifest, common, options);
}

}  // namespace agent
