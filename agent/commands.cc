#include "agent/commands.h"

#include <cstdio>
#include <filesystem>

#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <linux/magic.h>
#include <nlohmann/json.hpp>

#include "agent/events.h"
#include "agent/exit_codes.h"
#include "agent/hook.h"
#include "base/fd.h"
#include "fetch/stage.h"
#include "fetch/trust.h"
#include "fetch/url.h"

namespace agent {
namespace {

using base::ErrorKind;
using base::Result;
using json = nlohmann::ordered_json;
namespace fs = std::filesystem;

std::string MiB(std::uint64_t bytes) {
  char buf[32];
  snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  return buf;
}

/// Prints an error for a person, records it as an event, and picks the exit code.
int Report(const base::Error& error, Events& events, const std::string& phase) {
  std::fprintf(stderr, "bootrino: error: %s\n", error.message().c_str());
  if (!error.hint().empty()) std::fprintf(stderr, "bootrino: what to do: %s\n", error.hint().c_str());
  int code = ExitCodeFor(error.kind());
  events.Emit(phase, "error", {{"message", error.message()}, {"hint", error.hint()}, {"exitCode", code}});
  return code;
}

std::string MachineArch(const CommonOptions& common) {
  if (!common.arch.empty()) return common.arch;
  utsname u{};
  uname(&u);
  return u.machine;
}

/// Phase 2–3a: the reference, the trust configuration, the verified manifest.
Result<fetch::VerifiedManifest> ResolveManifest(const std::string& ref_text, const CommonOptions& common,
                                                Events& events) {
  ASSIGN_OR_RETURN(fetch::ManifestRef ref, fetch::ParseReference(ref_text));
  fetch::TrustConfig trust;
  trust.insecure = common.insecure;
  for (const std::string& path : common.trust_files) {
    ASSIGN_OR_RETURN(fetch::TrustedKey key, fetch::TrustedKey::Load(path));
    trust.keys.push_back(std::move(key));
  }
  RETURN_IF_ERROR(fetch::CheckVerifiable(ref, trust));
  if (!ref.sha256 && trust.keys.empty()) {
    events.Warn("*** --insecure: " + fetch::RedactUrl(ref.url) +
                " is neither pinned nor signed; anyone who can alter it or its files controls this machine ***");
  }
  events.Emit("manifest", "start", {{"url", fetch::RedactUrl(ref.url)}});
  fetch::TransferObserver quiet;
  ASSIGN_OR_RETURN(fetch::VerifiedManifest vm, fetch::FetchVerifiedManifest(ref, trust, common.transfer, quiet));
  events.Emit("manifest", "verified",
              {{"url", fetch::RedactUrl(vm.url)}, {"sha256", vm.sha256}, {"verifiedBy", vm.verified_by},
               {"name", vm.manifest.meta.name}, {"version", vm.manifest.meta.version}});
  return vm;
}

json FileJson(const fetch::StageItem& item) {
  std::vector<std::string> urls;
  for (const auto& u : item.urls) urls.push_back(fetch::RedactUrl(u));
  return {{"role", item.role}, {"name", item.file->name}, {"size", item.file->size},
          {"sha256", item.file->sha256}, {"urls", urls}};
}

json ManifestJson(const fetch::VerifiedManifest& vm) {
  const fetch::Metadata& m = vm.manifest.meta;
  json out = {{"url", fetch::RedactUrl(vm.url)}, {"sha256", vm.sha256}, {"verifiedBy", vm.verified_by},
              {"format", vm.manifest.boot ? 1 : 0},
              {"metadata", {{"name", m.name}, {"version", m.version}, {"versionDate", m.version_date},
                            {"description", m.description}, {"options", m.options}, {"logoURL", m.logo_url},
                            {"readmeURL", m.readme_url}, {"launchTargetsURL", m.launch_targets_url},
                            {"websiteURL", m.website_url}, {"tags", m.tags},
                            {"author", {{"name", m.author.name}, {"email", m.author.email}, {"url", m.author.url}}}}}};
  if (!vm.manifest.boot) return out;
  const fetch::BootSection& b = *vm.manifest.boot;
  json boot = {{"schema", b.schema}, {"minRamMiB", b.min_ram_mib},
               {"personalisation", fetch::PersonalisationName(b.personalisation)},
               {"disk", {{"bootPartitionMiB", b.disk.boot_partition_mib}, {"dataLabel", b.disk.data_label},
                         {"dataFilesystem", b.disk.data_filesystem}}},
               {"architectures", json::object()}};
  if (b.after_stage) boot["hooks"]["afterStage"] = {{"function", b.after_stage->function},
                                                    {"timeoutSeconds", b.after_stage->timeout_seconds}};
  for (const auto& [arch, payload] : b.architectures) {
    json files = json::array();
    if (auto plan = fetch::PlanStage(payload, vm.url)) {
      for (const auto& item : plan->items) files.push_back(FileJson(item));
      boot["architectures"][arch] = {{"cmdline", payload.cmdline}, {"files", files},
                                     {"totalBytes", plan->total_bytes}};
    } else {
      boot["architectures"][arch] = {{"cmdline", payload.cmdline}, {"error", plan.error().message()}};
    }
  }
  out["boot"] = boot;
  return out;
}

void PrintManifest(const fetch::VerifiedManifest& vm) {
  const fetch::Metadata& m = vm.manifest.meta;
  std::printf("%s %s%s\n", m.name.c_str(), m.version.c_str(),
              m.version_date.empty() ? "" : (" (" + m.version_date + ")").c_str());
  if (!m.description.empty()) std::printf("  %s\n", m.description.c_str());
  auto row = [](const char* key, const std::string& value) {
    if (!value.empty()) std::printf("  %-10s %s\n", key, value.c_str());
  };
  std::string author = m.author.name;
  if (!m.author.email.empty()) author += (author.empty() ? "<" : " <") + m.author.email + ">";
  if (!m.author.url.empty()) author += (author.empty() ? "" : " ") + m.author.url;
  std::string tags;
  for (const auto& t : m.tags) tags += (tags.empty() ? "" : ", ") + t;
  row("author", author);
  row("tags", tags);
  row("website", m.website_url);
  row("readme", m.readme_url);
  row("manifest", fetch::RedactUrl(vm.url));
  row("sha256", vm.sha256);
  row("verified", vm.verified_by);
  if (!vm.manifest.boot) {
    row("format", "original bootrino metadata (no boot section): it can be inspected, not booted");
    return;
  }
  const fetch::BootSection& b = *vm.manifest.boot;
  row("format", "v1 (boot schema " + std::to_string(b.schema) + ")");
  row("memory", b.min_ram_mib ? "at least " + std::to_string(b.min_ram_mib) + " MiB" : "");
  row("personal", std::string(fetch::PersonalisationName(b.personalisation)));
  row("disk", std::to_string(b.disk.boot_partition_mib) + " MiB boot partition, " + b.disk.data_filesystem +
                  " data partition \"" + b.disk.data_label + "\"");
  if (b.after_stage) row("hook", b.after_stage->function + " after staging (limit " +
                                     std::to_string(b.after_stage->timeout_seconds) + " s)");
  for (const auto& [arch, payload] : b.architectures) {
    std::printf("  %s:\n    cmdline  %s\n", arch.c_str(), payload.cmdline.c_str());
    auto plan = fetch::PlanStage(payload, vm.url);
    if (!plan) {
      std::printf("    error    %s\n", plan.error().message().c_str());
      continue;
    }
    for (const auto& item : plan->items) {
      std::printf("    %-7s %-26s %10s  sha256 %.16s…  %s\n", item.role.c_str(), item.file->name.c_str(),
                  MiB(item.file->size).c_str(), item.file->sha256.c_str(), fetch::RedactUrl(item.urls[0]).c_str());
      for (std::size_t i = 1; i < item.urls.size(); ++i) {
        std::printf("    %-7s %-26s %10s  mirror %s\n", "", "", "", fetch::RedactUrl(item.urls[i]).c_str());
      }
    }
    std::printf("    total   %s\n", MiB(plan->total_bytes).c_str());
  }
}

/// Phase 3b, first half: what to fetch for this machine, and whether it fits.
Result<fetch::StagePlan> PlanForHost(const fetch::VerifiedManifest& vm, const std::string& arch, Events& events) {
  ASSIGN_OR_RETURN(const fetch::ArchPayload* payload, vm.manifest.PayloadFor(arch));
  ASSIGN_OR_RETURN(fetch::StagePlan plan, fetch::PlanStage(*payload, vm.url));
  ASSIGN_OR_RETURN(std::string meminfo, base::ReadFile("/proc/meminfo", 1 << 20));
  ASSIGN_OR_RETURN(std::uint64_t available, fetch::ParseMemAvailable(meminfo));
  RETURN_IF_ERROR(fetch::CheckFitsInRam(plan, available));
  events.Emit("plan-stage", "ok", {{"arch", arch}, {"files", plan.items.size()}, {"totalBytes", plan.total_bytes},
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
                                                 Events& events) {
  std::vector<std::pair<std::string, std::uint64_t>> names;
  for (const auto& item : plan.items) names.emplace_back(item.file->name, item.file->size);
  Progress progress(events, names, isatty(STDERR_FILENO) && !common.json);
  events.Say("fetching " + std::to_string(plan.items.size()) + " files (" + MiB(plan.total_bytes) + ") into " + dir);
  events.Emit("stage", "start", {{"dir", dir}, {"totalBytes", plan.total_bytes}});
  ASSIGN_OR_RETURN(auto staged, fetch::StageFiles(plan, dir, common.transfer, progress));
  progress.Finish();
  // Beside the payload: the verified manifest (hooks source it) and an index.
  json index = {{"manifest", ManifestJson(vm)}, {"files", json::array()}};
  for (const auto& s : staged) {
    json f = FileJson(*s.item);
    f["path"] = s.path;
    f["url"] = fetch::RedactUrl(s.download.url);
    f["requests"] = s.download.requests;
    index["files"].push_back(f);
  }
  std::error_code ec;
  fs::create_directories(fs::path(dir) / ".bootrino", ec);
  RETURN_IF_ERROR(base::WriteFileAtomically(dir + "/.bootrino/bootrino.sh", vm.text, 0644));
  RETURN_IF_ERROR(base::WriteFileAtomically(dir + "/.bootrino/stage.json", index.dump(2) + "\n", 0644));
  events.Emit("stage", "ok", {{"dir", dir}, {"files", staged.size()}});
  return staged;
}

Result<void> RunAfterStageHook(const fetch::VerifiedManifest& vm, const std::string& dir, Events& events) {
  if (!vm.manifest.boot || !vm.manifest.boot->after_stage) return {};
  const fetch::HookSpec& hook = *vm.manifest.boot->after_stage;
  events.Say("running hook " + hook.function + " (limit " + std::to_string(hook.timeout_seconds) + " s)");
  events.Emit("hook", "start", {{"function", hook.function}});
  RETURN_IF_ERROR(RunHook(hook, dir + "/.bootrino/bootrino.sh", dir));
  events.Emit("hook", "ok", {{"function", hook.function}});
  return {};
}

/// A fresh directory on a RAM filesystem for `run`: staged files never touch the disk.
Result<std::string> MakeRamStageDir() {
  for (const char* parent : {"/run", "/dev/shm"}) {
    if (!IsInRam(parent)) continue;
    std::string templ = std::string(parent) + "/bootrino-stage.XXXXXX";
    if (mkdtemp(templ.data())) return templ;
  }
  return base::Fail(base::Error(ErrorKind::kPreflight, "neither /run nor /dev/shm is a writable tmpfs")
                        .Hint("bootrino stages the new OS in RAM: mount a tmpfs on /run (mount -t tmpfs tmpfs /run)"));
}

}  // namespace

int Inspect(const std::string& ref, const CommonOptions& common) {
  Events events;
  if (auto r = events.Open(common.json_events); !r) return Report(r.error(), events, "start");
  auto vm = ResolveManifest(ref, common, events);
  if (!vm) return Report(vm.error(), events, "manifest");
  if (common.json) {
    std::printf("%s\n", ManifestJson(*vm).dump(2).c_str());
  } else {
    PrintManifest(*vm);
  }
  return kExitOk;
}

int Fetch(const std::string& ref, const CommonOptions& common, const FetchOptions& options) {
  Events events;
  if (auto r = events.Open(common.json_events); !r) return Report(r.error(), events, "start");
  auto vm = ResolveManifest(ref, common, events);
  if (!vm) return Report(vm.error(), events, "manifest");
  std::string arch = MachineArch(common);
  auto plan = PlanForHost(*vm, arch, events);
  if (!plan) return Report(plan.error(), events, "plan-stage");
  std::error_code ec;
  fs::create_directories(options.stage_dir, ec);
  if (!IsInRam(options.stage_dir)) {
    events.Warn(options.stage_dir + " is not on a RAM filesystem (tmpfs); `bootrino run` stages into RAM itself");
  }
  auto staged = StageInto(*vm, *plan, options.stage_dir, common, events);
  if (!staged) return Report(staged.error(), events, "stage");
  if (options.run_hooks) {
    if (auto r = RunAfterStageHook(*vm, options.stage_dir, events); !r) {
      fs::remove_all(options.stage_dir, ec);  // a failed hook leaves nothing staged
      return Report(r.error(), events, "hook");
    }
  }
  if (common.json) {
    auto index = base::ReadFile(options.stage_dir + "/.bootrino/stage.json", 1 << 20);
    std::printf("%s", index ? index->c_str() : "{}\n");
  } else {
    for (const auto& s : *staged) {
      std::printf("%-7s %-28s %10s  %s\n", s.item->role.c_str(), s.path.c_str(), MiB(s.download.bytes).c_str(),
                  s.download.sha256.c_str());
    }
    std::printf("staged %zu files, every one verified (manifest verified by %s)\n", staged->size(),
                vm->verified_by.c_str());
  }
  return kExitOk;
}

int Run(const std::string& ref, const CommonOptions& common, const RunOptions& options) {
  Events events;
  if (auto r = events.Open(common.json_events); !r) return Report(r.error(), events, "start");
  if (!options.dry_run) {
    return Report(base::Error(ErrorKind::kUsage,
                              "this release of bootrino verifies and stages an OS but cannot yet load or boot it")
                      .Hint("use `bootrino run REF --dry-run` to see the plan; nothing was changed"),
                  events, "start");
  }
  // 1 preflight, 2 resolve, 3 fetch (into RAM), 4 plan; --dry-run stops there.
  std::string arch = MachineArch(common);
  events.Emit("preflight", "ok", {{"arch", arch}, {"dryRun", options.dry_run}});
  auto vm = ResolveManifest(ref, common, events);
  if (!vm) return Report(vm.error(), events, "manifest");
  auto plan = PlanForHost(*vm, arch, events);
  if (!plan) return Report(plan.error(), events, "plan-stage");
  auto dir = MakeRamStageDir();
  if (!dir) return Report(dir.error(), events, "stage");
  auto staged = StageInto(*vm, *plan, *dir, common, events);
  std::error_code ec;
  if (!staged) {
    fs::remove_all(*dir, ec);
    return Report(staged.error(), events, "stage");
  }
  const fetch::ArchPayload& payload = **vm->manifest.PayloadFor(arch);
  json out = {{"dryRun", true}, {"arch", arch}, {"manifest", ManifestJson(*vm)}, {"cmdline", payload.cmdline},
              {"stagedIn", *dir}, {"files", json::array()}};
  for (const auto& s : *staged) out["files"].push_back(FileJson(*s.item));
  if (vm->manifest.boot->after_stage) out["hookNotRun"] = vm->manifest.boot->after_stage->function;
  events.Emit("plan", "ok", {{"dryRun", true}});
  fs::remove_all(*dir, ec);  // a dry run leaves nothing behind
  if (common.json) {
    std::printf("%s\n", out.dump(2).c_str());
    return kExitOk;
  }
  std::printf("plan for %s (%s): %s %s, manifest verified by %s\n", arch.c_str(), fetch::RedactUrl(vm->url).c_str(),
              vm->manifest.meta.name.c_str(), vm->manifest.meta.version.c_str(), vm->verified_by.c_str());
  for (const auto& s : *staged) {
    std::printf("  %-7s %-28s %10s  verified\n", s.item->role.c_str(), s.item->file->name.c_str(),
                MiB(s.download.bytes).c_str());
  }
  std::printf("  cmdline %s\n", payload.cmdline.c_str());
  if (vm->manifest.boot->after_stage) {
    std::printf("  hook    %s would run after staging\n", vm->manifest.boot->after_stage->function.c_str());
  }
  std::printf("dry run: every file was fetched into RAM and verified, then discarded; nothing was changed\n");
  return kExitOk;
}

}  // namespace agent
