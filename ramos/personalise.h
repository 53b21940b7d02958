// What the RAM OS takes from this instance (SSH keys, hostname, network), in
// the shape the manifest's personalisation style names: files in bootrino's
// initrd overlay (`overlay`), an Alpine apkovl (`apkovl`), a Tiny Core
// mydata.tgz (`tinycore-mydata`). docs/manifest.md says where each lands and
// why; this is the one place that decides it.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/base.h"
#include "disk/disk.h"
#include "fetch/fetch.h"
#include "host/host.h"
#include "kexec/kexec.h"
#include "observe/observe.h"
#include "ramos/archive.h"

namespace ramos {

/// What the RAM OS gets from this instance (user-data, the metadata service, the host's network).
struct RamOsSettings {
  std::vector<std::string> ssh_keys;  ///< root's authorized_keys lines
  std::string hostname;
  std::string status_url;  ///< where the RAM OS may report "booted"
  host::HostNetwork network;     ///< empty for an image made elsewhere
  host::NetworkMode network_mode = host::NetworkMode::kDhcp;
  std::string network_reason;  ///< why auto chose network_mode; "" when the mode was asked for
};

/// Where the personalisation goes, for both ways the RAM OS boots.
struct PersonalFiles {
  std::vector<kexec::OverlayFile> overlay;          ///< bootrino's cpio overlay, every boot
  std::vector<ramos::ArchiveEntry> kexec_extra;     ///< more initrd members (newc) for the kexec boot only
  std::vector<disk::BootFile> boot_partition;       ///< generated files on the boot partition
  std::vector<std::string> kexec_params, disk_params;  ///< kernel parameters each boot adds
  nlohmann::ordered_json summary;                   ///< for the plan report: style, files, parameters
};

/// Fills `settings.network` from this host through `sys`, and
/// `settings.network_mode` from --network `option` ("auto": ChooseAutoMode,
/// with DigitalOcean told by DMI under `dmi_root`; its reason in
/// `settings.network_reason`). kUsage for an unknown option; kPreflight when a
/// static network is wanted and the host has no address to give. In dhcp mode
/// a host that cannot be read is only a warning (network.json stays empty).
[[nodiscard]] base::Result<void> AddHostNetwork(std::string_view option, base::Sys& sys, const std::string& dmi_root,
                                                RamOsSettings& settings, observe::Events& events);

/// Generated names on the boot partition.
inline constexpr const char* kApkovlName = "bootrino.apkovl.tar.gz";
inline constexpr const char* kMydataName = "tce/mydata.tgz";

/// Tiny Core's user (tc-config's adduser; the uid and group its home files take).
inline constexpr unsigned kTinyCoreUid = 1001, kTinyCoreStaffGid = 50;

/// The files and parameters for `style`. `manifest_json` lands in
/// etc/bootrino/manifest.json; `boot_id` only reaches the kexec boot;
/// `payload_names` (the manifest's files on the boot partition) must not
/// collide with generated ones. kManifest for a collision, kUsage for a
/// hostname or SSH key that cannot be written safely.
[[nodiscard]] base::Result<PersonalFiles> Personalise(fetch::Personalisation style, const RamOsSettings& settings,
                                                      const std::string& manifest_json, const std::string& boot_id,
                                                      const std::vector<std::string>& payload_names);

}  // namespace ramos
