#include "fetch/stage.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <linux/magic.h>

#include "base/base.h"
#include "fetch/url.h"

namespace fetch {
namespace {

using base::ErrorKind;
namespace fs = std::filesystem;

constexpr const char* kPartialDir = ".bootrino-partial";


/// Writes a download straight into its staged file.
class FileSink : public Sink {
 public:
  explicit FileSink(base::Fd fd) : fd_(std::move(fd)) {}
  base::Result<void> Write(std::uint64_t offset, std::span<const char> bytes) override {
    return base::WriteAllAt(fd_, bytes, offset);
  }
  base::Result<void> Truncate(std::uint64_t size) override {
    if (ftruncate(fd_.get(), static_cast<off_t>(size)) != 0) {
      return base::Fail(ErrorKind::kInternal, std::string("ftruncate: ") + std::strerror(errno), errno);
    }
    return {};
  }
  base::Result<void> Read(std::uint64_t offset, std::span<char> bytes) override {
    return base::ReadExactlyAt(fd_, bytes, offset);
  }

 private:
  base::Fd fd_;
};

base::Result<void> PrepareDir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return base::Fail(ErrorKind::kUsage, "cannot create stage directory " + dir.string() + ": " + ec.message());
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().filename() == kPartialDir) continue;  // an interrupted stage: restart it
    return base::Fail(base::Error(ErrorKind::kUsage, "stage directory " + dir.string() + " is not empty")
                          .Hint("bootrino will not mix its files with others: name a new or empty directory"));
  }
  if (ec) return base::Fail(ErrorKind::kUsage, "cannot read stage directory " + dir.string() + ": " + ec.message());
  fs::remove_all(dir / kPartialDir, ec);
  return {};
}

// Every staged file stays open until all are verified, one descriptor each.
// Running out of them, or meeting a path already taken, is about what the
// manifest asks for (how many files, which names), not a bug in bootrino.
base::Result<base::Fd> OpenStaged(const fs::path& target, const PayloadFile& file, std::size_t files) {
  auto fd = base::Open(target.string(), O_RDWR | O_CREAT | O_EXCL, 0644);
  if (fd) return fd;
  const int err = fd.error().sys_errno();
  if (err == EMFILE || err == ENFILE) {
    return base::Fail(base::Error(ErrorKind::kManifest,
                                  "staging " + file.name + ": out of file descriptors (" + std::strerror(err) +
                                      "); the manifest names " + std::to_string(files) +
                                      " files and bootrino keeps each one open until all are verified",
                                  err)
                          .Hint(err == EMFILE ? "raise the limit of open files (ulimit -n " +
                                                    std::to_string(files + 64) +
                                                    ") and run again, or ask the manifest's publisher to ship "
                                                    "fewer, larger files"
                                              : "the whole system is out of open files (fs.file-max): close "
                                                "programs or raise it, or ask the manifest's publisher to ship "
                                                "fewer, larger files"));
  }
  if (err == EEXIST || err == ENOTDIR || err == EISDIR) {
    return base::Fail(base::Error(ErrorKind::kManifest,
                                  "staging " + file.name + ": another file of the manifest already took its path (" +
                                      std::strerror(err) + ")",
                                  err)
                          .Hint("the manifest's publisher must give each file a distinct \"name\""));
  }
  return fd;
}

std::string Octal(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

/// Why another user could change `path` (described by `st`), or "" when none can.
std::string WhoElseCanChange(const fs::path& path, const struct stat& st, bool is_stage_dir) {
  const uid_t me = geteuid();
  if (is_stage_dir) {
    if (!S_ISDIR(st.st_mode)) return path.string() + " is not a directory";
    if (st.st_uid != me) return path.string() + " belongs to uid " + std::to_string(st.st_uid) + ", not to this user";
    if (st.st_mode & 022) return path.string() + " is writable by other users (mode " + Octal(st.st_mode) + ")";
    return "";
  }
  if (st.st_uid != me && st.st_uid != 0) {
    return "its parent " + path.string() + " belongs to uid " + std::to_string(st.st_uid);
  }
  const bool sticky_root = (st.st_mode & S_ISVTX) && st.st_uid == 0;
  if ((st.st_mode & 022) && !sticky_root) {
    return "its parent " + path.string() + " is writable by other users (mode " + Octal(st.st_mode) + ")";
  }
  return "";
}

}  // namespace

