// Staging: every payload file fetched, verified and placed in a directory in
// RAM, all or nothing. Planning (URLs, sizes, memory) is pure; StageFiles does
// the I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/base.h"
#include "fetch/manifest.h"
#include "fetch/transfer.h"

namespace fetch {

struct StageItem {
  const PayloadFile* file = nullptr;
  std::string role;               ///< "kernel", "initrd" or "file"
  std::vector<std::string> urls;  ///< absolute: primary, then mirrors
};

/// One line of what a run holds in RAM at once: "the staged files", "the kernel's copy made by kexec_file_load".
struct RamLine {
  std::string what;
  std::uint64_t bytes = 0;
};

struct StagePlan {
  std::vector<StageItem> items;  ///< kernel, initrds in order, files
  std::uint64_t total_bytes = 0;
  std::uint64_t ram_needed = 0;  ///< the sum of `budget`
  /// What ram_needed counts, line by line: the staged files, what the caller adds (AddToBudget), and
  /// bootrino's own headroom last.
  std::vector<RamLine> budget;
  std::uint64_t mem_available = 0;  ///< MemAvailable when the plan was checked (0: not checked)
};

/// Counts `bytes` more in the plan's RAM budget, as `what`, before the headroom line.
void AddToBudget(StagePlan& plan, std::string what, std::uint64_t bytes);

/// Memory kept free beyond the payload for bootrino itself and the page cache.
inline constexpr std::uint64_t kRamHeadroomBytes = 64ull << 20;

/// Resolves every file's URLs against the manifest's URL and sums the sizes.
[[nodiscard]] base::Result<StagePlan> PlanStage(const ArchPayload& payload, std::string_view manifest_url);

/// A field of /proc/meminfo ("MemAvailable", "MemTotal"), in bytes.
[[nodiscard]] base::Result<std::uint64_t> ParseMeminfo(std::string_view meminfo, std::string_view field);

/// kNotEnoughRam when the plan does not fit in `mem_available` bytes.
[[nodiscard]] base::Result<void> CheckFitsInRam(const StagePlan& plan, std::uint64_t mem_available);

/// kNotEnoughRam when the machine has less memory in all than the OS says it needs.
[[nodiscard]] base::Result<void> CheckMinRam(std::uint64_t min_ram_mib, std::uint64_t mem_total);

/// What StageFiles put where.
struct StagedFile {
  const StageItem* item = nullptr;
  std::string path;  ///< absolute path of the verified file
  DownloadResult download;
};

/// Where bootrino keeps its own files beside a staged payload: the verified
/// manifest (hooks source it), the stage index and the composed initrd.
/// Manifests may not name files here (fetch/manifest.cc refuses ".bootrino…").
inline constexpr std::string_view kStageMetaDir = ".bootrino";

/// `dir`/.bootrino/`name`.
inline std::string StageMetaPath(const std::string& dir, std::string_view name) {
  return dir + "/" + std::string(kStageMetaDir) + "/" + std::string(name);
}

/// Creates `dir` and its missing parents (mode 0755) and refuses a directory
/// that another user could change under bootrino, whose hook runs as root on
/// its files: `dir` must be this user's and not writable by group or others;
/// each parent must be this user's or root's, and writable by others only if
/// root's and sticky (like /tmp). Returns the directory checked, symbolic links
/// resolved: use that one, not `dir`, whose links could be changed afterwards.
/// Errors are kUsage and say what to do.
[[nodiscard]] base::Result<std::string> MakePrivateDir(const std::string& dir);

/// True when `error` is a write that found its filesystem full (ENOSPC) or its owner's quota spent (EDQUOT).
bool IsNoSpace(const base::Error& error);

/// A write into `dir` that found its filesystem full, said as what it is rather than as a failure of
/// bootrino: which filesystem (its type, size and free space, as statfs(2) sees it now) and how much
/// what was being written needs (`needed_bytes`, said as "`what` needs N MiB"). kNotEnoughRam when that
/// filesystem is in RAM (tmpfs, ramfs), else kUsage (the directory named cannot hold it). Any error but
/// IsNoSpace's is returned unchanged.
base::Error ExplainNoSpace(base::Error error, const std::string& dir, std::uint64_t needed_bytes,
                           std::string_view what = "the stage");

/// Fetches the plan into `dir` (created if missing; must be empty or hold only
/// an interrupted stage). Files land in a hidden partial directory and move
/// into place only when every one is verified; on any failure the partial
/// directory is removed and `dir` holds nothing new.
[[nodiscard]] base::Result<std::vector<StagedFile>> StageFiles(const StagePlan& plan, const std::string& dir,
                                                               const TransferOptions& options,
                                                               TransferObserver& observer);

}  // namespace fetch
