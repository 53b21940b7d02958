// The phases of the pipeline (docs/architecture.md) that the subcommands share. Each
// takes plain structs, emits its events, and returns a Result; the
// subcommands decide what to do with a failure.
#pragma once

#include <string>
#include <vector>

#include "agent/commands.h"
#include "base/base.h"
#include "fetch/fetch.h"
#include "observe/observe.h"
#include "ramos/ramos.h"

namespace agent {

/// Fails (as Report then reports the signal) once SIGTERM, SIGINT or SIGHUP asked bootrino to stop.
[[nodiscard]] base::Result<void> NotInterrupted();

/// --arch, or this machine's architecture; refused (kPreflight) on a machine bootrino has no architecture for.
[[nodiscard]] base::Result<base::Arch> MachineArch(const CommonOptions& common);

/// 2: the reference and trust configuration → the verified manifest.
[[nodiscard]] base::Result<fetch::VerifiedManifest> ResolveManifest(const std::string& ref_text,
                                                                    const CommonOptions& common,
                                                                    observe::Events& events);

/// 3a: what to fetch for `arch`, refused when it, with `extra` (what the caller holds in RAM beyond the staged
/// files), cannot fit in memory.
[[nodiscard]] base::Result<fetch::StagePlan> PlanForHost(const fetch::VerifiedManifest& vm, base::Arch arch,
                                                         const std::vector<fetch::RamLine>& extra,
                                                         observe::Events& events);

/// Which command stages: `run` composes the kexec boot's initrd in the stage, `image` composes nothing there
/// (the disk's initrd is composed from the staged files as the disk is written, by both).
enum class StageFor { kRun, kImage };

/// What the stage holds for `payload` beyond the fetched files, line by line: on aarch64 the decompressed
/// kernel (kexec::KernelDecompressionReserve) and, for `run`, the kexec boot's composed initrd (the overlays are
/// in kStageMarginBytes).
std::vector<fetch::RamLine> StageWorkLines(const fetch::ArchPayload& payload, base::Arch arch, StageFor use);

/// What `run` holds in RAM at once beyond the staged files, line by line: StageWorkLines, and the copies
/// kexec_file_load makes of the kernel and the initrd.
std::vector<fetch::RamLine> RunRamLines(const fetch::ArchPayload& payload, base::Arch arch);

/// True when `dir` is on tmpfs or ramfs.
bool IsInRam(const std::string& dir);

/// 3b: fetch and verify everything into `dir`, with progress; records the index.
[[nodiscard]] base::Result<std::vector<fetch::StagedFile>> StageInto(const fetch::VerifiedManifest& vm,
                                                                     const fetch::StagePlan& plan,
                                                                     const std::string& dir,
                                                                     const CommonOptions& common,
                                                                     observe::Events& events);

/// 3c: the manifest's after-stage hook, if it has one.
[[nodiscard]] base::Result<void> RunAfterStageHook(const fetch::VerifiedManifest& vm, const std::string& dir,
                                                   observe::Events& events);

/// Where `run` and `image` stage: a fresh directory on /run or /dev/shm, named bootrino-stage.PID.XXXXXX
/// after this process, and on it, when bootrino may mount, a tmpfs of its own sized for the stage. /run is
/// often a tmpfs of a tenth of the RAM (initramfs-tools' default): the RAM check says the payload fits in
/// memory, not in /run.
struct RamStage {
  std::string dir;
  std::uint64_t tmpfs_bytes = 0;  ///< the size of bootrino's own tmpfs on `dir`; 0: `dir` is on the host's tmpfs
};

/// Room kept in bootrino's tmpfs beyond the files and the composed initrd: the manifest's copy, the
/// stage index, the overlays, the initrds' padding and each file's last partial page.
inline constexpr std::uint64_t kStageMarginBytes = 16ull << 20;

/// The sum of StageWorkLines.
std::uint64_t StageWorkBytes(const fetch::ArchPayload& payload, base::Arch arch, StageFor use);

/// The size of bootrino's tmpfs for `plan` of `payload`: the files, StageWorkBytes and the margin,
/// never more than the RAM check allowed (plan.ram_needed; PlanForHost's callers count the composed
/// initrd in it, so the cap only guards that rule).
std::uint64_t StageTmpfsBytes(const fetch::StagePlan& plan, const fetch::ArchPayload& payload, base::Arch arch,
                              StageFor use);

/// The RAM stage: the directory, then MountRamStage on it.
[[nodiscard]] base::Result<RamStage> MakeRamStage(std::uint64_t tmpfs_bytes, base::Sys& sys, observe::Events& events);

/// Mounts a tmpfs of `bytes` on `dir` in a mount namespace of bootrino's own (base::Sys::PrivateMounts),
/// so that nothing but bootrino and its children see it and it goes with them, SIGKILL included. Returns
/// `bytes`, or 0 after a warning when it cannot (no CAP_SYS_ADMIN, as in a container): `dir` is then used
/// as it is.
std::uint64_t MountRamStage(const std::string& dir, std::uint64_t bytes, base::Sys& sys, observe::Events& events);

/// Unmounts bootrino's tmpfs, if it has one, and removes the directory: no way out leaves either behind.
void RemoveRamStage(const RamStage& stage, base::Sys& sys);

/// What `run` gives the RAM OS: the settings in `options` and, unless
/// --no-instance-settings, this instance's SSH keys and hostname from its
/// user-data and the metadata services options.metadata allows (by default,
/// only that of the cloud this host is identified as). Best effort:
/// unreadable user-data is a warning, not a reason to stop; an option user-data
/// names but may not set (--insecure, --trust FILE) is a warning, and the keys
/// and hostname are still taken.
ramos::RamOsSettings InstanceSettings(const RunOptions& options, observe::Events& events);

}  // namespace agent