base::Result<std::string> MakePrivateDir(const std::string& dir) {
  std::error_code ec;
  // Symbolic links in the part that exists are resolved, so the directories checked are the ones used.
  const fs::path full = fs::weakly_canonical(fs::absolute(dir, ec), ec);
  if (ec || full.empty()) {
    return base::Fail(ErrorKind::kUsage, "cannot resolve stage directory " + dir + ": " + ec.message());
  }
  fs::path at;
  std::vector<fs::path> components(full.begin(), full.end());
  for (std::size_t i = 0; i < components.size(); ++i) {
    at /= components[i];
    const bool last = i + 1 == components.size();
    struct stat st {};
    if (lstat(at.c_str(), &st) != 0) {
      if (errno != ENOENT || (mkdir(at.c_str(), 0755) != 0 && errno != EEXIST) || lstat(at.c_str(), &st) != 0) {
        return base::Fail(base::Error(ErrorKind::kUsage, base::SysMessage("creating", at.string(), errno), errno)
                              .Hint("name a stage directory that bootrino can create"));
      }
    }
    if (S_ISLNK(st.st_mode)) {  // appeared since it was resolved
      return base::Fail(base::Error(ErrorKind::kUsage, "stage directory " + dir + ": " + at.string() +
                                                            " changed into a symbolic link while being checked")
                            .Hint("name a stage directory that only you can change"));
    }
    if (std::string why = WhoElseCanChange(at, st, last); !why.empty()) {
      return base::Fail(base::Error(ErrorKind::kUsage, "refusing stage directory " + dir + ": " + why)
                            .Hint("the hook runs as root on what is staged, so no other user may be able to change "
                                  "it: name a new directory in one that only you (or root) can write, such as a new "
                                  "directory under /run, or remove the others' write access (chmod go-w)"));
    }
  }
  return full.string();
}

bool IsNoSpace(const base::Error& error) { return error.sys_errno() == ENOSPC || error.sys_errno() == EDQUOT; }

base::Error ExplainNoSpace(base::Error error, const std::string& dir, std::uint64_t needed_bytes,
                           std::string_view what_needs) {
  if (!IsNoSpace(error)) return error;
  struct statfs s {};
  const bool known = statfs(dir.c_str(), &s) == 0;
  const bool in_ram = known && (s.f_type == TMPFS_MAGIC || s.f_type == RAMFS_MAGIC);
  const std::uint64_t block = known ? static_cast<std::uint64_t>(s.f_bsize) : 0;
  const char* kind = !known                        ? "a filesystem"
                     : s.f_type == TMPFS_MAGIC       ? "a tmpfs"
                     : s.f_type == RAMFS_MAGIC       ? "a ramfs"
                                                     : "a filesystem";
  std::string what = error.sys_errno() == EDQUOT ? "the disk quota of the filesystem holding " + dir + " is spent"
                                                 : "the filesystem holding " + dir + " is full";
  if (known) {
    what += std::string(" (") + kind + " of " + base::WholeMiB(s.f_blocks * block) + ", " +
            base::WholeMiB(s.f_bavail * block) + " free now)";
  }
  what += "; " + std::string(what_needs) + " needs " + base::WholeMiB(needed_bytes);
  const std::string hint =
      in_ram ? "give the tmpfs holding " + dir + " at least " + base::WholeMiB(needed_bytes) +
                   " (mount -o remount,size=… on its mount point) or use an instance with more memory; nothing was "
                   "changed"
             : "free " + base::WholeMiB(needed_bytes) +
                   " on that filesystem, or name a stage directory on one with room (a tmpfs keeps the files in RAM); "
                   "nothing was changed";
  return base::Error(in_ram ? ErrorKind::kNotEnoughRam : ErrorKind::kUsage, error.message() + ": " + what,
                     error.sys_errno())
      .Hint(hint);
}

base::Result<StagePlan> PlanStage(const ArchPayload& payload, std::string_view manifest_url) {
  StagePlan plan;
  auto add = [&](const PayloadFile& file, const char* role) -> base::Result<void> {
    StageItem item{&file, role, {}};
    ASSIGN_OR_RETURN(std::string primary, WithContext(ResolveUrl(manifest_url, file.url), file.name));
    item.urls.push_back(primary);
    for (const std::string& mirror : file.mirrors) {
      ASSIGN_OR_RETURN(std::string url, WithContext(ResolveUrl(manifest_url, mirror), file.name + " mirror"));
      item.urls.push_back(url);
    }
    plan.total_bytes += file.size;
    plan.items.push_back(std::move(item));
    return {};
  };
  RETURN_IF_ERROR(add(payload.kernel, "kernel"));
  for (const auto& f : payload.initrds) RETURN_IF_ERROR(add(f, "initrd"));
  for (const auto& f : payload.files) RETURN_IF_ERROR(add(f, "file"));
  plan.ram_needed = plan.total_bytes + kRamHeadroomBytes;
  plan.budget = {{"the staged files", plan.total_bytes}, {"bootrino itself and working headroom", kRamHeadroomBytes}};
  return plan;
}

void AddToBudget(StagePlan& plan, std::string what, std::uint64_t bytes) {
  if (bytes == 0) return;
  plan.budget.insert(plan.budget.empty() ? plan.budget.end() : plan.budget.end() - 1, {std::move(what), bytes});
  plan.ram_needed += bytes;
}

