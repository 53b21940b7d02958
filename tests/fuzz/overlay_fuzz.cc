// kexec::BuildOverlay round trip: the newc cpio bootrino appends to the RAM
// OS's initrd carries bootrino's files and, with personalisation, contents
// that come from user-data (SSH keys, hostnames). Whatever the contents and
// modes, libarchive must read back exactly the files written, and nothing
// outside the archive's root.
// Input (FuzzedDataProvider): up to 8 files, each a path, a mode and contents.
#include <fuzzer/FuzzedDataProvider.h>

#include <map>
#include <memory>

#include <archive.h>
#include <archive_entry.h>

#include "kexec/initrd.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

struct ReadDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};

struct Entry {
  unsigned type = 0, perm = 0;
  std::string contents;
};

std::map<std::string, Entry> ReadBack(const std::string& cpio) {
  std::unique_ptr<archive, ReadDeleter> a(archive_read_new());
  archive_read_support_format_cpio(a.get());
  FUZZ_REQUIRE(archive_read_open_memory(a.get(), cpio.data(), cpio.size()) == ARCHIVE_OK);
  std::map<std::string, Entry> entries;
  archive_entry* e = nullptr;
  int rc;
  while ((rc = archive_read_next_header(a.get(), &e)) == ARCHIVE_OK) {
    Entry entry{archive_entry_filetype(e), archive_entry_perm(e), ""};
    FUZZ_REQUIRE(archive_entry_uid(e) == 0 && archive_entry_gid(e) == 0);
    char buffer[4096];
    la_ssize_t n;
    while ((n = archive_read_data(a.get(), buffer, sizeof buffer)) > 0) entry.contents.append(buffer, n);
    FUZZ_REQUIRE(n == 0);
    entries[archive_entry_pathname(e)] = entry;
  }
  FUZZ_REQUIRE(rc == ARCHIVE_EOF);
  return entries;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  std::vector<kexec::OverlayFile> files;
  std::size_t count = in.ConsumeIntegralInRange<std::size_t>(0, 8);
  for (std::size_t i = 0; i < count && in.remaining_bytes() > 0; ++i) {
    kexec::OverlayFile f;
    f.path = in.ConsumeRandomLengthString(64);
    f.mode = in.ConsumeBool() ? in.ConsumeIntegralInRange<unsigned>(0, 0777) : in.ConsumeIntegral<unsigned>();
    f.contents = in.ConsumeRandomLengthString(8192);
    files.push_back(std::move(f));
  }
  auto cpio = kexec::BuildOverlay(files);
  if (!cpio) return 0;
  FUZZ_REQUIRE(cpio->size() % 4 == 0);  // newc pads every header and body to 4 bytes
  std::map<std::string, Entry> entries = ReadBack(*cpio);
  for (const auto& [path, entry] : entries) {
    FUZZ_REQUIRE(IsPlainRelativePath(path));
  }
  std::map<std::string, const kexec::OverlayFile*> last;
  for (const auto& f : files) last[f.path] = &f;
  for (const auto& [path, f] : last) {
    auto it = entries.find(path);
    FUZZ_REQUIRE(it != entries.end());
    FUZZ_REQUIRE(it->second.type == AE_IFREG);
    FUZZ_REQUIRE(it->second.contents == f->contents);
    FUZZ_REQUIRE(it->second.perm == f->mode);
  }
  return 0;
}
