// `bootrino preflight` and `bootrino run`: the whole pipeline of
// ARCHITECTURE.md, numbered as there.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <unistd.h>

#include "agent/commands.h"
#include "agent/detach.h"
#include "agent/exit_codes.h"
#include "agent/pipeline.h"
#include "agent/report.h"
#include "base/fd.h"
#include "base/sys.h"
#include "fetch/url.h"
#include "kexec/cmdline.h"
#include "kexec/initrd.h"
#include "kexec/load.h"
#include "kexec/preflight.h"

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

// The boot id tells boots apart; it is no secret, so it must not wait for the
// entropy pool (about a second in a fresh VM): GRND_INSECURE (Linux 5.6+),
// else GRND_NONBLOCK, else the clock.
std::string NewBootId() {
  unsigned char bytes[8];
#ifndef GRND_INSECURE
  constexpr unsigned GRND_INSECURE = 0x0004;  // linux/random.h; older glibc headers lack it
#endif
  if (getrandom(bytes, sizeof bytes, GRND_INSECURE) != sizeof bytes &&
      getrandom(bytes, sizeof bytes, GRND_NONBLOCK) != sizeof bytes) {
    std::uint64_t now = static_cast<std::uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
    for (int i = 0; i < 8; ++i) bytes[i] = static_cast<unsigned char>(now >> (8 * i));
  }
  char hex[17];
  for (int i = 0; i < 8; ++i) snprintf(hex + 2 * i, 3, "%02x", bytes[i]);
  return hex;
}

/// The kexec load copies kernel and initrd into kernel memory, and the composed
/// initrd is a second copy of the initrds in the stage directory.
std::uint64_t LoadMemory(const fetch::ArchPayload& payload) {
  std::uint64_t initrds = 0;
  for (const auto& f : payload.initrds) initrds += f.size;
  return payload.kernel.size + 2 * initrds;
}

/// 4: the boot plan: one initrd (the manifest's in order + our overlay) and the command line.
Result<kexec::BootPlan> PlanBoot(const fetch::VerifiedManifest& vm, const std::vector<fetch::StagedFile>& staged,
                                 const std::string& dir, const std::string& arch, Events& events) {
  const fetch::ArchPayload& payload = **vm.manifest.PayloadFor(arch);
  const std::string boot_id = NewBootId();
  std::vector<std::string> initrds;
  std::string kernel;
  for (const auto& s : staged) {
    if (s.item->role == "kernel") kernel = s.path;
    if (s.item->role == "initrd") initrds.push_back(s.path);
  }
  std::vector<kexec::OverlayFile> overlay_files = {
      {"etc/bootrino/boot-id", boot_id + "\n", 0644},
      {"etc/bootrino/manifest.json", ManifestJson(vm).dump(2) + "\n", 0644},
  };
  ASSIGN_OR_RETURN(std::string overlay, kexec::BuildOverlay(overlay_files));
  kexec::BootPlan plan;
  plan.kernel_path = kernel;
  plan.initrd_path = fetch::StageMetaPath(dir, "initrd.img");
  ASSIGN_OR_RETURN(std::uint64_t initrd_bytes, kexec::ComposeInitrd(initrds, overlay, plan.initrd_path));
  base::Sys& sys = base::RealSys();
  kexec::CmdlineInputs inputs{payload.cmdline, sys.ReadText("/proc/cmdline").value_or(""),
                              sys.ReadText("/proc/consoles").value_or(""), {"bootrino.id=" + boot_id}};
  ASSIGN_OR_RETURN(plan.cmdline, kexec::ComposeCmdline(inputs, arch));
  events.Emit("plan", "ok", {{"kernel", plan.kernel_path}, {"initrd", plan.initrd_path},
                             {"initrdBytes", initrd_bytes}, {"initrdParts", initrds.size() + 1},
                             {"cmdline", plan.cmdline}, {"bootId", boot_id}});
  return plan;
}