base::Result<std::uint64_t> ParseMeminfo(std::string_view meminfo, std::string_view field) {
  const std::string key = "\n" + std::string(field) + ":";
  const std::string text = "\n" + std::string(meminfo);
  std::size_t at = text.find(key);
  if (at == std::string::npos) {
    return base::Fail(ErrorKind::kPreflight, "/proc/meminfo has no " + std::string(field) + " line");
  }
  std::string_view rest = std::string_view(text).substr(at + key.size());
  std::size_t i = 0;
  while (i < rest.size() && rest[i] == ' ') ++i;
  std::uint64_t kib = 0;
  std::size_t digits = 0;
  for (; i < rest.size() && rest[i] >= '0' && rest[i] <= '9'; ++i, ++digits) {
    if (kib > (UINT64_MAX / 1024 - 9) / 10) {
      return base::Fail(ErrorKind::kPreflight, std::string(field) + " in /proc/meminfo is out of range");
    }
    kib = kib * 10 + static_cast<std::uint64_t>(rest[i] - '0');
  }
  if (digits == 0 || rest.substr(i, 3) != " kB") {
    return base::Fail(ErrorKind::kPreflight, "cannot read " + std::string(field) + " in /proc/meminfo");
  }
  return kib * 1024;
}

base::Result<void> CheckMinRam(std::uint64_t min_ram_mib, std::uint64_t mem_total) {
  if (mem_total >= (min_ram_mib << 20)) return {};
  return base::Fail(base::Error(ErrorKind::kNotEnoughRam, "this OS needs at least " + std::to_string(min_ram_mib) +
                                                              " MiB of RAM; this machine has " +
                                                              base::WholeMiB(mem_total))
                        .Hint("use an instance type with more memory; nothing was fetched or changed"));
}

base::Result<void> CheckFitsInRam(const StagePlan& plan, std::uint64_t mem_available) {
  if (plan.ram_needed <= mem_available) return {};
  std::vector<std::string> lines;
  for (const auto& line : plan.budget) lines.push_back(base::WholeMiB(line.bytes) + " " + line.what);
  const std::string parts = lines.empty() ? "" : " (" + base::Join(lines, " + ") + ")";
  return base::Fail(base::Error(ErrorKind::kNotEnoughRam, "the takeover needs " + base::WholeMiB(plan.ram_needed) +
                                                              " of RAM at once" + parts + " but only " +
                                                              base::WholeMiB(mem_available) + " is available")
                        .Hint("use an instance type with more memory, or stop services that hold memory; "
                              "nothing was fetched or changed"));
}

base::Result<std::vector<StagedFile>> StageFiles(const StagePlan& plan, const std::string& dir,
                                                 const TransferOptions& options, TransferObserver& observer) {
  const fs::path root(dir);
  RETURN_IF_ERROR(PrepareDir(root));
  const fs::path partial = root / kPartialDir;
  // Whatever happens below, the partial directory does not outlive this call.
  auto cleanup = [&partial](void*) {
    std::error_code ec;
    fs::remove_all(partial, ec);
  };
  std::unique_ptr<void, decltype(cleanup)> guard(reinterpret_cast<void*>(1), cleanup);

  std::vector<std::unique_ptr<FileSink>> sinks;
  std::vector<Download> downloads;
  for (const StageItem& item : plan.items) {
    fs::path target = partial / item.file->name;
    std::error_code ec;
    fs::create_directories(target.parent_path(), ec);
    if (ec) return base::Fail(ErrorKind::kInternal, "creating " + target.parent_path().string() + ": " + ec.message());
    ASSIGN_OR_RETURN(base::Fd fd, OpenStaged(target, *item.file, plan.items.size()));
    sinks.push_back(std::make_unique<FileSink>(std::move(fd)));
    downloads.push_back(Download{item.file->name, item.urls, item.file->size, item.file->size, item.file->sha256,
                                 sinks.back().get()});
  }
  auto downloaded = DownloadAll(downloads, options, observer);
  if (!downloaded) return base::Fail(ExplainNoSpace(std::move(downloaded).error(), dir, plan.total_bytes));
  std::vector<DownloadResult> results = std::move(*downloaded);
  sinks.clear();  // close every file before it moves

  std::vector<StagedFile> staged;
  for (std::size_t i = 0; i < plan.items.size(); ++i) {
    const std::string& name = plan.items[i].file->name;
    fs::path final_path = root / name;
    std::error_code ec;
    fs::create_directories(final_path.parent_path(), ec);
    fs::rename(partial / name, final_path, ec);
    if (ec) return base::Fail(ErrorKind::kInternal, "moving " + name + " into " + dir + ": " + ec.message());
    staged.push_back(StagedFile{&plan.items[i], final_path.string(), results[i]});
  }
  return staged;
}

}  // namespace fetch
