#include "kexec/kernel_image.h"

#include <lzma.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cstring>
#include <filesystem>

#include <gtest/gtest.h>

#include "tests/unit/scratch_dir.h"

namespace kexec {
namespace {

namespace fs = std::filesystem;
using base::ErrorKind;

void PutLe32(std::string& s, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) s[at + i] = static_cast<char>(v >> (8 * i));
}

// An arm64 Image as the boot protocol describes its 64-byte header: image_size at 16, "ARM\x64" at 56; the body
// is a pattern that compresses the way code does, not to nothing.
std::string Arm64Image(std::size_t bytes = 300000) {
  std::string s(bytes, '\0');
  s[0] = 'M';
  s[1] = 'Z';
  PutLe32(s, 16, static_cast<std::uint32_t>(bytes + 65536));
  std::memcpy(&s[56], "ARM\x64", 4);
  std::uint32_t x = 12345;
  for (std::size_t i = 64; i < bytes; ++i) {
    x = x * 1103515245 + 12345;
    s[i] = static_cast<char>((x >> 16) % 24);
  }
  return s;
}

std::string BzImage() {
  std::string s(0x2000, '\x90');
  std::memcpy(&s[0x202], "HdrS", 4);
  return s;
}

std::string Gzip(const std::string& data) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, data.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string Zstd(const std::string& data) {
  std::string out(ZSTD_compressBound(data.size()), '\0');
  std::size_t n = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 19);
  EXPECT_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

// A zstd frame whose header does not record the content size, as a streaming compressor that was not told it
// writes one.
std::string ZstdWithoutSize(const std::string& data) {
  ZSTD_CCtx* c = ZSTD_createCCtx();
  EXPECT_FALSE(ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 0)));
  std::string out(ZSTD_compressBound(data.size()), '\0');
  std::size_t n = ZSTD_compress2(c, out.data(), out.size(), data.data(), data.size());
  EXPECT_FALSE(ZSTD_isError(n));
  ZSTD_freeCCtx(c);
  out.resize(n);
  return out;
}

// An xz stream as `xz` writes it (one stream, its index recording the size); with `arm64_filter`, the ARM64
// branch filter before LZMA2, as Linux's xz_wrap.sh adds for arm64 kernels.
std::string Xz(const std::string& data, bool arm64_filter = false) {
  lzma_options_lzma lzma2{};
  EXPECT_FALSE(lzma_lzma_preset(&lzma2, 6));
  lzma_filter filters[] = {{LZMA_VLI_UNKNOWN, nullptr}, {LZMA_VLI_UNKNOWN, nullptr}, {LZMA_VLI_UNKNOWN, nullptr}};
  int n = 0;
  if (arm64_filter) filters[n++] = {LZMA_FILTER_ARM64, nullptr};
  filters[n] = {LZMA_FILTER_LZMA2, &lzma2};
  std::string out(lzma_stream_buffer_bound(data.size()), '\0');
  std::size_t used = 0;
  EXPECT_EQ(lzma_stream_buffer_encode(filters, LZMA_CHECK_CRC32, nullptr,
                                      reinterpret_cast<const std::uint8_t*>(data.data()), data.size(),
                                      reinterpret_cast<std::uint8_t*>(out.data()), &used, out.size()),
            LZMA_OK);
  out.resize(used);
  return out;
}

