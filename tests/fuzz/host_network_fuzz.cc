// host::CaptureHostNetwork and what the RAM OS gets written from it
// (ramos/network_config.h, network.json): the host's /proc/net tables and
// /sys/class/net are the kernel's, but resolv.conf and the lease files hold
// what a DHCP server said, and every value captured lands in the RAM OS's shell
// scripts, its /etc/network/interfaces, network.json and, on Alpine, the kernel
// command line (ip=).
//
// The input is sections split at NUL bytes, an empty one an absent file:
//   0 /proc/net/dev    1 getifaddrs, "NAME ADDRESS PREFIX" per line (kept only
//   when ADDRESS is one, as the kernel gives it)    2 /sys/class/net, "NAME
//   FILE VALUE" per line (FILE: type, ifindex, address, mtu, device/uevent) 3
//   /proc/net/route    4 /proc/net/ipv6_route    5 /etc/resolv.conf 6
//   /run/systemd/resolve/resolv.conf    7… the DHCP and network managers'
//   state: every file under kStatePrefixes[i] reads section 7 + i.
#include <arpa/inet.h>

#include <algorithm>
#include <string>
#include <vector>

#include "host/network.h"
#include "kexec/cmdline.h"
#include "ramos/network_config.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/unit/fake_sys.h"

namespace {

constexpr const char* kStatePrefixes[] = {
    "/run/systemd/netif/leases/",
    "/run/systemd/netif/links/",
    "/run/NetworkManager/devices/",
    "/var/lib/NetworkManager/",
    "/run/network/ifstate",
    "/etc/network/interfaces",
    "/var/lib/dhcp",  // dhcp/, dhclient/, dhcpcd/ and dhcpcd5/
};

std::vector<std::string_view> Split(std::string_view text, char at) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    const std::size_t end = std::min(text.find(at), text.size());
    out.push_back(text.substr(0, end));
    text.remove_prefix(std::min(end + 1, text.size()));
  }
  return out;
}

class HostFiles : public testing_support::FakeSys {
 public:
  std::vector<std::string> state;  ///< by kStatePrefixes index; "" absent

  base::Result<std::string> ReadText(const std::string& path) override {
    for (std::size_t i = 0; i < state.size() && i < std::size(kStatePrefixes); ++i) {
      if (path.starts_with(kStatePrefixes[i]) && !state[i].empty()) return state[i];
    }
    return FakeSys::ReadText(path);
  }
};

bool IsAddress(const std::string& text, int* family = nullptr) {
  unsigned char bytes[16];
  for (int f : {AF_INET, AF_INET6}) {
    if (inet_pton(f, text.c_str(), bytes) == 1) {
      if (family) *family = f;
      return true;
    }
  }
  return false;
}

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

// Text for a file: no control character but newline and tab.
bool IsFileText(std::string_view text) {
  return std::none_of(text.begin(), text.end(),
                      [](unsigned char c) { return (c < ' ' && c != '\n' && c != '\t') || c == 0x7f; });
}

bool IsOneLine(std::string_view text) { return IsFileText(text) && text.find('\n') == std::string_view::npos; }

void CheckCaptured(const host::HostNetwork& net) {
  for (std::size_t i = 0; i < net.interfaces.size(); ++i) {
    const host::HostInterface& iface = net.interfaces[i];
    FUZZ_REQUIRE(!iface.name.empty() &&
                 std::all_of(iface.name.begin(), iface.name.end(), [](char c) { return c > ' ' && c < 0x7f; }));
    // eth0, eth1 … by ifindex among every Ethernet device, those without
    // addresses (not carried) included.
    FUZZ_REQUIRE(iface.ramos_name.starts_with("eth"));
    const unsigned long n = std::strtoul(iface.ramos_name.c_str() + 3, nullptr, 10);
    FUZZ_REQUIRE(iface.ramos_name == "eth" + std::to_string(n) && n >= i);
    if (i > 0) FUZZ_REQUIRE(n > std::strtoul(net.interfaces[i - 1].ramos_name.c_str() + 3, nullptr, 10));
    FUZZ_REQUIRE(iface.mac.size() == 17);
    for (std::size_t j = 0; j < iface.mac.size(); ++j) {
      FUZZ_REQUIRE(j % 3 == 2 ? iface.mac[j] == ':' : std::isxdigit(static_cast<unsigned char>(iface.mac[j])));
    }
    FUZZ_REQUIRE(!iface.addresses.empty());
    for (const std::string& a : iface.addresses) FUZZ_REQUIRE(IsAddress(a.substr(0, a.find('/'))));
    FUZZ_REQUIRE(IsOneLine(iface.origin.evidence));
  }
  for (const host::HostRoute& r : net.routes) {
    FUZZ_REQUIRE(net.Find(r.interface) != nullptr);
    FUZZ_REQUIRE(IsAddress(r.destination.substr(0, r.destination.find('/'))) && IsAddress(r.gateway));
  }
  for (const std::string& n : net.nameservers) {
    FUZZ_REQUIRE(IsAddress(n.substr(0, n.find('%'))));
    FUZZ_REQUIRE(std::all_of(n.begin(), n.end(), [](char c) { return IsNameChar(c) || c == ':' || c == '%'; }));
    FUZZ_REQUIRE(!n.starts_with("127.") && n != "::1");
  }
  for (const std::string& s : net.search) FUZZ_REQUIRE(!s.empty() && std::all_of(s.begin(), s.end(), IsNameChar));
}

