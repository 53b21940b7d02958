#include "kexec/kernel_image.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <lzma.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "base/base.h"

namespace kexec {
namespace {

using base::ErrorKind;

std::uint32_t Le32(std::string_view s, std::size_t at) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = v << 8 | static_cast<unsigned char>(s[at + i]);
  return v;
}

std::uint64_t Le64(std::string_view s, std::size_t at) {
  return static_cast<std::uint64_t>(Le32(s, at + 4)) << 32 | Le32(s, at);
}

bool IsCompressed(KernelFormat format) {
  return format == KernelFormat::kGzip || format == KernelFormat::kZstd || format == KernelFormat::kXz ||
         format == KernelFormat::kLzma;
}

constexpr std::size_t kHeaderBytes = 64;    // the arm64 Image header
constexpr std::size_t kProbeBytes = 0x206;  // through a bzImage's "HdrS": enough to name any format here

// The EFI zboot header (Linux drivers/firmware/efi/libstub/zboot-header.S): "MZ", two bytes, "zimg", the
// payload's offset and size (LE32), two zero words, then the compression's name, NUL-terminated, in 8 bytes.
KernelHeader ParseZboot(std::string_view head) {
  KernelHeader h;
  h.format = KernelFormat::kZboot;
  h.efi_stub = true;
  h.payload_offset = Le32(head, 8);
  h.payload_size = Le32(head, 12);
  std::string_view name = head.substr(24, 8);
  h.compression = std::string(name.substr(0, std::min(name.find('\0'), name.size())));
  return h;
}

base::Error NotForArch(base::Arch arch, const KernelHeader& h, const std::string& path) {
  const std::string what = std::string(KernelFormatName(h.format));
  const std::string name(base::ArchName(arch));
  const std::string needs = arch == base::Arch::kAarch64
                                ? "an arm64 Image, or one compressed with gzip, zstd, xz or lzma, or an "
                                  "EFI zboot vmlinuz with such a payload"
                                : "a bzImage";
  return base::Error(ErrorKind::kManifest,
                     "the manifest's kernel " + path + " is " +
                         (h.format == KernelFormat::kUnknown ? "not a kernel bootrino knows" : "a " + what + " file") +
                         ", and kexec on " + name + " needs " + needs)
      .Hint("point the manifest's " + name + " payload at the kernel built for " + name +
            " (for another compression, e.g. lz4: decompress it and publish the Image, or gzip it)");
}

// libarchive reads the compressed bytes through this: `remaining` bytes of `fd` from `offset`.
struct RangeReader {
  int fd;
  std::uint64_t offset;
  std::uint64_t remaining;
  std::vector<char> buffer = std::vector<char>(1 << 16);
};

la_ssize_t ReadRange(archive* a, void* data, const void** out) {
  auto* r = static_cast<RangeReader*>(data);
  const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(r->buffer.size(), r->remaining));
  if (want == 0) return 0;
  ssize_t n;
  do n = pread(r->fd, r->buffer.data(), want, static_cast<off_t>(r->offset));
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    archive_set_error(a, errno, "%s", std::strerror(errno));
    return -1;
  }
  r->offset += static_cast<std::uint64_t>(n);
  r->remaining -= static_cast<std::uint64_t>(n);
  *out = r->buffer.data();
  return n;
}

// The check of what a compressed kernel held, made on its first bytes, before the rest is decompressed.
base::Result<void> IsArm64Image(std::string_view head, const std::string& what) {
  KernelHeader inner = ParseKernelHeader(head);
  if (inner.format == KernelFormat::kArm64Image) return {};
  return base::Fail(base::Error(ErrorKind::kManifest, what + " decompresses to " +
                                                          (inner.format == KernelFormat::kUnknown
                                                               ? std::string("something that is not a kernel")
                                                               : "a " + std::string(KernelFormatName(inner.format)) +
                                                                     " file") +
                                                          ", not an arm64 Image")
                        .Hint("point the manifest's aarch64 payload at an arm64 kernel"));
}

// libarchive's message for its last error; it has none for some failures (an empty input ends at once).
std::string ArchiveMessage(archive* a) {
  const char* message = archive_error_string(a);
  return message ? message : "nothing to decompress, or a truncated file";
}

using ArchivePtr = std::unique_ptr<archive, decltype(&archive_read_free)>;

