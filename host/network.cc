#include "host/network.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <iterator>
#include <sstream>

#include <arpa/inet.h>

#include "base/base.h"

namespace host {
namespace {

using base::ErrorKind;
using json = nlohmann::ordered_json;

// linux/route.h and linux/ipv6_route.h flags, as /proc/net/route and ipv6_route print them.
constexpr unsigned long kRouteUp = 0x1, kRouteGateway = 0x2, kRouteReject = 0x200;

std::vector<std::string> Words(std::string_view line) {
  std::istringstream in{std::string(line)};
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::vector<std::string> Lines(std::string_view text) {
  std::vector<std::string> out;
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The interface names of /proc/net/dev ("  eth0: 123 …"), after its two heading lines.
std::vector<std::string> DeviceNames(std::string_view proc_net_dev) {
  std::vector<std::string> names;
  auto lines = Lines(proc_net_dev);
  for (std::size_t i = 2; i < lines.size(); ++i) {
    auto colon = lines[i].find(':');
    if (colon != std::string::npos) names.emplace_back(base::Trim(std::string_view(lines[i]).substr(0, colon)));
  }
  return names;
}

// An IPv4 address as /proc/net/route prints it: the 32-bit value in host (little-endian) order.
std::string Ipv4FromHex(const std::string& hex, unsigned* prefix = nullptr) {
  const unsigned long v = std::strtoul(hex.c_str(), nullptr, 16);
  if (prefix) *prefix = static_cast<unsigned>(__builtin_popcountl(v & 0xffffffffUL));
  return std::to_string(v & 0xff) + "." + std::to_string((v >> 8) & 0xff) + "." + std::to_string((v >> 16) & 0xff) +
         "." + std::to_string((v >> 24) & 0xff);
}

// An IPv6 address as /proc/net/ipv6_route prints it: 32 hex digits, network order.
std::string Ipv6FromHex(const std::string& hex) {
  unsigned char bytes[16] = {};
  if (hex.size() != 32) return "";
  for (int i = 0; i < 16; ++i)
    bytes[i] = static_cast<unsigned char>(std::strtoul(hex.substr(2 * i, 2).c_str(), nullptr, 16));
  char text[INET6_ADDRSTRLEN] = {};
  return inet_ntop(AF_INET6, bytes, text, sizeof text) ? text : "";
}

bool IsLinkLocal(const base::InterfaceAddress& a) {
  if (a.ipv6) {
    unsigned char b[16];
    return inet_pton(AF_INET6, a.address.c_str(), b) == 1 && b[0] == 0xfe && (b[1] & 0xc0) == 0x80;
  }
  return a.address.starts_with("169.254.");
}

// Whether `ip` is inside `cidr` ("10.128.0.0/20"); false when either is not an address of the same family.
bool Contains(const std::string& cidr, const std::string& ip) {
  const auto slash = cidr.find('/');
  if (slash == std::string::npos) return false;
  const int family = ip.find(':') == std::string::npos ? AF_INET : AF_INET6;
  unsigned char net[16] = {}, host[16] = {};
  if (inet_pton(family, cidr.substr(0, slash).c_str(), net) != 1 || inet_pton(family, ip.c_str(), host) != 1)
    return false;
  unsigned bits = static_cast<unsigned>(std::strtoul(cidr.c_str() + slash + 1, nullptr, 10));
  bits = std::min(bits, family == AF_INET ? 32u : 128u);
  for (unsigned i = 0; i < bits; ++i) {
    const unsigned char mask = static_cast<unsigned char>(0x80 >> (i % 8));
    if ((net[i / 8] & mask) != (host[i / 8] & mask)) return false;
  }
  return true;
}

bool IsLoopback(const std::string& address) { return address.starts_with("127.") || address == "::1"; }

std::vector<HostRoute> Ipv4Routes(std::string_view table) {
  std::vector<HostRoute> out;
  auto lines = Lines(table);
  for (std::size_t i = 1; i < lines.size(); ++i) {  // Iface Destination Gateway Flags RefCnt Use Metric Mask …
    auto w = Words(lines[i]);
    if (w.size() < 8) continue;
    const unsigned long flags = std::strtoul(w[3].c_str(), nullptr, 16);
    if (!(flags & kRouteUp) || !(flags & kRouteGateway) || (flags & kRouteReject)) continue;
    unsigned prefix = 0;
    Ipv4FromHex(w[7], &prefix);
    out.push_back({Ipv4FromHex(w[1]) + "/" + std::to_string(prefix), Ipv4FromHex(w[2]), w[0], false});
  }
  return out;
}

std::vector<HostRoute> Ipv6Routes(std::string_view table) {
  std::vector<HostRoute> out;
  for (const std::string& line : Lines(table)) {  // dest plen src splen nexthop metric refcnt use flags iface
    auto w = Words(line);
    if (w.size() < 10) continue;
    const unsigned long flags = std::strtoul(w[8].c_str(), nullptr, 16);
    if (!(flags & kRouteUp) || !(flags & kRouteGateway) || (flags & kRouteReject)) continue;
    std::string gateway = Ipv6FromHex(w[4]), destination = Ipv6FromHex(w[0]);
    if (gateway.empty() || gateway == "::" || destination.empty()) continue;  // not 32 hex digits: not the kernel's
    const unsigned long prefix = std::strtoul(w[1].c_str(), nullptr, 16);
    if (prefix > 128) continue;
    out.push_back({destination + "/" + std::to_string(prefix), gateway, w[9], true});
  }
  return out;
}

struct Resolver {
  std::vector<std::string> nameservers, search;
};

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.';
}

// An address a nameserver line may give: IPv4, or IPv6 with an optional %zone ("fe80::1%eth0"). The value
// goes into the RAM OS's resolv.conf and Alpine's ip= parameter, where a quote would swallow the
// command line after it: what is not an address is not a name server.
bool IsNameserverAddress(const std::string& text) {
  const std::size_t zone = text.find('%');
  const std::string address = text.substr(0, zone);
  unsigned char bytes[16];
  if (zone == std::string::npos) {
    return inet_pton(AF_INET, address.c_str(), bytes) == 1 || inet_pton(AF_INET6, address.c_str(), bytes) == 1;
  }
  const std::string_view scope = std::string_view(text).substr(zone + 1);
  return inet_pton(AF_INET6, address.c_str(), bytes) == 1 && !scope.empty() &&
         std::all_of(scope.begin(), scope.end(), IsNameChar);
}

// A search domain as resolv.conf(5) takes it: a DNS name of at most 253 characters.
bool IsSearchDomain(const std::string& text) {
  return !text.empty() && text.size() <= 253 && std::all_of(text.begin(), text.end(), IsNameChar);
}

Resolver ParseResolvConf(std::string_view text) {
  Resolver r;
  std::vector<std::string> domain;
  for (const std::string& line : Lines(text)) {
    auto w = Words(line);
    if (w.size() < 2 || w[0].starts_with("#") || w[0].starts_with(";")) continue;
    if (w[0] == "nameserver" && IsNameserverAddress(w[1])) r.nameservers.push_back(w[1]);
    if (w[0] == "search") {
      r.search.clear();
      std::copy_if(w.begin() + 1, w.end(), std::back_inserter(r.search), IsSearchDomain);
    }
    if (w[0] == "domain" && IsSearchDomain(w[1])) domain = {w[1]};
  }
  if (r.search.empty()) r.search = domain;  // resolv.conf(5): the last of search/domain wins; search is the usual one
  return r;
}

// systemd-resolved's stub (127.0.0.53) answers only on this host; its upstream
// servers are listed in /run/systemd/resolve/resolv.conf (systemd-resolved.service(8)).
Resolver HostResolver(base::Sys& sys) {
  Resolver r = ParseResolvConf(sys.ReadText("/etc/resolv.conf").value_or(""));
  const bool stub =
      !r.nameservers.empty() && std::all_of(r.nameservers.begin(), r.nameservers.end(),
                                            [](const auto& n) { return n == "127.0.0.53" || n == "127.0.0.54"; });
  if (stub) {
    if (auto upstream = sys.ReadText("/run/systemd/resolve/resolv.conf")) {
      Resolver u = ParseResolvConf(*upstream);
      if (u.search.empty()) u.search = r.search;
      r = u;
    }
  }
  std::erase_if(r.nameservers, IsLoopback);
  return r;
}

// A name this host's interface can be written under everywhere bootrino writes it (network.json,
// comments in the RAM OS's scripts): printable ASCII. The kernel takes any byte but '/', ':' and white
// space (dev_valid_name); what no distribution names an interface is not carried.
bool IsInterfaceName(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) { return c > ' ' && c < 0x7f; });
}

// Whether `text` has `shape`, where each 'x' of the shape is a hex digit and every other character itself.
bool HasHexShape(std::string_view text, std::string_view shape) {
  if (text.size() != shape.size()) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const bool ok = shape[i] == 'x' ? std::isxdigit(static_cast<unsigned char>(text[i])) != 0 : text[i] == shape[i];
    if (!ok) return false;
  }
  return true;
}

