// `bootrino preflight` and `bootrino run`: the whole pipeline of
// docs/architecture.md, numbered as there.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "agent/boot_plan.h"
#include "agent/commands.h"
#include "agent/detach.h"
#include "agent/exit_codes.h"
#include "agent/fallback.h"
#include "agent/pipeline.h"
#include "agent/report.h"
#include "agent/takeover.h"
#include "base/fd.h"
#include "base/interrupt.h"
#include "base/sys.h"
#include "fetch/url.h"
#include "kexec/load.h"
#include "kexec/preflight.h"
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
  return {{"arch", r.arch}, {"lockdown", r.lockdown}, {"secureBoot", r.secure_boot_unknown ? json(nullptr) : json(r.secure_boot)}, {"consoles", r.consoles},
          {"ok", r.Verdict().has_value()}, {"checks", checks}};
}

/// 1: preflight. Warnings are said; the caller decides what a refusal means.
kexec::PreflightReport Preflight(Events& events) {
  kexec::PreflightReport report = kexec::RunPreflight(base::RealSys());
  for (const auto& c : report.checks) {
    if (!c.ok && !c.fatal) events.Warn(c.name + ": " + c.detail + " (" + c.advice + ")");
  }
  events.Emit("preflight", report.Verdict() ? "ok" : "refused", PreflightJson(report));
  return report;
}

/// The kexec load copies kernel and initrd into kernel memory, and the two
/// composed initrds (kexec's, the disk's) are two more copies of the initrds
/// in the stage directory.
std::uint64_t LoadMemory(const fetch::ArchPayload& payload) {
  std::uint64_t initrds = 0;
  for (const auto& f : payload.initrds) initrds += f.size;
  return payload.kernel.size + 3 * initrds;
}

// What the RAM OS gets from this instance, and where it goes.
void PrintPersonal(const BootPlans& plans, const RamOsSettings& settings, bool disk) {
  const auto& p = plans.personal;
  const std::string style = p["style"].get<std::string>();
  if (style == "none") {
    std::printf("  personal none: the manifest takes no SSH keys, hostname or network (only /etc/bootrino)\n");
  } else {
    std::string where = "the initrd overlay";
    for (const auto& f : p["bootPartition"]) {
      where += ", " + f["name"].get<std::string>() + (disk ? " on the boot partition" : " for a boot partition not written");
    }
    std::printf("  personal %s: %zu SSH key(s)%s in %s\n", style.c_str(), settings.ssh_keys.size(),
                settings.hostname.empty() ? "" : (", hostname " + Shown(settings.hostname)).c_str(),
                Shown(where).c_str());
  }
  auto join = [](const nlohmann::ordered_json& params) {
    std::string out;
    for (const auto& x : params) out += (out.empty() ? "" : " ") + x.get<std::string>();
    return out.empty() ? std::string("nothing") : out;
  };
  if (!p["kexecParams"].empty() || !p["diskParams"].empty()) {
    std::printf("           the kexec boot adds %s; firmware boots add %s\n", Shown(join(p["kexecParams"])).c_str(),
                Shown(join(p["diskParams"])).c_str());
  }
  std::printf("  network  %s\n", DescribeNetwork(settings.network, settings.network_mode).c_str());
}

