// kexec::ParseKernelHeader and kexec::DecompressKernel: the manifest's kernel file, named by its magic and, on
// arm64, decompressed (gzip, zstd, or an EFI zboot payload) into the RAM stage. The file is pinned by the
// manifest, but the decompressor must still hold for any bytes: never more than kKernelExpansionLimit times the
// file, an arm64 Image or nothing, and no file left behind on a failure.
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "kexec/kernel_image.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

const std::string& OutDir() {
  static const std::string dir = [] {
    char templ[] = "/tmp/bootrino-kernel-fuzz.XXXXXX";
    FUZZ_REQUIRE(mkdtemp(templ) != nullptr);
    return std::string(templ);
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const kexec::KernelHeader h = kexec::ParseKernelHeader(AsText(data, size));
  if (h.format == kexec::KernelFormat::kZboot) FUZZ_REQUIRE(h.compression.size() <= 8);
  if (h.format != kexec::KernelFormat::kUnknown) FUZZ_REQUIRE(size >= 2);

  int fd = memfd_create("kernel", MFD_CLOEXEC);
  FUZZ_REQUIRE(fd >= 0);
  FUZZ_REQUIRE(write(fd, data, size) == static_cast<ssize_t>(size));
  const std::string in = "/proc/self/fd/" + std::to_string(fd);
  const std::string out = OutDir() + "/Image";
  auto bytes = kexec::DecompressKernel(in, out);
  struct stat st{};
  if (bytes) {
    FUZZ_REQUIRE(stat(out.c_str(), &st) == 0 && static_cast<std::uint64_t>(st.st_size) == *bytes);
    FUZZ_REQUIRE(*bytes <= std::max<std::uint64_t>(size, 1) * kexec::kKernelExpansionLimit);
    auto inner = kexec::ReadKernelHeader(out);
    FUZZ_REQUIRE(inner && inner->format == kexec::KernelFormat::kArm64Image);
    unlink(out.c_str());
  } else {
    FUZZ_REQUIRE(stat(out.c_str(), &st) != 0);  // nothing left behind
    FUZZ_REQUIRE(bytes.error().kind() == base::ErrorKind::kManifest ||
                 bytes.error().kind() == base::ErrorKind::kInternal);
  }
  close(fd);
  return 0;
}