// An Ethernet address as /sys/class/net/NAME/address gives it: "52:54:00:12:34:56". The RAM OS's
// scripts find the interface by it, unquoted.
bool IsMac(std::string_view text) { return HasHexShape(text, "xx:xx:xx:xx:xx:xx"); }

// The Ethernet devices with hardware behind them, by ifindex: the order a
// kernel without udev renaming names them eth0, eth1 …
std::vector<HostInterface> PhysicalInterfaces(base::Sys& sys, const std::vector<std::string>& names) {
  std::vector<std::pair<long, HostInterface>> found;
  for (const std::string& name : names) {
    if (!IsInterfaceName(name)) continue;
    const std::string dir = "/sys/class/net/" + name + "/";
    if (base::Trim(sys.ReadText(dir + "type").value_or("")) != "1") continue;  // ARPHRD_ETHER
    if (!sys.ReadText(dir + "device/uevent")) continue;                  // bridges, veth, tun: no device
    const std::string mac(base::Trim(sys.ReadText(dir + "address").value_or("")));
    if (!IsMac(mac)) continue;
    const long ifindex =
        std::strtol(std::string(base::Trim(sys.ReadText(dir + "ifindex").value_or("0"))).c_str(), nullptr, 10);
    const unsigned long mtu =
        std::strtoul(std::string(base::Trim(sys.ReadText(dir + "mtu").value_or("0"))).c_str(), nullptr, 10);
    found.push_back({ifindex, HostInterface{name,
                                            "",
                                            mac,
                                            {},
                                            static_cast<unsigned>(mtu),
                                            ifindex,
                                            {}}});
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<HostInterface> out;
  for (auto& [index, iface] : found) {
    iface.ramos_name = "eth" + std::to_string(out.size());
    out.push_back(std::move(iface));
  }
  return out;
}

// The IPv4 addresses of `iface`, without their prefix length.
std::vector<std::string> Ipv4Addresses(const HostInterface& iface) {
  std::vector<std::string> out;
  for (const auto& a : iface.addresses) {
    if (a.find(':') == std::string::npos) out.push_back(a.substr(0, a.find('/')));
  }
  return out;
}

// Whether `text` names `ip` as a whole address (10.0.0.5, not 10.0.0.51 or 110.0.0.5).
bool NamesAddress(std::string_view text, const std::string& ip) {
  auto part = [](char c) { return (c >= '0' && c <= '9') || c == '.'; };
  for (auto at = text.find(ip); at != std::string_view::npos; at = text.find(ip, at + 1)) {
    const bool start = at == 0 || !part(text[at - 1]);
    const bool end = at + ip.size() == text.size() || !part(text[at + ip.size()]);
    if (start && end) return true;
  }
  return false;
}

// The value of the first KEY=value line of a systemd or NetworkManager state file; "" when absent.
std::string KeyValue(std::string_view text, const std::string& key) {
  for (const std::string& line : Lines(text)) {
    if (line.starts_with(key + "=")) return std::string(base::Trim(std::string_view(line).substr(key.size() + 1)));
  }
  return "";
}

// The method of `iface NAME inet METHOD` in an ifupdown interfaces file; "" when there is no such stanza.
std::string InetMethod(std::string_view text, const std::string& name) {
  for (const std::string& line : Lines(text)) {
    auto w = Words(line);
    if (w.size() >= 4 && w[0] == "iface" && w[1] == name && w[2] == "inet") {
      // interfaces(5)'s methods are lower-case words (dhcp, static, manual …); anything else is not one.
      const bool word =
          std::all_of(w[3].begin(), w[3].end(), [](unsigned char c) { return std::islower(c) || std::isdigit(c); });
      return word ? w[3] : "";
    }
  }
  return "";
}

using Kind = AddressOrigin::Kind;

AddressOrigin FromNetworkd(base::Sys& sys, const HostInterface& iface, const std::vector<std::string>& v4) {
  const std::string index = std::to_string(iface.ifindex);
  const std::string lease = "/run/systemd/netif/leases/" + index;
  if (auto text = sys.ReadText(lease)) {
    for (const auto& ip : v4) {
      if (NamesAddress(*text, ip)) return {Kind::kDhcp, "systemd-networkd's lease " + lease};
    }
  }
  const std::string link = "/run/systemd/netif/links/" + index;
  auto text = sys.ReadText(link);
  if (!text) return {};
  if (!KeyValue(*text, "DHCP4_ADDRESS").empty() || !KeyValue(*text, "DHCP_LEASE").empty()) {
    return {Kind::kDhcp, "systemd-networkd's " + link + " (a DHCPv4 lease)"};
  }
  if (KeyValue(*text, "ADMIN_STATE") == "configured") {
    return {Kind::kStatic, "systemd-networkd configured it without DHCPv4 (" + link + ")"};
  }
  return {};  // unmanaged: someone else's
}

// "5fb06bd0-0bb0-7ffb-45f1-d6edd65f3e03": how NetworkManager names a connection.
bool IsUuid(std::string_view text) { return HasHexShape(text, "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"); }

AddressOrigin FromNetworkManager(base::Sys& sys, const HostInterface& iface, const std::vector<std::string>& v4) {
  const std::string device = "/run/NetworkManager/devices/" + std::to_string(iface.ifindex);
  auto text = sys.ReadText(device);
  if (!text || KeyValue(*text, "managed") == "false") return {};
  const std::string uuid = KeyValue(*text, "connection-uuid");
  if (!IsUuid(uuid)) return {};  // it names the lease file: nothing else may
  for (const char* client : {"internal-", "dhclient-"}) {  // its own DHCP client's leases, and dhclient's
    const std::string lease = "/var/lib/NetworkManager/" + std::string(client) + uuid + "-" + iface.name + ".lease";
    if (auto l = sys.ReadText(lease)) {
      for (const auto& ip : v4) {
        if (NamesAddress(*l, ip)) return {Kind::kDhcp, "NetworkManager's lease " + lease};
      }
    }
  }
  return {Kind::kStatic, "NetworkManager's connection " + uuid + " has no DHCP lease for it"};
}

AddressOrigin FromIfupdown(base::Sys& sys, const HostInterface& iface) {
  auto state = sys.ReadText("/run/network/ifstate");
  if (!state) return {};
  const auto lines = Lines(*state);
  if (std::none_of(lines.begin(), lines.end(), [&](const std::string& l) { return l.starts_with(iface.name + "="); })) {
    return {};  // not brought up by ifupdown
  }
  // Debian's own file, and the one cloud-init writes on Debian and Ubuntu before netplan.
  for (const std::string& path :
       {std::string("/etc/network/interfaces"), std::string("/etc/network/interfaces.d/50-cloud-init"),
        std::string("/etc/network/interfaces.d/50-cloud-init.cfg"), "/etc/network/interfaces.d/" + iface.name}) {
    const std::string method = InetMethod(sys.ReadText(path).value_or(""), iface.name);
    if (method == "dhcp") return {Kind::kDhcp, "ifupdown: iface " + iface.name + " inet dhcp in " + path};
    if (!method.empty()) return {Kind::kStatic, "ifupdown: iface " + iface.name + " inet " + method + " in " + path};
  }
  return {};
}

AddressOrigin FromDhclient(base::Sys& sys, const HostInterface& iface, const std::vector<std::string>& v4) {
  for (const std::string& path :
       {"/var/lib/dhcp/dhclient." + iface.name + ".leases", std::string("/var/lib/dhcp/dhclient.leases"),
        "/var/lib/dhclient/dhclient--" + iface.name + ".lease",
        "/var/lib/dhclient/dhclient-" + iface.name + ".leases"}) {
    auto text = sys.ReadText(path);
    if (!text || text->find("interface \"" + iface.name + "\"") == std::string::npos) continue;
    for (const auto& ip : v4) {
      if (NamesAddress(*text, ip)) return {Kind::kDhcp, "dhclient's lease " + path};
    }
  }
  return {};
}

// dhcpcd keeps each lease as the DHCP message itself (RFC 2131): the address it gives, yiaddr, is the 4
// bytes at offset 16. Its file is NAME.lease (dhcpcd 9 and later) or dhcpcd-NAME.lease (older, and
// Raspberry Pi OS's dhcpcd5).
AddressOrigin FromDhcpcd(base::Sys& sys, const HostInterface& iface, const std::vector<std::string>& v4) {
  for (const std::string& path : {"/var/lib/dhcpcd/" + iface.name + ".lease",
                                  "/var/lib/dhcpcd/dhcpcd-" + iface.name + ".lease",
                                  "/var/lib/dhcpcd5/dhcpcd-" + iface.name + ".lease"}) {
    auto message = sys.ReadText(path);
    if (!message || message->size() < 20) continue;
    for (const auto& ip : v4) {
      unsigned char bytes[4];
      const bool given = inet_pton(AF_INET, ip.c_str(), bytes) == 1 &&
                         message->compare(16, 4, reinterpret_cast<const char*>(bytes), 4) == 0;
      if (given) {
        return {Kind::kDhcp, "dhcpcd's lease " + path};
      }
    }
  }
  return {};
}

}  // namespace

