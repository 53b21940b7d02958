#include "takeover/plan.h"

#include <cstdio>

#include "base/base.h"
#include "disk/disk.h"
#include "host/host.h"
#include "observe/observe.h"
#include "takeover/disk_takeover.h"

namespace takeover {
namespace {

using json = nlohmann::ordered_json;

// What the RAM OS gets from this instance, and where it goes.
void PrintPersonal(const TakeoverPlan& plan) {
  const auto& p = plan.boot.personal;
  const std::string style = p["style"].get<std::string>();
  if (style == "none") {
    std::printf("  personal none: the manifest takes no SSH keys, hostname or network (only /etc/bootrino)\n");
  } else {
    std::string where = "the initrd overlay";
    for (const auto& f : p["bootPartition"]) {
      where += ", " + f["name"].get<std::string>() +
               (plan.disk ? " on the boot partition" : " for a boot partition not written");
    }
    std::printf("  personal %s: %zu SSH key(s)%s in %s\n", style.c_str(), plan.settings.ssh_keys.size(),
                plan.settings.hostname.empty() ? "" : (", hostname " + observe::Shown(plan.settings.hostname)).c_str(),
                observe::Shown(where).c_str());
  }
  auto join = [](const json& params) {
    std::vector<std::string> parts;
    for (const auto& x : params) parts.push_back(x.get<std::string>());
    return parts.empty() ? std::string("nothing") : base::Join(parts, " ");
  };
  if (!p["kexecParams"].empty() || !p["diskParams"].empty()) {
    std::printf("           the kexec boot adds %s; firmware boots add %s\n",
                observe::Shown(join(p["kexecParams"])).c_str(), observe::Shown(join(p["diskParams"])).c_str());
  }
  std::printf("  network  %s%s\n", host::DescribeNetwork(plan.settings.network, plan.settings.network_mode).c_str(),
              plan.settings.network_reason.empty() ? "" : (" (auto: " + plan.settings.network_reason + ")").c_str());
}

}  // namespace

std::string StepName(Step step) {
  switch (step) {
    case Step::kDecompressKernel: return "decompress-kernel";
    case Step::kComposeInitrd: return "compose-initrd";
    case Step::kLoadKernel: return "load-kernel";
    case Step::kDetach: return "detach";
    case Step::kCommitPoint: return "commit-point";
    case Step::kStopOldSystem: return "stop-old-system";
    case Step::kOpenDisk: return "open-disk";
    case Step::kWriteDisk: return "write-disk";
    case Step::kBoot: return "boot";
  }
  return "?";
}

std::vector<Step> PlanSteps(BootPath path, bool decompress_kernel, bool disk, bool detach) {
  std::vector<Step> steps;
  if (decompress_kernel) steps.push_back(Step::kDecompressKernel);
  if (path == BootPath::kKexec) {
    steps.push_back(Step::kComposeInitrd);
    steps.push_back(Step::kLoadKernel);  // rule 2: loaded before anything is written
  }
  if (detach) steps.push_back(Step::kDetach);
  steps.push_back(Step::kCommitPoint);
  if (disk) {
    // Rule 4: nothing of the old disk is needed, and nothing writes to it, from the first write on.
    steps.insert(steps.end(), {Step::kStopOldSystem, Step::kOpenDisk, Step::kWriteDisk});
  }
  steps.push_back(Step::kBoot);
  return steps;
}

std::string DescribeStep(const TakeoverPlan& plan, Step step) {
  const std::string device = plan.disk ? plan.disk->target.device : "";
  switch (step) {
    case Step::kDecompressKernel:
      return "decompress the " + std::string(kexec::KernelFormatName(plan.kernel.format)) +
             " kernel into the arm64 Image kexec_file_load takes, in RAM (room for " +
             base::MiB(kexec::KernelDecompressionReserve(plan.arch, plan.kernel_bytes)) + ")";
    case Step::kComposeInitrd:
      return "compose the kexec initrd (" + base::MiB(plan.boot.kexec_initrd.bytes) + ") in RAM" +
             (plan.disk ? std::string("; the disk's is composed from the same staged files as it is written") : "");
    case Step::kLoadKernel:
      return "kexec_file_load the kernel, " + std::to_string(plan.boot.kexec_initrd.parts.size() + 1) +
             " initrd part(s) and the command line" +
             (plan.fallback_reboot ? "; if refused, boot through the firmware instead" : "");
    case Step::kDetach:
      return "let " + plan.detach->who + " (pid " + std::to_string(plan.detach->anchor) +
             ") finish, then go on in the background (at most " + std::to_string(plan.detach->timeout_s) + " s)";
    case Step::kCommitPoint:
      return "the commit point: from here SIGTERM, SIGINT and SIGHUP no longer stop bootrino";
    case Step::kStopOldSystem: {
      const auto& mounts = plan.disk->target.mounts;
      return "lock bootrino in RAM (mlockall), sync, turn off swap on " + device + " and freeze what is mounted "
             "from it, deepest first (now: " + (mounts.empty() ? std::string("nothing") : base::Join(mounts, ", ")) +
             "); on a failure from here to the first write, all of it is undone";
    }
    case Step::kOpenDisk:
      return "open " + device + " once and lock it (flock), refusing it unless it is still the disk chosen";
    case Step::kWriteDisk:
      return std::string("write the boot filesystem, the data filesystem, flush, then the partition table") +
             (plan.disk->prepared.layout.bios ? " and the MBR boot code" : "") + " last, and flush";
    case Step::kBoot:
      return plan.path == BootPath::kKexec
                 ? "reboot into " + plan.name + " with kexec"
                 : "reboot through the firmware into " + plan.name + " from " + device;
  }
  return "";
}

base::Result<TakeoverPlan> PlanTakeover(const TakeoverInputs& in) {
  TakeoverPlan plan;
  plan.arch = in.arch;
  plan.manifest = in.manifest;
  plan.name = in.manifest->manifest.meta.name;
  plan.staged = in.staged;
  plan.stage_dir = in.stage_dir;
  plan.stage_tmpfs_bytes = in.stage_tmpfs_bytes;
  plan.settings = in.settings;
  plan.host = in.host;
  plan.path = in.path;
  plan.fallback_reboot = in.fallback_reboot;
  plan.detach = in.detach;
  plan.fetched_bytes = in.fetched_bytes;
  plan.fetch_seconds = in.fetch_seconds;
  ASSIGN_OR_RETURN(plan.boot, ramos::PlanBoot(*in.manifest, in.staged, in.stage_dir, in.arch, in.consoles, in.settings,
                                       in.boot_id, in.kernel));
  plan.kernel = in.kernel;
  if (in.stage_plan) {
    plan.ram_budget = in.stage_plan->budget;
    plan.mem_available = in.stage_plan->mem_available;
  }
  for (const auto& s : in.staged) {
    if (s.item->role == "kernel") plan.kernel_bytes = s.download.bytes;
  }
  if (in.target) {
    RETURN_IF_ERROR(ramos::DiskCanBoot(in.arch, in.kernel, plan.boot));
    ASSIGN_OR_RETURN(disk::PreparedDisk prepared,
                     PlanDisk(in.target->bytes, in.target->sector_size, in.manifest->manifest.boot->disk,
                              plan.boot.disk, in.seed));
    plan.disk = DiskTakeover{*in.target, std::move(prepared)};
  }
  if (plan.path == BootPath::kFirmware && !plan.disk) {
    // The run options and the preflight never get here: a firmware boot boots the disk it writes.
    return base::Fail(base::Error(base::ErrorKind::kInternal, "a boot through the firmware needs the disk it writes")
                          .Hint("drop --keep-disk, or let kexec boot the RAM OS"));
  }
  plan.steps = PlanSteps(plan.path, !plan.boot.kernel_source.empty(), plan.disk.has_value(), plan.detach.has_value());
  return plan;
}

json PlanJson(const TakeoverPlan& plan) {
  json out = {
      {"dryRun", true},
      {"arch", std::string(base::ArchName(plan.arch))},
      {"manifest", observe::ManifestJson(*plan.manifest)},
      {"files", json::array()},
      {"cmdline", plan.boot.kexec.cmdline},
      {"diskCmdline", plan.boot.disk.cmdline},
      {"stagedIn", plan.stage_dir},
      {"stageTmpfsBytes", plan.stage_tmpfs_bytes ? json(plan.stage_tmpfs_bytes) : json(nullptr)},
      {"personalisation", plan.boot.personal},
      {"network", host::NetworkJson(plan.settings.network, plan.settings.network_mode, plan.settings.network_reason)},
      {"fallback", plan.fallback_reboot ? "reboot" : "none"}};
  for (const auto& s : plan.staged) out["files"].push_back(observe::FileJson(*s.item));
  out["ram"] = {{"budget", json::array()}, {"memAvailable", plan.mem_available}};
  for (const auto& line : plan.ram_budget) out["ram"]["budget"].push_back({{"what", line.what}, {"bytes", line.bytes}});
  out["kernel"] = {
      {"path", plan.boot.kexec.kernel_path},
      {"format", kexec::KernelFormatName(plan.kernel.format)},
      {"decompressedFrom", plan.boot.kernel_source.empty() ? json(nullptr) : json(plan.boot.kernel_source)}};
  out["initrd"] = {{"parts", plan.boot.kexec_initrd.parts.size() + 1}, {"bytes", plan.boot.kexec_initrd.bytes}};
  out["disk"] = plan.disk
                    ? json{{"device", plan.disk->target.device}, {"layout", disk::ToJson(plan.disk->prepared.layout)}}
                    : json(nullptr);
  out["steps"] = json::array();
  for (Step step : plan.steps) out["steps"].push_back({{"step", StepName(step)}, {"what", DescribeStep(plan, step)}});
  return out;
}

void PrintPlan(const TakeoverPlan& plan) {
  const fetch::VerifiedManifest& vm = *plan.manifest;
  // Names, versions, file names and the command line come from the manifest: Shown() escapes their controls.
  std::printf("plan for %s (%s): %s %s, manifest verified by %s\n", std::string(base::ArchName(plan.arch)).c_str(),
              observe::Shown(vm.url).c_str(), observe::Shown(vm.manifest.meta.name).c_str(),
              observe::Shown(vm.manifest.meta.version).c_str(), observe::Shown(vm.verified_by).c_str());
  for (const auto& s : plan.staged) {
    std::printf("  %-7s %-28s %10s  verified\n", s.item->role.c_str(), observe::Shown(s.item->file->name).c_str(),
                base::MiB(s.download.bytes).c_str());
  }
  if (plan.stage_tmpfs_bytes) {
    std::printf("  stage   staged in %s (a tmpfs of %s of bootrino's own)\n", observe::Shown(plan.stage_dir).c_str(),
                base::MiB(plan.stage_tmpfs_bytes).c_str());
  } else {
    std::printf("  stage   staged in %s (on the host's tmpfs)\n", observe::Shown(plan.stage_dir).c_str());
  }
  std::printf("  initrd  the manifest's initrds in order + a bootrino overlay (/etc/bootrino)\n");
  if (!plan.ram_budget.empty()) {
    std::uint64_t total = 0;
    for (const auto& line : plan.ram_budget) total += line.bytes;
    std::printf("  RAM     %s at once, of %s available (checked before the fetch):\n", base::MiB(total).c_str(),
                base::MiB(plan.mem_available).c_str());
    for (const auto& line : plan.ram_budget) {
      std::printf("          %10s  %s\n", base::MiB(line.bytes).c_str(), line.what.c_str());
    }
  }
  std::printf("  cmdline %s\n", observe::Shown(plan.boot.kexec.cmdline).c_str());
  PrintPersonal(plan);
  if (vm.manifest.boot->after_stage) {
    std::printf("  hook    %s runs after staging\n", observe::Shown(vm.manifest.boot->after_stage->function).c_str());
  }
  if (plan.disk) {
    const auto& target = plan.disk->target;
    std::printf("  disk    replace %s (%s%s):\n", target.device.c_str(), base::MiB(target.bytes).c_str(),
                target.holds_root ? ", holds /" : "");
    std::string layout = disk::Describe(plan.disk->prepared.layout);
    for (std::size_t pos = 0; pos < layout.size();) {
      std::size_t nl = layout.find('\n', pos);
      std::printf("          %s\n", layout.substr(pos, nl - pos).c_str());
      pos = nl == std::string::npos ? layout.size() : nl + 1;
    }
  } else {
    std::printf("  disk    not touched: the RAM OS will not survive a reboot\n");
  }
  int n = 0;
  for (Step step : plan.steps) std::printf("  %d. %s\n", ++n, observe::Shown(DescribeStep(plan, step)).c_str());
}

}  // namespace takeover
