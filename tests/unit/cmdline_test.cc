#include "kexec/cmdline.h"

#include <gtest/gtest.h>

namespace kexec {
namespace {

std::string Compose(std::string manifest, std::string host, std::string consoles = "",
                    std::vector<std::string> ours = {"bootrino.id=abc"}) {
  auto r = ComposeCmdline({manifest, host, consoles, ours}, base::Arch::kX86_64);
  EXPECT_TRUE(r) << r.error().message();
  return r ? *r : "";
}

TEST(Cmdline, SplitKeepsQuotedValues) {
  EXPECT_EQ(SplitCmdline("  a=1  b=\"x y\"\tc\n"), (std::vector<std::string>{"a=1", "b=\"x y\"", "c"}));
  EXPECT_TRUE(SplitCmdline("   ").empty());
}

TEST(Cmdline, ConsoleDevicesAndSerialness) {
  EXPECT_EQ(ConsoleDevice("console=ttyS0,115200n8"), "ttyS0");
  EXPECT_EQ(ConsoleDevice("console=tty0"), "tty0");
  for (const char* serial : {"ttyS0", "ttyAMA0", "hvc0"}) EXPECT_TRUE(IsSerialConsole(serial)) << serial;
  for (const char* vt : {"tty0", "tty1"}) EXPECT_FALSE(IsSerialConsole(vt)) << vt;
}

TEST(Cmdline, HostSerialConsoleIsCarriedOverAndLast) {
  // AWS/GCP: the host booted with both; the serial one must end up last.
  EXPECT_EQ(Compose("modules=loop quiet", "BOOT_IMAGE=/vmlinuz root=/dev/x console=ttyS0,115200 console=tty1"),
            "modules=loop quiet console=tty1 console=ttyS0,115200 bootrino.id=abc");
}

TEST(Cmdline, ProcConsolesAddWhatTheCmdlineLacks) {
  EXPECT_EQ(Compose("quiet", "root=/dev/x", "ttyS0                -W- (EC p a)    4:64\ntty0 -WU (E  p  )    4:1\n"),
            "quiet console=tty0 console=ttyS0 bootrino.id=abc");
  // Already on the cmdline with options: not added twice, options kept.
  EXPECT_EQ(Compose("", "console=ttyS0,9600", "ttyS0 -W- (EC p a) 4:64\nnetcon0 -W- (E) \n"),
            "console=ttyS0,9600 bootrino.id=abc");
}

TEST(Cmdline, ManifestConsolesWinOverTheHostsForTheSameDevice) {
  EXPECT_EQ(Compose("console=ttyS0,38400 x", "console=ttyS0,115200 console=ttyAMA0"),
            "x console=ttyS0,38400 console=ttyAMA0 bootrino.id=abc");
}

// arm64 instances boot with earlycon (the PL011 or 8250 of the platform): the RAM OS keeps the host's unless
// the manifest names its own; serial consoles still come last.
TEST(Cmdline, TheHostsEarlyconIsCarriedOver) {
  EXPECT_EQ(Compose("quiet", "earlycon=pl011,0x9000000 console=ttyAMA0 console=tty1"),
            "quiet earlycon=pl011,0x9000000 console=tty1 console=ttyAMA0 bootrino.id=abc");
  EXPECT_EQ(Compose("", "earlycon console=ttyS0"), "earlycon console=ttyS0 bootrino.id=abc");
  EXPECT_EQ(Compose("earlycon=uart8250,mmio32,0x1c28000", "earlycon=pl011,0x9000000"),
            "earlycon=uart8250,mmio32,0x1c28000 bootrino.id=abc");
  EXPECT_EQ(Compose("", "root=/dev/vda1 console=ttyAMA0"), "console=ttyAMA0 bootrino.id=abc");
}

TEST(Cmdline, InitArgumentsStayAfterTheDoubleDash) {
  EXPECT_EQ(Compose("quiet -- single console=x", "console=ttyS0 -- --init-flag console=tty9"),
            "quiet console=ttyS0 bootrino.id=abc -- single console=x");
}

TEST(Cmdline, BootrinoParametersAreOurs) {
  EXPECT_EQ(Compose("a bootrino.id=forged b", ""), "a b bootrino.id=abc");
  EXPECT_EQ(Compose("", "", "", {}), "");
}

TEST(Cmdline, LengthLimitCountsTheNul) {
  std::string fits(2047 - std::string(" bootrino.id=abc").size(), 'a');
  EXPECT_TRUE(ComposeCmdline({fits, "", "", {"bootrino.id=abc"}}, base::Arch::kX86_64));
  auto r = ComposeCmdline({fits + "a", "", "", {"bootrino.id=abc"}}, base::Arch::kX86_64);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), base::ErrorKind::kManifest);
  EXPECT_NE(r.error().message().find("would be 2049 bytes; x86_64 takes at most 2048"), std::string::npos)
      << r.error().message();
}

// Found by tests/fuzz/cmdline_fuzz: an unbalanced quote in the manifest's
// cmdline made the kernel read the consoles and bootrino.id after it as part
// of one value, and a quoted "bootrino.x" passed the filter for ours.
TEST(Cmdline, UnbalancedQuotesCannotSwallowOurParameters) {
  auto r = ComposeCmdline({"quiet foo=\"a b", "console=ttyS0", "", {"bootrino.id=abc"}}, base::Arch::kX86_64);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), base::ErrorKind::kManifest);
  EXPECT_NE(r.error().message().find("unbalanced double quote in foo=\"a b"), std::string::npos)
      << r.error().message();
  EXPECT_EQ(Compose("foo=\"a b\" \"bootrino.id=forged\"", ""), "foo=\"a b\" bootrino.id=abc");
  // The host's parameters and console names are carried over only when plain.
  EXPECT_EQ(Compose("", "console=\"ttyS1\" console=ttyS0", "tty\"0 -W- (E) 4:1\nttyS2 -W- (E) 4:66\n"),
            "console=ttyS0 console=ttyS2 bootrino.id=abc");
}

}  // namespace
}  // namespace kexec