std::string_view OriginName(AddressOrigin::Kind kind) {
  switch (kind) {
    case Kind::kDhcp: return "dhcp";
    case Kind::kStatic: return "static";
    case Kind::kUnknown: break;
  }
  return "unknown";
}

AddressOrigin Ipv4Origin(base::Sys& sys, const HostInterface& iface) {
  const auto v4 = Ipv4Addresses(iface);
  if (v4.empty()) return {};
  for (AddressOrigin o : {FromNetworkd(sys, iface, v4), FromNetworkManager(sys, iface, v4), FromIfupdown(sys, iface),
                          FromDhclient(sys, iface, v4), FromDhcpcd(sys, iface, v4)}) {
    if (o.kind != Kind::kUnknown) return o;
  }
  return {};
}

AutoMode ChooseAutoMode(const HostNetwork& net, bool on_digitalocean) {
  if (on_digitalocean) return {NetworkMode::kStatic, "DigitalOcean gives no DHCP"};
  if (net.interfaces.empty()) return {NetworkMode::kDhcp, "this host has no address to carry"};
  std::string from_dhcp;
  for (const auto& i : net.interfaces) {
    if (Ipv4Addresses(i).empty()) continue;
    const std::string who = i.ramos_name + " (" + i.name + " here)";
    if (i.origin.kind == Kind::kStatic) return {NetworkMode::kStatic, who + " is not from DHCP: " + i.origin.evidence};
    if (i.origin.kind == Kind::kUnknown) {
      return {NetworkMode::kStatic,
              who + ": no DHCP lease found for its IPv4 address, so its configuration is carried"};
    }
    from_dhcp += (from_dhcp.empty() ? "" : ", ") + who + " from " + i.origin.evidence;
  }
  if (from_dhcp.empty()) return {NetworkMode::kStatic, "no interface has an IPv4 address, so none from DHCP"};
  return {NetworkMode::kDhcp, "every interface's IPv4 address came from DHCP: " + from_dhcp};
}