// An archive reading the gzip, zstd, xz or lzma stream in `reader`'s range (nothing else: libarchive would run
// an external program for the other compressions), positioned at its data.
base::Result<ArchivePtr> OpenCompressed(RangeReader& reader, const std::string& what) {
  ArchivePtr a(archive_read_new(), archive_read_free);
  if (!a) return base::Fail(ErrorKind::kInternal, "archive_read_new failed");
  archive_read_support_filter_gzip(a.get());
  archive_read_support_filter_zstd(a.get());
  archive_read_support_filter_xz(a.get());
  archive_read_support_filter_lzma(a.get());
  archive_read_support_format_raw(a.get());
  if (archive_read_open(a.get(), &reader, nullptr, ReadRange, nullptr) != ARCHIVE_OK) {
    return base::Fail(ErrorKind::kManifest, "cannot read " + what + ": " + ArchiveMessage(a.get()));
  }
  archive_entry* entry = nullptr;
  if (archive_read_next_header(a.get(), &entry) != ARCHIVE_OK) {
    return base::Fail(ErrorKind::kManifest, "cannot decompress " + what + ": " + ArchiveMessage(a.get()));
  }
  return a;
}

// The first kProbeBytes (fewer for a shorter content) of the compressed stream in `size` bytes of `in`.
base::Result<std::string> DecompressedHead(const base::Fd& in, std::uint64_t size, const std::string& what) {
  RangeReader reader{in.get(), 0, size};
  ASSIGN_OR_RETURN(ArchivePtr a, OpenCompressed(reader, what));
  std::string head(kProbeBytes, '\0');
  std::size_t got = 0;
  while (got < head.size()) {
    la_ssize_t n = archive_read_data(a.get(), head.data() + got, head.size() - got);
    if (n < 0) return base::Fail(ErrorKind::kManifest, "cannot decompress " + what + ": " + ArchiveMessage(a.get()));
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  head.resize(got);
  return head;
}

// The decompressed size an xz file's index records (liblzma reads the stream footer and the index before it),
// when the file is one stream with nothing after it; 0 otherwise.
std::uint64_t XzRecordedSize(const base::Fd& in, std::uint64_t size) {
  std::uint8_t footer_bytes[LZMA_STREAM_HEADER_SIZE];
  lzma_stream_flags footer{};
  if (size < 2 * LZMA_STREAM_HEADER_SIZE ||
      pread(in.get(), footer_bytes, sizeof footer_bytes, static_cast<off_t>(size - sizeof footer_bytes)) !=
          static_cast<ssize_t>(sizeof footer_bytes) ||
      lzma_stream_footer_decode(&footer, footer_bytes) != LZMA_OK ||
      footer.backward_size > size - 2 * LZMA_STREAM_HEADER_SIZE || footer.backward_size > (1 << 20)) {
    return 0;
  }
  std::vector<std::uint8_t> index_bytes(static_cast<std::size_t>(footer.backward_size));
  const auto at = static_cast<off_t>(size - LZMA_STREAM_HEADER_SIZE - footer.backward_size);
  if (pread(in.get(), index_bytes.data(), index_bytes.size(), at) != static_cast<ssize_t>(index_bytes.size())) {
    return 0;
  }
  lzma_index* index = nullptr;
  std::uint64_t memory_limit = 1 << 20;
  std::size_t position = 0;
  if (lzma_index_buffer_decode(&index, &memory_limit, nullptr, index_bytes.data(), &position, index_bytes.size()) !=
      LZMA_OK) {
    return 0;
  }
  const std::uint64_t recorded = lzma_index_stream_size(index) == size ? lzma_index_uncompressed_size(index) : 0;
  lzma_index_end(index, nullptr);
  return recorded;
}

// The decompressed size a gzip file's trailer (ISIZE: the size modulo 2^32, of its last member), a zstd frame
// header (Frame_Content_Size, when the compressor wrote it), an xz index or an lzma header (when the compressor
// knew it) records; 0 when there is none.
std::uint64_t RecordedSize(const base::Fd& in, std::uint64_t size, KernelFormat format, std::string_view head) {
  if (format == KernelFormat::kGzip) {
    char tail[4];
    if (size < 18 || pread(in.get(), tail, 4, static_cast<off_t>(size - 4)) != 4) return 0;
    return Le32(std::string_view(tail, 4), 0);
  }
  if (format == KernelFormat::kXz) return XzRecordedSize(in, size);
  if (format == KernelFormat::kLzma) {  // properties (1 byte), dictionary size (4), size (8, all ones: unknown)
    const std::uint64_t recorded = head.size() >= 13 ? Le64(head, 5) : 0;
    return recorded == ~std::uint64_t{0} ? 0 : recorded;
  }
  if (format != KernelFormat::kZstd || head.size() < 6) return 0;
  // RFC 8878 3.1.1.1: the descriptor byte after the magic says which fields follow and how wide they are.
  const auto descriptor = static_cast<unsigned char>(head[4]);
  const int fcs_flag = descriptor >> 6;
  const bool single_segment = descriptor & 0x20;
  static constexpr int kDictIdBytes[] = {0, 1, 2, 4};
  static constexpr int kFcsBytes[] = {0, 2, 4, 8};
  const std::size_t at = 5 + (single_segment ? 0 : 1) + kDictIdBytes[descriptor & 3];
  const int bytes = fcs_flag == 0 ? (single_segment ? 1 : 0) : kFcsBytes[fcs_flag];
  if (bytes == 0 || at + bytes > head.size()) return 0;
  std::uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = v << 8 | static_cast<unsigned char>(head[at + i]);
  return bytes == 2 ? v + 256 : v;
}

// Decompresses `size` bytes of `in` from `offset` (gzip, zstd, xz or lzma) into `out_path`, refusing more than `limit`
// bytes and anything that does not start as an arm64 Image.
base::Result<std::uint64_t> Decompress(const base::Fd& in, std::uint64_t offset, std::uint64_t size,
                                       const std::string& what, const std::string& out_path, std::uint64_t limit) {
  RangeReader reader{in.get(), offset, size};
  ASSIGN_OR_RETURN(ArchivePtr a, OpenCompressed(reader, what));
  ASSIGN_OR_RETURN(base::Fd out, base::Open(out_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600));
  // Created here (O_EXCL), so removed here when it is not finished.
  struct Partial {
    const std::string& path;
    bool done = false;
    ~Partial() {
      if (!done) unlink(path.c_str());
    }
  } partial{out_path};
  std::vector<char> block(1 << 20);
  std::uint64_t written = 0;
  std::string head;  // the first bytes, until they say what was compressed
  bool checked = false;
  for (;;) {
    la_ssize_t n = archive_read_data(a.get(), block.data(), block.size());
    if (n == 0) break;
    if (n > 0 && !checked) {
      head.append(block.data(), std::min<std::size_t>(static_cast<std::size_t>(n), kProbeBytes - head.size()));
      if (head.size() == kProbeBytes) {
        RETURN_IF_ERROR(IsArm64Image(head, what));
        checked = true;
      }
    }
    if (n < 0) {
      return base::Fail(ErrorKind::kManifest, "cannot decompress " + what + ": " + ArchiveMessage(a.get()));
    }
    if (written + static_cast<std::uint64_t>(n) > limit) {
      return base::Fail(base::Error(ErrorKind::kManifest, what + " decompresses to more than " +
                                                              std::to_string(limit) + " bytes, " +
                                                              std::to_string(kKernelExpansionLimit) +
                                                              " times its size: not a kernel")
                            .Hint("check the manifest's kernel"));
    }
    if (auto r = base::WriteAllAt(out, {block.data(), static_cast<std::size_t>(n)}, written); !r) {
      if (r.error().sys_errno() == ENOSPC || r.error().sys_errno() == EDQUOT) {
        return base::Fail(base::Error(ErrorKind::kNotEnoughRam, "no room in RAM for the decompressed kernel (" +
                                                                    r.error().message() + ")")
                              .Hint("use an instance with more memory; nothing was changed"));
      }
      return base::Fail(r.error());
    }
    written += static_cast<std::uint64_t>(n);
  }
  if (!checked) RETURN_IF_ERROR(IsArm64Image(head, what));
  partial.done = true;
  return written;
}

}  // namespace

