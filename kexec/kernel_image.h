// What kind of kernel file a manifest delivered, and the file kexec_file_load
// is given for it. x86_64's kexec_file_load takes a bzImage as it is. arm64's
// takes only an uncompressed Image, while distributions ship `vmlinuz` as a
// gzip'd Image (Debian, Ubuntu), a zstd one, or an EFI "zboot" application
// whose payload is a compressed Image (CONFIG_EFI_ZBOOT): those are
// decompressed into the RAM stage first, with limits, and the result is
// checked to be an arm64 Image before the kernel ever sees it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace kexec {

enum class KernelFormat {
  kUnknown,
  kBzImage,     ///< x86 boot protocol: "HdrS" at 0x202
  kArm64Image,  ///< arm64 Image: "ARM\x64" at 56
  kGzip,        ///< a compressed file: gzip, zstd, xz or lzma magic at 0
  kZstd,
  kXz,
  kLzma,
  kZboot,  ///< an EFI zboot PE: "MZ", "zimg" at 4, the payload's offset, size and compression after it
};

/// "bzImage", "arm64 Image", "gzip", "zstd", "xz", "lzma", "EFI zboot", "unknown".
std::string_view KernelFormatName(KernelFormat format);

/// What the start of a kernel file says about it.
struct KernelHeader {
  KernelFormat format = KernelFormat::kUnknown;
  /// kZboot: where the compressed Image is in the file, and its compression ("gzip", "zstd22", …).
  std::uint64_t payload_offset = 0;
  std::uint64_t payload_size = 0;
  std::string compression;
  /// kArm64Image: the memory the kernel needs once running (header field image_size; 0 when the header is older
  /// than Linux 3.17, which did not set it).
  std::uint64_t image_size = 0;
};

/// What the start of a file says it is: the arm64 and zboot headers need its first 64 bytes, a bzImage's
/// 0x206, a compressed file's only its magic.
KernelHeader ParseKernelHeader(std::string_view head);

/// The file to hand kexec_file_load on `arch`.
struct PreparedKernel {
  std::string path;        ///< `kernel_path` itself, or `out_path` when it was decompressed there
  KernelHeader source;     ///< what the manifest's file was
  std::uint64_t bytes = 0; ///< the size of `path`
  bool decompressed = false;
};

/// The most a decompressed arm64 Image may take, as a multiple of the compressed file (kernels compress 3-5x):
/// what the RAM stage reserves for it (see KernelDecompressionReserve), and past which decompression stops.
inline constexpr std::uint64_t kKernelExpansionLimit = 8;

/// The bytes the stage must hold for decompressing a kernel of `compressed_bytes` on `arch`: 0 on x86_64.
std::uint64_t KernelDecompressionReserve(std::string_view arch, std::uint64_t compressed_bytes);

/// x86_64: checks that `kernel_path` is a bzImage. aarch64: an Image is used as it is; a gzip or zstd Image, or an
/// EFI zboot file with one inside, is decompressed into `out_path` (at most kKernelExpansionLimit times the
/// file's size) and must then be an arm64 Image. kManifest, saying what the file is and what the architecture
/// needs, for anything else (xz and lzma too: this build decompresses gzip and zstd only).
[[nodiscard]] base::Result<PreparedKernel> PrepareKernel(std::string_view arch, const std::string& kernel_path,
                                                         const std::string& out_path);

}  // namespace kexec
