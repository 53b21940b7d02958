// The one initrd the new kernel gets: the manifest's initrds in order, then a
// generated overlay cpio with what the RAM OS needs from bootrino. Linux
// unpacks concatenated (optionally compressed) newc archives into one rootfs
// (Documentation/driver-api/early-userspace/buffer-format.rst).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/base.h"

namespace kexec {

struct OverlayFile {
  std::string path;      ///< relative, e.g. "etc/bootrino/boot-id"
  std::string contents;
  unsigned mode = 0644;  ///< permission bits only (at most 0777)
};

/// An uncompressed newc cpio holding `files` and their parent directories
/// (0755, but `root` and `root/.ssh` 0700), owned by root with mtime 0, so
/// equal input gives byte-equal output.
[[nodiscard]] base::Result<std::string> BuildOverlay(const std::vector<OverlayFile>& files);

/// Each piece is padded with zeros to this boundary before the next begins:
/// the kernel finds the next archive's magic only at an aligned offset after a
/// compressed member (without it the kernel reports "invalid magic" and skips the rest).
inline constexpr std::uint64_t kInitrdAlign = 512;

/// The size ComposeInitrd gives for initrds of `initrd_sizes` bytes and an overlay of `overlay_bytes`.
std::uint64_t ComposedInitrdBytes(const std::vector<std::uint64_t>& initrd_sizes, std::uint64_t overlay_bytes);

/// Writes `initrd_paths` (in order, each padded) then `overlay` into
/// `out_path`; returns the bytes written.
[[nodiscard]] base::Result<std::uint64_t> ComposeInitrd(const std::vector<std::string>& initrd_paths,
                                                        std::string_view overlay, const std::string& out_path);

}  // namespace kexec