// A legacy .lzma file (`lzma`, `xz --format=lzma`); `known_size` false: the header's size field all ones, as a
// streaming compressor writes it.
std::string Lzma(const std::string& data, bool known_size = true) {
  lzma_options_lzma options{};
  EXPECT_FALSE(lzma_lzma_preset(&options, 6));
  lzma_stream z = LZMA_STREAM_INIT;
  EXPECT_EQ(lzma_alone_encoder(&z, &options), LZMA_OK);
  std::string out(data.size() + data.size() / 2 + 4096, '\0');
  z.next_in = reinterpret_cast<const std::uint8_t*>(data.data());
  z.avail_in = data.size();
  z.next_out = reinterpret_cast<std::uint8_t*>(out.data());
  z.avail_out = out.size();
  EXPECT_EQ(lzma_code(&z, LZMA_FINISH), LZMA_STREAM_END);
  out.resize(z.total_out);
  lzma_end(&z);
  if (known_size) {  // lzma_alone_encoder always writes "unknown": put the size in, as `lzma` does for a file
    for (int i = 0; i < 8; ++i) out[5 + i] = static_cast<char>(static_cast<std::uint64_t>(data.size()) >> (8 * i));
  }
  return out;
}

// An EFI zboot file: the header Linux's zboot-header.S writes, then the payload at 0x400, then the rest of a PE.
std::string Zboot(const std::string& payload, const char* compression) {
  std::string s(0x400, '\0');
  std::memcpy(&s[0], "MZ", 2);
  std::memcpy(&s[4], "zimg", 4);
  PutLe32(s, 8, 0x400);
  PutLe32(s, 12, static_cast<std::uint32_t>(payload.size()));
  std::strncpy(&s[24], compression, 8);
  return s + payload + std::string(4096, '\xcc');
}

class KernelImageTest : public testing_support::ScratchDirTest {
 protected:
  KernelImageTest() : ScratchDirTest("kernel-image") {}
  std::string Out() const { return (dir_ / "Image").string(); }
};

TEST(KernelHeaderTest, NamesEveryFormatByItsMagic) {
  EXPECT_EQ(ParseKernelHeader(Arm64Image()).format, KernelFormat::kArm64Image);
  EXPECT_EQ(ParseKernelHeader(Arm64Image()).image_size, 300000u + 65536);
  EXPECT_EQ(ParseKernelHeader(BzImage()).format, KernelFormat::kBzImage);
  EXPECT_EQ(ParseKernelHeader(Gzip(Arm64Image())).format, KernelFormat::kGzip);
  EXPECT_EQ(ParseKernelHeader(Zstd(Arm64Image())).format, KernelFormat::kZstd);
  EXPECT_EQ(ParseKernelHeader(std::string("\xfd" "7zXZ\0", 6) + std::string(100, 'x')).format, KernelFormat::kXz);
  EXPECT_EQ(ParseKernelHeader(std::string("\x5d\0\0\x80\0", 5) + std::string(100, 'x')).format, KernelFormat::kLzma);
  KernelHeader z = ParseKernelHeader(Zboot("payload", "zstd22"));
  EXPECT_EQ(z.format, KernelFormat::kZboot);
  EXPECT_EQ(z.payload_offset, 0x400u);
  EXPECT_EQ(z.payload_size, 7u);
  EXPECT_EQ(z.compression, "zstd22");
  EXPECT_EQ(ParseKernelHeader(std::string(100, 'x')).format, KernelFormat::kUnknown);
  EXPECT_EQ(ParseKernelHeader(Arm64Image().substr(0, 63)).format, KernelFormat::kUnknown);  // too short to say
  EXPECT_EQ(ParseKernelHeader(Gzip("tiny")).format, KernelFormat::kGzip);  // a magic needs no more than itself
}

// What the dry run and the plan decide from the first bytes of the staged kernel.
TEST_F(KernelImageTest, OnlyArm64CompressedKernelsAreDecompressed) {
  auto needs = [&](base::Arch arch, const std::string& data) {
    auto h = ReadKernelHeader(Write("k", data));
    EXPECT_TRUE(h.has_value());
    return NeedsDecompression(arch, *h, "k");
  };
  EXPECT_EQ(needs(base::Arch::kX86_64, BzImage()), false);
  EXPECT_EQ(needs(base::Arch::kX86_64, "random bytes: kexec_file_load says what is wrong on x86_64"), false);
  EXPECT_EQ(needs(base::Arch::kAarch64, Arm64Image()), false);
  EXPECT_EQ(needs(base::Arch::kAarch64, Gzip(Arm64Image())), true);
  EXPECT_EQ(needs(base::Arch::kAarch64, Zstd(Arm64Image())), true);
  EXPECT_EQ(needs(base::Arch::kAarch64, Zboot(Gzip(Arm64Image()), "gzip")), true);
  EXPECT_EQ(needs(base::Arch::kAarch64, Zboot(Zstd(Arm64Image()), "zstd22")), true);
}