void PrintPlan(const fetch::VerifiedManifest& vm, const std::string& arch, const std::vector<fetch::StagedFile>& staged,
               const BootPlans& plans, const RamOsSettings& settings, const std::optional<disk::TargetDisk>& target,
               const std::optional<disk::PreparedDisk>& prepared) {
  // Names, versions, file names and the command line come from the manifest: Shown() escapes their controls.
  std::printf("plan for %s (%s): %s %s, manifest verified by %s\n", arch.c_str(), Shown(vm.url).c_str(),
              Shown(vm.manifest.meta.name).c_str(), Shown(vm.manifest.meta.version).c_str(),
              Shown(vm.verified_by).c_str());
  for (const auto& s : staged) {
    std::printf("  %-7s %-28s %10s  verified\n", s.item->role.c_str(), Shown(s.item->file->name).c_str(),
                MiB(s.download.bytes).c_str());
  }
  std::printf("  initrd  the manifest's initrds in order + a bootrino overlay (/etc/bootrino)\n");
  std::printf("  cmdline %s\n", Shown(plans.kexec.cmdline).c_str());
  PrintPersonal(plans, settings, prepared.has_value());
  if (vm.manifest.boot->after_stage) {
    std::printf("  hook    %s runs after staging\n", Shown(vm.manifest.boot->after_stage->function).c_str());
  }
  std::printf("  then    kexec_file_load\n");
  if (prepared) {
    std::printf("  then    replace %s (%s%s):\n", target->device.c_str(), MiB(target->bytes).c_str(),
                target->holds_root ? ", holds /" : "");
    std::string layout = disk::Describe(prepared->layout);
    for (std::size_t pos = 0; pos < layout.size();) {
      std::size_t nl = layout.find('\n', pos);
      std::printf("          %s\n", layout.substr(pos, nl - pos).c_str());
      pos = nl == std::string::npos ? layout.size() : nl + 1;
    }
  } else {
    std::printf("  disk    not touched: the RAM OS will not survive a reboot\n");
  }
  std::printf("  then    reboot into the new kernel\n");
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

/// Removes the RAM stage directory, unless another process now owns it.
class StageDirGuard {
 public:
  void Own(std::string dir) { dir_ = std::move(dir); }
  ~StageDirGuard() {
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }
  /// The detached child writes the disk from the staged files: the parent leaves them.
  void HandOver() { dir_.clear(); }

 private:
  std::string dir_;
};

}  // namespace

int Preflight(const CommonOptions& common) {
  Events events;
  if (auto r = events.Open(common.json_events); !r) return Report(r.error(), events, "start");
  kexec::PreflightReport report = kexec::RunPreflight(base::RealSys());
  if (common.json) {
    std::printf("%s\n", PreflightJson(report).dump(2).c_str());
  } else {
    for (const auto& c : report.checks) {
      std::printf("%-5s %-13s %s\n", c.ok ? "ok" : (c.fatal ? "NO" : "warn"), c.name.c_str(), c.detail.c_str());
      if (!c.ok) std::printf("      %-13s %s\n", "", c.advice.c_str());
    }
  }
  events.Emit("preflight", report.Verdict() ? "ok" : "refused", PreflightJson(report));
  return report.Verdict() ? kExitOk : kExitPreflight;
}

