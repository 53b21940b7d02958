// 4: planning the boot, both ways the RAM OS is reached: the kexec load now
// (one composed initrd with a one-time overlay) and the firmware path later
// (the same kernel, initrds and command line on the boot partition, with a
// persistent overlay and without the one-time boot id).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/events.h"
#include "agent/personalise.h"
#include "base/result.h"
#include "disk/write.h"
#include "fetch/stage.h"
#include "fetch/trust.h"
#include "kexec/load.h"

namespace agent {

struct BootPlans {
  kexec::BootPlan kexec;
  disk::BootFiles disk;
  std::string boot_id;
  nlohmann::ordered_json personal;  ///< what Personalise generated, for the plan report
};

/// Where the host's console settings come from: this machine, or (for a disk
/// image made elsewhere) a typical cloud instance's serial console.
struct HostConsoles {
  std::string cmdline;   ///< /proc/cmdline
  std::string consoles;  ///< /proc/consoles
  static HostConsoles ThisMachine();
  static HostConsoles CloudDefault();
};

/// Composes both plans; their initrds (each the manifest's initrds + an
/// overlay) are written into the stage directory `dir`. `settings` reach the
/// RAM OS as the manifest's personalisation style says (agent/personalise.h).
[[nodiscard]] base::Result<BootPlans> PlanBoot(const fetch::VerifiedManifest& vm,
                                               const std::vector<fetch::StagedFile>& staged, const std::string& dir,
                                               const std::string& arch, const HostConsoles& host,
                                               const RamOsSettings& settings, Events& events);

/// A new boot id: 16 hex digits, not secret, never waiting for entropy.
std::string NewBootId();

}  // namespace agent
