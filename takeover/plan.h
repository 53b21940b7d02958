// 4: the takeover plan, one value that says everything `run` will do once the
// payload is verified in RAM: the kexec boot (kernel, initrd parts, command
// line), what the RAM OS receives, the disk and its layout, and the steps of
// the commit in order. PlanTakeover computes it without side effects; `run
// --dry-run` prints it (PrintPlan, PlanJson) and Execute (takeover/execute.h)
// performs it through base::Sys.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <sys/types.h>

#include "base/base.h"
#include "disk/disk.h"
#include "fetch/fetch.h"
#include "kexec/kexec.h"
#include "ramos/ramos.h"
#include "takeover/fallback.h"

namespace takeover {

/// One step of Execute, in the order the plan lists them.
enum class Step {
  kDecompressKernel,  ///< arm64: the Image decompressed from the manifest's kernel, in the RAM stage
  kComposeInitrd,   ///< the kexec boot's initrd, written in the RAM stage (the disk's is composed on the disk)
  kLoadKernel,      ///< kexec_file_load: the host accepts or refuses the kernel, nothing changed yet
  kDetach,          ///< the caller (cloud-init) finishes first; a child goes on
  kCommitPoint,     ///< signals no longer stop bootrino
  kStopOldSystem,   ///< mlockall, sync, swapoff and freeze what is mounted from the disk
  kOpenDisk,        ///< the disk opened once and locked; still the device chosen
  kWriteDisk,       ///< the first write: boot and data filesystems, then GPT and MBR code
  kBoot,            ///< reboot: by kexec, or through the firmware from the new disk
};

/// The step's name in events and --json ("load-kernel").
std::string StepName(Step step);

/// Waiting for the caller before the reboot (takeover/detach.h).
struct DetachPlan {
  pid_t anchor = 0;    ///< the process whose exit bootrino waits for
  std::string who;     ///< "cloud-init" or "the calling process"
  int timeout_s = 600;
};

/// The disk replaced and what is written to it.
struct DiskTakeover {
  disk::TargetDisk target;
  disk::PreparedDisk prepared;
};

struct TakeoverPlan {
  base::Arch arch{};  ///< the payload's
  std::string name;  ///< the RAM OS: the manifest's name
  const fetch::VerifiedManifest* manifest = nullptr;  ///< the run's, which outlives the plan
  std::vector<fetch::StagedFile> staged;
  std::string stage_dir;
  std::uint64_t stage_tmpfs_bytes = 0;  ///< bootrino's own tmpfs on stage_dir; 0: the host's tmpfs
  ramos::RamOsSettings settings;
  kexec::PreflightReport host;
  BootPath path = BootPath::kKexec;  ///< as the preflight allows; a refused load may still turn to the firmware
  bool fallback_reboot = false;      ///< a refused load boots through the firmware from the disk
  ramos::BootPlans boot;
  kexec::KernelHeader kernel;     ///< what the manifest's kernel file is
  std::uint64_t kernel_bytes = 0;  ///< its size
  std::vector<fetch::RamLine> ram_budget;  ///< what the run holds in RAM at once, as the RAM check counted it
  std::uint64_t mem_available = 0;         ///< MemAvailable at that check
  std::optional<DiskTakeover> disk;  ///< none with --keep-disk
  std::optional<DetachPlan> detach;
  std::vector<Step> steps;
  std::uint64_t fetched_bytes = 0;  ///< staged before the plan, for the log
  double fetch_seconds = 0;
};

/// Everything PlanTakeover decides from. Pointers and references are the caller's and outlive the call.
struct TakeoverInputs {
  const fetch::VerifiedManifest* manifest = nullptr;
  std::vector<fetch::StagedFile> staged;
  std::string stage_dir;
  std::uint64_t stage_tmpfs_bytes = 0;
  base::Arch arch{};
  kexec::PreflightReport host;
  BootPath path = BootPath::kKexec;
  ramos::HostConsoles consoles;
  ramos::RamOsSettings settings;
  std::optional<disk::TargetDisk> target;
  std::optional<DetachPlan> detach;
  bool fallback_reboot = false;  ///< --fallback=reboot
  std::uint64_t seed = 0;  ///< the disk's GUIDs
  std::string boot_id;
  kexec::KernelHeader kernel;  ///< what the staged kernel file is (kexec::ReadKernelHeader)
  const fetch::StagePlan* stage_plan = nullptr;  ///< its RAM budget, as checked before the fetch
  std::uint64_t fetched_bytes = 0;
  double fetch_seconds = 0;
};

/// The plan, without side effects: equal inputs give equal plans.
[[nodiscard]] base::Result<TakeoverPlan> PlanTakeover(const TakeoverInputs& in);

/// The steps Execute takes for a plan of this shape, in order.
std::vector<Step> PlanSteps(BootPath path, bool decompress_kernel, bool disk, bool detach);

/// What the step does for this plan, in a sentence for the dry run.
std::string DescribeStep(const TakeoverPlan& plan, Step step);

/// The whole plan as `run --dry-run --json` prints it.
nlohmann::ordered_json PlanJson(const TakeoverPlan& plan);

/// The plan for a person, as `run --dry-run` prints it.
void PrintPlan(const TakeoverPlan& plan);

}  // namespace takeover