namespace {

/// An exit code when `run` stops at this phase; nothing when it goes on.
using Stop = std::optional<int>;

/// What `run` has decided and done so far, passed between its phases.
struct RunState {
  kexec::PreflightReport host;
  std::string arch;
  RamOsSettings settings;
  std::optional<base::Error> refusal;  ///< why kexec cannot be used (dry run, or --fallback=reboot)
  std::optional<base::Error> disk_refusal;  ///< why the disk cannot be taken over (dry run)
  std::optional<disk::TargetDisk> target;
  std::optional<fetch::VerifiedManifest> vm;
  std::optional<fetch::StagePlan> stage_plan;
  std::string dir;  ///< the RAM stage directory
  std::vector<fetch::StagedFile> staged;
  double fetch_s = 0;
  std::optional<BootPlans> plans;
  std::optional<disk::PreparedDisk> prepared;
  bool kexec_loaded = false;
};

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

void PrintDryRun(const RunState& state, const RunOptions& options, bool as_json) {
  const fetch::VerifiedManifest& vm = *state.vm;
  if (as_json) {
    json out = {{"dryRun", true}, {"arch", state.arch}, {"manifest", ManifestJson(vm)}, {"files", json::array()},
                {"cmdline", state.plans->kexec.cmdline}, {"diskCmdline", state.plans->disk.cmdline},
                {"stagedIn", state.dir}, {"personalisation", state.plans->personal},
                {"network", NetworkJson(state.settings.network, state.settings.network_mode)},
                {"fallback", options.fallback_reboot ? "reboot" : "none"}};
    for (const auto& s : state.staged) out["files"].push_back(FileJson(*s.item));
    out["disk"] = state.prepared ? json{{"device", state.target->device}, {"layout", disk::ToJson(state.prepared->layout)}}
                                 : json(nullptr);
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    PrintPlan(vm, state.arch, state.staged, *state.plans, state.settings, state.target, state.prepared);
    std::printf("dry run: every file was fetched into RAM and verified, then discarded; nothing was changed\n");
  }
}

/// 1 and 4a, before any transfer as they are cheap: can this host do it at
/// all, what the RAM OS gets from it, and which disk to replace. A dry run goes
/// on past a refusal to show the whole plan, and reports it at the end;
/// --fallback=reboot goes on without kexec when only kexec is refused and the
/// firmware can boot the disk (PathAfterPreflight). Under UEFI Secure Boot the
/// disk takeover is refused unless --keep-disk (DiskTakeoverAllowed).
Stop ExamineHost(const CommonOptions& common, const RunOptions& options, RunState& state, Events& events) {
  state.host = Preflight(events);
  auto path = PathAfterPreflight(state.host, options.fallback_reboot);
  if (!path && !options.dry_run) return Report(path.error(), events, "preflight");
  if (!path || *path == BootPath::kFirmware) {
    state.refusal = path ? state.host.Verdict().error() : path.error();
    events.Warn("kexec is not possible here (" + state.refusal->message() + "); " +
                (options.dry_run ? "the dry run goes on to show the plan"
                                 : "--fallback=reboot: the new OS will boot through the firmware from the disk"));
  }
  // Under Secure Boot kexec may work, but the disk it would leave behind never boots: refused unless --keep-disk.
  if (auto allowed = DiskTakeoverAllowed(state.host, options.keep_disk); !allowed) {
    if (!options.dry_run) return Report(allowed.error(), events, "disk");
    state.disk_refusal = allowed.error();
    events.Warn(allowed.error().message() + "; the dry run goes on to show the rest of the plan");
  }
  state.arch = MachineArch(common);
  state.settings = InstanceSettings(options, events);
  if (auto r = AddHostNetwork(options.network, base::RealSys(), userdata::HostSources().root, state.settings, events);
      !r) {
    return Report(r.error(), events, "network");
  }
  auto target = ChooseDisk(options, state.arch, events);
  if (!target) {
    if (!options.dry_run) return Report(target.error(), events, "disk");
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
                  Events& events) {
  auto vm = ResolveManifest(ref, common, events);
  if (!vm) return Report(vm.error(), events, "manifest");
  state.vm = std::move(*vm);
  auto payload = state.vm->manifest.PayloadFor(state.arch);
  if (!payload) return Report(payload.error(), events, "plan-stage");
  auto stage_plan = PlanForHost(*state.vm, state.arch, LoadMemory(**payload), events);
  if (!stage_plan) return Report(stage_plan.error(), events, "plan-stage");
  state.stage_plan = std::move(*stage_plan);
  auto dir = MakeRamStageDir();
  if (!dir) return Report(dir.error(), events, "stage");
  state.dir = *dir;
  const auto fetch_start = std::chrono::steady_clock::now();
  auto staged = StageInto(*state.vm, *state.stage_plan, state.dir, common, events);
  if (!staged) return Report(staged.error(), events, "stage");
  state.staged = std::move(*staged);
  state.fetch_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - fetch_start).count();
  if (!options.dry_run) {
    if (auto r = RunAfterStageHook(*state.vm, state.dir, events); !r) return Report(r.error(), events, "hook");
  }
  return std::nullopt;
}

/// 4: one initrd and one command line for kexec, the same on the disk, and the disk's layout.
Stop PlanEverything(const RunOptions& options, RunState& state, Events& events) {
  auto plans = PlanBoot(*state.vm, state.staged, state.dir, state.arch, HostConsoles::ThisMachine(), state.settings,
                        events);
  if (!plans) return Report(plans.error(), events, "plan");
  state.plans = std::move(*plans);
  if (state.target) {
    auto prepared = PlanDisk(state.target->bytes, state.target->sector_size, state.vm->manifest.boot->disk,
                             state.plans->disk, options.seed.value_or(RandomSeed()), events);
    if (!prepared) return Report(prepared.error(), events, "plan-disk");
    state.prepared = std::move(*prepared);
  }
  return std::nullopt;
}

/// 5: the kernel is handed over before anything is written; a refusal leaves
/// the host as it was (or, with --fallback=reboot, the firmware boots it,
/// unless it could not: LoadOrFallBack).
Stop LoadKernel(const RunOptions& options, RunState& state, LoadedKernelGuard& loaded, Events& events) {
  const auto load_start = std::chrono::steady_clock::now();
  if (!state.refusal) {
    auto path = LoadOrFallBack(base::RealSys(), state.host, state.plans->kexec, options.fallback_reboot, events);
    if (!path) return Report(path.error(), events, "load");
    state.kexec_loaded = *path == BootPath::kKexec;
    if (state.kexec_loaded) loaded.Loaded();
  }
  const double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start).count();
  if (state.kexec_loaded) events.Emit("load", "ok", {{"cmdline", state.plans->kexec.cmdline}});
  char fetched[128];
  snprintf(fetched, sizeof fetched, " (fetching %s took %.2f s, the kernel's load %.2f s)",
           MiB(state.stage_plan->total_bytes).c_str(), state.fetch_s, load_s);
  events.Say((state.kexec_loaded ? "loaded " : "verified ") + state.vm->manifest.meta.name + " in " +
             events.Elapsed() + " s" + fetched);
  return std::nullopt;
}