const HostInterface* HostNetwork::Find(std::string_view host_name) const {
  for (const auto& i : interfaces) {
    if (i.name == host_name) return &i;
  }
  return nullptr;
}

bool HostNetwork::GatewayOffSubnet(const HostRoute& route) const {
  if (route.ipv6 && IsLinkLocal({route.interface, route.gateway, 64, true})) return false;
  const HostInterface* iface = Find(route.interface);
  if (!iface) return false;
  return std::none_of(iface->addresses.begin(), iface->addresses.end(),
                      [&](const std::string& a) { return Contains(a, route.gateway); });
}

std::string_view NetworkModeName(NetworkMode mode) { return mode == NetworkMode::kStatic ? "static" : "dhcp"; }

base::Result<NetworkMode> ChooseNetworkMode(std::string_view option, bool on_digitalocean) {
  if (option == "dhcp") return NetworkMode::kDhcp;
  if (option == "static") return NetworkMode::kStatic;
  if (option == "auto" || option.empty()) return on_digitalocean ? NetworkMode::kStatic : NetworkMode::kDhcp;
  return base::Fail(base::Error(ErrorKind::kUsage, "--network " + std::string(option) + " is not a network mode")
                        .Hint("use --network auto, dhcp or static"));
}

base::Result<HostNetwork> CaptureHostNetwork(base::Sys& sys) {
  auto dev = sys.ReadText("/proc/net/dev");
  if (!dev) {
    return base::Fail(
        base::Error(ErrorKind::kPreflight, "cannot list this host's network devices: " + dev.error().message())
            .Hint("mount /proc, or pass --network dhcp to leave the RAM OS's network to DHCP"));
  }
  ASSIGN_OR_RETURN(auto addresses, sys.InterfaceAddresses());
  HostNetwork net;
  for (HostInterface& iface : PhysicalInterfaces(sys, DeviceNames(*dev))) {
    for (const auto& a : addresses) {
      if (a.interface == iface.name && !IsLinkLocal(a))
        iface.addresses.push_back(a.address + "/" + std::to_string(a.prefix));
    }
    if (iface.addresses.empty()) continue;
    iface.origin = Ipv4Origin(sys, iface);
    net.interfaces.push_back(std::move(iface));
  }
  auto routes = Ipv4Routes(sys.ReadText("/proc/net/route").value_or(""));
  auto v6 = Ipv6Routes(sys.ReadText("/proc/net/ipv6_route").value_or(""));
  routes.insert(routes.end(), v6.begin(), v6.end());
  for (HostRoute& r : routes) {
    const bool dup = std::any_of(net.routes.begin(), net.routes.end(), [&](const HostRoute& o) {
      return o.destination == r.destination && o.gateway == r.gateway && o.interface == r.interface;
    });
    if (net.Find(r.interface) && !dup) net.routes.push_back(std::move(r));
  }
  Resolver resolver = HostResolver(sys);
  net.nameservers = std::move(resolver.nameservers);
  net.search = std::move(resolver.search);
  return net;
}

