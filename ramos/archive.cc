#include "ramos/archive.h"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <set>
#include <string_view>

#include "kexec/kexec.h"

namespace ramos {
namespace {

using base::ErrorKind;

namespace archive_writer = kexec::archive_writer;

base::Error ArchiveError(archive* a, const std::string& what) {
  return archive_writer::Error(a, "a generated archive", what);
}

// True when `path` is a '/'-separated run of non-empty components, none "." or "..".
bool PlainComponents(std::string_view path) {
  if (path.empty() || path.find('\0') != std::string_view::npos) return false;
  for (std::size_t start = 0; start <= path.size();) {
    std::size_t end = std::min(path.find('/', start), path.size());
    std::string_view part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

// The entries are bootrino's own, but an extractor running as root in the RAM
// OS trusts them completely: refuse anything that could escape the target
// directory or hand out privileges.
base::Result<void> CheckEntries(const std::vector<ArchiveEntry>& entries) {
  std::set<std::string_view> seen;
  for (const ArchiveEntry& e : entries) {
    auto bad = [&](const std::string& why) {
      return base::Fail(ErrorKind::kInternal, "archive member \"" + e.path + "\" " + why);
    };
    if (e.path.starts_with("/") || !PlainComponents(e.path)) {
      return bad("must be a relative path without empty, '.' or '..' components");
    }
    // newc's end-of-archive name: a reader would stop there.
    if (e.path == "TRAILER!!!" || e.path.starts_with("TRAILER!!!/"))
      return bad("uses the name that ends a cpio archive");
    if (!seen.insert(e.path).second) return bad("is given twice");
    if ((e.mode & ~0777u) || (e.mode & 0002)) {
      char mode[16];
      std::snprintf(mode, sizeof mode, "0%o", e.mode);
      return bad(std::string("has mode ") + mode + "; members take permission bits only, never world-writable");
    }
    if (e.type == ArchiveEntry::Type::kSymlink && (!e.data.starts_with("/") || !PlainComponents(e.data.substr(1)))) {
      return bad("links to \"" + e.data + "\"; a link target must be an absolute path of plain components");
    }
    if (e.type != ArchiveEntry::Type::kFile && e.type != ArchiveEntry::Type::kSymlink && !e.data.empty()) {
      return bad("is a directory with data");
    }
  }
  return {};
}

base::Result<void> WriteEntry(archive* a, const ArchiveEntry& e) {
  archive_writer::Entry entry(archive_entry_new());
  archive_entry_set_pathname(entry.get(), e.path.c_str());
  const bool is_file = e.type == ArchiveEntry::Type::kFile;
  switch (e.type) {
    case ArchiveEntry::Type::kFile: archive_entry_set_filetype(entry.get(), AE_IFREG); break;
    case ArchiveEntry::Type::kDirectory: archive_entry_set_filetype(entry.get(), AE_IFDIR); break;
    case ArchiveEntry::Type::kSymlink:
      archive_entry_set_filetype(entry.get(), AE_IFLNK);
      archive_entry_set_symlink(entry.get(), e.data.c_str());
      break;
  }
  archive_entry_set_perm(entry.get(), e.type == ArchiveEntry::Type::kSymlink ? 0777 : e.mode);
  archive_entry_set_size(entry.get(), is_file ? static_cast<la_int64_t>(e.data.size()) : 0);
  archive_entry_set_uid(entry.get(), e.uid);
  archive_entry_set_gid(entry.get(), e.gid);
  archive_entry_set_uname(entry.get(), e.uname.c_str());
  archive_entry_set_gname(entry.get(), e.gname.c_str());
  archive_entry_set_mtime(entry.get(), 0, 0);
  archive_entry_set_nlink(entry.get(), e.type == ArchiveEntry::Type::kDirectory ? 2 : 1);
  if (archive_write_header(a, entry.get()) != ARCHIVE_OK) return base::Fail(ArchiveError(a, e.path));
  if (is_file && !e.data.empty() &&
      archive_write_data(a, e.data.data(), e.data.size()) != static_cast<la_ssize_t>(e.data.size())) {
    return base::Fail(ArchiveError(a, e.path));
  }
  return {};
}

}  // namespace

base::Result<std::string> BuildArchive(std::vector<ArchiveEntry> entries, ArchiveFormat format) {
  RETURN_IF_ERROR(CheckEntries(entries));
  std::sort(entries.begin(), entries.end(),
            [](const ArchiveEntry& a, const ArchiveEntry& b) { return a.path < b.path; });
  std::string out;
  archive_writer::Writer a(archive_write_new());
  if (!a) return base::Fail(ErrorKind::kInternal, "archive_write_new failed");
  bool ok = true;
  if (format == ArchiveFormat::kTarGz) {
    // No timestamp in the gzip header (the same entries must give the same
    // bytes), and no zeros after the gzip stream: gzip -t calls them trailing garbage.
    ok = archive_write_set_format_ustar(a.get()) == ARCHIVE_OK &&
         archive_write_add_filter_gzip(a.get()) == ARCHIVE_OK &&
         archive_write_set_filter_option(a.get(), "gzip", "timestamp", nullptr) == ARCHIVE_OK &&
         archive_write_set_bytes_in_last_block(a.get(), 1) == ARCHIVE_OK;
  } else {
    // No block padding: the kernel wants the archive, not a tape image.
    ok = archive_write_set_format_cpio_newc(a.get()) == ARCHIVE_OK &&
         archive_write_set_bytes_per_block(a.get(), 0) == ARCHIVE_OK;
  }
  if (!ok || archive_write_open(a.get(), &out, nullptr, archive_writer::AppendToString, nullptr) != ARCHIVE_OK) {
    return base::Fail(ArchiveError(a.get(), "opening"));
  }
  for (const ArchiveEntry& e : entries) RETURN_IF_ERROR(WriteEntry(a.get(), e));
  if (archive_write_close(a.get()) != ARCHIVE_OK) return base::Fail(ArchiveError(a.get(), "closing"));
  return out;
}

}  // namespace ramos