std::string_view KernelFormatName(KernelFormat format) {
  switch (format) {
    case KernelFormat::kBzImage: return "bzImage";
    case KernelFormat::kArm64Image: return "arm64 Image";
    case KernelFormat::kGzip: return "gzip";
    case KernelFormat::kZstd: return "zstd";
    case KernelFormat::kXz: return "xz";
    case KernelFormat::kLzma: return "lzma";
    case KernelFormat::kZboot: return "EFI zboot";
    case KernelFormat::kUnknown: break;
  }
  return "unknown";
}

KernelHeader ParseKernelHeader(std::string_view head) {
  KernelHeader h;
  if (head.size() >= kHeaderBytes) {
    if (head.substr(0, 2) == "MZ" && head.substr(4, 4) == "zimg") return ParseZboot(head);
    if (Le32(head, 56) == 0x644d5241) {  // "ARM\x64"; an Image with an EFI stub also starts with "MZ"
      h.format = KernelFormat::kArm64Image;
      h.image_size = Le64(head, 16);
      h.efi_stub = head.substr(0, 2) == "MZ";
      return h;
    }
  }
  if (head.size() >= 0x206 && head.substr(0x202, 4) == "HdrS") {
    h.format = KernelFormat::kBzImage;
  } else if (head.substr(0, 2) == "\x1f\x8b") {
    h.format = KernelFormat::kGzip;
  } else if (head.substr(0, 4) == "\x28\xb5\x2f\xfd") {
    h.format = KernelFormat::kZstd;
  } else if (head.substr(0, 6) == std::string_view("\xfd" "7zXZ\0", 6)) {
    h.format = KernelFormat::kXz;
  } else if (head.substr(0, 3) == std::string_view("\x5d\x00\x00", 3)) {
    h.format = KernelFormat::kLzma;
  }
  return h;
}

