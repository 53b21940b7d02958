#include "ramos/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>

#include "tests/unit/archive_reader.h"

namespace ramos {
namespace {

namespace fs = std::filesystem;
using Type = ArchiveEntry::Type;
using testing_support::ReadArchive;

std::vector<ArchiveEntry> Sample() {
  return {
      {"root/.ssh/authorized_keys", Type::kFile, 0600, "ssh-ed25519 AAAA a@b\n"},
      {"etc/hostname", Type::kFile, 0644, "ram-01\n"},
      {"root/.ssh", Type::kDirectory, 0700, ""},
      {"root", Type::kDirectory, 0700, ""},
      {"etc/runlevels/default/sshd", Type::kSymlink, 0755, "/etc/init.d/sshd"},
      {"home/tc/.ssh/authorized_keys", Type::kFile, 0600, "k\n", 1001, 50, "tc", "staff"},
  };
}

// What `lister` (a shell command reading the archive on its standard input) prints for `bytes`; nullopt if it fails.
std::optional<std::string> ListWith(const std::string& bytes, const std::string& lister) {
  const fs::path dir = fs::temp_directory_path() / ("bootrino-archive-" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "archive", std::ios::binary) << bytes;
  const std::string cmd = lister + " < '" + (dir / "archive").string() + "' > '" + (dir / "list").string() + "'";
  const bool ok = std::system(cmd.c_str()) == 0;
  std::stringstream list;
  list << std::ifstream(dir / "list").rdbuf();
  fs::remove_all(dir);
  if (!ok) return std::nullopt;
  return list.str();
}

TEST(ArchiveTest, TarGzHoldsEveryEntrySortedWithItsModeAndOwner) {
  auto bytes = BuildArchive(Sample(), ArchiveFormat::kTarGz);
  ASSERT_TRUE(bytes) << bytes.error().message();
  ASSERT_GE(bytes->size(), 10u);
  EXPECT_EQ(static_cast<unsigned char>((*bytes)[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>((*bytes)[1]), 0x8b);
  EXPECT_EQ(bytes->substr(4, 4), std::string(4, '\0')) << "the gzip header must carry no timestamp";
  auto members = ReadArchive(*bytes);
  ASSERT_EQ(members.size(), 6u);
  std::vector<std::string> paths;
  for (const auto& m : members) paths.push_back(m.path);
  EXPECT_EQ(paths,
            (std::vector<std::string>{"etc/hostname", "etc/runlevels/default/sshd", "home/tc/.ssh/authorized_keys",
                                      "root", "root/.ssh", "root/.ssh/authorized_keys"}));
  EXPECT_EQ(members[0].data, "ram-01\n");
  EXPECT_EQ(members[0].mode, 0644u);
  EXPECT_EQ(members[0].type, static_cast<unsigned>(AE_IFREG));
  EXPECT_EQ(members[0].uname, "root");
  EXPECT_EQ(members[0].mtime, 0);
  EXPECT_EQ(members[1].type, static_cast<unsigned>(AE_IFLNK));
  EXPECT_EQ(members[1].link, "/etc/init.d/sshd");
  EXPECT_EQ(members[2].uid, 1001);
  EXPECT_EQ(members[2].gid, 50);
  EXPECT_EQ(members[2].uname, "tc");
  EXPECT_EQ(members[2].gname, "staff");
  EXPECT_EQ(members[3].type, static_cast<unsigned>(AE_IFDIR));
  EXPECT_EQ(members[3].mode, 0700u);
  EXPECT_EQ(members[5].mode, 0600u);
  EXPECT_EQ(members[5].uid, 0);
}

// The file ends where the gzip stream does: busybox's tar -z reports "short read"
// on block padding after it. gzip's last 4 bytes are the uncompressed size (RFC 1952).
TEST(ArchiveTest, NothingFollowsTheGzipStream) {
  auto bytes = BuildArchive(Sample(), ArchiveFormat::kTarGz);
  ASSERT_TRUE(bytes && bytes->size() > 8);
  std::unique_ptr<archive, int (*)(archive*)> a(archive_read_new(), archive_read_free);
  archive_read_support_format_raw(a.get());
  archive_read_support_filter_gzip(a.get());
  ASSERT_EQ(archive_read_open_memory(a.get(), bytes->data(), bytes->size()), ARCHIVE_OK);
  archive_entry* e = nullptr;
  ASSERT_EQ(archive_read_next_header(a.get(), &e), ARCHIVE_OK);
  std::uint64_t tar_bytes = 0;
  char buffer[4096];
  for (la_ssize_t n; (n = archive_read_data(a.get(), buffer, sizeof buffer)) > 0;)
    tar_bytes += static_cast<std::uint64_t>(n);
  const auto* end = reinterpret_cast<const unsigned char*>(bytes->data() + bytes->size() - 4);
  const std::uint32_t isize = end[0] | end[1] << 8 | end[2] << 16 | static_cast<std::uint32_t>(end[3]) << 24;
  EXPECT_EQ(isize, tar_bytes);
  EXPECT_EQ(tar_bytes % 512, 0u);
}

TEST(ArchiveTest, SameEntriesGiveTheSameBytesInAnyOrder) {
  auto a = BuildArchive(Sample(), ArchiveFormat::kTarGz);
  auto reversed = Sample();
  std::reverse(reversed.begin(), reversed.end());
  auto b = BuildArchive(reversed, ArchiveFormat::kTarGz);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a, *b);
  auto c = BuildArchive(Sample(), ArchiveFormat::kCpioNewc);
  auto d = BuildArchive(reversed, ArchiveFormat::kCpioNewc);
  ASSERT_TRUE(c && d);
  EXPECT_EQ(*c, *d);
  auto changed = Sample();
  changed[1].data = "other\n";
  EXPECT_NE(*BuildArchive(changed, ArchiveFormat::kTarGz), *a);
}

TEST(ArchiveTest, CpioIsUncompressedNewcThatGnuCpioLists) {
  auto bytes = BuildArchive(Sample(), ArchiveFormat::kCpioNewc);
  ASSERT_TRUE(bytes) << bytes.error().message();
  EXPECT_EQ(bytes->substr(0, 6), "070701");
  EXPECT_EQ(bytes->size() % 4, 0u) << "the next concatenated archive must start aligned";
  auto members = ReadArchive(*bytes);
  ASSERT_EQ(members.size(), 6u);
  EXPECT_EQ(members[2].path, "home/tc/.ssh/authorized_keys");
  EXPECT_EQ(members[2].uid, 1001);
  const auto list = ListWith(*bytes, "cpio -it --quiet");
  ASSERT_TRUE(list);
  EXPECT_EQ(*list,
            "etc/hostname\netc/runlevels/default/sshd\nhome/tc/.ssh/authorized_keys\nroot\nroot/.ssh\n"
            "root/.ssh/authorized_keys\n");
}

// GNU tar, as a RAM OS's busybox tar would, lists the members with their owners.
TEST(ArchiveTest, GnuTarListsOwnersAndModes) {
  auto bytes = BuildArchive(Sample(), ArchiveFormat::kTarGz);
  ASSERT_TRUE(bytes);
  const auto list = ListWith(*bytes, "tar -tzvf -");
  ASSERT_TRUE(list);
  EXPECT_NE(list->find("-rw------- tc/staff"), std::string::npos) << *list;
}

TEST(ArchiveTest, RefusesUnsafeMembers) {
  auto one = [](ArchiveEntry e) { return BuildArchive({std::move(e)}, ArchiveFormat::kTarGz).has_value(); };
  EXPECT_FALSE(one({"/etc/passwd", Type::kFile, 0644, "x"}));
  EXPECT_FALSE(one({"etc/../../x", Type::kFile, 0644, "x"}));
  EXPECT_FALSE(one({"etc//x", Type::kFile, 0644, "x"}));
  EXPECT_FALSE(one({"", Type::kFile, 0644, "x"}));
  EXPECT_FALSE(one({"TRAILER!!!", Type::kFile, 0644, "x"}));
  EXPECT_FALSE(one({"etc/x", Type::kFile, 04755, "x"}));
  EXPECT_FALSE(one({"etc/x", Type::kFile, 0666, "x"}));
  EXPECT_FALSE(one({"etc/x", Type::kSymlink, 0755, "../../etc/shadow"}));
  EXPECT_FALSE(one({"etc/x", Type::kSymlink, 0755, "/etc/../shadow"}));
  EXPECT_FALSE(one({"etc/x", Type::kDirectory, 0755, "data"}));
  EXPECT_TRUE(one({"etc/x", Type::kSymlink, 0755, "/etc/init.d/x"}));
  EXPECT_FALSE(BuildArchive({{"etc/x", Type::kFile, 0644, "a"}, {"etc/x", Type::kFile, 0644, "b"}},
                            ArchiveFormat::kCpioNewc));
}

}  // namespace
}  // namespace ramos
