// The new kernel's command line: the manifest's, the host's consoles carried
// over (a cloud's serial console must stay the console), and bootrino's own
// parameters. Pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/base.h"

namespace kexec {

struct CmdlineInputs {
  std::string manifest;       ///< the manifest's cmdline for this architecture
  std::string host_cmdline;   ///< /proc/cmdline
  std::string host_consoles;  ///< /proc/consoles
  std::vector<std::string> bootrino_params;  ///< e.g. "bootrino.id=…", appended last
};

/// Longest command line the kernel takes, NUL included (COMMAND_LINE_SIZE:
/// 2048 on x86 and arm64, arch/*/include/uapi/asm/setup.h).
std::size_t MaxCmdlineBytes(base::Arch arch);

/// Splits a command line into parameters, keeping "double quoted" values whole.
std::vector<std::string> SplitCmdline(std::string_view cmdline);

/// The device a console= parameter names: "console=ttyS0,115200n8" → "ttyS0".
std::string ConsoleDevice(std::string_view param);

/// Serial-like consoles (ttyS, ttyAMA, hvc …) are what cloud consoles show.
bool IsSerialConsole(std::string_view device);

/// Manifest parameters (console= and bootrino.* taken out), the host's
/// earlycon unless the manifest has one, then every console
/// from the manifest and the host (/proc/cmdline first for its options, then
/// /proc/consoles), non-serial before serial so a serial one is last and
/// becomes /dev/console, then `bootrino_params`, then the manifest's init
/// arguments (after "--"), which must stay last. kManifest when the result
/// does not fit `arch`'s limit.
[[nodiscard]] base::Result<std::string> ComposeCmdline(const CmdlineInputs& in, base::Arch arch);

}  // namespace kexec
