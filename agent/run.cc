// `bootrino preflight` and `bootrino run`: the whole pipeline of
// ARCHITECTURE.md, numbered as there.
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
#include "agent/pipeline.h"
#include "agent/report.h"
#include "agent/takeover.h"
#include "base/fd.h"
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
  return {{"arch", r.arch}, {"lockdown", r.lockdown}, {"secureBoot", r.secure_boot}, {"consoles", r.consoles},
          {"ok", r.Verdict().has_value()}, {"checks", checks}};
}

/// 1: preflight. Warnings are said; a refusal is returned.
Result<kexec::PreflightReport> Preflight(Events& events) {
  kexec::PreflightReport report = kexec::RunPreflight(base::RealSys());
  for (const auto& c : report.checks) {
    if (!c.ok && !c.fatal) events.Warn(c.name + ": " + c.detail + " (" + c.advice + ")");
  }
  events.Emit("preflight", report.Verdict() ? "ok" : "refused", PreflightJson(report));
  RETURN_IF_ERROR(report.Verdict());
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
                settings.hostname.empty() ? "" : (", hostname " + settings.hostname).c_str(), where.c_str());
  }
  auto join = [](const nlohmann::ordered_json& params) {
    std::string out;
    for (const auto& x : params) out += (out.empty() ? "" : " ") + x.get<std::string>();
    return out.empty() ? std::string("nothing") : out;
  };
  if (!p["kexecParams"].empty() || !p["diskParams"].empty()) {
    std::printf("           the kexec boot adds %s; firmware boots add %s\n", join(p["kexecParams"]).c_str(),
                join(p["diskParams"]).c_str());
  }
  std::printf("  network  %s\n", DescribeNetwork(settings.network, settings.network_mode).c_str());
}