std::uint64_t KernelDecompressionReserve(base::Arch arch, std::uint64_t compressed_bytes) {
  return arch == base::Arch::kAarch64 ? compressed_bytes * kKernelExpansionBudget : 0;
}

namespace {
// What the first kProbeBytes of the open file `in` (named `path` in errors) say it is.
base::Result<KernelHeader> ReadHeader(const base::Fd& in, const std::string& path) {
  std::string head(kProbeBytes, '\0');
  ssize_t n = pread(in.get(), head.data(), head.size(), 0);
  if (n < 0) return base::Fail(ErrorKind::kInternal, base::SysMessage("read", path, errno));
  head.resize(static_cast<std::size_t>(n));
  return ParseKernelHeader(head);
}
}  // namespace

base::Result<KernelHeader> ReadKernelHeader(const std::string& path) {
  ASSIGN_OR_RETURN(base::Fd in, base::Open(path, O_RDONLY));
  ASSIGN_OR_RETURN(KernelHeader h, ReadHeader(in, path));
  if (!IsCompressed(h.format)) return h;
  struct stat st{};
  if (fstat(in.get(), &st) != 0) return base::Fail(ErrorKind::kInternal, base::SysMessage("fstat", path, errno));
  const auto size = static_cast<std::uint64_t>(st.st_size);
  std::string head(kProbeBytes, '\0');
  ssize_t n = pread(in.get(), head.data(), head.size(), 0);
  head.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  h.decompressed_size = RecordedSize(in, size, h.format, head);
  // A file that does not decompress keeps content kUnknown: DecompressKernel says what is wrong with it.
  if (auto inner = DecompressedHead(in, size, std::string(path)); inner) {
    const KernelHeader content = ParseKernelHeader(*inner);
    h.content = content.format;
    h.efi_stub = content.efi_stub;
  }
  return h;
}

base::Result<bool> NeedsDecompression(base::Arch arch, const KernelHeader& header, const std::string& path) {
  if (arch != base::Arch::kAarch64 || header.format == KernelFormat::kArm64Image) return false;
  if (IsCompressed(header.format)) return true;
  // Linux names a zboot payload's compression "gzip", "zstd22", "xzkern", "lzma", "lz4" or "lzo".
  if (header.format == KernelFormat::kZboot &&
      (header.compression == "gzip" || header.compression.starts_with("zstd") ||
       header.compression.starts_with("xz") || header.compression == "lzma")) {
    return true;
  }
  return base::Fail(NotForArch(arch, header, path));
}

base::Result<std::uint64_t> DecompressKernel(const std::string& kernel_path, const std::string& out_path,
                                             std::uint64_t expected_size) {
  ASSIGN_OR_RETURN(base::Fd in, base::Open(kernel_path, O_RDONLY));
  struct stat st{};
  if (fstat(in.get(), &st) != 0) return base::Fail(ErrorKind::kInternal, base::SysMessage("fstat", kernel_path, errno));
  const auto size = static_cast<std::uint64_t>(st.st_size);
  ASSIGN_OR_RETURN(const KernelHeader h, ReadHeader(in, kernel_path));
  ASSIGN_OR_RETURN(bool compressed, NeedsDecompression(base::Arch::kAarch64, h, kernel_path));
  if (!compressed) {
    return base::Fail(ErrorKind::kInternal, kernel_path + " is an arm64 Image already: nothing to decompress");
  }
  std::uint64_t offset = 0, length = size;
  std::string what = "the " + std::string(KernelFormatName(h.format)) + " kernel " + kernel_path;
  if (h.format == KernelFormat::kZboot) {
    if (h.payload_offset > size || h.payload_size > size - h.payload_offset) {
      return base::Fail(ErrorKind::kManifest, "the EFI zboot kernel " + kernel_path + " says its payload is at " +
                                                  std::to_string(h.payload_offset) + "+" +
                                                  std::to_string(h.payload_size) + ", past its end (" +
                                                  std::to_string(size) + " bytes)");
    }
    offset = h.payload_offset;
    length = h.payload_size;
    what = "the " + h.compression + " payload of the EFI zboot kernel " + kernel_path;
  }
  ASSIGN_OR_RETURN(std::uint64_t bytes, Decompress(in, offset, length, what, out_path,
                                                   std::max<std::uint64_t>(size, 1) * kKernelExpansionLimit));
  if (expected_size != 0 && bytes != expected_size) {
    unlink(out_path.c_str());
    return base::Fail(base::Error(ErrorKind::kManifest, what + " decompresses to " + std::to_string(bytes) +
                                                            " bytes, but records " + std::to_string(expected_size))
                          .Hint("publish the kernel as one gzip, zstd or xz stream (as `gzip`, `zstd` and `xz` "
                                "write it), or uncompressed; nothing was changed"));
  }
  return bytes;
}

}  // namespace kexec