void PrintPlan(const fetch::VerifiedManifest& vm, const std::string& arch, const std::vector<fetch::StagedFile>& staged,
               const kexec::BootPlan& plan) {
  std::printf("plan for %s (%s): %s %s, manifest verified by %s\n", arch.c_str(), fetch::RedactUrl(vm.url).c_str(),
              vm.manifest.meta.name.c_str(), vm.manifest.meta.version.c_str(), vm.verified_by.c_str());
  for (const auto& s : staged) {
    std::printf("  %-7s %-28s %10s  verified\n", s.item->role.c_str(), s.item->file->name.c_str(),
                MiB(s.download.bytes).c_str());
  }
  std::printf("  initrd  the manifest's initrds in order + a bootrino overlay (/etc/bootrino)\n");
  std::printf("  cmdline %s\n", plan.cmdline.c_str());
  if (vm.manifest.boot->after_stage) {
    std::printf("  hook    %s runs after staging\n", vm.manifest.boot->after_stage->function.c_str());
  }
  std::printf("  then    kexec_file_load, reboot into the new kernel\n");
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

/// Removes the RAM stage directory unless told the boot has begun.
class StageDirGuard {
 public:
  explicit StageDirGuard(std::string dir) : dir_(std::move(dir)) {}
  ~StageDirGuard() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

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

int Run(const std::string& ref, const CommonOptions& common, const RunOptions& options) {
  Events events;
  if (auto r = events.Open(common.json_events); !r) return Report(r.error(), events, "start");
  if (!options.dry_run && !options.yes) {
    return Report(base::Error(ErrorKind::kUsage, "run replaces the operating system running on this machine")
                      .Hint("add --yes to confirm, or --dry-run to see the plan without changing anything"),
                  events, "start");
  }
  if (!options.disk.empty()) {
    return Report(base::Error(ErrorKind::kUsage, "--disk " + options.disk +
                                                     ": this release boots the RAM OS with kexec only and never "
                                                     "writes a disk, so there is no disk to choose")
                      .Hint("run again without --disk; the disk takeover comes in a later release"),
                  events, "start");
  }
  auto lock = LockRun();
  if (!lock) return Report(lock.error(), events, "start");
  // 1 preflight: can this host do it at all? Nothing fetched yet. A dry run
  // goes on to show the whole plan, then reports the refusal.
  auto preflight = Preflight(events);
  std::optional<base::Error> refusal;
  if (!preflight) {
    if (!options.dry_run) return Report(preflight.error(), events, "preflight");
    refusal = preflight.error();
    events.Warn("this host would refuse (" + refusal->message() + "); the dry run goes on to show the plan");
  }
  const std::string arch = MachineArch(common);
  // 2 resolve: the verified manifest.
  auto vm = ResolveManifest(ref, common, events);
  if (!vm) return Report(vm.error(), events, "manifest");
  // 3 fetch: everything into RAM, verified, or nothing.
  auto payload = vm->manifest.PayloadFor(arch);
  if (!payload) return Report(payload.error(), events, "plan-stage");
  auto stage_plan = PlanForHost(*vm, arch, LoadMemory(**payload), events);
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
  // 4 plan: one initrd, one command line. --dry-run stops here.
  auto plan = PlanBoot(*vm, *staged, *dir, arch, events);
  if (!plan) return Report(plan.error(), events, "plan");
  if (options.dry_run) {
    if (common.json) {
      json out = {{"dryRun", true}, {"arch", arch}, {"manifest", ManifestJson(*vm)}, {"files", json::array()},
                  {"cmdline", plan->cmdline}, {"stagedIn", *dir}};
      for (const auto& s : *staged) out["files"].push_back(FileJson(*s.item));
      std::printf("%s\n", out.dump(2).c_str());
    } else {
      PrintPlan(*vm, arch, *staged, *plan);
      std::printf("dry run: every file was fetched into RAM and verified, then discarded; nothing was changed\n");
    }
    if (refusal) return Report(*refusal, events, "preflight");
    return kExitOk;
  }
  // 5 load: the kernel is handed over before anything is written; a refusal leaves the host as it was.
  const auto load_start = std::chrono::steady_clock::now();
  if (auto r = kexec::Load(base::RealSys(), *plan); !r) return Report(r.error(), events, "load");
  const double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start).count();
  events.Emit("load", "ok", {{"cmdline", plan->cmdline}});
  // 6 commit: the disk takeover arrives with a later release; nothing on disk changes yet.
  // 7 boot, after the caller has finished when asked (or when cloud-init is the caller).
  char fetched[128];
  snprintf(fetched, sizeof fetched, " (fetching %s took %.2f s, the kernel's load %.2f s)",
           MiB(stage_plan->total_bytes).c_str(), fetch_s, load_s);
  events.Say("loaded " + vm->manifest.meta.name + " in " + events.Elapsed() + " s" + fetched);
  if (pid_t cloud_init = CloudInitAncestor(); options.detach || cloud_init) {
    pid_t anchor = cloud_init ? cloud_init : WaitAnchor();
    std::string who = cloud_init ? "cloud-init" : "the calling process";
    auto parent = DetachUntilGone(anchor, options.detach_timeout_s);
    if (!parent) return Report(parent.error(), events, "boot");
    if (*parent) {
      events.Say("the reboot into " + vm->manifest.meta.name + " happens in the background once " + who +
                 " (pid " + std::to_string(anchor) + ") has finished, within " +
                 std::to_string(options.detach_timeout_s) + " s");
      events.Emit("boot", "detached", {{"waitFor", who}, {"pid", anchor}});
      return kExitOk;
    }
  }
  events.Say("rebooting into " + vm->manifest.meta.name);
  events.Emit("boot", "start", {{"how", "kexec"}});
  auto booted = kexec::Boot(base::RealSys());
  return Report(booted.error(), events, "boot");
}

}  // namespace agent
