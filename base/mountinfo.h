// /proc/self/mountinfo (proc(5)): which file systems are mounted where, and
// from which device. disk/ reads it to find the disk holding `/`, userdata/ to
// find a mounted NoCloud seed volume; both through this one parser.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace base {

/// One line of /proc/self/mountinfo, the fields bootrino uses.
struct MountEntry {
  unsigned major = 0, minor = 0;  ///< the device number mounted: 0:N for tmpfs, FUSE, overlay and other
                                  ///< file systems with no block device
  std::string root;               ///< the directory of that file system mounted: "/" unless a bind mount of
                                  ///< a subdirectory; unescaped
  std::string mount_point;        ///< unescaped
  std::string fstype;
  std::string source;  ///< e.g. /dev/vda1, or "none": chosen by whoever mounts (any FUSE file system names
                       ///< itself), so it never decides which device a mount is
};

/// Parses /proc/self/mountinfo text; malformed lines are skipped. The kernel
/// escapes space, tab, newline and backslash in paths as \ooo: they are unescaped.
std::vector<MountEntry> ParseMountinfo(std::string_view text);

}  // namespace base
