// The parts of a #cloud-config document bootrino reads: its own `bootrino:`
// key (strict: unknown keys and bad values are errors that name the line),
// and what it borrows from cloud-init's keys (ssh_authorized_keys, users,
// hostname, runcmd), where problems are only notes since cloud-init owns them.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/base.h"
#include "userdata/fields.h"

namespace userdata {

struct CloudConfig {
  std::optional<Directive> bootrino;  ///< the `bootrino:` key, when present
  std::vector<Directive> runcmd;      ///< each `bootrino run` in runcmd, in order
  std::vector<std::string> ssh_keys;  ///< top-level and users[*] ssh_authorized_keys
  std::string hostname;               ///< top-level hostname, else fqdn
  std::vector<std::string> notes;
};

/// Parses one #cloud-config document. Errors are kUsage and start with
/// "line L, column C:".
[[nodiscard]] base::Result<CloudConfig> ParseCloudConfig(std::string_view text);

}  // namespace userdata
