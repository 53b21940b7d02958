// `bootrino preflight` and `bootrino run`: the whole pipeline of
// docs/architecture.md, numbered as there.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "agent/commands.h"
#include "agent/pipeline.h"
#include "base/base.h"
#include "fetch/fetch.h"
#include "kexec/kexec.h"
#include "observe/observe.h"
#include "ramos/ramos.h"
#include "takeover/takeover.h"
#include "userdata/userdata.h"

namespace agent {
namespace {

using base::ErrorKind;
using base::Result;
using json = nlohmann::ordered_json;
namespace fs = std::filesystem;

json PreflightJson(const kexec::PreflightReport& r) {
  json checks = json::array();
  for (const auto& c : r.checks) {
    checks.push_back({{"name", c.name}, {"ok", c.ok}, {"fatal", c.fatal}, {"detail", c.detail}, {"advice", c.advice}});
  }
  return {{"arch", r.machine},
          {"lockdown", r.lockdown},
          {"secureBoot", r.secure_boot_unknown ? json(nullptr) : json(r.secure_boot)},
          {"consoles", r.consoles},
          {"ok", r.Verdict().has_value()},
          {"checks", checks}};
}

/// 1: preflight. Warnings are said; the caller decides what a refusal means.
kexec::PreflightReport Preflight(observe::Events& events) {
  kexec::PreflightReport report = kexec::RunPreflight(base::RealSys());
  for (const auto& c : report.checks) {
    if (!c.ok && !c.fatal) events.Warn(c.name + ": " + c.detail + " (" + c.advice + ")");
  }
  events.Emit(observe::Phase::kPreflight, report.Verdict() ? "ok" : "refused", PreflightJson(report));
  return report;
}

/// One run at a time: a second one would race the first for the kernel's
/// single kexec image (and later the disk). The lock is an flock on
/// /run/bootrino.lock, released when the holder exits; a detached child
/// inherits it until it reboots.
Result<base::Fd> LockRun() {
  ASSIGN_OR_RETURN(base::Fd fd, base::Open("/run/bootrino.lock", O_RDWR | O_CREAT, 0600));
  if (flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    std::string holder = base::ReadFile("/run/bootrino.lock", 64).value_or("");
    while (!holder.empty() && holder.back() == '\n') holder.pop_back();
    return base::Fail(base::Error(ErrorKind::kPreflight, "another bootrino run is in progress" +
                                                             (holder.empty() ? "" : " (pid " + holder + ")"))
                          .Hint("wait for it to finish (or stop it); nothing was changed"));
  }
  std::string pid = std::to_string(getpid()) + "\n";
  if (ftruncate(fd.get(), 0) == 0) (void)base::WriteAllAt(fd, pid, 0);
  return fd;
}

/// Unmounts and removes the RAM stage, unless another process now owns it.
class StageGuard {
 public:
  explicit StageGuard(base::Sys& sys) : sys_(sys) {}
  void Own(RamStage stage) { stage_ = std::move(stage); }
  ~StageGuard() { RemoveRamStage(stage_, sys_); }
  /// The detached child writes the disk from the staged files: the parent leaves them.
  void HandOver() { stage_ = RamStage{}; }