json NetworkJson(const HostNetwork& net, NetworkMode mode, const std::string& reason) {
  json out = {{"mode", NetworkModeName(mode)}};
  if (!reason.empty()) out["reason"] = reason;
  out.update(json{{"interfaces", json::array()}, {"routes", json::array()}, {"nameservers", net.nameservers},
                  {"search", net.search}});
  for (const auto& i : net.interfaces) {
    json entry = {{"name", i.ramos_name}, {"hostName", i.name}, {"mac", i.mac}, {"addresses", i.addresses}};
    if (i.mtu != 0) entry["mtu"] = i.mtu;
    entry["ipv4Origin"] = OriginName(i.origin.kind);
    if (!i.origin.evidence.empty()) entry["ipv4Evidence"] = i.origin.evidence;
    out["interfaces"].push_back(std::move(entry));
  }
  for (const auto& r : net.routes) {
    const HostInterface* via = net.Find(r.interface);
    out["routes"].push_back({{"destination", r.destination}, {"gateway", r.gateway},
                             {"interface", via ? via->ramos_name : r.interface}, {"hostInterface", r.interface}});
  }
  return out;
}

std::string DescribeNetwork(const HostNetwork& net, NetworkMode mode) {
  if (mode == NetworkMode::kDhcp) return "dhcp (the RAM OS asks DHCP for its addresses)";
  if (net.interfaces.empty()) return "static, but this host has no addresses to give: the RAM OS will have no network";
  std::string out = "static:";
  for (const auto& i : net.interfaces) {
    out += " " + i.ramos_name + " (" + i.mac + ", " + i.name + " here)";
    for (const auto& a : i.addresses) out += " " + a;
    if (i.CarriesMtu()) out += " mtu " + std::to_string(i.mtu);
    for (const auto& r : net.routes) {
      if (r.interface != i.name) continue;
      out += (r.destination.ends_with("/0") ? ", via " : ", " + r.destination + " via ") + r.gateway;
      if (net.GatewayOffSubnet(r)) out += " (on-link, outside the subnet)";
    }
    out += ";";
  }
  std::string dns;
  for (const auto& n : net.nameservers) dns += (dns.empty() ? "" : " ") + n;
  return out + " DNS " + (dns.empty() ? "none" : dns);
}

}  // namespace host
