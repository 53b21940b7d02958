// kexec::ComposeCmdline: the new kernel's command line from the manifest's
// cmdline (outside input), the host's /proc/cmdline and /proc/consoles; and
// kexec::LockdownMode on securityfs text. Checked as the kernel will read the
// result (lib/cmdline.c next_arg): bootrino.id is there exactly once, as a
// parameter of its own, and the manifest's init arguments stay last.
// Input: manifest cmdline, NUL, /proc/cmdline, NUL, /proc/consoles (and the
// lockdown file's text).
#include <string>
#include <vector>

#include "kexec/cmdline.h"
#include "kexec/preflight.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

std::vector<std::string_view> SplitNul(std::string_view text, std::size_t parts) {
  std::vector<std::string_view> out;
  while (out.size() + 1 < parts) {
    std::size_t nul = text.find('\0');
    if (nul == std::string_view::npos) break;
    out.push_back(text.substr(0, nul));
    text.remove_prefix(nul + 1);
  }
  out.push_back(text);
  out.resize(parts);
  return out;
}

// A parameter's name as the kernel sees it: a leading quote dropped, up to '='.
std::string KernelName(std::string param) {
  if (!param.empty() && param.front() == '"') param.erase(0, 1);
  return param.substr(0, param.find('='));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::string_view> part = SplitNul(AsText(data, size), 3);
  // The manifest parser refuses a cmdline with line breaks (fetch/manifest.cc).
  if (part[0].find_first_of("\n\r") != std::string_view::npos) return 0;
  const std::string id = "bootrino.id=0123456789abcdef";
  kexec::CmdlineInputs in{std::string(part[0]), std::string(part[1]), std::string(part[2]), {id}};
  (void)kexec::LockdownMode(part[2], part[1]);
  auto cmdline = kexec::ComposeCmdline(in, base::Arch::kX86_64);
  if (!cmdline) {
    FUZZ_REQUIRE(cmdline.error().kind() == base::ErrorKind::kManifest);
    return 0;
  }
  FUZZ_REQUIRE(cmdline->size() + 1 <= kexec::MaxCmdlineBytes(base::Arch::kX86_64));
  FUZZ_REQUIRE(cmdline->find('\0') == std::string::npos);

  std::vector<std::string> kernel_view = kexec::SplitCmdline(*cmdline);
  std::size_t ids = 0, bootrino_params = 0;
  for (std::size_t i = 0; i < kernel_view.size() && kernel_view[i] != "--"; ++i) {
    ids += kernel_view[i] == id;
    bootrino_params += KernelName(kernel_view[i]).starts_with("bootrino.");
  }
  FUZZ_REQUIRE(ids == 1);
  FUZZ_REQUIRE(bootrino_params == 1);

  // The manifest's init arguments (from its "--" on) end the command line, in order.
  std::vector<std::string> manifest = kexec::SplitCmdline(part[0]);
  for (std::size_t i = 0; i < manifest.size(); ++i) {
    if (manifest[i] != "--") continue;
    std::vector<std::string> init(manifest.begin() + static_cast<std::ptrdiff_t>(i), manifest.end());
    FUZZ_REQUIRE(kernel_view.size() >= init.size());
    FUZZ_REQUIRE(std::equal(init.begin(), init.end(), kernel_view.end() - static_cast<std::ptrdiff_t>(init.size())));
    break;
  }
  return 0;
}
