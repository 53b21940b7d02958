// The static network bootrino writes, brought up for real by busybox's ifup
// (the ifupdown of busybox-based RAM OSes) with busybox's ip, and Tiny Core's
// script with busybox's ifconfig and route, inside a network
// and mount namespace of the test's own (unshare -n -m: only veth pairs the
// test makes; this machine's network is never touched). Skipped where
// namespaces or veth pairs cannot be made (not root, a container without them)
// or busybox is missing.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "host/network.h"
#include "ramos/network_config.h"

namespace ramos {
namespace {

namespace fs = std::filesystem;

std::string Slurp(const fs::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Runs `script` with sh inside a fresh network and mount namespace; its stdout+stderr, and its exit status.
std::pair<int, std::string> InNamespaces(const fs::path& dir, const std::string& script) {
  std::ofstream(dir / "run.sh") << script;
  const std::string cmd = "unshare -n -m sh '" + (dir / "run.sh").string() + "' >'" + (dir / "out").string() + "' 2>&1";
  const int status = std::system(cmd.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, Slurp(dir / "out")};
}

class NetnsTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("bootrino-netns-" + std::to_string(getpid()));
    fs::create_directories(dir_ / "bin");
    if (std::system("command -v busybox >/dev/null 2>&1") != 0) GTEST_SKIP() << "no busybox";
    if (std::system("unshare -n -m ip link add probe0 type veth peer name probe1 >/dev/null 2>&1") != 0) {
      GTEST_SKIP() << "cannot make a network namespace with a veth pair in it";
    }
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Brings `net`'s static interfaces file up with busybox's ifup in fresh namespaces, after `devices` (sh
  // run with the test's iproute2) made the devices; the result as the test's `ip` prints it.
  std::pair<int, std::string> Ifup(const host::HostNetwork& net, const std::string& devices) {
    const std::string names = (dir_ / "ifnames.sh").string();
    interfaces_ = InterfacesFile(net, host::NetworkMode::kStatic);
    // The RAM OS runs /etc/bootrino/ifnames.sh; this test cannot write there.
    for (auto at = interfaces_.find("/etc/bootrino/ifnames.sh"); at != std::string::npos;
         at = interfaces_.find("/etc/bootrino/ifnames.sh", at)) {
      interfaces_.replace(at, std::strlen("/etc/bootrino/ifnames.sh"), names);
      at += names.size();
    }
    std::ofstream(dir_ / "interfaces") << interfaces_;
    std::ofstream(names) << InterfaceNamesScript(net);
    // busybox's ifup runs `run-parts /etc/network/if-*.d` (absent here) and stops when it fails.
    std::ofstream(dir_ / "bin" / "run-parts") << "#!/bin/sh\nexit 0\n";
    fs::permissions(dir_ / "bin" / "run-parts", fs::perms::owner_all);
    const std::string bin = (dir_ / "bin").string();
    return InNamespaces(dir_, "set -e\n"
                              "mount -t sysfs none /sys\n"
                              "mount -t tmpfs none /run\n"  // busybox's ifup keeps its state in /var/run/ifstate
                              + devices +
                              "IP=$(command -v ip)\n"
                              "ln -s \"$(command -v busybox)\" '" + bin + "/ip'\n"
                              "PATH='" + bin + "':$PATH busybox ifup -i '" + (dir_ / "interfaces").string() + "' -a\n"
                              "echo '--- links'; $IP -o link\n"
                              "echo '--- addresses'; $IP -o addr\n"
                              "echo '--- routes'; $IP route; $IP -6 route\n");
  }

  // The test's own iproute2 makes the devices (`devices`) and reads the result; busybox's ifup and ip do the RAM
  // OS's part for `net`. Each of `links` (`ip -o link`'s line of the device) and the addresses and routes must
  // show what is listed.
  void ExpectIfupShows(const host::HostNetwork& net, const std::string& devices,
                       const std::vector<std::pair<std::string, std::vector<std::string>>>& links,
                       const std::vector<std::string>& shown);

  fs::path dir_;
  std::string interfaces_;
};

// "5: eth0@peer1: <…> mtu 1460 … link/ether 02:…" from `ip -o link`; "" when absent.
std::string Link(const std::string& out, const std::string& name) {
  const auto at = out.find(": " + name + "@");
  return at == std::string::npos ? std::string() : out.substr(at, out.find('\n', at) - at);
}

// Whether `text` (what `ip` printed, or one link's line of it) has every one of `parts`.
::testing::AssertionResult Shows(const std::string& text, const std::vector<std::string>& parts) {
  for (const std::string& part : parts) {
    if (text.find(part) == std::string::npos) return ::testing::AssertionFailure() << "no \"" << part << "\"";
  }
  return ::testing::AssertionSuccess();
}

void NetnsTest::ExpectIfupShows(const host::HostNetwork& net, const std::string& devices,
                                const std::vector<std::pair<std::string, std::vector<std::string>>>& links,
                                const std::vector<std::string>& shown) {
  auto [rc, out] = Ifup(net, devices);
  ASSERT_EQ(rc, 0) << out << "\n--- interfaces\n" << interfaces_;
  for (const auto& [name, parts] : links) EXPECT_TRUE(Shows(Link(out, name), parts)) << name << ":\n" << out;
  EXPECT_TRUE(Shows(out, shown)) << out;
}

// GCP's /32 behind an off-subnet gateway with MTU 1460 and an IPv6 default
// route through a link-local router, and a second NIC with a route of its own;
// the RAM OS's kernel has named the two devices the other way round.
TEST_F(NetnsTest, BusyboxIfupBringsUpTheStaticNetworkOnTheDevicesWithTheHostsMacs) {
  host::HostNetwork net;
  net.interfaces = {{"ens4", "eth0", "02:00:5e:00:00:0a", {"10.128.0.5/32", "2001:db8::5/64"}, 1460, 2, {}},
                    {"ens5", "eth1", "02:00:5e:00:00:0b", {"192.168.10.5/24"}, 1500, 3, {}}};
  net.routes = {{"0.0.0.0/0", "10.128.0.1", "ens4", false},
                {"::/0", "fe80::1", "ens4", true},
                {"10.0.0.0/8", "192.168.10.1", "ens5", false}};
  // eth0 holds what the host called ens5 (eth1's MAC), and the other way round. The device with the host's ens4
  // MAC is eth0 now, up, with its MTU; ens5's is eth1.
  ExpectIfupShows(net,
                  "ip link add eth0 address 02:00:5e:00:00:0b type veth peer name peer0\n"
                  "ip link add eth1 address 02:00:5e:00:00:0a type veth peer name peer1\n"
                  "ip link set peer0 up; ip link set peer1 up\n",
                  {{"eth0", {"link/ether 02:00:5e:00:00:0a", ",UP", " mtu 1460 "}},
                   {"eth1", {"link/ether 02:00:5e:00:00:0b", " mtu 1500 "}}},
                  {"eth0    inet 10.128.0.5/32", "eth0    inet6 2001:db8::5/64", "eth1    inet 192.168.10.5/24",
                   "default via 10.128.0.1 dev eth0 onlink", "10.128.0.1 dev eth0 scope link",
                   "10.0.0.0/8 via 192.168.10.1 dev eth1", "default via fe80::1 dev eth0"});
}

// IPv6 only (the MTU then rides on the inet6 stanza), a /128 whose gateway is off it.
TEST_F(NetnsTest, BusyboxIfupBringsUpAnIpv6OnlyStaticNetwork) {
  host::HostNetwork net;
  net.interfaces = {{"enp1s0", "eth0", "02:00:5e:00:00:0c", {"2001:db8:5::5/128", "2001:db8:6::6/64"}, 9000, 2, {}}};
  net.routes = {{"::/0", "2001:db8::1", "enp1s0", true}, {"2001:db8:7::/48", "2001:db8:6::1", "enp1s0", true}};
  ExpectIfupShows(net, "ip link add eth0 address 02:00:5e:00:00:0c type veth peer name peer0\nip link set peer0 up\n",
                  {{"eth0", {" mtu 9000 "}}},
                  {"eth0    inet6 2001:db8:5::5/128", "eth0    inet6 2001:db8:6::6/64", "2001:db8::1 dev eth0",
                   "default via 2001:db8::1 dev eth0", "2001:db8:7::/48 via 2001:db8:6::1 dev eth0"});
}

// Tiny Core's script, run by busybox's sh with busybox's ifconfig and route (as Tiny Core has them), on a
// device its kernel named otherwise: found by MAC, MTU, the /32's off-subnet gateway, IPv6 via fe80::1.
TEST_F(NetnsTest, TinyCoreScriptConfiguresTheDeviceWithTheHostsMac) {
  host::HostNetwork net;
  net.interfaces = {{"ens4", "eth0", "02:00:5e:00:00:0d", {"10.128.0.5/32", "2001:db8::5/64"}, 1460, 2, {}}};
  net.routes = {{"0.0.0.0/0", "10.128.0.1", "ens4", false}, {"::/0", "fe80::1", "ens4", true}};
  net.nameservers = {"169.254.169.254"};
  std::ofstream(dir_ / "network.sh") << TinyCoreNetworkScript(net);
  std::ofstream(dir_ / "resolv.conf") << "";
  const std::string bin = (dir_ / "bin").string();
  auto [rc, out] = InNamespaces(
      dir_, "set -e\n"
            // The script writes /etc/resolv.conf: in this mount namespace that is the test's own file.
            "mount --bind '" + (dir_ / "resolv.conf").string() + "' /etc/resolv.conf\n"
            "mount -t sysfs none /sys\n"
            "ip link add ens9 address 02:00:5e:00:00:0d type veth peer name peer0\n"
            "ip link set peer0 up\n"
            "IP=$(command -v ip)\n"
            "for a in ifconfig route; do ln -s \"$(command -v busybox)\" '" + bin + "'/$a; done\n"
            "PATH='" + bin + "':$PATH busybox sh '" + (dir_ / "network.sh").string() + "'\n"
            "echo '--- links'; $IP -o link\n"
            "echo '--- addresses'; $IP -o addr\n"
            "echo '--- routes'; $IP route; $IP -6 route\n");
  ASSERT_EQ(rc, 0) << out << "\n--- script\n" << TinyCoreNetworkScript(net);
  EXPECT_TRUE(Shows(Link(out, "ens9"), {" mtu 1460 "})) << out;
  EXPECT_TRUE(
      Shows(out, {"ens9    inet 10.128.0.5/32", "ens9    inet6 2001:db8::5/64", "10.128.0.1 dev ens9 scope link",
                  "default via 10.128.0.1 dev ens9", "default via fe80::1 dev ens9"}))
      << out;
  EXPECT_NE(Slurp(dir_ / "resolv.conf").find("nameserver 169.254.169.254\n"), std::string::npos);
}

}  // namespace
}  // namespace ramos
