#include "host/network.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "ramos/network_config.h"
#include "tests/unit/fake_sys.h"

namespace ramos {
namespace {

// /proc/net/dev: its two header lines, then `rows`, one per interface.
std::string ProcNetDev(const std::string& rows) {
  return "Inter-|   Receive                            |  Transmit\n"
         " face |bytes    packets errs drop fifo frame|bytes\n" +
         rows;
}

// The sysfs files of interface `name`; `device`: a NIC's driver is behind it (not lo or a bridge).
void AddInterface(testing_support::FakeSys& sys, const std::string& name, const std::string& type,
                  const std::string& index, const std::string& mac, const std::string& mtu, bool device) {
  const std::string dir = "/sys/class/net/" + name + "/";
  sys.files[dir + "type"] = type + "\n";
  sys.files[dir + "ifindex"] = index + "\n";
  sys.files[dir + "address"] = mac + "\n";
  sys.files[dir + "mtu"] = mtu + "\n";
  if (device) sys.files[dir + "device/uevent"] = "DRIVER=virtio_net\n";
}

// A DigitalOcean-like droplet as /proc and /sys show it: ens3 (public, plus
// the anchor address), ens4 (private), lo, and docker0 (no device behind it).
testing_support::FakeSys Droplet() {
  testing_support::FakeSys sys;
  sys.files["/proc/net/dev"] = ProcNetDev(
      "    lo: 1 2 0 0 0 0 0 0 1 2 0 0 0 0 0 0\n"
      "docker0: 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
      "  ens4: 5 6 0 0 0 0 0 0 5 6 0 0 0 0 0 0\n"
      "  ens3: 3 4 0 0 0 0 0 0 3 4 0 0 0 0 0 0\n");
  AddInterface(sys, "lo", "772", "1", "00:00:00:00:00:00", "65536", false);
  AddInterface(sys, "ens3", "1", "2", "aa:bb:cc:00:00:03", "1500", true);
  AddInterface(sys, "ens4", "1", "3", "aa:bb:cc:00:00:04", "1500", true);
  AddInterface(sys, "docker0", "1", "4", "02:42:00:00:00:01", "1500", false);
  sys.addresses = {{"lo", "127.0.0.1", 8, false},         {"ens3", "203.0.113.5", 20, false},
                   {"ens3", "10.17.0.5", 16, false},      {"ens4", "10.136.0.9", 16, false},
                   {"docker0", "172.17.0.1", 16, false},  {"lo", "::1", 128, true},
                   {"ens3", "2001:db8::5", 64, true},     {"ens3", "fe80::a8bb:ccff:fe00:3", 64, true}};
  // 203.0.113.1 is CB 00 71 01 in memory: the little-endian %08X of it is 017100CB.
  sys.files["/proc/net/route"] =
      "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
      "ens3\t00000000\t017100CB\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
      "ens3\t007000CB\t00000000\t0001\t0\t0\t0\t00F0FFFF\t0\t0\t0\n"
      "ens4\t0000000A\t0100880A\t0003\t0\t0\t0\t000000FF\t0\t0\t0\n"
      "docker0\t000011AC\t010011AC\t0003\t0\t0\t0\t0000FFFF\t0\t0\t0\n";
  sys.files["/proc/net/ipv6_route"] =
      "20010db8000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 "
      "00000100 00000001 00000000 00000001     ens3\n"
      "00000000000000000000000000000000 00 00000000000000000000000000000000 00 20010db8000000000000000000000001 "
      "00000400 00000001 00000000 00000003     ens3\n"
      "00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 "
      "ffffffff 00000001 00000000 00200200       lo\n";
  sys.files["/etc/resolv.conf"] = "# stub\nnameserver 127.0.0.53\noptions edns0 trust-ad\nsearch example.internal\n";
  sys.files["/run/systemd/resolve/resolv.conf"] = "nameserver 67.207.67.2\nnameserver 67.207.67.3\n";
  return sys;
}

// A GCP-like instance: one /32 whose gateway is outside it, reached through a
// host route the guest agent adds (no gateway: not captured), and an MTU of 1460.
testing_support::FakeSys Gcp() {
  testing_support::FakeSys sys;
  sys.files["/proc/net/dev"] = ProcNetDev(
      "    lo: 1 2 0 0 0 0 0 0 1 2 0 0 0 0 0 0\n"
      "  ens4: 3 4 0 0 0 0 0 0 3 4 0 0 0 0 0 0\n");
  AddInterface(sys, "ens4", "1", "2", "42:01:0a:80:00:05", "1460", true);
  sys.addresses = {{"lo", "127.0.0.1", 8, false}, {"ens4", "10.128.0.5", 32, false}};
  // 10.128.0.1 is 0A 80 00 01 in memory: 0100800A.
  sys.files["/proc/net/route"] =
      "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
      "ens4\t00000000\t0100800A\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
      "ens4\t0100800A\t00000000\t0005\t0\t0\t100\tFFFFFFFF\t0\t0\t0\n";
  sys.files["/etc/resolv.conf"] = "nameserver 169.254.169.254\nsearch c.project.internal google.internal\n";
  return sys;
}

TEST(HostNetworkTest, CapturesPhysicalInterfacesRoutesAndResolvedsUpstream) {
  auto sys = Droplet();
  auto net = host::CaptureHostNetwork(sys);
  ASSERT_TRUE(net) << net.error().message();
  ASSERT_EQ(net->interfaces.size(), 2u);
  EXPECT_EQ(net->interfaces[0].name, "ens3");
  EXPECT_EQ(net->interfaces[0].ramos_name, "eth0");  // ifindex 2 comes first
  EXPECT_EQ(net->interfaces[0].mac, "aa:bb:cc:00:00:03");
  EXPECT_EQ(net->interfaces[0].addresses,
            (std::vector<std::string>{"203.0.113.5/20", "10.17.0.5/16", "2001:db8::5/64"}));
  EXPECT_EQ(net->interfaces[1].name, "ens4");
  EXPECT_EQ(net->interfaces[1].ramos_name, "eth1");
  ASSERT_EQ(net->routes.size(), 3u);  // not the connected route, not docker0's, not lo's reject route
  EXPECT_EQ(net->routes[0].destination, "0.0.0.0/0");
  EXPECT_EQ(net->routes[0].gateway, "203.0.113.1");
  EXPECT_EQ(net->routes[0].interface, "ens3");
  EXPECT_EQ(net->routes[1].destination, "10.0.0.0/8");
  EXPECT_EQ(net->routes[1].gateway, "10.136.0.1");
  EXPECT_EQ(net->routes[2].destination, "::/0");
  EXPECT_EQ(net->routes[2].gateway, "2001:db8::1");
  EXPECT_TRUE(net->routes[2].ipv6);
  EXPECT_EQ(net->nameservers, (std::vector<std::string>{"67.207.67.2", "67.207.67.3"}));
  EXPECT_EQ(net->search, (std::vector<std::string>{"example.internal"}));
}

TEST(HostNetworkTest, PlainResolvConfIsTakenAsItIsWithoutLoopbackServers) {
  auto sys = Droplet();
  sys.files["/etc/resolv.conf"] = "nameserver 1.1.1.1\nnameserver 127.0.0.1\nnameserver 2606:4700::1111\ndomain corp\n";
  auto net = host::CaptureHostNetwork(sys);
  ASSERT_TRUE(net);
  EXPECT_EQ(net->nameservers, (std::vector<std::string>{"1.1.1.1", "2606:4700::1111"}));
  EXPECT_EQ(net->search, (std::vector<std::string>{"corp"}));
}

// resolv.conf is written from what DHCP said. A nameserver goes into Alpine's ip= kernel parameter, where a
// quote would swallow the command line after it, and both go into the RAM OS's files: only an address is
// a name server, only a DNS name a search domain.
TEST(HostNetworkTest, ResolvConfKeepsOnlyAddressesAndDnsNames) {
  auto sys = Droplet();
  sys.files["/etc/resolv.conf"] =
      "nameserver 1.1.1.1\"\nnameserver $(reboot)\nnameserver 9.9.9.9\nnameserver fe80::1%ens3\n"
      "nameserver fe80::2%\nnameserver 1.1.1\nsearch corp.example bad\"name $(x) ok-1.example\n";
  auto net = host::CaptureHostNetwork(sys);
  ASSERT_TRUE(net);
  EXPECT_EQ(net->nameservers, (std::vector<std::string>{"9.9.9.9", "fe80::1%ens3"}));
  EXPECT_EQ(net->search, (std::vector<std::string>{"corp.example", "ok-1.example"}));
  sys.files["/etc/resolv.conf"] = "nameserver 8.8.8.8\ndomain a\"b\n";
  EXPECT_TRUE(host::CaptureHostNetwork(sys)->search.empty());
  sys.files["/etc/resolv.conf"] = "nameserver 8.8.8.8\ndomain " + std::string(254, 'a') + "\n";
  EXPECT_TRUE(host::CaptureHostNetwork(sys)->search.empty());
}

// network.json is JSON (UTF-8) and the RAM OS's scripts find an interface by its MAC, unquoted: an interface
// whose name is not printable ASCII (the kernel allows any byte but '/', ':' and spaces) or whose address
// is not a MAC is not carried, and nothing that writes the network throws (found by tests/fuzz/host_network).
TEST(HostNetworkTest, InterfacesThatCannotBeWrittenAreNotCarried) {
  auto sys = Droplet();
  sys.files["/proc/net/dev"] = ProcNetDev(
      "  ens3: 3 4 0 0 0 0 0 0 3 4 0 0 0 0 0 0\n"
      "  ens4: 5 6 0 0 0 0 0 0 5 6 0 0 0 0 0 0\n"
      "  en\xff: 5 6 0 0 0 0 0 0 5 6 0 0 0 0 0 0\n");
  AddInterface(sys, "ens4", "1", "3", "aa:bb:cc:00:00:0$(reboot)", "1500", true);
  AddInterface(sys, "en\xff", "1", "5", "aa:bb:cc:00:00:05", "1500", true);
  sys.addresses.push_back({"en\xff", "192.0.2.5", 24, false});
  auto net = host::CaptureHostNetwork(sys);
  ASSERT_TRUE(net);
  EXPECT_NO_THROW((void)host::NetworkJson(*net, host::NetworkMode::kStatic).dump());
  ASSERT_EQ(net->interfaces.size(), 1u);
  EXPECT_EQ(net->interfaces[0].name, "ens3");
}

TEST(HostNetworkTest, MissingTablesAreEmptyButNoDeviceListIsAnError) {
  testing_support::FakeSys bare;
  bare.files["/proc/net/dev"] = "h1\nh2\n";
  auto net = host::CaptureHostNetwork(bare);
  ASSERT_TRUE(net);
  EXPECT_TRUE(net->interfaces.empty() && net->routes.empty() && net->nameservers.empty());
  testing_support::FakeSys none;
  auto failed = host::CaptureHostNetwork(none);
  ASSERT_FALSE(failed);
  EXPECT_NE(failed.error().hint().find("--network dhcp"), std::string::npos);
}

TEST(HostNetworkTest, AutoIsStaticOnlyOnDigitalOcean) {
  EXPECT_EQ(*host::ChooseNetworkMode("auto", true), host::NetworkMode::kStatic);
  EXPECT_EQ(*host::ChooseNetworkMode("auto", false), host::NetworkMode::kDhcp);
  EXPECT_EQ(*host::ChooseNetworkMode("dhcp", true), host::NetworkMode::kDhcp);
  EXPECT_EQ(*host::ChooseNetworkMode("static", false), host::NetworkMode::kStatic);
  auto bad = host::ChooseNetworkMode("manual", false);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind(), base::ErrorKind::kUsage);
}

// What every static interfaces file starts with.
const std::string kStaticHeader =
    "# Written by bootrino (network: static). Interfaces are named as a kernel without udev renaming names them;\n"
    "# the comment above each names its MAC address on the host that installed this OS.\n"
    "\n"
    "auto lo\n"
    "iface lo inet loopback\n"
    "\n";

TEST(HostNetworkTest, InterfacesFileStatic) {
  auto sys = Droplet();
  auto net = *host::CaptureHostNetwork(sys);
  EXPECT_EQ(InterfacesFile(net, host::NetworkMode::kStatic),
            kStaticHeader +
            "# aa:bb:cc:00:00:03 (ens3 on the host)\n"
            "auto eth0\n"
            "iface eth0 inet static\n"
            "\taddress 203.0.113.5\n"
            "\tnetmask 255.255.240.0\n"
            "\tpre-up /bin/sh /etc/bootrino/ifnames.sh\n"
            "\tgateway 203.0.113.1\n"
            "\tup ip addr add 10.17.0.5/16 dev eth0\n"
            "iface eth0 inet6 static\n"
            "\taddress 2001:db8::5\n"
            "\tnetmask 64\n"
            "\tpre-up /bin/sh /etc/bootrino/ifnames.sh\n"
            "\tgateway 2001:db8::1\n"
            "\n"
            "# aa:bb:cc:00:00:04 (ens4 on the host)\n"
            "auto eth1\n"
            "iface eth1 inet static\n"
            "\taddress 10.136.0.9\n"
            "\tnetmask 255.255.0.0\n"
            "\tpre-up /bin/sh /etc/bootrino/ifnames.sh\n"
            "\tup ip route add 10.0.0.0/8 via 10.136.0.1 dev eth1\n");
}

TEST(HostNetworkTest, InterfacesFileDhcpAndEmpty) {
  auto sys = Droplet();
  auto net = *host::CaptureHostNetwork(sys);
  std::string dhcp = InterfacesFile(net, host::NetworkMode::kDhcp);
  EXPECT_NE(dhcp.find("auto eth0\niface eth0 inet dhcp\n"), std::string::npos);
  EXPECT_NE(dhcp.find("auto eth1\niface eth1 inet dhcp\n"), std::string::npos);
  EXPECT_EQ(dhcp.find("static"), std::string::npos);
  std::string empty = InterfacesFile(host::HostNetwork{}, host::NetworkMode::kDhcp);
  EXPECT_TRUE(empty.ends_with("auto lo\niface lo inet loopback\n\nauto eth0\niface eth0 inet dhcp\n")) << empty;
}

TEST(HostNetworkTest, ResolvConfAndAlpineIpParam) {
  auto sys = Droplet();
  auto net = *host::CaptureHostNetwork(sys);
  EXPECT_EQ(ResolvConf(net), "# Written by bootrino: the name servers of the host that installed this OS.\n"
                             "nameserver 67.207.67.2\nnameserver 67.207.67.3\nsearch example.internal\n");
  EXPECT_EQ(ResolvConf(host::HostNetwork{}), "");
  EXPECT_EQ(AlpineIpParam(net), "ip=203.0.113.5::203.0.113.1:255.255.240.0::eth0:none:67.207.67.2:67.207.67.3");
  net.routes.erase(net.routes.begin());  // no IPv4 default route: nothing to say
  EXPECT_EQ(AlpineIpParam(net), "");
  EXPECT_EQ(Ipv4Netmask(0), "0.0.0.0");
  EXPECT_EQ(Ipv4Netmask(32), "255.255.255.255");
  EXPECT_EQ(Ipv4Netmask(23), "255.255.254.0");
}

// The Tiny Core script finds interfaces by MAC and is valid sh.
TEST(HostNetworkTest, TinyCoreScript) {
  auto sys = Droplet();
  auto net = *host::CaptureHostNetwork(sys);
  std::string script = TinyCoreNetworkScript(net);
  for (const char* line :
       {"IF=$(iface aa:bb:cc:00:00:03)", "\tifconfig \"$IF\" 203.0.113.5 netmask 255.255.240.0 up\n",
        "\tifconfig \"$IF:1\" 10.17.0.5 netmask 255.255.0.0 up\n", "\tifconfig \"$IF\" add 2001:db8::5/64\n",
        "\troute add default gw 203.0.113.1 dev \"$IF\"\n", "\troute -A inet6 add ::/0 gw 2001:db8::1 dev \"$IF\"\n",
        "\troute add -net 10.0.0.0 netmask 255.0.0.0 gw 10.136.0.1 dev \"$IF\"\n", "nameserver 67.207.67.2\n"}) {
    EXPECT_NE(script.find(line), std::string::npos) << line << "\n---\n" << script;
  }
  const std::string path = std::filesystem::temp_directory_path() / ("bootrino-tc-net-" + std::to_string(getpid()));
  std::ofstream(path) << script;
  EXPECT_EQ(std::system(("sh -n '" + path + "'").c_str()), 0) << script;
  std::filesystem::remove(path);
}

TEST(HostNetworkTest, JsonNamesBothInterfaceNames) {
  auto sys = Droplet();
  auto j = host::NetworkJson(*host::CaptureHostNetwork(sys), host::NetworkMode::kStatic);
  EXPECT_EQ(j["mode"], "static");
  EXPECT_EQ(j["interfaces"][0]["name"], "eth0");
  EXPECT_EQ(j["interfaces"][0]["hostName"], "ens3");
  EXPECT_EQ(j["routes"][1]["interface"], "eth1");
  EXPECT_EQ(j["nameservers"][0], "67.207.67.2");
  EXPECT_NE(host::DescribeNetwork(*host::CaptureHostNetwork(sys), host::NetworkMode::kStatic)
                .find("eth0 (aa:bb:cc:00:00:03, ens3 here) "
                      "203.0.113.5/20"),
            std::string::npos);
}

}  // namespace
}  // namespace ramos

