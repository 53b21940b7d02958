#include "kexec/initrd.h"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <set>

#include <fcntl.h>
#include <unistd.h>

#include "base/base.h"
#include "kexec/archive_writer.h"

namespace kexec {
namespace {

using base::ErrorKind;

base::Error ArchiveError(archive* a, const std::string& what) {
  return archive_writer::Error(a, "the overlay cpio", what);
}

// Overlay files are bootrino's own ("etc/bootrino/boot-id"): relative paths of
// plain components, each given once, never both a file and a directory (the
// kernel would unpack one over the other), and plain permissions: no setuid,
// setgid or sticky bit, no file type bits.
base::Result<void> CheckOverlayFiles(const std::vector<OverlayFile>& files) {
  std::set<std::string> file_paths, dir_paths;
  for (const OverlayFile& f : files) {
    auto bad = [&](const std::string& why) {
      return base::Fail(ErrorKind::kInternal, "overlay path \"" + f.path + "\" " + why);
    };
    if (f.path.empty() || f.path.front() == '/') return bad("must be relative");
    if (f.path.find('\0') != std::string::npos) return bad("contains a NUL byte");
    // newc's end-of-archive entry (as the file or its first directory): what follows would not be read.
    if (f.path == "TRAILER!!!" || f.path.starts_with("TRAILER!!!/")) {
      return bad("uses the name that ends a cpio archive");
    }
    for (std::size_t start = 0; start <= f.path.size();) {
      std::size_t end = std::min(f.path.find('/', start), f.path.size());
      std::string_view part(f.path.data() + start, end - start);
      if (part.empty() || part == "." || part == "..") return bad("has an empty, '.' or '..' component");
      if (end < f.path.size()) dir_paths.insert(f.path.substr(0, end));
      start = end + 1;
    }
    if (!file_paths.insert(f.path).second) return bad("is given twice");
    if (f.mode & ~0777u) {
      char mode[16];
      std::snprintf(mode, sizeof mode, "0%o", f.mode);
      return bad(std::string("has mode ") + mode + "; overlay files take permission bits only (0 to 0777)");
    }
  }
  for (const std::string& path : file_paths) {
    if (dir_paths.count(path)) {
      return base::Fail(ErrorKind::kInternal, "overlay path \"" + path + "\" is both a file and a directory");
    }
  }
  return {};
}

// Parent directories are 0755, except root's home and its .ssh: the kernel
// gives a directory that an earlier initrd already made the mode this archive
// says, and sshd refuses keys under a /root others can write into or read.
unsigned DirectoryMode(std::string_view dir) { return dir == "root" || dir == "root/.ssh" ? 0700 : 0755; }

}  // namespace

base::Result<std::string> BuildOverlay(const std::vector<OverlayFile>& files) {
  RETURN_IF_ERROR(CheckOverlayFiles(files));
  std::string out;
  archive_writer::Writer a(archive_write_new());
  if (!a) return base::Fail(ErrorKind::kInternal, "archive_write_new failed");
  // No block padding: the kernel wants the archive, not a tape image.
  if (archive_write_set_format_cpio_newc(a.get()) != ARCHIVE_OK || archive_write_set_bytes_per_block(a.get(), 0) ||
      archive_write_open(a.get(), &out, nullptr, archive_writer::AppendToString, nullptr) != ARCHIVE_OK) {
    return base::Fail(ArchiveError(a.get(), "opening"));
  }
  std::set<std::string> dirs_written;
  auto write_entry = [&](const std::string& path, unsigned type, unsigned mode,
                         std::string_view data) -> base::Result<void> {
    archive_writer::Entry e(archive_entry_new());
    archive_entry_set_pathname(e.get(), path.c_str());
    archive_entry_set_filetype(e.get(), type);
    archive_entry_set_perm(e.get(), mode);
    archive_entry_set_size(e.get(), static_cast<la_int64_t>(data.size()));  // dirs too: libarchive's cpio writer needs it
    archive_entry_set_uid(e.get(), 0);
    archive_entry_set_gid(e.get(), 0);
    archive_entry_set_mtime(e.get(), 0, 0);
    archive_entry_set_nlink(e.get(), type == AE_IFDIR ? 2 : 1);
    if (archive_write_header(a.get(), e.get()) != ARCHIVE_OK) return base::Fail(ArchiveError(a.get(), path));
    if (!data.empty() && archive_write_data(a.get(), data.data(), data.size()) != static_cast<la_ssize_t>(data.size())) {
      return base::Fail(ArchiveError(a.get(), path));
    }
    return {};
  };
  for (const OverlayFile& f : files) {
    for (std::size_t slash = f.path.find('/'); slash != std::string::npos; slash = f.path.find('/', slash + 1)) {
      std::string dir = f.path.substr(0, slash);
      if (dirs_written.insert(dir).second) RETURN_IF_ERROR(write_entry(dir, AE_IFDIR, DirectoryMode(dir), ""));
    }
    RETURN_IF_ERROR(write_entry(f.path, AE_IFREG, f.mode, f.contents));
  }
  if (archive_write_close(a.get()) != ARCHIVE_OK) return base::Fail(ArchiveError(a.get(), "closing"));
  return out;
}

std::uint64_t ComposedInitrdBytes(const std::vector<std::uint64_t>& initrd_sizes, std::uint64_t overlay_bytes) {
  std::uint64_t total = 0;
  for (std::uint64_t size : initrd_sizes) total += (size + kInitrdAlign - 1) / kInitrdAlign * kInitrdAlign;
  return total + overlay_bytes;
}

base::Result<std::uint64_t> ComposeInitrd(const std::vector<std::string>& initrd_paths, std::string_view overlay,
                                          const std::string& out_path) {
  ASSIGN_OR_RETURN(base::Fd out, base::Open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600));
  std::uint64_t offset = 0;
  std::string buffer(1 << 20, '\0');
  auto pad = [&]() -> base::Result<void> {
    std::uint64_t padding = (kInitrdAlign - offset % kInitrdAlign) % kInitrdAlign;
    if (padding == 0) return {};
    std::string zeros(padding, '\0');
    RETURN_IF_ERROR(base::WriteAllAt(out, zeros, offset));
    offset += padding;
    return {};
  };
  for (const std::string& path : initrd_paths) {
    ASSIGN_OR_RETURN(base::Fd in, base::Open(path, O_RDONLY));
    while (true) {
      ssize_t n = read(in.get(), buffer.data(), buffer.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return base::Fail(ErrorKind::kInternal, base::SysMessage("read", path, errno), errno);
      if (n == 0) break;
      RETURN_IF_ERROR(base::WriteAllAt(out, std::span<const char>(buffer.data(), static_cast<std::size_t>(n)), offset));
      offset += static_cast<std::uint64_t>(n);
    }
    RETURN_IF_ERROR(pad());
  }
  RETURN_IF_ERROR(base::WriteAllAt(out, overlay, offset));
  offset += overlay.size();
  return offset;
}

}  // namespace kexec
