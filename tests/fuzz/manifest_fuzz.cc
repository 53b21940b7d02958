// fetch::ParseManifest and what is derived from a parsed manifest: the staging
// plan (URL resolution through libcurl) and the RAM arithmetic. A manifest is
// parsed only after its pin or signature verified, but its author is outside
// input all the same (SECURITY.md): whatever it says must not crash bootrino,
// and what passes the parser must hold the promises the rest of bootrino relies on.
#include <algorithm>
#include <cctype>

#include "fetch/manifest.h"
#include "fetch/stage.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

// The hook's function name is pasted into a shell program (agent/hook.cc).
bool IsShellName(const std::string& s) {
  return !s.empty() && !std::isdigit(static_cast<unsigned char>(s[0])) &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isalnum(c) || c == '_'; });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto manifest = fetch::ParseManifest(AsText(data, size));
  if (Refused(manifest, base::ErrorKind::kManifest)) return 0;
  FUZZ_REQUIRE(!manifest->meta.name.empty());
  if (!manifest->boot) {
    FUZZ_REQUIRE(!manifest->PayloadFor(base::Arch::kX86_64));
    return 0;
  }
  const fetch::BootSection& boot = *manifest->boot;
  if (boot.after_stage) {
    FUZZ_REQUIRE(IsShellName(boot.after_stage->function));
    FUZZ_REQUIRE(boot.after_stage->timeout_seconds >= 1 && boot.after_stage->timeout_seconds <= 3600);
  }
  for (const auto& [arch, payload] : boot.architectures) {
    FUZZ_REQUIRE(manifest->PayloadFor(arch));
    FUZZ_REQUIRE(payload.cmdline.find_first_of(std::string_view("\n\r\0", 3)) == std::string::npos);
    for (const fetch::PayloadFile* file : payload.All()) {
      FUZZ_REQUIRE(IsPlainRelativePath(file->name));  // it becomes a path in the stage dir
      FUZZ_REQUIRE(!file->name.starts_with(fetch::kStageMetaDir));
      FUZZ_REQUIRE(file->size > 0);
      FUZZ_REQUIRE(file->sha256.size() == 64);
    }
    auto plan = fetch::PlanStage(payload, "https://mirror.example/os/bootrino.sh");
    if (!plan) continue;
    // The RAM check compares these sums with what the host has: they must not wrap.
    std::uint64_t largest = 0;
    for (const fetch::StageItem& item : plan->items) {
      largest = std::max(largest, item.file->size);
      FUZZ_REQUIRE(!item.urls.empty());
      for (const std::string& url : item.urls) FUZZ_REQUIRE(url.starts_with("http://") || url.starts_with("https://"));
    }
    FUZZ_REQUIRE(plan->total_bytes >= largest);
    FUZZ_REQUIRE(plan->ram_needed >= plan->total_bytes);
    // A machine of 1 TiB must never be told that an OS asking for more fits.
    constexpr std::uint64_t kTiB = 1ull << 40;
    if (boot.min_ram_mib > (kTiB >> 20)) FUZZ_REQUIRE(!fetch::CheckMinRam(boot.min_ram_mib, kTiB));
    if (plan->ram_needed > kTiB) FUZZ_REQUIRE(!fetch::CheckFitsInRam(*plan, kTiB));
  }
  return 0;
}
