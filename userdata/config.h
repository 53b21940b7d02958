// User-data: where a cloud instance's user-data is found, and what bootrino
// reads in it. `Resolve` searches the host (cloud-init's saved copy, a NoCloud
// seed, the metadata services of AWS, GCP and DigitalOcean); `Parse` turns the
// bytes (a `#!` script, `#cloud-config`, MIME multipart, gzip) into a Config.
// docs/userdata.md is the user's reference.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/base.h"
#include "userdata/run_options.h"

namespace base {
class Sys;
}

namespace userdata {

class Http;

/// What bootrino takes from user-data and the metadata service.
struct Config {
  std::string manifest;                 ///< manifest reference as written (URL[#sha256=HEX]); empty: none named
  std::vector<std::string> trust_keys;  ///< PEM public keys (EC P-256) trusted to sign the manifest
  std::vector<std::string> ssh_keys;    ///< authorized_keys lines, de-duplicated, in the order found
  std::string hostname;                 ///< for the RAM OS; empty: none given
  RunValues options;                    ///< options of `bootrino run` it sets (yes, status_url, those under
                                        ///< options:), only those user-data may set (userdata/run_options.h)
  std::string cloud;                    ///< the cloud cloud-init's record names ("aws", "gcp", "azure", "nocloud"…), else
                                        ///< "configdrive" for a config drive's metadata, else the metadata service's
                                        ///< that answered ("aws", "gcp", "digitalocean"…); "": none of them
  std::string source;                   ///< where the user-data came from (a path or a URL); empty: none found
  std::string instance_data;            ///< cloud-init's record read (/run/cloud-init/…json); empty: none
  std::string platform;                 ///< from cloud-init's record: its platform, region and instance id
  std::string region;
  std::string instance_id;
  std::string metadata_url;             ///< the metadata service that answered; empty: none asked or none answered
  std::string hostname_from;            ///< where `hostname` came from (user-data, cloud-init's record, a service)
  std::vector<std::string> ssh_key_from;  ///< where each of `ssh_keys` came from, in the same order
  std::vector<std::string> notes;       ///< what was skipped or ignored, and why, for `bootrino userdata`
  std::vector<RefusedOption> refused;   ///< options user-data names but may not set (--insecure, --trust FILE):
                                        ///< never used; RefuseWhatUserdataMayNotSet stops `run --from-userdata`
  std::optional<base::Error> user_data_error;  ///< the user-data found is malformed (only with Sources::strict
                                               ///< false): nothing of it is here, the platform's keys and name are
};

/// Largest user-data accepted, before and after decompression (all layers together).
inline constexpr std::size_t kMaxUserDataBytes = 16 << 20;
/// A gzip stream that inflates more than this many times its size is refused as a bomb.
inline constexpr std::size_t kMaxGzipRatio = 1000;

/// Parses user-data bytes. Errors are kUsage and name the part and line at fault;
/// text in no format bootrino reads is not an error but a note.
[[nodiscard]] base::Result<Config> Parse(std::string_view bytes);

/// Which metadata services Resolve may ask. A service is reached over plain HTTP at
/// 169.254.169.254, so anyone who answers there (a rogue host on the network, a
/// hypervisor that is not the cloud's) is believed: only the host's own platform is
/// asked unless the user opts in (docs/userdata.md, SECURITY.md).
enum class MetadataPolicy {
  kIdentified,  ///< the service of the cloud IdentifyCloud names; none on a host it names none (the default)
  kAny,         ///< that one when identified, else all three at once (`--metadata any`)
  kNever,       ///< none
};

/// The words of `--metadata`, one per MetadataPolicy in its order: the one place they are spelled (the
/// option's choices and default in run_options.cc, and the names below, are these).
inline constexpr std::string_view kMetadataPolicyNames[] = {"identified", "any", "never"};

/// "identified", "any", "never": the word of `--metadata` for `policy`.
constexpr std::string_view MetadataPolicyName(MetadataPolicy policy) {
  return kMetadataPolicyNames[static_cast<std::size_t>(policy)];
}
/// The policy a `--metadata` word names; nullopt for any other text.
std::optional<MetadataPolicy> MetadataPolicyFromName(std::string_view name);

/// Where Resolve looks. Every path and endpoint can be moved for tests.
struct Sources {
  std::string file;  ///< an explicit user-data file, read instead of searching for user-data
                     ///< (metadata services are still asked for SSH keys and the hostname, as the policy says)
  std::string root = "/";  ///< prefix of every host path read (/var/lib/cloud, /run/cloud-init, /proc, /dev, /sys)
  MetadataPolicy metadata = MetadataPolicy::kIdentified;
  std::string aws_url = "http://169.254.169.254";             ///< IMDSv2; paths /latest/…
  std::string aws_ipv6_url = "http://[fd00:ec2::254]";        ///< asked when aws_url does not answer; "": never
  std::string gcp_url = "http://169.254.169.254";             ///< paths /computeMetadata/v1/…; never by DNS name,
                                                              ///< which whoever answers DNS could point anywhere
  std::string digitalocean_url = "http://169.254.169.254";    ///< paths /metadata/v1/…
  std::string other_url = "http://169.254.169.254";  ///< Azure, Oracle, Hetzner, OpenStack, Vultr, Linode,
                                                     ///< Exoscale (each its own paths)
  std::string scaleway_url = "http://169.254.42.42";  ///< Scaleway's, at an address of its own
  std::chrono::milliseconds connect_timeout{1000};
  std::chrono::milliseconds request_timeout{2000};  ///< a whole request, connection included
  Http* http = nullptr;  ///< nullptr: libcurl with the timeouts above, no proxies
  base::Sys* sys = nullptr;  ///< mounts a seed volume nobody mounted (as root only); nullptr: base::RealSys()
  bool strict = true;    ///< malformed user-data fails Resolve; false: Config::user_data_error says so, and the
                         ///< platform's SSH keys and hostname are still given (what a plain `run` takes)
};

/// The host's sources: the defaults, with BOOTRINO_IMDS_URL (when set) as the base
/// URL of every service, and BOOTRINO_USERDATA_ROOT (when set) as `root`. Both
/// variables exist for tests. Neither changes which services are asked: that is
/// `metadata` alone, so a test that points them at a fake still meets the same rule.
Sources HostSources();

/// Finds user-data, in order: `file`; cloud-init's saved copy
/// (/var/lib/cloud/instance/user-data.txt); NoCloud seeds
/// (/var/lib/cloud/seed/nocloud*/user-data, then `user-data` on a block device whose
/// file system libblkid finds labelled cidata or CIDATA); a config drive's
/// openstack/latest/user_data (a block device labelled config-2 or CONFIG-2); the
/// metadata services `metadata` allows. A volume of either kind is read where it is
/// mounted; where none is, as root, bootrino mounts the first vfat or iso9660 one in
/// /sys/class/block read-only on a directory of its own, and unmounts it before returning.
/// Parses the user-data and adds the platform's SSH keys and hostname: from cloud-init's record of this boot (userdata/instance_data.h) when
/// cloud-init ran, else from the config drive's openstack/latest/meta_data.json, and
/// then no metadata service is asked; from the metadata service otherwise.
/// Finding nothing is not an error (see RequireManifest); unreadable or malformed
/// user-data is.
[[nodiscard]] base::Result<Config> Resolve(const Sources& sources);

/// True when libblkid finds, at `path` (a block device or an image file), a file system
/// labelled cidata or CIDATA: a NoCloud seed, as cloud-init recognises one.
bool HasCidataLabel(const std::string& path);

/// True when libblkid finds, at `path`, a file system labelled config-2 or CONFIG-2: an
/// OpenStack config drive, as cloud-init's ds-identify recognises one.
bool HasConfigDriveLabel(const std::string& path);

/// For `bootrino run --from-userdata`: a kUsage error, saying where bootrino
/// looked and what to write, when `config` names no manifest.
[[nodiscard]] base::Result<void> RequireManifest(const Config& config);

/// For `bootrino run --from-userdata`: a kUsage error (NotFromUserdata) when
/// user-data names an option it may not set, --insecure first among them. Only
/// the command line may give those, and user-data that tries is not run at all.
[[nodiscard]] base::Result<void> RefuseWhatUserdataMayNotSet(const Config& config);

/// The Config as `bootrino userdata --json` prints it (unset options omitted).
nlohmann::ordered_json ToJson(const Config& config);

/// The Config as `bootrino userdata` prints it: one "name: value" line each.
std::string ToText(const Config& config);

}  // namespace userdata
