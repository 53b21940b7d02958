// The instance metadata services bootrino asks for user-data, SSH keys and the
// hostname: AWS IMDSv2 (a session token first), GCP (Metadata-Flavor: Google),
// DigitalOcean, Azure (Metadata: true), Oracle Cloud (Authorization: Bearer Oracle),
// Hetzner Cloud, OpenStack, Vultr, Linode (a session token first), Scaleway (at
// 169.254.42.42; user-data from a port below 1024) and Exoscale (CloudStack's paths).
// IdentifyCloud tells which cloud a host is on, from what only
// the platform or cloud-init can write (DMI, /sys/hypervisor, /run/cloud-init),
// never from who answers on the network: an answer at 169.254.169.254 proves
// nothing about who sent it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/base.h"
#include "userdata/http.h"

namespace userdata {

enum class Cloud {
  kAws, kGcp, kDigitalOcean, kAzure, kOracle, kHetzner, kOpenStack, kVultr, kLinode, kScaleway, kExoscale
};

/// "aws", "gcp", "digitalocean", "azure", "oracle", "hetzner", "openstack", "vultr", "linode", "scaleway",
/// "exoscale".
std::string_view CloudName(Cloud cloud);

/// A cloud this host is positively identified as, and the evidence.
struct Identity {
  Cloud cloud = Cloud::kAws;
  std::string evidence;  ///< e.g. "DMI sys_vendor is \"DigitalOcean\"", for notes
};

/// The cloud this host is, read under `root`:
///  1. cloud-init's record of the datasource it used: run/cloud-init/instance-data.json
///     (v1.cloud_name "aws", "gce", "digitalocean", "akamai"…), else run/cloud-init/cloud-id
///     ("aws", "aws-china", "aws-gov", "gce", "digitalocean"…): the names of metadata.cc's table of
///     clouds; another name (nocloud, configdrive…, and "unknown": cloud-init's Ec2 datasource on a
///     platform it could not identify, which believed whoever answered) identifies none and DMI decides;
///  2. DMI and Xen, with cloud-init's ds-identify and datasources' rules:
///     AWS: sys/hypervisor/uuid or DMI product_uuid starting "ec2" (either byte order),
///          sys_vendor or bios_vendor "Amazon EC2", or "amazon" in product_version;
///     GCP: product_name "Google Compute Engine" or "Google", product_serial
///          "GoogleCloud-…", or sys_vendor or bios_vendor "Google";
///     DigitalOcean: sys_vendor "DigitalOcean";
///     Azure: chassis_asset_tag "7783-7084-3265-9085-8269-3286-77";
///     Oracle: chassis_asset_tag "OracleCloud.com";
///     Hetzner: sys_vendor "Hetzner"; Vultr: sys_vendor "Vultr"; Linode: sys_vendor "Linode" or "Akamai";
///     Scaleway: sys_vendor "Scaleway" (not ds-identify's "scaleway" on the kernel command line or
///     /var/run/scaleway, which the image's own boot writes, not the platform);
///     Exoscale: product_name starting "Exoscale";
///     OpenStack: product_name "OpenStack Nova" or "OpenStack Compute", or chassis_asset_tag
///     "OpenTelekomCloud".
/// nullopt when none names a cloud bootrino knows.
std::optional<Identity> IdentifyCloud(const std::string& root);

/// IdentifyCloud's cloud.
std::optional<Cloud> DetectCloud(const std::string& root);

/// What a platform says of the instance, wherever bootrino read it (a metadata service, cloud-init's record).
struct InstanceFacts {
  std::vector<std::string> ssh_keys;  ///< valid authorized_keys lines only
  std::string hostname;               ///< "" when absent or not a valid host name
  std::vector<std::string> notes;     ///< keys and names skipped, and why
};

/// What a metadata service answered.
struct Metadata : InstanceFacts {
  Cloud cloud = Cloud::kAws;
  std::string service_url;               ///< the base URL that answered
  std::optional<std::string> user_data;  ///< nullopt: the service has none
  std::string user_data_url;
};

// What the services answer, read without HTTP: the parsers QueryMetadata uses on
// each response body, separate so that tests and the imds fuzz target reach them.

/// The session token a PUT answers (AWS IMDSv2's /latest/api/token, Linode's /v1/token), surrounding
/// whitespace trimmed; nullopt when the body holds none, or more than one word of
/// printable ASCII (the token is sent back in a header).
std::optional<std::string> ParseSessionToken(std::string_view body);

/// The key indexes in AWS's meta-data/public-keys/ listing ("0=my-key\n1=other-key"),
/// in order: each names the key at public-keys/INDEX/openssh-key. A line whose text
/// before its first '=' is not a decimal number is skipped.
std::vector<std::string> ParseAwsKeyIndexes(std::string_view listing);

/// How a service lists SSH keys: one authorized_keys line per line (AWS, DigitalOcean),
/// or GCP's ssh-keys attribute, where each line is "USER:KEY".
enum class KeyListFormat { kPlain, kGcp };

/// Adds each valid authorized_keys line of the key list `body` to `m.ssh_keys`, and
/// a note naming `from` for each non-empty line skipped.
void AddSshKeys(std::string_view body, KeyListFormat format, const std::string& from, InstanceFacts& m);

/// Sets `m.hostname` to the host name in `body` (surrounding whitespace trimmed) when
/// it is a valid one; a note naming `from` when it is not. An empty body changes nothing.
void AddHostname(std::string_view body, const std::string& from, InstanceFacts& m);

/// True when `body` (DigitalOcean's /metadata/v1/id) is a droplet id: decimal digits,
/// surrounding whitespace trimmed.
bool IsDropletId(std::string_view body);

/// GCP's user-data attribute as bytes: `body` itself, or its base64 decoding when the
/// user-data-encoding attribute (`encoding`, whitespace trimmed) is "base64". Errors are kUsage.
[[nodiscard]] base::Result<std::string> DecodeGcpUserData(std::string body, std::string_view encoding);

/// OpenStack's meta_data.json, as its metadata service and a config drive give it.
struct OpenStackMetaData : InstanceFacts {
  std::string uuid;  ///< the instance's
};

/// The keys (public_keys, {"NAME": "KEY"}), the hostname (hostname, else name) and the uuid of the
/// meta_data.json `text`; `from` names it in notes. nullopt (and why, in `why_not`) when `text` is not
/// a JSON object with a uuid: not OpenStack's document.
std::optional<OpenStackMetaData> ParseOpenStackMetaData(std::string_view text, const std::string& from,
                                                        std::string& why_not);

/// Asks `cloud`'s service at `base_url` ("http://169.254.169.254"). nullopt,
/// with the reason in `why_not`, when nothing answers there as that service
/// would; a kNetwork error when it answered as that service but its user-data
/// could not be read (a broken service must not pass for "no user-data").
[[nodiscard]] base::Result<std::optional<Metadata>> QueryMetadata(Cloud cloud, const std::string& base_url, Http& http,
                                                                  std::string& why_not);

}  // namespace userdata
