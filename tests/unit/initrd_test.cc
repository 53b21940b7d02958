#include "kexec/initrd.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <gtest/gtest.h>

#include "tests/unit/scratch_dir.h"

namespace kexec {
namespace {

namespace fs = std::filesystem;

class InitrdTest : public testing_support::ScratchDirTest {
 protected:
  InitrdTest() : ScratchDirTest("initrd") {}
};

// GNU cpio, the reference tool, must list and extract what BuildOverlay wrote.
TEST_F(InitrdTest, OverlayIsANewcArchiveCpioReads) {
  auto overlay = BuildOverlay({{"etc/bootrino/boot-id", "1234\n", 0644},
                               {"etc/bootrino/manifest.json", "{\"name\":\"x\"}\n", 0600},
                               {"root/.ssh/authorized_keys", "ssh-ed25519 AAAA test\n", 0600}});
  ASSERT_TRUE(overlay) << overlay.error().message();
  EXPECT_EQ(overlay->substr(0, 6), "070701");  // newc magic
  Write("overlay.cpio", *overlay);
  fs::create_directories(dir_ / "x");
  std::string cmd = "cd '" + (dir_ / "x").string() + "' && cpio -idm --quiet < ../overlay.cpio && cpio -it --quiet < ../overlay.cpio > ../list";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  EXPECT_EQ(Read(dir_ / "list"),
            "etc\netc/bootrino\netc/bootrino/boot-id\netc/bootrino/manifest.json\nroot\nroot/.ssh\n"
            "root/.ssh/authorized_keys\n");
  EXPECT_EQ(Read(dir_ / "x/etc/bootrino/boot-id"), "1234\n");
  EXPECT_EQ(fs::status(dir_ / "x/root/.ssh/authorized_keys").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
}

// The kernel unpacks the overlay over the RAM OS's own initrd and gives an
// existing directory the overlay's mode: a 0755 "root" would open /root (and
// the .ssh with authorized_keys) to every user of the RAM OS.
TEST_F(InitrdTest, OverlayKeepsRootsHomePrivate) {
  auto overlay = BuildOverlay({{"etc/bootrino/status-url", "https://h/s\n", 0600},
                               {"root/.ssh/authorized_keys", "ssh-ed25519 AAAA test\n", 0600}});
  ASSERT_TRUE(overlay) << overlay.error().message();
  Write("overlay.cpio", *overlay);
  std::string cmd = "cd '" + dir_.string() + "' && cpio -itv --quiet < overlay.cpio > listing";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::map<std::string, std::string> modes;  // path -> ls-style mode
  std::istringstream listing(Read(dir_ / "listing"));
  for (std::string line; std::getline(listing, line);) {
    modes[line.substr(line.rfind(' ') + 1)] = line.substr(0, 10);
  }
  EXPECT_EQ(modes["root"], "drwx------");
  EXPECT_EQ(modes["root/.ssh"], "drwx------");
  EXPECT_EQ(modes["root/.ssh/authorized_keys"], "-rw-------");
  EXPECT_EQ(modes["etc"], "drwxr-xr-x");
  EXPECT_EQ(modes["etc/bootrino"], "drwxr-xr-x");
  EXPECT_EQ(modes["etc/bootrino/status-url"], "-rw-------");
}

TEST_F(InitrdTest, OverlayIsReproducibleAndRejectsEscapes) {
  std::vector<OverlayFile> files = {{"etc/a", "x", 0644}};
  EXPECT_EQ(*BuildOverlay(files), *BuildOverlay(files));
  EXPECT_FALSE(BuildOverlay({{"/etc/passwd", "x", 0644}}));
  EXPECT_FALSE(BuildOverlay({{"../escape", "x", 0644}}));
  EXPECT_FALSE(BuildOverlay({{"", "x", 0644}}));
}

// Found by tests/fuzz/overlay_fuzz: a NUL in a path cut the cpio entry's name
// short, a path that was both a file and a parent directory wrote two entries
// the kernel would unpack one over the other, mode bits beyond 0777 (setuid,
// file type) were written as given, and a file named TRAILER!!! ended the archive.
TEST_F(InitrdTest, OverlayFilesMustReadBackAsWritten) {
  auto nul = BuildOverlay({{std::string("etc/boot\0id", 11), "x", 0644}});
  ASSERT_FALSE(nul);
  EXPECT_NE(nul.error().message().find("contains a NUL byte"), std::string::npos) << nul.error().message();
  auto both = BuildOverlay({{"etc/a", "x", 0644}, {"etc/a/b", "y", 0644}});
  ASSERT_FALSE(both);
  EXPECT_NE(both.error().message().find("\"etc/a\" is both a file and a directory"), std::string::npos)
      << both.error().message();
  EXPECT_FALSE(BuildOverlay({{"etc/a", "x", 0644}, {"etc/a", "y", 0644}}));
  EXPECT_FALSE(BuildOverlay({{"etc//a", "x", 0644}}));
  EXPECT_FALSE(BuildOverlay({{"etc/./a", "x", 0644}}));
  EXPECT_FALSE(BuildOverlay({{"etc/a/", "x", 0644}}));
  // A name with two dots that is not a ".." component is plain.
  EXPECT_TRUE(BuildOverlay({{"etc/a..b", "x", 0644}}));
  // Modes beyond the permission bits went into the archive as they were.
  auto setuid = BuildOverlay({{"etc/a", "x", 04755}});
  ASSERT_FALSE(setuid);
  EXPECT_NE(setuid.error().message().find("has mode 04755; overlay files take permission bits only"),
            std::string::npos) << setuid.error().message();
  EXPECT_FALSE(BuildOverlay({{"etc/a", "x", 0100644}}));
  // A file named like newc's end marker ended the archive for every reader after it.
  auto trailer = BuildOverlay({{"TRAILER!!!", "x", 0644}, {"etc/a", "y", 0644}});
  ASSERT_FALSE(trailer);
  EXPECT_NE(trailer.error().message().find("uses the name that ends a cpio archive"), std::string::npos);
  EXPECT_FALSE(BuildOverlay({{"TRAILER!!!/x", "x", 0644}}));
  EXPECT_TRUE(BuildOverlay({{"etc/TRAILER!!!", "x", 0644}}));
}

TEST_F(InitrdTest, InitrdsAreConcatenatedInOrderWithAlignedPadding) {
  std::string a(1000, 'a'), b(512, 'b');
  std::string out = (dir_ / "initrd.img").string();
  auto size = ComposeInitrd({Write("a", a), Write("b", b)}, "OVERLAY", out);
  ASSERT_TRUE(size) << size.error().message();
  EXPECT_EQ(*size, 1024u + 512u + 7u);
  std::string got = Read(out);
  EXPECT_EQ(got, a + std::string(24, '\0') + b + "OVERLAY");
  EXPECT_EQ(ComposedInitrdBytes({1000, 512}, 7), *size) << "the plan's size is the composed file's";
  EXPECT_EQ(ComposedInitrdBytes({}, 7), 7u);
}

TEST_F(InitrdTest, MissingInitrdIsAnError) {
  EXPECT_FALSE(ComposeInitrd({(dir_ / "nope").string()}, "", (dir_ / "out").string()));
}

}  // namespace
}  // namespace kexec