/// After the caller has finished when asked (or when cloud-init is the
/// caller): the parent returns 0 and the child goes on to 6 and 7.
Stop DetachIfAsked(const RunOptions& options, const RunState& state, StageDirGuard& guard, LoadedKernelGuard& loaded,
                   Events& events) {
  const pid_t cloud_init = CloudInitAncestor();
  if (!options.detach && !cloud_init) return std::nullopt;
  const pid_t anchor = cloud_init ? cloud_init : WaitAnchor();
  const std::string who = cloud_init ? "cloud-init" : "the calling process";
  events.FlushStatus();  // its sender thread does not survive the fork
  auto parent = DetachUntilGone(anchor, options.detach_timeout_s);
  if (!parent) return Report(parent.error(), events, "boot");
  if (!*parent) return std::nullopt;
  events.Say(std::string(state.prepared ? "the disk takeover and the reboot into " : "the reboot into ") +
             state.vm->manifest.meta.name + (state.prepared ? " happen" : " happens") + " in the background once " +
             who + " (pid " + std::to_string(anchor) + ") has finished, within " +
             std::to_string(options.detach_timeout_s) + " s");
  events.Emit("boot", "detached", {{"waitFor", who}, {"pid", anchor}});
  guard.HandOver();   // the child writes the disk from the staged files
  loaded.HandOver();  // and boots the kernel loaded (kernel-global): the parent must not unload it
  return kExitOk;
}

/// 6: the disk becomes the RAM OS's boot disk. Past the first write there is
/// no way back: a failure then boots the loaded kernel anyway, if there is one
/// (so from there it stays loaded; before, a failure unloads it).
Stop Commit(const RunState& state, LoadedKernelGuard& loaded, Events& events) {
  if (!state.prepared) return std::nullopt;
  events.Say("replacing " + state.target->device + " (" + MiB(state.target->bytes) + ")");
  auto quiesced = StopOldSystem(*state.target, base::RealSys(), events);
  if (!quiesced) return Report(quiesced.error(), events, "commit");
  loaded.Keep();
  auto written = WriteNewDisk(*state.target, *state.prepared, *quiesced, events);
  if (!written && !state.kexec_loaded) return Report(written.error(), events, "commit");
  if (!written) {
    events.Warn(written.error().message() + "; booting the loaded kernel anyway");
    return std::nullopt;
  }
  char took[96];
  snprintf(took, sizeof took, "wrote %s to %s in %.2f s", MiB(written->bytes_written).c_str(),
           state.target->device.c_str(), written->seconds);
  events.Say(took);
  return std::nullopt;
}

