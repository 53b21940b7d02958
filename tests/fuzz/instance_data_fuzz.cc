// userdata::ParseInstanceData: cloud-init's record of the instance (/run/cloud-init/instance-data.json).
// cloud-init writes the file, but its v1 keys are what the platform's metadata service and a NoCloud or
// config-drive volume said: SSH keys, the hostname, the region and the instance id come from there. What
// bootrino takes shows in `bootrino userdata` (text line by line, and --json) and in the plan.
#include <algorithm>
#include <string>

#include "tests/fuzz/fuzz_check.h"
#include "userdata/config.h"
#include "userdata/fields.h"
#include "userdata/instance_data.h"

namespace {

bool HasControl(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](unsigned char c) { return c < ' ' || c == 0x7f; });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string why_not;
  auto record = userdata::ParseInstanceData(AsText(data, size), "/run/cloud-init/instance-data.json", why_not);
  if (!record) {
    FUZZ_REQUIRE(!why_not.empty());
    return 0;
  }
  for (const std::string& key : record->ssh_keys) FUZZ_REQUIRE(userdata::CheckSshKey(key).empty());
  if (!record->hostname.empty()) FUZZ_REQUIRE(userdata::CheckHostname(record->hostname).empty());
  // Each value is one line of `bootrino userdata`'s text: none may start another.
  for (const std::string* field : {&record->cloud_name, &record->platform, &record->region, &record->instance_id}) {
    FUZZ_REQUIRE(!HasControl(*field));
  }
  for (const std::string& note : record->notes) FUZZ_REQUIRE(note.find('\n') == std::string::npos);
  FUZZ_REQUIRE(!HasControl(userdata::CloudNameOfInstance(*record)));

  userdata::Config config;
  config.instance_data = record->path;
  config.cloud = userdata::CloudNameOfInstance(*record);
  config.platform = record->platform;
  config.region = record->region;
  config.instance_id = record->instance_id;
  config.ssh_keys = record->ssh_keys;
  config.hostname = record->hostname;
  config.notes = record->notes;
  (void)userdata::ToJson(config).dump(2);  // throws on text that is not UTF-8
  const std::string text = userdata::ToText(config);
  FUZZ_REQUIRE(std::count(text.begin(), text.end(), '\n') ==
               static_cast<std::ptrdiff_t>(10 + config.ssh_keys.size() + config.notes.size()));
  return 0;
}
