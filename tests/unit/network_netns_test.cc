// The static network bootrino writes, brought up for real by busybox's ifup
// (the ifupdown of busybox-based RAM OSes) with busybox's ip, inside a network
// and mount namespace of the test's own (unshare -n -m: only veth pairs the
// test makes; this machine's network is never touched). Skipped where
// namespaces cannot be made (not root, or a container without them) or busybox
// is missing.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "agent/host_network.h"
#include "agent/network_config.h"

namespace agent {
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
    if (std::system("unshare -n -m true >/dev/null 2>&1") != 0) GTEST_SKIP() << "cannot make a network namespace";
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

// GCP's /32 behind an off-subnet gateway with MTU 1460 and an IPv6 default
// route through a link-local router, and a second NIC with a route of its own;
// the RAM OS's kernel has named the two devices the other way round.
TEST_F(NetnsTest, BusyboxIfupBringsUpTheStaticNetworkOnTheDevicesWithTheHostsMacs) {
  HostNetwork net;
  net.interfaces = {{"ens4", "eth0", "02:00:5e:00:00:0a", {"10.128.0.5/32", "2001:db8::5/64"}, 1460, 2, {}},
                    {"ens5", "eth1", "02:00:5e:00:00:0b", {"192.168.10.5/24"}, 1500, 3, {}}};
  net.routes = {{"0.0.0.0/0", "10.128.0.1", "ens4", false},
                {"::/0", "fe80::1", "ens4", true},
                {"10.0.0.0/8", "192.168.10.1", "ens5", false}};
  const std::string names = (dir_ / "ifnames.sh").string();
  std::string interfaces = InterfacesFile(net, NetworkMode::kStatic);
  // The RAM OS runs /etc/bootrino/ifnames.sh; this test cannot write there.
  for (auto at = interfaces.find("/etc/bootrino/ifnames.sh"); at != std::string::npos;
       at = interfaces.find("/etc/bootrino/ifnames.sh", at)) {
    interfaces.replace(at, std::strlen("/etc/bootrino/ifnames.sh"), names);
    at += names.size();
  }
  std::ofstream(dir_ / "interfaces") << interfaces;
  std::ofstream(names) << InterfaceNamesScript(net);
  // busybox's ifup runs `run-parts /etc/network/if-*.d` (absent here) and stops when it fails.
  std::ofstream(dir_ / "bin" / "run-parts") << "#!/bin/sh\nexit 0\n";
  fs::permissions(dir_ / "bin" / "run-parts", fs::perms::owner_all);
  const std::string bin = (dir_ / "bin").string();
  // The test's own iproute2 makes the devices and reads the result; busybox's ifup and ip do the RAM OS's part.
  auto [rc, out] = InNamespaces(dir_, "set -e\n"
                                      "mount -t sysfs none /sys\n"
                                      "mount -t tmpfs none /run\n"  // busybox's ifup keeps its state in /var/run/ifstate
                                      // eth0 holds what the host called ens5 (eth1's MAC), and the other way round.
                                      "ip link add eth0 address 02:00:5e:00:00:0b type veth peer name peer0\n"
                                      "ip link add eth1 address 02:00:5e:00:00:0a type veth peer name peer1\n"
                                      "ip link set peer0 up; ip link set peer1 up\n"
                                      "IP=$(command -v ip)\n"
                                      "ln -s \"$(command -v busybox)\" '" + bin + "/ip'\n"
                                      "PATH='" + bin + "':$PATH busybox ifup -i '" + (dir_ / "interfaces").string() + "' -a\n"
                                      "echo '--- links'; $IP -o link\n"
                                      "echo '--- addresses'; $IP -o addr\n"
                                      "echo '--- routes'; $IP route; $IP -6 route\n");
  ASSERT_EQ(rc, 0) << out << "\n--- interfaces\n" << interfaces;
  auto has = [&](const std::string& what) { return out.find(what) != std::string::npos; };
  auto link = [&](const std::string& name) {  // "5: eth0@peer1: <…> mtu 1460 … link/ether 02:…"
    const auto at = out.find(": " + name + "@");
    return at == std::string::npos ? std::string() : out.substr(at, out.find('\n', at) - at);
  };
  // The device with the host's ens4 MAC is eth0 now, up, with its MTU; ens5's is eth1.
  EXPECT_NE(link("eth0").find("link/ether 02:00:5e:00:00:0a"), std::string::npos) << out;
  EXPECT_NE(link("eth0").find(",UP"), std::string::npos) << out;
  EXPECT_NE(link("eth0").find(" mtu 1460 "), std::string::npos) << out;
  EXPECT_NE(link("eth1").find("link/ether 02:00:5e:00:00:0b"), std::string::npos) << out;
  EXPECT_NE(link("eth1").find(" mtu 1500 "), std::string::npos) << out;
  EXPECT_TRUE(has("eth0    inet 10.128.0.5/32")) << out;
  EXPECT_TRUE(has("eth0    inet6 2001:db8::5/64")) << out;
  EXPECT_TRUE(has("eth1    inet 192.168.10.5/24")) << out;
  EXPECT_TRUE(has("default via 10.128.0.1 dev eth0 onlink")) << out;
  EXPECT_TRUE(has("10.128.0.1 dev eth0 scope link")) << out;
  EXPECT_TRUE(has("10.0.0.0/8 via 192.168.10.1 dev eth1")) << out;
  EXPECT_TRUE(has("default via fe80::1 dev eth0")) << out;
}

}  // namespace
}  // namespace agent
