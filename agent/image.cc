// `bootrino image`: the disk `run` would write, written to a new image file
// instead: for clouds that import disk images, for golden images, and for
// checking a layout with the reference tools. It never touches a block device.
#include <cstdio>
#include <filesystem>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/boot_plan.h"
#include "agent/commands.h"
#include "agent/exit_codes.h"
#include "agent/pipeline.h"
#include "agent/report.h"
#include "agent/takeover.h"
#include "base/fd.h"

namespace agent {
namespace {

using base::ErrorKind;
namespace fs = std::filesystem;

/// Creates the image file (sparse) at its full size; refuses anything that is not a regular file.
base::Result<void> CreateImage(const ImageOptions& options) {
  struct stat st;
  if (stat(options.output.c_str(), &st) == 0) {
    if (!S_ISREG(st.st_mode)) {
      return base::Fail(base::Error(ErrorKind::kUsage, options.output + " exists and is not a regular file")
                            .Hint("`image` writes image files only; to replace a disk, use `bootrino run`"));
    }
    if (!options.force) {
      return base::Fail(base::Error(ErrorKind::kUsage, options.output + " exists")
                            .Hint("choose a new file name, or add --force to overwrite it"));
    }
  }
  ASSIGN_OR_RETURN(base::Fd fd, base::Open(options.output, O_WRONLY | O_CREAT | O_TRUNC, 0644));
  if (ftruncate(fd.get(), static_cast<off_t>(options.size)) != 0) {
    int err = errno;
    return base::Fail(base::Error(ErrorKind::kDisk, base::SysMessage("ftruncate", options.output, err), err)
                          .Hint("check the free space and the file system's largest file size"));
  }
  return {};
}

/// Removes a half-written image unless told it is complete.
class ImageGuard {
 public:
  explicit ImageGuard(std::string path) : path_(std::move(path)) {}
  ~ImageGuard() {
    if (!done_) unlink(path_.c_str());
  }
  void Done() { done_ = true; }

 private:
  std::string path_;
  bool done_ = false;
};

}  // namespace

int Image(const std::string& ref, const CommonOptions& common, const ImageOptions& options) {
  Events events;
  if (auto r = events.Open(common.json_events); !r) return Report(r.error(), events, "start");
  const std::string arch = MachineArch(common);
  if (arch != "x86_64") {
    return Report(base::Error(ErrorKind::kDisk, "image writes x86_64 bootloaders only; this release cannot make a " +
                                                    arch + " disk bootable")
                      .Hint("build x86_64 images (--arch x86_64)"),
                  events, "image");
  }
  auto vm = ResolveManifest(ref, common, events);
  if (!vm) return Report(vm.error(), events, "manifest");
  if (vm->manifest.boot && vm->manifest.boot->after_stage) {
    events.Warn("the manifest's after-stage hook (" + vm->manifest.boot->after_stage->function +
                ") is for the host being replaced; an image build does not run it");
  }
  auto stage_plan = PlanForHost(*vm, arch, 0, events);
  if (!stage_plan) return Report(stage_plan.error(), events, "plan-stage");
  auto dir = MakeRamStageDir();
  if (!dir) return Report(dir.error(), events, "stage");
  struct DirGuard {
    std::string dir;
    ~DirGuard() {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } dir_guard{*dir};
  auto staged = StageInto(*vm, *stage_plan, *dir, common, events);
  if (!staged) return Report(staged.error(), events, "stage");
  auto plans = PlanBoot(*vm, *staged, *dir, arch, HostConsoles::CloudDefault(), RamOsSettings{}, events);
  if (!plans) return Report(plans.error(), events, "plan");
  auto prepared = PlanDisk(options.size, options.sector_size, vm->manifest.boot->disk, plans->disk,
                           options.seed.value_or(RandomSeed()), events);
  if (!prepared) return Report(prepared.error(), events, "plan-disk");
  if (auto r = CreateImage(options); !r) return Report(r.error(), events, "image");
  ImageGuard guard(options.output);
  auto written = disk::WriteDisk(options.output, *prepared);
  if (!written) return Report(written.error(), events, "image");
  guard.Done();
  events.Emit("image", "ok", {{"path", options.output}, {"bytesWritten", written->bytes_written},
                              {"seconds", written->seconds}, {"layout", disk::ToJson(prepared->layout)}});
  if (common.json) {
    nlohmann::ordered_json out = {{"image", options.output}, {"manifest", ManifestJson(*vm)},
                                  {"cmdline", plans->disk.cmdline}, {"layout", disk::ToJson(prepared->layout)},
                                  {"bytesWritten", written->bytes_written}, {"bytesMeasured", written->measured},
                                  {"seconds", written->seconds}};
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    std::printf("%s: %s %s for %s, %s\n%s  cmdline %s\n", Shown(options.output).c_str(),
                Shown(vm->manifest.meta.name).c_str(), Shown(vm->manifest.meta.version).c_str(), arch.c_str(),
                prepared->layout.bios ? "bootable from BIOS and UEFI"
                                      : "bootable from UEFI only (BIOS boot needs 512-byte sectors)",
                disk::Describe(prepared->layout).c_str(), Shown(plans->disk.cmdline).c_str());
  }
  return kExitOk;
}

}  // namespace agent
