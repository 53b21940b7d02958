// `bootrino image`: the disk `run` would write, written to a new image file
// instead: for clouds that import disk images, for golden images, and for
// checking a layout with the reference tools. It never touches a block device.
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <string>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/commands.h"
#include "agent/pipeline.h"
#include "base/base.h"
#include "disk/disk.h"
#include "kexec/kexec.h"
#include "observe/observe.h"
#include "ramos/ramos.h"
#include "takeover/takeover.h"

namespace agent {
namespace {

using base::ErrorKind;
namespace fs = std::filesystem;

/// What a file that is not a regular one is, for messages.
std::string KindOf(mode_t mode) {
  if (S_ISLNK(mode)) return "a symlink";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

constexpr const char* kImageFilesOnly = "`image` writes image files only: name a new file (to replace a disk, use "
                                        "`bootrino run`)";

/// The image file, opened once: every later write goes through `fd`.
struct ImageFile {
  base::Fd fd;
  bool created = false;  ///< by this run (O_EXCL): removed again if the run fails
  dev_t dev = 0;
  ino_t ino = 0;
};

/// An open(2) of OUTPUT that failed, explained. lstat is for the message only: nothing is decided by name.
base::Error OpenError(const std::string& path, int err) {
  struct stat st;
  const bool seen = lstat(path.c_str(), &st) == 0;
  if (err == ELOOP || (err == EEXIST && seen && S_ISLNK(st.st_mode))) {
    return std::move(base::Error(ErrorKind::kUsage, path + " is a symlink; name the file itself", err)
                         .Hint("`image` never writes through a symlink (it could point at a disk): give the image "
                               "file's own path, or a new name"));
  }
  if (err == EISDIR || (err == EEXIST && seen && !S_ISREG(st.st_mode))) {
    return std::move(base::Error(ErrorKind::kUsage,
                                 path + " exists and is not a regular file (it is " +
                                     (seen ? KindOf(st.st_mode) : std::string("a directory")) + ")",
                                 err)
                         .Hint(kImageFilesOnly));
  }
  if (err == EEXIST) {
    return std::move(base::Error(ErrorKind::kUsage, path + " exists", err)
                         .Hint("choose a new file name, or add --force to overwrite it"));
  }
  return std::move(base::Error(ErrorKind::kDisk, base::SysMessage("open", path, err), err)
                       .Hint("check that the directory exists and that you may write to it"));
}

/// Opens OUTPUT once, never through a symlink: a new file (O_EXCL), or with
/// --force an existing regular file, emptied. O_NONBLOCK: opening a FIFO or a
/// device found there never waits; fstat then refuses it before any write.
base::Result<ImageFile> OpenImage(const ImageOptions& options) {
  const std::string& path = options.output;
  constexpr int kFlags = O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
  ImageFile image;
  int fd = -1;
  if (options.force) {
    // Looked at before it is opened for writing: opening some devices does something by itself (a
    // watchdog starts counting), so what is not a regular file is never opened but through O_PATH.
    base::Fd probe(open(path.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    struct stat st {};
    if (probe.get() >= 0 && fstat(probe.get(), &st) == 0) {
      if (S_ISLNK(st.st_mode)) return base::Fail(OpenError(path, ELOOP));
      if (!S_ISREG(st.st_mode)) {
        return base::Fail(base::Error(ErrorKind::kUsage, path + " is not a regular file (it is " +
                                                             KindOf(st.st_mode) + ")")
                              .Hint(kImageFilesOnly));
      }
      // The very file looked at, whatever the name says by now (a magic link to the open inode).
      fd = open(("/proc/self/fd/" + std::to_string(probe.get())).c_str(), kFlags & ~O_NOFOLLOW);
    } else {
      fd = -1;
    }
  }
  if (fd < 0 && (!options.force || errno == ENOENT)) {
    fd = open(path.c_str(), kFlags | O_CREAT | O_EXCL, 0644);
    image.created = fd >= 0;
  }
  if (fd < 0) return base::Fail(OpenError(path, errno));
  image.fd = base::Fd(fd);
  struct stat st;
  if (fstat(fd, &st) != 0) {
    const int err = errno;
    return base::Fail(base::Error(ErrorKind::kDisk, base::SysMessage("fstat", path, err), err)
                          .Hint("check the file system holding " + path));
  }
  image.dev = st.st_dev;
  image.ino = st.st_ino;
  if (!S_ISREG(st.st_mode)) {
    return base::Fail(base::Error(ErrorKind::kUsage, path + " is not a regular file (it is " + KindOf(st.st_mode) + ")")
                          .Hint(kImageFilesOnly));
  }
  if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0) {
    const int err = errno;
    return base::Fail(base::Error(ErrorKind::kInternal, base::SysMessage("fcntl(F_SETFL)", path, err), err));
  }
  return image;
}

/// Gives the image its full size, sparse; an overwritten file is emptied
/// first, so it holds the same bytes as a new one.
base::Result<void> SizeImage(const ImageFile& image, const ImageOptions& options) {
  if ((!image.created && ftruncate(image.fd.get(), 0) != 0) ||
      ftruncate(image.fd.get(), static_cast<off_t>(options.size)) != 0) {
    const int err = errno;
    return base::Fail(base::Error(ErrorKind::kDisk, base::SysMessage("ftruncate", options.output, err), err)
                          .Hint("check the free space and the file system's largest file size"));
  }
  return {};
}

/// Removes a half-written image unless told it is complete: only a file this
/// run created, and only while OUTPUT still names that very file.
class ImageGuard {
 public:
  ImageGuard(std::string path, const ImageFile& image)
      : path_(std::move(path)), created_(image.created), dev_(image.dev), ino_(image.ino) {}
  ImageGuard(const ImageGuard&) = delete;
  ImageGuard& operator=(const ImageGuard&) = delete;
  ~ImageGuard() {
    struct stat st;
    if (done_ || !created_ || lstat(path_.c_str(), &st) != 0) return;
    if (S_ISREG(st.st_mode) && st.st_dev == dev_ && st.st_ino == ino_) unlink(path_.c_str());
  }
  void Done() { done_ = true; }
  bool Created() const { return created_; }

 private:
  std::string path_;
  bool created_;
  dev_t dev_;
  ino_t ino_;
  bool done_ = false;
};

}  // namespace

int Image(const std::string& ref, const CommonOptions& common, const ImageOptions& options) {
  // SIGTERM, SIGINT, SIGHUP: the transfers stop, and the stage and the image this run created are removed.
  base::InstallInterruptHandlers();
  observe::Events events;
  if (auto r = events.Open(common.json_events); !r) return observe::Report(r.error(), events, observe::Phase::kStart);
  auto machine_arch = MachineArch(common);
  if (!machine_arch) return observe::Report(machine_arch.error(), events, observe::Phase::kImage);
  const base::Arch arch = *machine_arch;
  if (auto r = takeover::BootloadersFor(arch); !r) return observe::Report(r.error(), events, observe::Phase::kImage);
  auto vm = ResolveManifest(ref, common, events);
  if (!vm) return observe::Report(vm.error(), events, observe::Phase::kManifest);
  if (vm->manifest.boot && vm->manifest.boot->after_stage) {
    events.Warn("the manifest's after-stage hook (" + vm->manifest.boot->after_stage->function +
                ") is for the host being replaced; an image build does not run it");
  }
  // The initrds are composed in the stage, in RAM: they count.
  auto payload = vm->manifest.PayloadFor(arch);
  if (!payload) return observe::Report(payload.error(), events, observe::Phase::kPlanStage);
  auto stage_plan = PlanForHost(*vm, arch, StageWorkLines(**payload, arch, StageFor::kImage), events);
  if (!stage_plan) return observe::Report(stage_plan.error(), events, observe::Phase::kPlanStage);
  // OUTPUT before the payload: a name that cannot be written is refused before anything is fetched. An
  // existing file (--force) is left as it is until the write.
  auto image = OpenImage(options);
  if (!image) return observe::Report(image.error(), events, observe::Phase::kImage);
  ImageGuard guard(options.output, *image);  // declared before the stage: removed after it, on every way out
  auto stage = MakeRamStage(StageTmpfsBytes(*stage_plan, **payload, arch, StageFor::kImage), base::RealSys(), events);
  if (!stage) return observe::Report(stage.error(), events, observe::Phase::kStage);
  struct StageGuard {
    RamStage stage;
    ~StageGuard() { RemoveRamStage(stage, base::RealSys()); }
  } stage_guard{*stage};
  const std::string& dir = stage_guard.stage.dir;
  auto staged = StageInto(*vm, *stage_plan, dir, common, events);
  if (!staged) return observe::Report(staged.error(), events, observe::Phase::kStage);
  if (auto r = NotInterrupted(); !r) return observe::Report(r.error(), events, observe::Phase::kStage);
  kexec::KernelHeader kernel;
  for (const auto& s : *staged) {
    if (s.item->role != "kernel") continue;
    auto header = kexec::ReadKernelHeader(s.path);
    if (!header) return observe::Report(header.error(), events, observe::Phase::kPlan);
    kernel = *header;
  }
  auto plans = ramos::PlanBoot(*vm, *staged, dir, arch, ramos::HostConsoles::CloudDefault(arch),
                               ramos::RamOsSettings{}, ramos::NewBootId(), kernel);
  if (!plans) return observe::Report(plans.error(), events, observe::Phase::kPlan);
  if (auto r = ramos::DiskCanBoot(arch, kernel, *plans); !r)
    return observe::Report(r.error(), events, observe::Phase::kPlan);
  if (!plans->kernel_source.empty()) {  // aarch64: the firmware starts the decompressed Image
    auto bytes = kexec::DecompressKernel(plans->kernel_source, plans->kexec.kernel_path, kernel.decompressed_size);
    if (!bytes) return observe::Report(bytes.error(), events, observe::Phase::kPlan);
  }
  events.Emit(observe::Phase::kPlan, "ok", ramos::BootJson(*plans));
  auto prepared = takeover::PlanDisk(options.size, options.sector_size, vm->manifest.boot->disk, plans->disk,
                           options.seed.value_or(takeover::RandomSeed()));
  if (!prepared) return observe::Report(prepared.error(), events, observe::Phase::kPlanDisk);
  events.Emit(observe::Phase::kPlanDisk, "ok", disk::ToJson(prepared->layout));
  if (auto r = NotInterrupted(); !r) return observe::Report(r.error(), events, observe::Phase::kPlan);
  // An overwritten file that fails part way is left as it is, and says so.
  auto failed = [&](const base::Error& error) {
    if (!guard.Created()) events.Warn(options.output + " is half-written: remove it, or run again to overwrite it");
    return observe::Report(error, events, observe::Phase::kImage);
  };
  if (auto r = SizeImage(*image, options); !r) return failed(r.error());
  // From here on the file is reached through its descriptor only, not by its name.
  auto target = disk::Disk::Adopt(std::move(image->fd), options.output, options.sector_size);
  if (!target) return failed(target.error());
  // The write is not cut short (it takes seconds, and disk/ knows no signals): a signal during it is
  // acted on when it ends, and the image goes as after any failure.
  auto written = disk::WriteDisk(*target, *prepared);
  if (!written) return failed(written.error());
  if (auto r = NotInterrupted(); !r) return failed(r.error());
  guard.Done();
  events.Emit(observe::Phase::kImage, "ok", {{"path", options.output}, {"bytesWritten", written->bytes_written},
                              {"seconds", written->seconds}, {"layout", disk::ToJson(prepared->layout)}});
  if (common.json) {
    nlohmann::ordered_json out = {{"image", options.output}, {"manifest", observe::ManifestJson(*vm)},
                                  {"cmdline", plans->disk.cmdline}, {"layout", disk::ToJson(prepared->layout)},
                                  {"bytesWritten", written->bytes_written}, {"bytesMeasured", written->measured},
                                  {"seconds", written->seconds}};
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    std::printf("%s: %s %s for %s, %s\n%s  cmdline %s\n", observe::Shown(options.output).c_str(),
                observe::Shown(vm->manifest.meta.name).c_str(), observe::Shown(vm->manifest.meta.version).c_str(),
                std::string(base::ArchName(arch)).c_str(),
                prepared->layout.bios ? "bootable from BIOS and UEFI"
                                      : ("bootable from UEFI only (" + prepared->layout.no_bios + ")").c_str(),
                disk::Describe(prepared->layout).c_str(), observe::Shown(plans->disk.cmdline).c_str());
  }
  return observe::kExitOk;
}

}  // namespace agent
