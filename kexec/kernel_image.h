// What kind of kernel file a manifest delivered, and the file kexec_file_load
// is given for it. x86_64's kexec_file_load takes a bzImage as it is. arm64's
// takes only an uncompressed Image, while distributions ship `vmlinuz` as a
// gzip'd Image (Ubuntu, Alpine), a zstd, xz or lzma one, or an EFI "zboot"
// application whose payload is a compressed Image (CONFIG_EFI_ZBOOT): those are
// decompressed into the RAM stage first, with limits, and the result is
// checked to be an arm64 Image before the kernel ever sees it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/base.h"

namespace kexec {

enum class KernelFormat {
  kUnknown,
  kBzImage,     ///< x86 boot protocol: "HdrS" at 0x202
  kArm64Image,  ///< arm64 Image: "ARM\x64" at 56
  kGzip,        ///< a compressed file: gzip, zstd, xz or lzma magic at 0 (all decompressed on aarch64)
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
  /// Whether UEFI firmware (systemd-boot) can start the kernel from a disk: it is a PE file ("MZ"), as an arm64
  /// Image with an EFI stub and every EFI zboot file are. For a gzip or zstd file, read by ReadKernelHeader:
  /// whether the Image inside is.
  bool efi_stub = false;
  /// A compressed file, read by ReadKernelHeader: the format of what it decompresses to (kUnknown when it
  /// could not be read), and the size its gzip trailer, zstd frame header, xz index or lzma header records
  /// (0: none recorded).
  KernelFormat content = KernelFormat::kUnknown;
  std::uint64_t decompressed_size = 0;
};

/// What the start of a file says it is: the arm64 and zboot headers need its first 64 bytes, a bzImage's
/// 0x206, a compressed file's only its magic.
KernelHeader ParseKernelHeader(std::string_view head);

/// The most a decompressed arm64 Image may take, as a multiple of the compressed file: past it decompression
/// stops (a decompression bomb, not a kernel).
inline constexpr std::uint64_t kKernelExpansionLimit = 8;

/// What the RAM check and the stage count for an arm64 kernel once decompressed, as a multiple of the file:
/// gzip'd and zstd'd arm64 Images are 2.5 to 4 times smaller than the Image. An Image that needs more room
/// than the stage has stops with kNotEnoughRam.
inline constexpr std::uint64_t kKernelExpansionBudget = 4;

/// The bytes the stage must hold for decompressing a kernel file of `compressed_bytes` on `arch`: none on
/// x86_64, kKernelExpansionBudget times the file on aarch64 (whether or not it turns out to be compressed:
/// the RAM check is made before the file is fetched).
std::uint64_t KernelDecompressionReserve(base::Arch arch, std::uint64_t compressed_bytes);

/// Reads the start of the file at `path` and what it says; for a compressed file (gzip, zstd, xz, lzma) also
/// what the start of its content is (decompressing only that much) and the decompressed size it records.
[[nodiscard]] base::Result<KernelHeader> ReadKernelHeader(const std::string& path);

/// Whether kexec on `arch` needs the kernel file whose start is `header` (at `path`, for messages)
/// decompressed first. false: it takes the file as it is (an arm64 Image; on x86_64 any file, its
/// kexec_file_load checking the bzImage itself). true: a gzip, zstd, xz or lzma file, or an EFI zboot file
/// with such a payload, on aarch64 (DecompressKernel). kManifest, saying what the file is and what the
/// architecture needs, for anything else on aarch64 (an lz4 or lzo zboot payload, a bzImage, …).
[[nodiscard]] base::Result<bool> NeedsDecompression(base::Arch arch, const KernelHeader& header,
                                                    const std::string& path);

/// Decompresses the arm64 kernel at `kernel_path` (or the payload of an EFI zboot file) into `out_path`, a
/// new file (0600), and returns its size. It stops at kKernelExpansionLimit times the file's size, and as soon
/// as the first bytes are not an arm64 Image (kManifest, saying what they are); no room for it is
/// kNotEnoughRam. With `expected_size` (not 0: the size planned from the file's own record of it), any other
/// size is kManifest. Nothing is left at `out_path` on a failure.
[[nodiscard]] base::Result<std::uint64_t> DecompressKernel(const std::string& kernel_path, const std::string& out_path,
                                                           std::uint64_t expected_size = 0);

}  // namespace kexec
