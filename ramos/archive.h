// Small deterministic archives of files bootrino generates for a RAM OS: an
// Alpine apkovl and a Tiny Core mydata.tgz (gzip'd tar), and extra newc cpio
// members for an initrd. Equal entries give byte-equal output: every entry is
// written in path order with mtime 0 and the owner given, nothing taken from
// this host.
#pragma once

#include <string>
#include <vector>

#include "base/base.h"

namespace ramos {

/// One member of a generated archive. Parents are not created implicitly: a
/// tar extractor makes missing directories itself, and a cpio member needs its
/// directory to exist already (in an earlier initrd or as an earlier entry).
struct ArchiveEntry {
  enum class Type { kFile, kDirectory, kSymlink };
  std::string path;      ///< relative, plain components: "etc/network/interfaces"
  Type type = Type::kFile;
  unsigned mode = 0644;  ///< permission bits; never setuid/setgid/sticky, never world-writable
  std::string data;      ///< a file's bytes, or a symlink's target (absolute: "/etc/init.d/sshd")
  unsigned uid = 0, gid = 0;
  std::string uname = "root", gname = "root";  ///< tar extractors map names before numbers
};

enum class ArchiveFormat {
  kTarGz,      ///< ustar, gzip'd without a timestamp or file name
  kCpioNewc,   ///< uncompressed newc, the kernel's initramfs format
};

/// The archive of `entries`, sorted by path (so a directory precedes what it
/// holds). kInternal when a path is absolute, empty, has a "." or ".."
/// component or is given twice, when a mode is unsafe, or when a symlink's
/// target is not an absolute path of plain components.
[[nodiscard]] base::Result<std::string> BuildArchive(std::vector<ArchiveEntry> entries, ArchiveFormat format);

}  // namespace ramos