/// 7: into the RAM OS, by kexec when loaded, else through the firmware from the new disk.
int Boot(const RunState& state, LoadedKernelGuard& loaded, Events& events) {
  const std::string& name = state.vm->manifest.meta.name;
  if (state.kexec_loaded) {
    // The boot goes ahead. (Without a written disk the guard still holds: a
    // failed reboot leaves the host as it was, nothing loaded.)
    if (state.prepared) loaded.Keep();
    events.Say("rebooting into " + name);
    events.Emit("boot", "start", {{"how", "kexec"}});
    events.FlushStatus();
    return Report(kexec::Boot(base::RealSys(), state.prepared.has_value()).error(), events, "boot");
  }
  events.Say("rebooting through the firmware into " + name + " on " + state.target->device);
  events.Emit("boot", "start", {{"how", "firmware"}});
  events.FlushStatus();
  int err = base::RealSys().Reboot(base::RebootTarget::kFirmware, false);
  return Report(base::Error(ErrorKind::kInternal, "reboot(LINUX_REBOOT_CMD_RESTART) failed: " + std::string(strerror(err)), err)
                    .Hint("the disk holds the new OS: reset the machine to boot it"),
                events, "boot");
}

}  // namespace

int Run(const std::string& ref, const CommonOptions& common, const RunOptions& options) {
  base::InstallInterruptHandlers();  // SIGTERM, SIGINT, SIGHUP: stop cleanly until the commit point
  Events events;
  if (auto r = events.Open(common.json_events); !r) return Report(r.error(), events, "start");
  if (!options.status_url.empty() && !options.status_url_insecure && !userdata::StatusUrlAllowed(options.status_url)) {
    return Report(base::Error(ErrorKind::kUsage, "the status URL " + fetch::RedactUrl(options.status_url) +
                                                     " is neither https nor on this machine's loopback")
                      .Hint("events name this host, its disk and addresses, and travel with any token in the "
                            "URL: use an https URL; --status-url-insecure sends them over plain http anyway"),
                  events, "start");
  }
  events.ReportTo(options.status_url, common.transfer.ca_file);
  if (auto r = CheckRunOptions(options); !r) return Report(r.error(), events, "start");
  auto lock = LockRun();
  if (!lock) return Report(lock.error(), events, "start");
  RunState state;
  if (Stop stop = ExamineHost(common, options, state, events)) return *stop;
  if (auto r = NotInterrupted(); !r) return Report(r.error(), events, "preflight");
  StageDirGuard guard;  // the RAM stage directory goes on every way out, unless handed over
  const Stop fetched = FetchIntoRam(ref, common, options, state, events);
  guard.Own(state.dir);
  if (fetched) return *fetched;
  if (Stop stop = PlanEverything(options, state, events)) return *stop;
  if (auto r = NotInterrupted(); !r) return Report(r.error(), events, "plan");
  if (options.dry_run) {
    PrintDryRun(state, options, common.json);
    if (state.refusal) return Report(*state.refusal, events, "preflight");
    if (state.disk_refusal) return Report(*state.disk_refusal, events, "disk");
    return kExitOk;
  }
  // From a successful load to the disk's first write (or the reboot), every way out unloads the kernel.
  LoadedKernelGuard loaded(base::RealSys(), events);
  if (Stop stop = LoadKernel(options, state, loaded, events)) return *stop;
  if (Stop stop = DetachIfAsked(options, state, guard, loaded, events)) return *stop;
  // The commit point: from here the disk is written, and a signal must not cut that short.
  if (!base::EnterCommit()) return Report(NotInterrupted().error(), events, "commit");
  if (Stop stop = Commit(state, loaded, events)) return *stop;
  return Boot(state, loaded, events);
}

}  // namespace agent
