#include "takeover/execute.h"

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <optional>

#include "base/base.h"
#include "fetch/fetch.h"
#include "kexec/kexec.h"
#include "observe/observe.h"
#include "takeover/detach.h"
#include "takeover/disk_takeover.h"
#include "takeover/fallback.h"

namespace takeover {
namespace {

using base::ErrorKind;

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

/// What Execute has done so far; its guards undo it on the way out.
class Execution {
 public:
  Execution(const TakeoverPlan& plan, base::Sys& sys, observe::Events& events)
      : plan_(plan), sys_(sys), events_(events), loaded_(sys, events), path_(plan.path) {}

  /// One step; an Outcome when bootrino stops there.
  std::optional<Outcome> Perform(Step step) {
    switch (step) {
      case Step::kDecompressKernel: return DecompressKernel();
      case Step::kComposeInitrd: return ComposeInitrd();
      case Step::kLoadKernel: return LoadKernel();
      case Step::kDetach: return Detach();
      case Step::kCommitPoint:
        if (sys_.EnterCommit()) return std::nullopt;
        return Outcome{observe::ReportInterrupted(base::InterruptSignal() ? base::InterruptSignal() : SIGTERM, events_,
                                                  observe::Phase::kCommit)};
      case Step::kStopOldSystem: return StopOldSystem();
      case Step::kOpenDisk: return OpenDisk();
      case Step::kWriteDisk: return WriteDisk();
      case Step::kBoot: return Boot();
    }
    return Stop(base::Error(ErrorKind::kInternal, "unknown step"), observe::Phase::kPlan);
  }

 private:
  Outcome Stop(const base::Error& error, observe::Phase phase) { return {observe::Report(error, events_, phase)}; }

  std::optional<Outcome> DecompressKernel() {
    auto bytes = kexec::DecompressKernel(plan_.boot.kernel_source, plan_.boot.kexec.kernel_path,
                                         plan_.kernel.decompressed_size);
    if (!bytes) return Stop(bytes.error(), observe::Phase::kPlan);
    events_.Say("decompressed the kernel: " + base::MiB(*bytes) + " arm64 Image");
    return std::nullopt;
  }

  std::optional<Outcome> ComposeInitrd() {
    if (auto r = ramos::ComposeKexecInitrd(plan_.boot); !r) return Stop(r.error(), observe::Phase::kPlan);
    return std::nullopt;
  }

  /// Rule 2: the kernel is handed over before anything is written; a refusal
  /// leaves the host as it was (or, with --fallback=reboot, the firmware boots
  /// the disk, unless it could not: LoadOrFallBack).
  std::optional<Outcome> LoadKernel() {
    const auto start = std::chrono::steady_clock::now();
    auto path = LoadOrFallBack(sys_, plan_.host, plan_.boot.kexec, plan_.fallback_reboot, events_);
    if (!path) return Stop(path.error(), observe::Phase::kLoad);
    path_ = *path;
    if (path_ == BootPath::kKexec) {
      loaded_.Loaded();
      nlohmann::ordered_json details = {{"cmdline", plan_.boot.kexec.cmdline}};
      AddRamInUse(details);
      events_.Emit(observe::Phase::kLoad, "ok", details);
    }
    char took[128];
    snprintf(took, sizeof took, " (fetching %s took %.2f s, the kernel's load %.2f s)",
             base::MiB(plan_.fetched_bytes).c_str(), plan_.fetch_seconds, SecondsSince(start));
    events_.Say((path_ == BootPath::kKexec ? "loaded " : "verified ") + plan_.name + " in " + events_.Elapsed() +
                " s" + took);
    return std::nullopt;
  }

  /// The RAM the takeover holds at once, measured when it holds the most (everything staged, the initrd
  /// composed, the kernel's copies made): MemAvailable now against the RAM check's, beside what the check
  /// counted. Said and recorded only; the check before the fetch is what decides.
  void AddRamInUse(nlohmann::ordered_json& details) {
    if (plan_.mem_available == 0) return;
    auto meminfo = base::ReadFile("/proc/meminfo", 1 << 20);
    if (!meminfo) return;
    auto now = fetch::ParseMeminfo(*meminfo, "MemAvailable");
    if (!now) return;
    const std::uint64_t in_use = plan_.mem_available > *now ? plan_.mem_available - *now : 0;
    std::uint64_t budget = 0;
    for (const auto& line : plan_.ram_budget) budget += line.bytes;
    details["ramInUseBytes"] = in_use;
    details["ramBudgetBytes"] = budget;
    events_.Say("RAM in use by the takeover at the load: " + base::MiB(in_use) + " (the check counted " +
                base::MiB(budget) + ")");
  }