TEST_F(KernelImageTest, Arm64RefusesWhatItCannotLoadSayingWhatItIs) {
  struct Case {
    std::string data, says;
  } cases[] = {
      {BzImage(), "is a bzImage file, and kexec on aarch64 needs an arm64 Image"},
      {Zboot("whatever", "lz4"), "is a EFI zboot file"},
      {Zboot("whatever", "lzo"), "is a EFI zboot file"},
      {std::string(5000, 'x'), "is not a kernel bootrino knows"},
  };
  for (const auto& c : cases) {
    auto h = ReadKernelHeader(Write("k", c.data));
    ASSERT_TRUE(h.has_value());
    auto r = NeedsDecompression(base::Arch::kAarch64, *h, "k");
    ASSERT_FALSE(r.has_value()) << c.says;
    EXPECT_EQ(r.error().kind(), ErrorKind::kManifest);
    EXPECT_NE(r.error().message().find(c.says), std::string::npos) << r.error().message();
    EXPECT_NE(r.error().hint().find("decompress it and publish the Image"), std::string::npos) << r.error().hint();
  }
}

// What the disk's plan needs before anything is decompressed: what is inside, whether the firmware can start
// it, and how big it will be. zstd records sizes in fields of 1, 2 (biased by 256) and 4 bytes.
TEST_F(KernelImageTest, ReadsWhatACompressedKernelHoldsAndHowBigItIs) {
  for (std::size_t bytes : {std::size_t{200}, std::size_t{1000}, std::size_t{300000}}) {
    const std::string image = Arm64Image(bytes);
    for (const auto& [name, data] : {std::pair{"gzip", Gzip(image)}, std::pair{"zstd", Zstd(image)},
                                     std::pair{"xz", Xz(image)}, std::pair{"lzma", Lzma(image)}}) {
      auto h = ReadKernelHeader(Write("k", data));
      ASSERT_TRUE(h.has_value()) << name << " " << bytes;
      EXPECT_EQ(h->content, KernelFormat::kArm64Image) << name << " " << bytes;
      EXPECT_TRUE(h->efi_stub) << name << " " << bytes;
      EXPECT_EQ(h->decompressed_size, bytes) << name << " " << bytes;
    }
  }
  auto unsized = ReadKernelHeader(Write("k", ZstdWithoutSize(Arm64Image())));
  ASSERT_TRUE(unsized.has_value());
  EXPECT_EQ(unsized->content, KernelFormat::kArm64Image);
  EXPECT_EQ(unsized->decompressed_size, 0u) << "a frame without Frame_Content_Size records nothing";
  for (const std::string& data : {Lzma(Arm64Image(), false), Xz(Arm64Image()) + std::string(4, '\0'),
                                  Xz(Arm64Image()) + Xz(Arm64Image())}) {
    auto h = ReadKernelHeader(Write("k", data));
    ASSERT_TRUE(h.has_value());
    EXPECT_EQ(h->content, KernelFormat::kArm64Image);
    EXPECT_EQ(h->decompressed_size, 0u) << "an lzma header saying \"unknown\", or xz with padding or two streams";
  }
  std::string no_stub = Arm64Image();
  no_stub[0] = no_stub[1] = '\0';  // an Image built without CONFIG_EFI_STUB
  auto plain = ReadKernelHeader(Write("k", Gzip(no_stub)));
  ASSERT_TRUE(plain.has_value());
  EXPECT_EQ(plain->content, KernelFormat::kArm64Image);
  EXPECT_FALSE(plain->efi_stub);
  EXPECT_FALSE(ParseKernelHeader(no_stub).efi_stub);
  EXPECT_TRUE(ParseKernelHeader(Arm64Image()).efi_stub);
  EXPECT_TRUE(ParseKernelHeader(Zboot("payload", "gzip")).efi_stub) << "every zboot file is a PE";
  EXPECT_FALSE(ParseKernelHeader(BzImage()).efi_stub) << "only arm64 looks at it";
  auto text = ReadKernelHeader(Write("k", Gzip(std::string(5000, 'a'))));
  ASSERT_TRUE(text.has_value());
  EXPECT_EQ(text->content, KernelFormat::kUnknown);
  const std::string gz = Gzip(Arm64Image());
  auto cut = ReadKernelHeader(Write("k", gz.substr(0, 10)));
  ASSERT_TRUE(cut.has_value()) << "reading the header is not where a broken stream is refused";
  EXPECT_EQ(cut->format, KernelFormat::kGzip);
  EXPECT_EQ(cut->content, KernelFormat::kUnknown);
}