void CheckWritten(const host::HostNetwork& net) {
  for (bool digitalocean : {false, true}) {
    const host::AutoMode chosen = host::ChooseAutoMode(net, digitalocean);
    FUZZ_REQUIRE(IsOneLine(chosen.reason));
    for (host::NetworkMode mode : {host::NetworkMode::kDhcp, host::NetworkMode::kStatic}) {
      (void)host::NetworkJson(net, mode, chosen.reason).dump(2);  // throws on text that is not UTF-8
      FUZZ_REQUIRE(IsOneLine(host::DescribeNetwork(net, mode)));
      FUZZ_REQUIRE(IsFileText(ramos::InterfacesFile(net, mode)));
    }
  }
  FUZZ_REQUIRE(IsFileText(ramos::InterfaceNamesScript(net)));
  FUZZ_REQUIRE(IsFileText(ramos::ResolvConf(net)));
  // The script's heredoc ends where bootrino ends it, at its one EOF line.
  const std::string script = ramos::TinyCoreNetworkScript(net);
  FUZZ_REQUIRE(IsFileText(script));
  const auto lines = Split(script, '\n');
  FUZZ_REQUIRE(std::count(lines.begin(), lines.end(), "EOF") == (script.find("<<'EOF'\n") != std::string::npos));
  // ip= is one kernel parameter: nothing in it may end it, or open a quote that
  // swallows the ones after it.
  const std::string ip = ramos::AlpineIpParam(net);
  FUZZ_REQUIRE(ip.empty() || (ip.starts_with("ip=") && IsOneLine(ip)));
  FUZZ_REQUIRE(ip.find_first_of(" \t\"") == std::string::npos);
  if (!ip.empty()) FUZZ_REQUIRE(kexec::SplitCmdline("a " + ip + " b").size() == 3);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::vector<std::string_view> section = Split(AsText(data, size), '\0');
  auto part = [&](std::size_t i) { return i < section.size() ? std::string(section[i]) : std::string(); };
  HostFiles sys;
  for (const auto& [i, path] : {std::pair<std::size_t, const char*>{0, "/proc/net/dev"},
                                {3, "/proc/net/route"},
                                {4, "/proc/net/ipv6_route"},
                                {5, "/etc/resolv.conf"},
                                {6, "/run/systemd/resolve/resolv.conf"}}) {
    if (!part(i).empty()) sys.files[path] = part(i);
  }
  const std::string addresses = part(1), sysfs = part(2);
  for (std::string_view line : Split(addresses, '\n')) {
    const auto w = Split(line, ' ');
    int family = 0;
    if (w.size() < 3 || !IsAddress(std::string(w[1]), &family)) continue;
    const unsigned long bits = std::strtoul(std::string(w[2]).c_str(), nullptr, 10);
    const unsigned prefix = static_cast<unsigned>(bits % (family == AF_INET ? 33 : 129));
    sys.addresses.push_back({std::string(w[0]), std::string(w[1]), prefix, family == AF_INET6});
  }
  for (std::string_view line : Split(sysfs, '\n')) {
    const std::size_t name_end = line.find(' ');
    const std::size_t file_end = line.find(' ', name_end == std::string_view::npos ? line.size() : name_end + 1);
    if (file_end == std::string_view::npos) continue;
    sys.files["/sys/class/net/" + std::string(line.substr(0, name_end)) + "/" +
              std::string(line.substr(name_end + 1, file_end - name_end - 1))] =
        std::string(line.substr(file_end + 1)) + "\n";
  }
  for (std::size_t i = 0; i < std::size(kStatePrefixes); ++i) sys.state.push_back(part(7 + i));

  auto net = host::CaptureHostNetwork(sys);
  if (!net) return 0;
  CheckCaptured(*net);
  CheckWritten(*net);
  return 0;
}
