// cloud-init's record of this boot's instance: /run/cloud-init/instance-data.json.
// When cloud-init ran (the one-liner's way in), it has already identified the
// platform and read its metadata, on every cloud it supports; its standardized
// `v1` keys then give bootrino the cloud, the SSH keys and the hostname without a
// single request of its own. /run is a tmpfs, so a record there is this boot's.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "userdata/metadata.h"

namespace userdata {

/// The keys bootrino takes from cloud-init's record.
struct InstanceData : InstanceFacts {
  std::string path;         ///< the file read, as shown (/run/cloud-init/instance-data-sensitive.json or …/instance-data.json)
  std::string cloud_name;   ///< v1.cloud_name, as cloud-init spells it: "aws", "gce", "azure", "nocloud", "openstack"…
  std::string platform;     ///< v1.platform: the datasource's platform type ("ec2", "nocloud", "openstack"…)
  std::string region;       ///< v1.region, when the platform has regions
  std::string instance_id;  ///< v1.instance_id
};

/// Largest record read: cloud-init's own is a few KiB to a few hundred (with every metadata key).
inline constexpr std::size_t kMaxInstanceDataBytes = 4 << 20;

/// The record in `text` (the JSON cloud-init writes; `shown` names it in notes). SSH keys and the
/// hostname pass the same checks as user-data's; what fails them is noted and skipped. A record of
/// cloud-init's Ec2 datasource on a platform it did not identify gives neither (noted). nullopt (and
/// why, in `why_not`) when `text` is not a JSON object with a `v1` object: not cloud-init's record.
std::optional<InstanceData> ParseInstanceData(std::string_view text, const std::string& shown, std::string& why_not);

/// The record of this boot under `root`: instance-data-sensitive.json when it can be read (root only;
/// the same v1 keys, nothing redacted), else instance-data.json. A file not owned by root, or one that
/// others may write, is not cloud-init's and is skipped (a note says so). nullopt when there is none.
std::optional<InstanceData> ReadInstanceData(const std::string& root, std::vector<std::string>& notes);

/// The name bootrino gives the record's cloud: "gcp" for cloud_name "gce"; the platform ("nocloud",
/// "configdrive") for "unknown", which datasources without a cloud of their own say; else cloud_name.
std::string CloudNameOfInstance(const InstanceData& data);

}  // namespace userdata
