// `bootrino inspect` and `bootrino fetch`: the first half of the pipeline.
#include "agent/commands.h"

#include <cstdio>
#include <filesystem>

#include "agent/pipeline.h"
#include "base/base.h"
#include "observe/observe.h"

namespace agent {

namespace fs = std::filesystem;

int Inspect(const std::string& ref, const CommonOptions& common) {
  observe::Events events;
  if (auto r = events.Open(common.json_events); !r) return observe::Report(r.error(), events, observe::Phase::kStart);
  auto vm = ResolveManifest(ref, common, events);
  if (!vm) return observe::Report(vm.error(), events, observe::Phase::kManifest);
  if (common.json) {
    std::printf("%s\n", observe::ManifestJson(*vm).dump(2).c_str());
  } else {
    observe::PrintManifest(*vm);
  }
  return observe::kExitOk;
}

int Fetch(const std::string& ref, const CommonOptions& common, const FetchOptions& options) {
  base::InstallInterruptHandlers();  // SIGTERM, SIGINT, SIGHUP: transfers and the hook stop, nothing is left staged
  observe::Events events;
  if (auto r = events.Open(common.json_events); !r) return observe::Report(r.error(), events, observe::Phase::kStart);
  // The hook runs as root on what is in the directory: nobody else may be able to change it.
  // The directory as checked, symbolic links resolved: the one used from here on, whatever a link is made to say.
  auto checked = fetch::MakePrivateDir(options.stage_dir);
  if (!checked) return observe::Report(checked.error(), events, observe::Phase::kStart);
  const std::string& dir = *checked;
  auto vm = ResolveManifest(ref, common, events);
  if (!vm) return observe::Report(vm.error(), events, observe::Phase::kManifest);
  auto arch = MachineArch(common);
  if (!arch) return observe::Report(arch.error(), events, observe::Phase::kPlanStage);
  auto plan = PlanForHost(*vm, *arch, {}, events);
  if (!plan) return observe::Report(plan.error(), events, observe::Phase::kPlanStage);
  std::error_code ec;
  if (!IsInRam(dir)) {
    events.Warn(dir + " is not on a RAM filesystem (tmpfs); `bootrino run` stages into RAM itself");
  }
  auto staged = StageInto(*vm, *plan, dir, common, events);
  if (!staged) return observe::Report(staged.error(), events, observe::Phase::kStage);
  if (auto r = NotInterrupted(); !r) {
    fs::remove_all(dir, ec);  // stopped: nothing is left staged
    return observe::Report(r.error(), events, observe::Phase::kStage);
  }
  if (options.run_hooks) {
    if (auto r = RunAfterStageHook(*vm, dir, events); !r) {
      fs::remove_all(dir, ec);  // a failed hook leaves nothing staged
      return observe::Report(r.error(), events, observe::Phase::kHook);
    }
  }
  if (common.json) {
    auto index = base::ReadFile(fetch::StageMetaPath(dir, "stage.json"), 1 << 20);
    std::printf("%s", index ? index->c_str() : "{}\n");
  } else {
    for (const auto& s : *staged) {
      std::printf("%-7s %-28s %10s  %s\n", s.item->role.c_str(), observe::Shown(s.path).c_str(),
                  base::MiB(s.download.bytes).c_str(), s.download.sha256.c_str());
    }
    std::printf("staged %zu files, every one verified (manifest verified by %s)\n", staged->size(),
                observe::Shown(vm->verified_by).c_str());
  }
  return observe::kExitOk;
}

}  // namespace agent