void PrintPlan(const fetch::VerifiedManifest& vm, const std::string& arch, const std::vector<fetch::StagedFile>& staged,
               const BootPlans& plans, const RamOsSettings& settings, const std::optional<disk::TargetDisk>& target,
               const std::optional<disk::PreparedDisk>& prepared) {
  std::printf("plan for %s (%s): %s %s, manifest verified by %s\n", arch.c_str(), fetch::RedactUrl(vm.url).c_str(),
              vm.manifest.meta.name.c_str(), vm.manifest.meta.version.c_str(), vm.verified_by.c_str());
  for (const auto& s : staged) {
    std::printf("  %-7s %-28s %10s  verified\n", s.item->role.c_str(), s.item->file->name.c_str(),
                MiB(s.download.bytes).c_str());
  }
  std::printf("  initrd  the manifest's initrds in order + a bootrino overlay (/etc/bootrino)\n");
  std::printf("  cmdline %s\n", plans.kexec.cmdline.c_str());
  PrintPersonal(plans, settings, prepared.has_value());
  if (vm.manifest.boot->after_stage) {
    std::printf("  hook    %s runs after staging\n", vm.manifest.boot->after_stage->function.c_str());
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
  explicit StageDirGuard(std::string dir) : dir_(std::move(dir)) {}
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

/// What `run` has decided and done so far, passed between its phases.
struct RunState {
  std::string arch;
  std::optional<base::Error> refusal;  ///< why kexec cannot be used (dry run, or --fallback=reboot)
  std::optional<base::Error> disk_refusal;  ///< why the disk cannot be taken over (dry run)
  std::optional<disk::TargetDisk> target;
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

void PrintDryRun(const fetch::VerifiedManifest& vm, const std::vector<fetch::StagedFile>& staged,
                 const BootPlans& plans, const RamOsSettings& settings, const RunState& state, bool as_json,
                 const std::string& dir) {
  if (as_json) {
    json out = {{"dryRun", true}, {"arch", state.arch}, {"manifest", ManifestJson(vm)}, {"files", json::array()},
                {"cmdline", plans.kexec.cmdline}, {"diskCmdline", plans.disk.cmdline}, {"stagedIn", dir},
                {"personalisation", plans.personal},
                {"network", NetworkJson(settings.network, settings.network_mode)}};
    for (const auto& s : staged) out["files"].push_back(FileJson(*s.item));
    out["disk"] = state.prepared ? json{{"device", state.target->device}, {"layout", disk::ToJson(state.prepared->layout)}}
                                 : json(nullptr);
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    PrintPlan(vm, state.arch, staged, plans, settings, state.target, state.prepared);
    std::printf("dry run: every file was fetched into RAM and verified, then discarded; nothing was changed\n");
  }
}

/// 7: into the RAM OS, by kexec when loaded, else through the firmware from the new disk.
int Boot(const RunState& state, const std::string& name, Events& events) {
  const bool committed = state.prepared.has_value();
  if (state.kexec_loaded) {
    events.Say("rebooting into " + name);
    events.Emit("boot", "start", {{"how", "kexec"}});
    events.FlushStatus();
    return Report(kexec::Boot(base::RealSys(), committed).error(), events, "boot");
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
  Events events;
  if (auto r = events.Open(common.json_events); !r) return Report(r.error(), events, "start");
  events.ReportTo(options.status_url);
  if (auto r = CheckRunOptions(options); !r) return Report(r.error(), events, "start");
  auto lock = LockRun();
  if (!lock) return Report(lock.error(), events, "start");
  RunState state;
  // 1 preflight: can this host do it at all? Nothing fetched yet. A dry run
  // goes on to show the whole plan, then reports the refusal; --fallback=reboot
  // goes on without kexec.
  auto preflight = Preflight(events);
  if (!preflight) {
    if (!options.dry_run && !options.fallback_reboot) return Report(preflight.error(), events, "preflight");
    state.refusal = preflight.error();
    events.Warn("kexec is not possible here (" + state.refusal->message() + "); " +
                (options.dry_run ? "the dry run goes on to show the plan"
                                 : "--fallback=reboot: the new OS will boot through the firmware from the disk"));
  }
  state.arch = MachineArch(common);
  RamOsSettings settings = InstanceSettings(options, events);
  if (auto r = AddHostNetwork(options.network, base::RealSys(), userdata::HostSources().root, settings, events); !r) {
    return Report(r.error(), events, "network");
  }
  // 4a (before any transfer, as it is cheap): the disk to replace.
  auto target = ChooseDisk(options, state.arch, events);
  if (!target) {
    if (!options.dry_run) return Report(target.error(), events, "disk");
    state.disk_refusal = target.error();
    events.Warn("the disk takeover would be refused (" + target.error().message() +
                "); the dry run goes on to show the rest of the plan");
  } else {
    state.target = std::move(*target);
  }
  // 2 resolve: the verified manifest.
  auto vm = ResolveManifest(ref, common, events);
  if (!vm) return Report(vm.error(), events, "manifest");
  // 3 fetch: everything into RAM, verified, or nothing.
  auto payload = vm->manifest.PayloadFor(state.arch);
  if (!payload) return Report(payload.error(), events, "plan-stage");
  auto stage_plan = PlanForHost(*vm, state.arch, LoadMemory(**payload), events);
  if (!stage_plan) return Report(stage_plan.error(), events, "plan-stage");
  auto dir = MakeRamStageDir();
  if (!dir) return Report(dir.error(), events, "stage");
  StageDirGuard guard(*dir);
  const auto fetch_start = std::chrono::steady_clock::now();
  auto staged = StageInto(*vm, *stage_plan, *dir, common, events);
  if (!staged) return Report(staged.error(), events, "stage");
  const double fetch_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - fetch_start).count();
  if (!options.dry_run) {
    if (auto r = RunAfterStageHook(*vm, *dir, events); !r) return Report(r.error(), events, "hook");
  }
  // 4 plan: one initrd and one command line for kexec, the same on the disk. --dry-run stops here.
  auto plans = PlanBoot(*vm, *staged, *dir, state.arch, HostConsoles::ThisMachine(),
                        settings, events);
  if (!plans) return Report(plans.error(), events, "plan");
  if (state.target) {
    auto prepared = PlanDisk(state.target->bytes, state.target->sector_size, vm->manifest.boot->disk, plans->disk,
                             RandomSeed(), events);
    if (!prepared) return Report(prepared.error(), events, "plan-disk");
    state.prepared = std::move(*prepared);
  }
  if (options.dry_run) {
    PrintDryRun(*vm, *staged, *plans, settings, state, common.json, *dir);
    if (state.refusal) return Report(*state.refusal, events, "preflight");
    if (state.disk_refusal) return Report(*state.disk_refusal, events, "disk");
    return kExitOk;
  }
  // 5 load: the kernel is handed over before anything is written; a refusal
  // leaves the host as it was (or, with --fallback=reboot, the firmware boots it).
  const auto load_start = std::chrono::steady_clock::now();
  if (!state.refusal) {
    auto loaded = kexec::Load(base::RealSys(), plans->kexec);
    if (!loaded && !options.fallback_reboot) return Report(loaded.error(), events, "load");
    if (!loaded) events.Warn(loaded.error().message() + "; --fallback=reboot: booting through the firmware instead");
    state.kexec_loaded = loaded.has_value();
  }
  const double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start).count();
  if (state.kexec_loaded) events.Emit("load", "ok", {{"cmdline", plans->kexec.cmdline}});
  char fetched[128];
  snprintf(fetched, sizeof fetched, " (fetching %s took %.2f s, the kernel's load %.2f s)",
           MiB(stage_plan->total_bytes).c_str(), fetch_s, load_s);
  events.Say((state.kexec_loaded ? "loaded " : "verified ") + vm->manifest.meta.name + " in " + events.Elapsed() +
             " s" + fetched);
  // After the caller has finished when asked (or when cloud-init is the caller): 6 and 7 happen in the background.
  if (pid_t cloud_init = CloudInitAncestor(); options.detach || cloud_init) {
    pid_t anchor = cloud_init ? cloud_init : WaitAnchor();
    std::string who = cloud_init ? "cloud-init" : "the calling process";
    events.FlushStatus();  // its sender thread does not survive the fork
    auto parent = DetachUntilGone(anchor, options.detach_timeout_s);
    if (!parent) return Report(parent.error(), events, "boot");
    if (*parent) {
      events.Say(std::string(state.prepared ? "the disk takeover and the reboot into " : "the reboot into ") +
                 vm->manifest.meta.name + (state.prepared ? " happen" : " happens") + " in the background once " +
                 who + " (pid " +
                 std::to_string(anchor) + ") has finished, within " + std::to_string(options.detach_timeout_s) + " s");
      events.Emit("boot", "detached", {{"waitFor", who}, {"pid", anchor}});
      guard.HandOver();
      return kExitOk;
    }
  }
  // 6 commit: the disk becomes the RAM OS's boot disk.
  if (state.prepared) {
    events.Say("replacing " + state.target->device + " (" + MiB(state.target->bytes) + ")");
    auto quiesced = StopOldSystem(*state.target, events);
    if (!quiesced) return Report(quiesced.error(), events, "commit");
    auto written = WriteNewDisk(*state.target, *state.prepared, *quiesced, events);
    if (!written && !state.kexec_loaded) return Report(written.error(), events, "commit");
    if (!written) {
      events.Warn(written.error().message() + "; booting the loaded kernel anyway");
    } else {
      char took[96];
      snprintf(took, sizeof took, "wrote %s to %s in %.2f s", MiB(written->bytes_written).c_str(),
               state.target->device.c_str(), written->seconds);
      events.Say(took);
    }
  }
  // 7 boot.
  return Boot(state, vm->manifest.meta.name, events);
}

}  // namespace agent
