#include "kexec/cmdline.h"

#include <algorithm>
#include <cctype>

#include "base/base.h"

namespace kexec {
namespace {

bool IsConsoleParam(std::string_view p) { return p.starts_with("console="); }

/// A parameter's name as the kernel reads it: without a leading double quote,
/// up to the '=' (lib/cmdline.c, next_arg).
std::string_view KernelName(std::string_view p) {
  if (p.starts_with('"')) p.remove_prefix(1);
  return p.substr(0, p.find('='));
}

/// An odd number of quotes makes the kernel read the rest of the line as
/// this parameter's value, bootrino's own parameters included.
bool HasUnbalancedQuote(std::string_view p) { return std::count(p.begin(), p.end(), '"') % 2 != 0; }

/// /proc/consoles lines start with the device name: "ttyS0  -W- (EC p a) 4:64".
std::vector<std::string> ConsolesFromProc(std::string_view text) {
  std::vector<std::string> names;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    std::string_view name = line.substr(0, line.find_first_of(" \t"));
    // Only terminals: netconsole and the like have no device to carry over.
    bool plain = std::all_of(name.begin(), name.end(), [](unsigned char c) { return std::isalnum(c); });
    if (plain && (name.starts_with("tty") || name.starts_with("hvc"))) names.emplace_back(name);
    pos = end + 1;
  }
  return names;
}

}  // namespace

std::size_t MaxCmdlineBytes(base::Arch /*arch*/) { return 2048; }

std::vector<std::string> SplitCmdline(std::string_view cmdline) {
  std::vector<std::string> out;
  std::string current;
  bool quoted = false;
  for (char c : cmdline) {
    if (c == '"') quoted = !quoted;
    if (!quoted && (c == ' ' || c == '\t' || c == '\n')) {
      if (!current.empty()) out.push_back(std::move(current));
      current.clear();
      continue;
    }
    current += c;
  }
  if (!current.empty()) out.push_back(std::move(current));
  return out;
}

std::string ConsoleDevice(std::string_view param) {
  if (param.starts_with("console=")) param.remove_prefix(8);
  return std::string(param.substr(0, param.find(',')));
}

bool IsSerialConsole(std::string_view device) {
  for (std::string_view prefix : {"ttyS", "ttyAMA", "hvc", "ttysclp", "ttyPS", "ttymxc", "ttyO", "ttySAC", "ttyUSB"}) {
    if (device.starts_with(prefix)) return true;
  }
  return false;
}

base::Result<std::string> ComposeCmdline(const CmdlineInputs& in, base::Arch arch) {
  std::vector<std::string> params, consoles, init_args;
  bool for_init = false;  // after "--", parameters belong to init, not the kernel
  for (auto& p : SplitCmdline(in.manifest)) {
    if (HasUnbalancedQuote(p)) {
      return base::Fail(base::Error(base::ErrorKind::kManifest,
                                    "the manifest's cmdline has an unbalanced double quote in " + p +
                                        "; the kernel would take the rest of the line as its value")
                            .Hint("close the quote in the manifest's cmdline"));
    }
    if (for_init || p == "--") {
      for_init = true;
      init_args.push_back(p);
    } else if (IsConsoleParam(p)) {
      consoles.push_back(p);
    } else if (!KernelName(p).starts_with("bootrino.")) {  // bootrino.* is ours to set
      params.push_back(p);
    }
  }
  auto have = [&consoles](const std::string& device) {
    return std::any_of(consoles.begin(), consoles.end(),
                       [&](const std::string& c) { return ConsoleDevice(c) == device; });
  };
  // The host's earlycon (arm64 instances often boot with one: it shows the boot before the console driver is up)
  // goes too, unless the manifest sets its own.
  const bool manifest_earlycon =
      std::any_of(params.begin(), params.end(), [](const std::string& p) { return KernelName(p) == "earlycon"; });
  for (auto& p : SplitCmdline(in.host_cmdline)) {
    if (p == "--") break;
    // A quote in a host parameter is carried over nowhere: it could swallow ours.
    if (p.find('"') != std::string::npos) continue;
    if (IsConsoleParam(p) && !have(ConsoleDevice(p))) consoles.push_back(p);
    if (KernelName(p) == "earlycon" && !manifest_earlycon) params.push_back(p);
  }
  for (auto& device : ConsolesFromProc(in.host_consoles)) {
    if (!have(device)) consoles.push_back("console=" + device);
  }
  // The last console= becomes /dev/console: put serial ones last (Documentation/admin-guide/serial-console.rst).
  std::stable_partition(consoles.begin(), consoles.end(),
                        [](const std::string& c) { return !IsSerialConsole(ConsoleDevice(c)); });
  params.insert(params.end(), consoles.begin(), consoles.end());
  params.insert(params.end(), in.bootrino_params.begin(), in.bootrino_params.end());
  params.insert(params.end(), init_args.begin(), init_args.end());
  std::string cmdline = base::Join(params, " ");
  if (cmdline.size() + 1 > MaxCmdlineBytes(arch)) {
    return base::Fail(base::Error(base::ErrorKind::kManifest,
                                  "the kernel command line would be " + std::to_string(cmdline.size() + 1) +
                                      " bytes; " + std::string(base::ArchName(arch)) + " takes at most " +
                                      std::to_string(MaxCmdlineBytes(arch)))
                          .Hint("shorten the manifest's cmdline"));
  }
  return cmdline;
}

}  // namespace kexec
