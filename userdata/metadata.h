// The instance metadata services bootrino asks for user-data, SSH keys and the
// hostname: AWS IMDSv2 (a session token first), GCP (Metadata-Flavor: Google)
// and DigitalOcean. DMI tells which cloud a host is on, as cloud-init's
// ds-identify does, so a host on none waits for nothing.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "userdata/http.h"

namespace userdata {

enum class Cloud { kAws, kGcp, kDigitalOcean };

/// "aws", "gcp", "digitalocean".
std::string_view CloudName(Cloud cloud);

/// The cloud that root/sys/class/dmi/id (or Xen's root/sys/hypervisor/uuid) names; nullopt for none.
std::optional<Cloud> DetectCloud(const std::string& root);

struct Metadata {
  Cloud cloud = Cloud::kAws;
  std::optional<std::string> user_data;  ///< nullopt: the service has none
  std::string user_data_url;
  std::vector<std::string> ssh_keys;     ///< valid authorized_keys lines only
  std::string hostname;                  ///< "" when absent or not a valid host name
  std::vector<std::string> notes;        ///< keys and names skipped, and why
};

/// Asks `cloud`'s service at `base_url` ("http://169.254.169.254"). nullopt,
/// with the reason in `why_not`, when nothing answers there as that service
/// would; a kNetwork error when it answered as that service but its user-data
/// could not be read (a broken service must not pass for "no user-data").
[[nodiscard]] base::Result<std::optional<Metadata>> QueryMetadata(Cloud cloud, const std::string& base_url, Http& http,
                                                                  std::string& why_not);

}  // namespace userdata