 private:
  base::Sys& sys_;
  RamStage stage_;
};

}  // namespace

int Preflight(const CommonOptions& common) {
  observe::Events events;
  if (auto r = events.Open(common.json_events); !r) return observe::Report(r.error(), events, observe::Phase::kStart);
  kexec::PreflightReport report = kexec::RunPreflight(base::RealSys());
  if (common.json) {
    std::printf("%s\n", PreflightJson(report).dump(2).c_str());
  } else {
    for (const auto& c : report.checks) {
      std::printf("%-5s %-13s %s\n", c.ok ? "ok" : (c.fatal ? "NO" : "warn"), c.name.c_str(), c.detail.c_str());
      if (!c.ok) std::printf("      %-13s %s\n", "", c.advice.c_str());
    }
  }
  events.Emit(observe::Phase::kPreflight, report.Verdict() ? "ok" : "refused", PreflightJson(report));
  return report.Verdict() ? observe::kExitOk : observe::kExitPreflight;
}

namespace {

/// An exit code when `run` stops at this phase; nothing when it goes on.
using Stop = std::optional<int>;

/// What `run` has found out before the plan, passed between its phases.
struct RunState {
  kexec::PreflightReport host;
  base::Arch arch{};  ///< the payload's (MachineArch)
  ramos::RamOsSettings settings;
  takeover::BootPath path = takeover::BootPath::kKexec;
  std::optional<base::Error> refusal;  ///< why kexec cannot be used (dry run, or --fallback=reboot)
  std::optional<base::Error> disk_refusal;  ///< why the disk cannot be taken over (dry run)
  std::optional<disk::TargetDisk> target;
  std::optional<fetch::VerifiedManifest> vm;
  std::optional<fetch::StagePlan> stage_plan;
  RamStage stage;  ///< the RAM stage directory, and bootrino's tmpfs on it
  std::vector<fetch::StagedFile> staged;
  double fetch_s = 0;
};

/// Events name this host, its disk and addresses: they go over https, or to this machine.
base::Result<void> CheckStatusUrl(const RunOptions& options) {
  if (options.status_url.empty() || options.status_url_insecure || userdata::StatusUrlAllowed(options.status_url)) {
    return {};
  }
  return base::Fail(base::Error(ErrorKind::kUsage, "the status URL " + fetch::RedactUrl(options.status_url) +
                                                       " is neither https nor on this machine's loopback")
                        .Hint("events name this host, its disk and addresses, and travel with any token in the "
                              "URL: use an https URL; --status-url-insecure sends them over plain http anyway"));
}

base::Result<void> CheckRunOptions(const RunOptions& options) {
  if (!options.dry_run && !options.yes) {
    return base::Fail(base::Error(ErrorKind::kUsage, "run replaces the operating system running on this machine")
                          .Hint("add --yes to confirm, or --dry-run to see the plan without changing anything"));
  }
  if (options.keep_disk && !options.disk.empty()) {
    return base::Fail(base::Error(ErrorKind::kUsage, "--keep-disk and --disk contradict each other")
                          .Hint("--keep-disk boots with kexec only; --disk names the disk to replace"));
  }
  if (options.keep_disk && options.fallback_reboot) {
    return base::Fail(base::Error(ErrorKind::kUsage, "--fallback=reboot needs the disk (it boots from it)")
                          .Hint("drop --keep-disk"));
  }
  return {};
}

/// 1 and 4a, before any transfer as they are cheap: can this host do it at
/// all, what the RAM OS gets from it, and which disk to replace. A dry run goes
/// on past a refusal to show the whole plan, and reports it at the end;
/// --fallback=reboot goes on without kexec when only kexec is refused and the
/// firmware can boot the disk (PathAfterPreflight). Under UEFI Secure Boot the
/// disk takeover is refused unless --keep-disk (DiskTakeoverAllowed).
Stop ExamineHost(const CommonOptions& common, const RunOptions& options, RunState& state, observe::Events& events) {
  state.host = Preflight(events);
  auto path = takeover::PathAfterPreflight(state.host, options.fallback_reboot);
  if (!path && !options.dry_run) return observe::Report(path.error(), events, observe::Phase::kPreflight);
  if (!path || *path == takeover::BootPath::kFirmware) {
    if (path) state.path = takeover::BootPath::kFirmware;  // a dry run shows the kexec plan it was refused
    state.refusal = path ? state.host.Verdict().error() : path.error();
    events.Warn("kexec is not possible here (" + state.refusal->message() + "); " +
                (options.dry_run ? "the dry run goes on to show the plan"
                                 : "--fallback=reboot: the new OS will boot through the firmware from the disk"));
  }
  // Under Secure Boot kexec may work, but the disk it would leave behind never boots: refused unless --keep-disk.
  if (auto allowed = takeover::DiskTakeoverAllowed(state.host, options.keep_disk); !allowed) {
    if (!options.dry_run) return observe::Report(allowed.error(), events, observe::Phase::kDisk);
    state.disk_refusal = allowed.error();
    events.Warn(allowed.error().message() + "; the dry run goes on to show the rest of the plan");
  }
  auto arch = MachineArch(common);
  if (!arch) return observe::Report(arch.error(), events, observe::Phase::kPreflight);
  state.arch = *arch;
  state.settings = InstanceSettings(options, events);
  if (auto r =
          ramos::AddHostNetwork(options.network, base::RealSys(), userdata::HostSources().root, state.settings, events);
      !r) {
    return observe::Report(r.error(), events, observe::Phase::kNetwork);
  }
  auto target = takeover::ChooseDisk(options.keep_disk, options.disk, state.arch, events);
  if (!target) {
    if (!options.dry_run) return observe::Report(target.error(), events, observe::Phase::kDisk);
    if (!state.disk_refusal) state.disk_refusal = target.error();  // the first reason is the one reported
    events.Warn("the disk takeover would be refused (" + target.error().message() +
                "); the dry run goes on to show the rest of the plan");
  } else {
    state.target = std::move(*target);
  }
  return std::nullopt;
}

/// 2 and 3: the verified manifest, and every file in RAM, verified, or nothing.
Stop FetchIntoRam(const std::string& ref, const CommonOptions& common, const RunOptions& options, RunState& state,
                  observe::Events& events) {
  auto vm = ResolveManifest(ref, common, events);
  if (!vm) return observe::Report(vm.error(), events, observe::Phase::kManifest);
  state.vm = std::move(*vm);
  auto payload = state.vm->manifest.PayloadFor(state.arch);
  if (!payload) return observe::Report(payload.error(), events, observe::Phase::kPlanStage);
  auto stage_plan = PlanForHost(*state.vm, state.arch, RunRamLines(**payload, state.arch), events);
  if (!stage_plan) return observe::Report(stage_plan.error(), events, observe::Phase::kPlanStage);
  state.stage_plan = std::move(*stage_plan);
  auto stage =
      MakeRamStage(StageTmpfsBytes(*state.stage_plan, **payload, state.arch, StageFor::kRun), base::RealSys(), events);
  if (!stage) return observe::Report(stage.error(), events, observe::Phase::kStage);
  state.stage = std::move(*stage);
  const auto fetch_start = std::chrono::steady_clock::now();
  auto staged = StageInto(*state.vm, *state.stage_plan, state.stage.dir, common, events);
  if (!staged) return observe::Report(staged.error(), events, observe::Phase::kStage);
  state.staged = std::move(*staged);
  state.fetch_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - fetch_start).count();
  if (!options.dry_run) {
    if (auto r = RunAfterStageHook(*state.vm, state.stage.dir, events); !r)
      return observe::Report(r.error(), events, observe::Phase::kHook);
  }
  return std::nullopt;
}

/// 4: the plan, from what is known by now: the verified payload in RAM, the host and the options.
base::Result<takeover::TakeoverPlan> Plan(const RunOptions& options, const RunState& state) {
  takeover::TakeoverInputs in;
  in.manifest = &*state.vm;
  in.staged = state.staged;
  in.stage_dir = state.stage.dir;
  in.stage_tmpfs_bytes = state.stage.tmpfs_bytes;
  in.arch = state.arch;
  in.host = state.host;
  in.path = state.path;
  in.consoles = ramos::HostConsoles::ThisMachine();
  in.settings = state.settings;
  in.target = state.target;
  in.fallback_reboot = options.fallback_reboot;
  in.seed = options.seed.value_or(takeover::RandomSeed());
  in.boot_id = ramos::NewBootId();
  for (const auto& s : state.staged) {
    if (s.item->role == "kernel") {
      ASSIGN_OR_RETURN(in.kernel, kexec::ReadKernelHeader(s.path));
    }
  }
  in.stage_plan = &*state.stage_plan;
  in.fetched_bytes = state.stage_plan->total_bytes;
  in.fetch_seconds = state.fetch_s;
  // After the load, the caller finishes first when asked (or when cloud-init is the caller).
  if (const pid_t cloud_init = takeover::CloudInitAncestor(); options.detach || cloud_init) {
    in.detach = takeover::DetachPlan{cloud_init ? cloud_init : takeover::WaitAnchor(),
                                     cloud_init ? "cloud-init" : "the calling process", options.detach_timeout_s};
  }
  return takeover::PlanTakeover(in);
}

}  // namespace

