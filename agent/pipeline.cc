#include "agent/pipeline.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include <sys/statfs.h>
#include <unistd.h>

#include <linux/magic.h>

#include "agent/hook.h"
#include "base/base.h"
#include "fetch/fetch.h"
#include "kexec/kexec.h"
#include "observe/observe.h"

namespace agent {

using base::ErrorKind;
using base::Result;
using json = nlohmann::ordered_json;
namespace fs = std::filesystem;


Result<void> NotInterrupted() {
  if (int sig = base::InterruptSignal()) {
    return base::Fail(ErrorKind::kInternal, "stopped by " + base::SignalName(sig));
  }
  return {};
}

Result<base::Arch> MachineArch(const CommonOptions& common) {
  if (common.arch) return *common.arch;
  const std::string machine = base::RealSys().Machine();
  if (std::optional<base::Arch> arch = base::ParseArch(machine)) return *arch;
  return base::Fail(
      base::Error(ErrorKind::kPreflight, "this machine's architecture, " + machine + " (uname -m), is not supported")
          .Hint("bootrino runs on x86_64 and aarch64; --arch names the payload to fetch for one"));
}

/// Phase 2–3a: the reference, the trust configuration, the verified manifest.
Result<fetch::VerifiedManifest> ResolveManifest(const std::string& ref_text, const CommonOptions& common,
                                                observe::Events& events) {
  ASSIGN_OR_RETURN(fetch::ManifestRef ref, fetch::ParseReference(ref_text));
  fetch::TrustConfig trust;
  trust.insecure = common.insecure;
  for (const std::string& path : common.trust_files) {
    ASSIGN_OR_RETURN(fetch::TrustedKey key, fetch::TrustedKey::Load(path));
    trust.keys.push_back(std::move(key));
  }
  for (std::size_t i = 0; i < common.trust_pems.size(); ++i) {
    ASSIGN_OR_RETURN(fetch::TrustedKey key,
                     fetch::TrustedKey::Parse(common.trust_pems[i], "user-data trust key " + std::to_string(i + 1)));
    trust.keys.push_back(std::move(key));
  }
  RETURN_IF_ERROR(fetch::CheckVerifiable(ref, trust));
  if (!ref.sha256 && trust.keys.empty()) {
    events.Warn("*** --insecure: " + fetch::RedactUrl(ref.url) +
                " is neither pinned nor signed; anyone who can alter it or its files controls this machine ***");
  }
  events.Emit(observe::Phase::kManifest, "start", {{"url", fetch::RedactUrl(ref.url)}});
  fetch::TransferObserver quiet;
  ASSIGN_OR_RETURN(fetch::VerifiedManifest vm, fetch::FetchVerifiedManifest(ref, trust, common.transfer, quiet));
  events.Emit(observe::Phase::kManifest, "verified",
              {{"url", fetch::RedactUrl(vm.url)}, {"sha256", vm.sha256}, {"verifiedBy", vm.verified_by},
               {"name", vm.manifest.meta.name}, {"version", vm.manifest.meta.version}});
  return vm;
}

/// Phase 3b, first half: what to fetch for this machine, and whether it fits.
Result<fetch::StagePlan> PlanForHost(const fetch::VerifiedManifest& vm, base::Arch arch,
                                     const std::vector<fetch::RamLine>& extra, observe::Events& events) {
  ASSIGN_OR_RETURN(const fetch::ArchPayload* payload, vm.manifest.PayloadFor(arch));
  ASSIGN_OR_RETURN(fetch::StagePlan plan, fetch::PlanStage(*payload, vm.url));
  for (const auto& line : extra) fetch::AddToBudget(plan, line.what, line.bytes);
  ASSIGN_OR_RETURN(std::string meminfo, base::ReadFile("/proc/meminfo", 1 << 20));
  ASSIGN_OR_RETURN(std::uint64_t available, fetch::ParseMeminfo(meminfo, "MemAvailable"));
  ASSIGN_OR_RETURN(std::uint64_t total, fetch::ParseMeminfo(meminfo, "MemTotal"));
  RETURN_IF_ERROR(fetch::CheckMinRam(vm.manifest.boot->min_ram_mib, total));
  RETURN_IF_ERROR(fetch::CheckFitsInRam(plan, available));
  plan.mem_available = available;
  events.Emit(observe::Phase::kPlanStage, "ok",
              {{"arch", std::string(base::ArchName(arch))},
               {"files", plan.items.size()},
               {"totalBytes", plan.total_bytes},
               {"memAvailable", available}});
  return plan;
}

bool IsInRam(const std::string& dir) {
  struct statfs s {};
  if (statfs(dir.c_str(), &s) != 0) return false;
  return s.f_type == TMPFS_MAGIC || s.f_type == RAMFS_MAGIC;
}

/// Phase 3b, second half: fetch everything into `dir`, verify it, record what is there.
Result<std::vector<fetch::StagedFile>> StageInto(const fetch::VerifiedManifest& vm, const fetch::StagePlan& plan,
                                                 const std::string& dir, const CommonOptions& common,
                                                 observe::Events& events) {
  std::vector<std::pair<std::string, std::uint64_t>> names;
  for (const auto& item : plan.items) names.emplace_back(item.file->name, item.file->size);
  observe::Progress progress(events, names, isatty(STDERR_FILENO) && !common.json);
  events.Say("fetching " + std::to_string(plan.items.size()) + " files (" + base::MiB(plan.total_bytes) + ") into " +
             dir);
  events.Emit(observe::Phase::kStage, "start", {{"dir", dir}, {"totalBytes", plan.total_bytes}});
  ASSIGN_OR_RETURN(auto staged, fetch::StageFiles(plan, dir, common.transfer, progress));
  progress.Finish();
  // Beside the payload: the verified manifest and an index, for people and tools (the hook gets the
  // verified text itself, not this copy).
  json index = {{"manifest", observe::ManifestJson(vm)}, {"files", json::array()}};
  for (const auto& s : staged) {
    json f = observe::FileJson(*s.item);
    f["path"] = s.path;
    f["url"] = fetch::RedactUrl(s.download.url);
    f["requests"] = s.download.requests;
    index["files"].push_back(f);
  }
  std::error_code ec;
  fs::create_directories(fs::path(dir) / fetch::kStageMetaDir, ec);
  const std::string index_text = index.dump(2) + "\n";
  for (const auto& [name, text] : {std::pair{"bootrino.sh", std::string_view(vm.text)},
                                   std::pair{"stage.json", std::string_view(index_text)}}) {
    if (auto r = base::WriteFileAtomically(fetch::StageMetaPath(dir, name), text, 0644); !r) {
      return base::Fail(fetch::ExplainNoSpace(std::move(r).error(), dir,
                                              plan.total_bytes + vm.text.size() + index_text.size()));
    }
  }
  events.Emit(observe::Phase::kStage, "ok", {{"dir", dir}, {"files", staged.size()}});
  return staged;
}

Result<void> RunAfterStageHook(const fetch::VerifiedManifest& vm, const std::string& dir, observe::Events& events) {
  if (!vm.manifest.boot || !vm.manifest.boot->after_stage) return {};
  const fetch::HookSpec& hook = *vm.manifest.boot->after_stage;
  events.Say("running hook " + hook.function + " (limit " + std::to_string(hook.timeout_seconds) + " s)");
  events.Emit(observe::Phase::kHook, "start", {{"function", hook.function}});
  RETURN_IF_ERROR(RunHook(hook, vm.text, dir));
  events.Emit(observe::Phase::kHook, "ok", {{"function", hook.function}});
  return {};
}

namespace {
std::uint64_t InitrdsBytes(const fetch::ArchPayload& payload) {
  std::uint64_t initrds = 0;
  for (const auto& f : payload.initrds) initrds += f.size;
  return initrds;
}
}  // namespace

std::vector<fetch::RamLine> StageWorkLines(const fetch::ArchPayload& payload, base::Arch arch, StageFor use) {
  std::vector<fetch::RamLine> lines;
  if (use == StageFor::kRun) {
    lines.push_back({"the kexec boot's composed initrd (the disk's is composed as it is written)",
                     InitrdsBytes(payload)});
  }
  lines.push_back({"the decompressed arm64 kernel (room for " + std::to_string(kexec::kKernelExpansionBudget) +
                       " times the file)",
                   kexec::KernelDecompressionReserve(arch, payload.kernel.size)});
  return lines;
}

std::vector<fetch::RamLine> RunRamLines(const fetch::ArchPayload& payload, base::Arch arch) {
  std::vector<fetch::RamLine> lines = StageWorkLines(payload, arch, StageFor::kRun);
  const std::uint64_t decompressed = kexec::KernelDecompressionReserve(arch, payload.kernel.size);
  lines.push_back({"the kernel's copy made by kexec_file_load", decompressed ? decompressed : payload.kernel.size});
  lines.push_back({"the initrd's copy made by kexec_file_load", InitrdsBytes(payload)});
  return lines;
}

std::uint64_t StageWorkBytes(const fetch::ArchPayload& payload, base::Arch arch, StageFor use) {
  std::uint64_t bytes = 0;
  for (const auto& line : StageWorkLines(payload, arch, use)) bytes += line.bytes;
  return bytes;
}

std::uint64_t StageTmpfsBytes(const fetch::StagePlan& plan, const fetch::ArchPayload& payload, base::Arch arch,
                              StageFor use) {
  return std::min(plan.total_bytes + StageWorkBytes(payload, arch, use) + kStageMarginBytes, plan.ram_needed);
}

namespace {

/// A fresh directory on a RAM filesystem. Its name carries this process's id, so that whoever started
/// bootrino can tell its stage from any other's (the integration tests check that a failed run leaves none).
Result<std::string> MakeRamStageDir() {
  for (const char* parent : {"/run", "/dev/shm"}) {
    if (!IsInRam(parent)) continue;
    std::string templ = std::string(parent) + "/bootrino-stage." + std::to_string(getpid()) + ".XXXXXX";
    if (mkdtemp(templ.data())) return templ;
  }
  return base::Fail(base::Error(ErrorKind::kPreflight, "neither /run nor /dev/shm is a writable tmpfs")
                        .Hint("bootrino stages the new OS in RAM: mount a tmpfs on /run (mount -t tmpfs tmpfs /run)"));
}

/// What statfs(2) says `dir` is now: its type's name and its size in bytes.
std::pair<std::string, std::uint64_t> MountedAt(const std::string& dir) {
  struct statfs s {};
  if (statfs(dir.c_str(), &s) != 0) return {"unknown", 0};
  const std::uint64_t bytes = static_cast<std::uint64_t>(s.f_blocks) * static_cast<std::uint64_t>(s.f_bsize);
  return {s.f_type == TMPFS_MAGIC ? "tmpfs" : s.f_type == RAMFS_MAGIC ? "ramfs" : "other", bytes};
}

}  // namespace

std::uint64_t MountRamStage(const std::string& dir, std::uint64_t bytes, base::Sys& sys, observe::Events& events) {
  const char* step = "make a mount namespace of its own";
  int err = sys.PrivateMounts();
  if (err == 0) {
    step = "mount a tmpfs";
    err = sys.MountTmpfs(dir, bytes);
  }
  if (err == 0) return bytes;
  const auto [type, size] = MountedAt(dir);
  events.Warn("cannot " + std::string(step) + " for the stage (" + std::strerror(err) +
              "): staging in " + dir + ", on the host's " + type + " of " + base::MiB(size) +
              " (bootrino's own would hold " +
              base::MiB(bytes) + "); run bootrino with CAP_SYS_ADMIN to stage in a tmpfs sized for the payload");
  events.Emit(observe::Phase::kStage, "shared",
              {{"dir", dir}, {"reason", std::strerror(err)}, {"fsType", type}, {"fsBytes", size}});
  return 0;
}

Result<RamStage> MakeRamStage(std::uint64_t tmpfs_bytes, base::Sys& sys, observe::Events& events) {
  ASSIGN_OR_RETURN(std::string dir, MakeRamStageDir());
  RamStage stage{dir, MountRamStage(dir, tmpfs_bytes, sys, events)};
  if (stage.tmpfs_bytes) {
    // What the kernel made of it, for whoever checks the stage is where it was meant to be.
    const auto [type, size] = MountedAt(dir);
    events.Emit(observe::Phase::kStage, "mounted",
                {{"dir", dir}, {"bytes", stage.tmpfs_bytes}, {"fsType", type}, {"fsBytes", size}});
  }
  return stage;
}

void RemoveRamStage(const RamStage& stage, base::Sys& sys) {
  if (stage.dir.empty()) return;
  if (stage.tmpfs_bytes) (void)sys.Unmount(stage.dir);  // a failure leaves the files to remove_all
  std::error_code ec;
  fs::remove_all(stage.dir, ec);
}

}  // namespace agent