  /// The parent returns 0 at once; the child goes on once the caller has finished.
  std::optional<Outcome> Detach() {
    const DetachPlan& d = *plan_.detach;
    events_.FlushStatus();  // its sender thread does not survive the fork
    auto parent = DetachUntilGone(d.anchor, d.timeout_s);
    if (!parent) return Stop(parent.error(), observe::Phase::kBoot);
    if (!*parent) return std::nullopt;
    events_.Say(std::string(plan_.disk ? "the disk takeover and the reboot into " : "the reboot into ") + plan_.name +
                (plan_.disk ? " happen" : " happens") + " in the background once " + d.who + " (pid " +
                std::to_string(d.anchor) + ") has finished, within " + std::to_string(d.timeout_s) + " s");
    events_.Emit(observe::Phase::kBoot, "detached", {{"waitFor", d.who}, {"pid", d.anchor}});
    loaded_.HandOver();  // the child boots the kernel loaded (kernel-global): the parent must not unload it
    return Outcome{observe::kExitOk, true};
  }

  std::optional<Outcome> StopOldSystem() {
    const disk::TargetDisk& target = plan_.disk->target;
    events_.Say("replacing " + target.device + " (" + base::MiB(target.bytes) + ")");
    auto quiesced = takeover::StopOldSystem(target, sys_, events_);
    if (!quiesced) return Stop(quiesced.error(), observe::Phase::kCommit);
    quiesced_.emplace(std::move(*quiesced));
    return std::nullopt;
  }

  std::optional<Outcome> OpenDisk() {
    auto handle = OpenTargetDisk(plan_.disk->target, sys_, events_);
    if (!handle) return Stop(handle.error(), observe::Phase::kCommit);
    handle_.emplace(std::move(*handle));
    return std::nullopt;
  }

  /// The first write: from here the old system stays frozen and the kernel
  /// loaded, whatever happens; a failure boots the loaded kernel anyway.
  std::optional<Outcome> WriteDisk() {
    quiesced_->Keep();
    loaded_.Keep();
    written_ = true;
    auto written = WriteNewDisk(plan_.disk->target, plan_.disk->prepared, *handle_, events_);
    if (!written && path_ != BootPath::kKexec) return Stop(written.error(), observe::Phase::kCommit);
    if (!written) {
      events_.Warn(written.error().message() + "; booting the loaded kernel anyway");
      return std::nullopt;
    }
    char took[128];
    snprintf(took, sizeof took, "wrote %s to %s in %.2f s", base::MiB(written->bytes_written).c_str(),
             plan_.disk->target.device.c_str(), written->seconds);
    events_.Say(took);
    return std::nullopt;
  }

  /// 7: into the RAM OS, by kexec when loaded, else through the firmware from the new disk.
  Outcome Boot() {
    if (path_ == BootPath::kKexec) {
      // Without a written disk the guard still holds: a failed reboot leaves
      // the host as it was, nothing loaded.
      if (written_) loaded_.Keep();
      events_.Say("rebooting into " + plan_.name);
      events_.Emit(observe::Phase::kBoot, "start", {{"how", "kexec"}});
      events_.FlushStatus();
      return Stop(kexec::Boot(sys_, written_).error(), observe::Phase::kBoot);
    }
    events_.Say("rebooting through the firmware into " + plan_.name + " on " + plan_.disk->target.device);
    events_.Emit(observe::Phase::kBoot, "start", {{"how", "firmware"}});
    events_.FlushStatus();
    const int err = sys_.Reboot(base::RebootTarget::kFirmware, false);
    return Stop(base::Error(ErrorKind::kInternal,
                            "reboot(LINUX_REBOOT_CMD_RESTART) failed: " + std::string(strerror(err)), err)
                    .Hint("the disk holds the new OS: reset the machine to boot it"),
                observe::Phase::kBoot);
  }

  const TakeoverPlan& plan_;
  base::Sys& sys_;
  observe::Events& events_;
  // Destroyed in reverse: the disk closed, the old system thawed, then the kernel unloaded.
  LoadedKernelGuard loaded_;  ///< from a successful load to the first write, every way out unloads it
  std::optional<disk::Quiesced> quiesced_;
  std::optional<disk::Disk> handle_;
  BootPath path_;
  bool written_ = false;
};

}  // namespace

Outcome Execute(const TakeoverPlan& plan, base::Sys& sys, observe::Events& events) {
  Execution execution(plan, sys, events);
  for (Step step : plan.steps) {
    if (auto outcome = execution.Perform(step)) return *outcome;
  }
  return {observe::Report(base::Error(ErrorKind::kInternal, "the plan ended without a boot step"), events,
                          observe::Phase::kPlan)};
}

}  // namespace takeover