namespace ramos {
namespace {

TEST(HostNetworkTest, MtuIsCapturedAndWrittenOnlyWhenNot1500) {
  auto gcp_sys = Gcp();
  auto gcp = *host::CaptureHostNetwork(gcp_sys);
  ASSERT_EQ(gcp.interfaces.size(), 1u);
  EXPECT_EQ(gcp.interfaces[0].mtu, 1460u);
  const std::string file = InterfacesFile(gcp, host::NetworkMode::kStatic);
  EXPECT_NE(file.find("iface eth0 inet static\n\taddress 10.128.0.5\n\tnetmask 255.255.255.255\n"
                      "\tpre-up /bin/sh /etc/bootrino/ifnames.sh\n\tmtu 1460\n"),
            std::string::npos) << file;
  EXPECT_NE(
      InterfacesFile(gcp, host::NetworkMode::kDhcp).find("iface eth0 inet dhcp\n\tup ip link set dev eth0 mtu 1460\n"),
      std::string::npos);
  EXPECT_NE(TinyCoreNetworkScript(gcp).find("\tifconfig \"$IF\" mtu 1460\n"), std::string::npos);
  EXPECT_EQ(host::NetworkJson(gcp, host::NetworkMode::kStatic)["interfaces"][0]["mtu"], 1460);
  EXPECT_NE(host::DescribeNetwork(gcp, host::NetworkMode::kStatic).find("10.128.0.5/32 mtu 1460"), std::string::npos);
  // IPv6 only: the inet6 stanza carries it.
  gcp.interfaces[0].addresses = {"2001:db8::5/64"};
  EXPECT_NE(InterfacesFile(gcp, host::NetworkMode::kStatic)
                .find("\tnetmask 64\n\tpre-up /bin/sh /etc/bootrino/ifnames.sh\n"
                      "\tmtu 1460\n"),
            std::string::npos);

  auto droplet_sys = Droplet();
  auto droplet = *host::CaptureHostNetwork(droplet_sys);
  EXPECT_EQ(droplet.interfaces[0].mtu, 1500u);
  EXPECT_EQ(InterfacesFile(droplet, host::NetworkMode::kStatic).find("mtu"), std::string::npos);
  EXPECT_EQ(InterfacesFile(droplet, host::NetworkMode::kDhcp).find("mtu"), std::string::npos);
  EXPECT_EQ(TinyCoreNetworkScript(droplet).find("mtu"), std::string::npos);
  EXPECT_EQ(host::DescribeNetwork(droplet, host::NetworkMode::kStatic).find("mtu"), std::string::npos);
}

// GCP's /32: the gateway is reached by a host route, then an onlink default route, in every style.
TEST(HostNetworkTest, GatewayOutsideTheSubnetGetsAHostRouteFirst) {
  auto sys = Gcp();
  auto net = *host::CaptureHostNetwork(sys);
  ASSERT_EQ(net.routes.size(), 1u);
  EXPECT_TRUE(net.GatewayOffSubnet(net.routes[0]));
  net.routes.push_back({"192.168.0.0/16", "10.128.0.1", "ens4", false});
  EXPECT_EQ(InterfacesFile(net, host::NetworkMode::kStatic),
            kStaticHeader +
            "# 42:01:0a:80:00:05 (ens4 on the host)\n"
            "auto eth0\n"
            "iface eth0 inet static\n"
            "\taddress 10.128.0.5\n"
            "\tnetmask 255.255.255.255\n"
            "\tpre-up /bin/sh /etc/bootrino/ifnames.sh\n"
            "\tmtu 1460\n"
            "\tup ip route add 10.128.0.1 dev eth0\n"
            "\tup ip route add default via 10.128.0.1 dev eth0 onlink\n"
            "\tup ip route add 192.168.0.0/16 via 10.128.0.1 dev eth0 onlink\n");
  const std::string script = TinyCoreNetworkScript(net);
  const auto host = script.find("\troute add -host 10.128.0.1 dev \"$IF\"\n");
  ASSERT_NE(host, std::string::npos) << script;
  EXPECT_LT(host, script.find("\troute add default gw 10.128.0.1 dev \"$IF\"\n"));
  // ip= cannot say onlink: the initramfs gets the address alone.
  EXPECT_EQ(AlpineIpParam(net), "ip=10.128.0.5:::255.255.255.255::eth0:none:169.254.169.254");
  EXPECT_NE(host::DescribeNetwork(net, host::NetworkMode::kStatic).find("via 10.128.0.1 (on-link, outside the subnet)"),
            std::string::npos);
}

// Hetzner-like IPv6: a /64 whose default route goes through fe80::1, and a /128 whose gateway is off it.
TEST(HostNetworkTest, Ipv6GatewaysLinkLocalAndOffSubnet) {
  host::HostNetwork net;
  net.interfaces = {{"eth0", "eth0", "96:00:00:00:00:01", {"2a01:4f8::5/64"}, 1500, 2, {}}};
  net.routes = {{"::/0", "fe80::1", "eth0", true}};
  EXPECT_FALSE(net.GatewayOffSubnet(net.routes[0]));
  std::string file = InterfacesFile(net, host::NetworkMode::kStatic);
  EXPECT_NE(file.find("iface eth0 inet6 static\n\taddress 2a01:4f8::5\n\tnetmask 64\n"
                      "\tpre-up /bin/sh /etc/bootrino/ifnames.sh\n\tgateway fe80::1\n"),
            std::string::npos) << file;
  EXPECT_NE(TinyCoreNetworkScript(net).find("\troute -A inet6 add ::/0 gw fe80::1 dev \"$IF\"\n"), std::string::npos);
  net.interfaces[0].addresses = {"2001:db8:5::5/128"};
  net.routes = {{"::/0", "2001:db8::1", "eth0", true}};
  EXPECT_TRUE(net.GatewayOffSubnet(net.routes[0]));
  file = InterfacesFile(net, host::NetworkMode::kStatic);
  EXPECT_NE(
      file.find("\tnetmask 128\n\tpre-up /bin/sh /etc/bootrino/ifnames.sh\n\tup ip -6 route add 2001:db8::1 dev eth0\n"
                "\tup ip -6 route add default via 2001:db8::1 dev eth0 onlink\n"),
      std::string::npos)
      << file;
  EXPECT_EQ(file.find("gateway"), std::string::npos);
  EXPECT_NE(TinyCoreNetworkScript(net).find("\troute -A inet6 add 2001:db8::1/128 dev \"$IF\"\n"), std::string::npos);
  // Inside the subnet, for both families, nothing changes.
  net.interfaces[0].addresses = {"203.0.113.5/20", "2001:db8::5/64"};
  net.routes = {{"0.0.0.0/0", "203.0.113.1", "eth0", false}, {"::/0", "2001:db8::1", "eth0", true}};
  EXPECT_FALSE(net.GatewayOffSubnet(net.routes[0]));
  EXPECT_FALSE(net.GatewayOffSubnet(net.routes[1]));
  EXPECT_EQ(InterfacesFile(net, host::NetworkMode::kStatic).find("onlink"), std::string::npos);
}

// --- Where the host's IPv4 came from, and what auto makes of it.

host::AddressOrigin OriginOf(testing_support::FakeSys& sys) {
  auto net = host::CaptureHostNetwork(sys);
  EXPECT_TRUE(net && net->interfaces.size() == 1u);
  return net && !net->interfaces.empty() ? net->interfaces[0].origin : host::AddressOrigin{};
}

using Kind = host::AddressOrigin::Kind;

// One file of the host written (over what was there), and the origin auto then finds for ens4's 10.128.0.5.
struct OriginStep {
  std::string path, content;
  Kind kind;
  std::string evidence = "";  // empty: not checked
};

// From the GCP host (no evidence: kUnknown), each step in turn, on top of the ones before.
void ExpectOrigins(const std::vector<OriginStep>& steps, testing_support::FakeSys sys = Gcp()) {
  EXPECT_EQ(OriginOf(sys).kind, Kind::kUnknown);
  for (const OriginStep& step : steps) {
    sys.files[step.path] = step.content;
    const host::AddressOrigin origin = OriginOf(sys);
    EXPECT_EQ(origin.kind, step.kind) << step.path << ":\n" << step.content;
    if (!step.evidence.empty()) {
      EXPECT_EQ(origin.evidence, step.evidence);
    }
  }
}

TEST(HostNetworkTest, OriginFromSystemdNetworkd) {
  const std::string lease = "/run/systemd/netif/leases/2", link = "/run/systemd/netif/links/2";
  ExpectOrigins({
      {lease, "# This is private data. Do not parse.\nADDRESS=10.128.0.5\nNETMASK=255.255.255.255\n", Kind::kDhcp,
       "systemd-networkd's lease " + lease},
      // A lease for another address is not this address's origin.
      {lease, "ADDRESS=10.128.0.51\n", Kind::kUnknown},
      {link, "ADMIN_STATE=configured\nOPER_STATE=routable\nNETWORK_FILE=/etc/systemd/network/10-ens4.network\n",
       Kind::kStatic},
      {link, "ADMIN_STATE=configured\nDHCP4_ADDRESS=10.128.0.5\n", Kind::kDhcp},
      {link, "ADMIN_STATE=unmanaged\n", Kind::kUnknown},
  });
}

TEST(HostNetworkTest, OriginFromNetworkManager) {
  const std::string device = "/run/NetworkManager/devices/2";
  const std::string lease = "/var/lib/NetworkManager/internal-5fb06bd0-0bb0-7ffb-45f1-d6edd65f3e03-ens4.lease";
  ExpectOrigins({
      {device, "[device]\nmanaged=true\nconnection-uuid=5fb06bd0-0bb0-7ffb-45f1-d6edd65f3e03\n", Kind::kStatic},
      {lease, "# This is private data. Do not parse.\nADDRESS=10.128.0.5\n", Kind::kDhcp,
       "NetworkManager's lease " + lease},
      {device, "[device]\nmanaged=false\n", Kind::kUnknown},
  });
}

// Found by tests/fuzz/host_network: a state file's values reach the plan and network.json as evidence, and
// NetworkManager's connection-uuid names a lease file. A uuid that is not a UUID (one that climbs out of
// /var/lib/NetworkManager, here) and an ifupdown method that is not a word are no evidence at all.
TEST(HostNetworkTest, StateThatIsNotTheManagersIsNoEvidence) {
  ExpectOrigins({
      {"/run/NetworkManager/devices/2", "[device]\nmanaged=true\nconnection-uuid=/../../../run/x\n", Kind::kUnknown},
      {"/var/lib/NetworkManager/internal-/../../../run/x-ens4.lease", "ADDRESS=10.128.0.5\n", Kind::kUnknown},
      {"/run/NetworkManager/devices/2", "[device]\nmanaged=true\nconnection-uuid=5fb06bd0\x01\n", Kind::kUnknown},
      {"/run/network/ifstate", "ens4=ens4\n", Kind::kUnknown},
      {"/etc/network/interfaces", "iface ens4 inet stat\x06ic\n", Kind::kUnknown},
      {"/etc/network/interfaces", "iface ens4 inet static\n", Kind::kStatic},
  });
}

// Also found by tests/fuzz/host_network: a row of /proc/net/ipv6_route whose destination is not 32 hex
// digits, or whose prefix is longer than 128, is not a route (it became "/64" before).
TEST(HostNetworkTest, MalformedIpv6RoutesAreSkipped) {
  auto sys = Droplet();
  sys.files["/proc/net/ipv6_route"] =
      "20010db800000000000000000000000 40 00000000000000000000000000000000 00 20010db8000000000000000000000001 "
      "00000100 00000001 00000000 00000003     ens3\n"
      "20010db8000000000000000000000000 81 00000000000000000000000000000000 00 20010db8000000000000000000000001 "
      "00000100 00000001 00000000 00000003     ens3\n";
  auto net = host::CaptureHostNetwork(sys);
  ASSERT_TRUE(net);
  EXPECT_TRUE(std::none_of(net->routes.begin(), net->routes.end(), [](const host::HostRoute& r) { return r.ipv6; }));
}

TEST(HostNetworkTest, OriginFromIfupdownDhclientAndDhcpcd) {
  ExpectOrigins({
      // Configured, but ifupdown did not bring it up.
      {"/etc/network/interfaces.d/50-cloud-init",
       "auto lo\niface lo inet loopback\n\nauto ens4\niface ens4 inet dhcp\n", Kind::kUnknown},
      {"/run/network/ifstate", "lo=lo\nens4=ens4\n", Kind::kDhcp,
       "ifupdown: iface ens4 inet dhcp in /etc/network/interfaces.d/50-cloud-init"},
      {"/etc/network/interfaces",
       "source /etc/network/interfaces.d/*\niface ens4 inet static\n\taddress 10.128.0.5/32\n", Kind::kStatic},
  });

  const std::string dhclient = "/var/lib/dhcp/dhclient.leases";
  ExpectOrigins({
      {dhclient, "lease {\n  interface \"ens4\";\n  fixed-address 10.128.0.51;\n}\n", Kind::kUnknown},
      {dhclient, "lease {\n  interface \"ens4\";\n  fixed-address 10.128.0.5;\n}\n", Kind::kDhcp,
       "dhclient's lease " + dhclient},
  });

  // dhcpcd's lease is the DHCP message: op, htype, hlen, hops, xid, secs, flags, ciaddr, then yiaddr.
  const std::string dhcpcd = "/var/lib/dhcpcd/ens4.lease";
  auto message = [](char last_octet) {
    return std::string("\x02\x01\x06\x00", 4) + "XIDX" + std::string(8, '\0') + std::string("\x0a\x80\x00", 3) +
           last_octet + std::string(220, '\0');
  };
  ExpectOrigins({
      {dhcpcd, message('\x33'), Kind::kUnknown},  // a lease of 10.128.0.51
      {dhcpcd, message('\x05'), Kind::kDhcp, "dhcpcd's lease " + dhcpcd},
  });
}

TEST(HostNetworkTest, AutoIsDhcpOnlyWhenEveryCarriedIpv4CameFromDhcp) {
  auto sys = Gcp();
  sys.files["/run/systemd/netif/leases/2"] = "ADDRESS=10.128.0.5\n";
  auto net = *host::CaptureHostNetwork(sys);
  host::AutoMode dhcp = host::ChooseAutoMode(net, false);
  EXPECT_EQ(dhcp.mode, host::NetworkMode::kDhcp);
  EXPECT_EQ(dhcp.reason,
            "every interface's IPv4 address came from DHCP: eth0 (ens4 here) from systemd-networkd's lease "
            "/run/systemd/netif/leases/2");
  EXPECT_EQ(host::ChooseAutoMode(net, true).mode, host::NetworkMode::kStatic);
  EXPECT_EQ(host::ChooseAutoMode(net, true).reason, "DigitalOcean gives no DHCP");
  auto j = host::NetworkJson(net, dhcp.mode, dhcp.reason);
  EXPECT_EQ(j["reason"], dhcp.reason);
  EXPECT_EQ(j["interfaces"][0]["ipv4Origin"], "dhcp");
  EXPECT_EQ(j["interfaces"][0]["ipv4Evidence"], "systemd-networkd's lease /run/systemd/netif/leases/2");

  // The droplet: ens3 from DHCP, ens4 unknown: static, and the reason names ens4.
  auto droplet_sys = Droplet();
  droplet_sys.files["/run/systemd/netif/leases/2"] = "ADDRESS=203.0.113.5\n";
  auto droplet = *host::CaptureHostNetwork(droplet_sys);
  EXPECT_EQ(droplet.interfaces[0].origin.kind, host::AddressOrigin::Kind::kDhcp);
  host::AutoMode mixed = host::ChooseAutoMode(droplet, false);
  EXPECT_EQ(mixed.mode, host::NetworkMode::kStatic);
  EXPECT_EQ(mixed.reason,
            "eth1 (ens4 here): no DHCP lease found for its IPv4 address, so its configuration is carried");
  droplet_sys.files["/run/systemd/netif/links/3"] = "ADMIN_STATE=configured\n";
  EXPECT_EQ(
      host::ChooseAutoMode(*host::CaptureHostNetwork(droplet_sys), false).reason,
      "eth1 (ens4 here) is not from DHCP: systemd-networkd configured it without DHCPv4 (/run/systemd/netif/links/3)");

  // IPv6 only: no DHCPv4 to ask. Nothing at all: nothing to carry.
  host::HostNetwork v6;
  v6.interfaces = {{"eth0", "eth0", "96:00:00:00:00:01", {"2a01:4f8::5/64"}, 1500, 2, {}}};
  EXPECT_EQ(host::ChooseAutoMode(v6, false).mode, host::NetworkMode::kStatic);
  EXPECT_EQ(host::ChooseAutoMode(host::HostNetwork{}, false).mode, host::NetworkMode::kDhcp);
}

}  // namespace
}  // namespace ramos