int Run(const std::string& ref, const CommonOptions& common, const RunOptions& options) {
  base::InstallInterruptHandlers();  // SIGTERM, SIGINT, SIGHUP: stop cleanly until the commit point
  observe::Events events;
  if (auto r = events.Open(common.json_events); !r) return observe::Report(r.error(), events, observe::Phase::kStart);
  if (auto r = CheckStatusUrl(options); !r) return observe::Report(r.error(), events, observe::Phase::kStart);
  events.ReportTo(options.status_url, common.transfer.ca_file);
  if (auto r = CheckRunOptions(options); !r) return observe::Report(r.error(), events, observe::Phase::kStart);
  auto lock = LockRun();
  if (!lock) return observe::Report(lock.error(), events, observe::Phase::kStart);
  RunState state;
  // 1: preflight, the RAM OS's settings, the disk.
  if (Stop stop = ExamineHost(common, options, state, events)) return *stop;
  if (auto r = NotInterrupted(); !r) return observe::Report(r.error(), events, observe::Phase::kPreflight);
  // 2 and 3: the verified manifest, and every file in RAM, verified.
  StageGuard guard(base::RealSys());  // the RAM stage goes on every way out, unless handed over
  const Stop fetched = FetchIntoRam(ref, common, options, state, events);
  guard.Own(state.stage);
  if (fetched) return *fetched;
  // 4: the plan.
  auto plan = Plan(options, state);
  if (!plan) return observe::Report(plan.error(), events, observe::Phase::kPlan);
  events.Emit(observe::Phase::kPlan, "ok", ramos::BootJson(plan->boot));
  if (plan->disk) events.Emit(observe::Phase::kPlanDisk, "ok", disk::ToJson(plan->disk->prepared.layout));
  if (auto r = NotInterrupted(); !r) return observe::Report(r.error(), events, observe::Phase::kPlan);
  if (options.dry_run) {
    if (common.json) {
      std::printf("%s\n", takeover::PlanJson(*plan).dump(2).c_str());
    } else {
      takeover::PrintPlan(*plan);
      std::printf("dry run: every file was fetched into RAM and verified, then discarded; nothing was changed\n");
    }
    if (state.refusal) return observe::Report(*state.refusal, events, observe::Phase::kPreflight);
    if (state.disk_refusal) return observe::Report(*state.disk_refusal, events, observe::Phase::kDisk);
    return observe::kExitOk;
  }
  // 5 to 7: load, commit, boot.
  const takeover::Outcome outcome = takeover::Execute(*plan, base::RealSys(), events);
  if (outcome.handed_over) guard.HandOver();  // the detached child writes the disk from the staged files
  return outcome.exit_code;
}

}  // namespace agent
