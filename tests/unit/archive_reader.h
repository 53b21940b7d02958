// Reads a generated archive (tar, tar.gz, newc cpio) back with libarchive's
// reader, so tests check members as an extractor sees them.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

namespace testing_support {

struct ArchiveMember {
  std::string path, data, link;
  unsigned mode = 0, type = 0;  ///< permission bits; AE_IFREG / AE_IFDIR / AE_IFLNK
  long uid = -1, gid = -1;
  std::string uname, gname;
  long mtime = -1;
};

inline std::vector<ArchiveMember> ReadArchive(const std::string& bytes) {
  std::unique_ptr<archive, int (*)(archive*)> a(archive_read_new(), archive_read_free);
  archive_read_support_format_all(a.get());
  archive_read_support_filter_all(a.get());
  EXPECT_EQ(archive_read_open_memory(a.get(), bytes.data(), bytes.size()), ARCHIVE_OK);
  std::vector<ArchiveMember> out;
  archive_entry* e = nullptr;
  while (archive_read_next_header(a.get(), &e) == ARCHIVE_OK) {
    ArchiveMember m;
    m.path = archive_entry_pathname(e);
    if (m.path.size() > 1 && m.path.back() == '/') m.path.pop_back();  // tar spells directories "root/"
    m.mode = archive_entry_perm(e);
    m.type = archive_entry_filetype(e);
    m.uid = archive_entry_uid(e);
    m.gid = archive_entry_gid(e);
    m.uname = archive_entry_uname(e) ? archive_entry_uname(e) : "";
    m.gname = archive_entry_gname(e) ? archive_entry_gname(e) : "";
    m.mtime = archive_entry_mtime(e);
    if (archive_entry_symlink(e)) m.link = archive_entry_symlink(e);
    char buffer[4096];
    for (la_ssize_t n; (n = archive_read_data(a.get(), buffer, sizeof buffer)) > 0;) m.data.append(buffer, n);
    out.push_back(m);
  }
  return out;
}

/// The member at `path`, or nullptr.
inline const ArchiveMember* FindMember(const std::vector<ArchiveMember>& members, const std::string& path) {
  for (const auto& m : members) {
    if (m.path == path) return &m;
  }
  return nullptr;
}

}  // namespace testing_support