TEST_F(KernelImageTest, ASizeOtherThanTheRecordedOneIsRefusedAndRemoved) {
  const std::string image = Arm64Image();
  auto right = DecompressKernel(Write("vmlinuz.gz", Gzip(image)), Out(), image.size());
  ASSERT_TRUE(right.has_value()) << right.error().message();
  EXPECT_EQ(*right, image.size());
  fs::remove(Out());
  auto wrong = DecompressKernel(Write("vmlinuz.gz", Gzip(image)), Out(), image.size() + 4096);
  ASSERT_FALSE(wrong.has_value());
  EXPECT_EQ(wrong.error().kind(), ErrorKind::kManifest);
  EXPECT_NE(wrong.error().message().find("decompresses to " + std::to_string(image.size()) + " bytes, but records " +
                                         std::to_string(image.size() + 4096)),
            std::string::npos)
      << wrong.error().message();
  EXPECT_FALSE(fs::exists(Out())) << "a kernel of the wrong size was left for the disk";
}

TEST_F(KernelImageTest, DecompressesGzipZstdXzAndLzmaImages) {
  const std::string image = Arm64Image();
  for (const auto& [name, data] :
       {std::pair{"vmlinuz.gz", Gzip(image)}, std::pair{"vmlinuz.zst", Zstd(image)}, std::pair{"vmlinuz.xz", Xz(image)},
        std::pair{"Image.xz", Xz(image, true)}, std::pair{"vmlinuz.lzma", Lzma(image)}}) {
    fs::remove(Out());
    auto bytes = DecompressKernel(Write(name, data), Out());
    ASSERT_TRUE(bytes.has_value()) << name << ": " << bytes.error().message();
    EXPECT_EQ(*bytes, image.size());
    EXPECT_EQ(Read(Out()), image) << name;
    EXPECT_EQ(fs::status(Out()).permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
  }
}

TEST_F(KernelImageTest, DecompressesTheZbootPayloadOnly) {
  const std::string image = Arm64Image();
  for (const char* compression : {"gzip", "zstd22", "xzkern", "lzma"}) {
    fs::remove(Out());
    const std::string c = compression;
    const std::string payload = c == "gzip"   ? Gzip(image)
                                : c == "lzma" ? Lzma(image)
                                : c == "xzkern" ? Xz(image, true)
                                                : Zstd(image);
    auto bytes = DecompressKernel(Write("vmlinuz.efi", Zboot(payload, compression)), Out());
    ASSERT_TRUE(bytes.has_value()) << compression << ": " << bytes.error().message();
    EXPECT_EQ(Read(Out()), image) << compression;
  }
}

TEST_F(KernelImageTest, StopsAtTheFirstBytesWhenTheyAreNotAnArm64Image) {
  auto notkernel = DecompressKernel(Write("x.gz", Gzip(std::string(5000, 'a') + "text")), Out());
  ASSERT_FALSE(notkernel.has_value());
  EXPECT_EQ(notkernel.error().kind(), ErrorKind::kManifest);
  EXPECT_NE(notkernel.error().message().find("decompresses to something that is not a kernel, not an arm64 Image"),
            std::string::npos)
      << notkernel.error().message();
  EXPECT_FALSE(fs::exists(Out())) << "the decompressed non-kernel was left behind";
  auto wrong_inside = DecompressKernel(Write("bz.gz", Gzip(BzImage())), Out());
  ASSERT_FALSE(wrong_inside.has_value());
  EXPECT_NE(wrong_inside.error().message().find("decompresses to a bzImage file"), std::string::npos)
      << wrong_inside.error().message();
  EXPECT_FALSE(fs::exists(Out()));
}

TEST_F(KernelImageTest, StopsADecompressionBombAndRemovesWhatItWrote) {
  std::string bomb = Arm64Image(1024) + std::string(20 << 20, '\0');  // 20 MiB of zeros: ~20 KiB gzip'd
  const std::string gz = Gzip(bomb);
  ASSERT_LT(gz.size() * kKernelExpansionLimit, bomb.size());
  auto bytes = DecompressKernel(Write("bomb.gz", gz), Out());
  ASSERT_FALSE(bytes.has_value());
  EXPECT_EQ(bytes.error().kind(), ErrorKind::kManifest);
  EXPECT_NE(bytes.error().message().find("times its size: not a kernel"), std::string::npos)
      << bytes.error().message();
  EXPECT_FALSE(fs::exists(Out()));
}

TEST_F(KernelImageTest, RefusesTruncatedAndLyingFiles) {
  std::string gz = Gzip(Arm64Image());
  auto cut = DecompressKernel(Write("cut.gz", gz.substr(0, gz.size() / 2)), Out());
  ASSERT_FALSE(cut.has_value());
  EXPECT_EQ(cut.error().kind(), ErrorKind::kManifest);
  EXPECT_FALSE(fs::exists(Out())) << "a half-decompressed kernel was left behind";
  std::string lying = Zboot(gz, "gzip");
  PutLe32(lying, 12, static_cast<std::uint32_t>(lying.size()));  // a payload running past the end of the file
  auto past = DecompressKernel(Write("lying.efi", lying), Out());
  ASSERT_FALSE(past.has_value());
  EXPECT_NE(past.error().message().find("past its end"), std::string::npos) << past.error().message();
}

// Found by the fuzz target's first run: an empty payload makes libarchive fail with no message at all.
TEST_F(KernelImageTest, AnEmptyPayloadIsAnErrorNotACrash) {
  auto bytes = DecompressKernel(Write("empty.efi", Zboot("", "gzip")), Out());
  ASSERT_FALSE(bytes.has_value());
  EXPECT_EQ(bytes.error().kind(), ErrorKind::kManifest);
  EXPECT_FALSE(fs::exists(Out()));
}

TEST_F(KernelImageTest, NeverWritesOverAnExistingFile) {
  Write("Image", "someone else's");
  auto bytes = DecompressKernel(Write("vmlinuz.gz", Gzip(Arm64Image())), Out());
  ASSERT_FALSE(bytes.has_value());
  EXPECT_EQ(Read(Out()), "someone else's");
}

TEST(KernelReserveTest, OnlyArm64ReservesRoomForDecompression) {
  EXPECT_EQ(KernelDecompressionReserve(base::Arch::kX86_64, 10 << 20), 0u);
  EXPECT_EQ(KernelDecompressionReserve(base::Arch::kAarch64, 10 << 20), (10u << 20) * kKernelExpansionBudget);
}

}  // namespace
}  // namespace kexec
