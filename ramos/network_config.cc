#include "ramos/network_config.h"

#include <algorithm>
#include <cstdlib>

namespace ramos {
namespace {

struct Address {
  std::string ip;
  unsigned prefix = 0;
};

Address SplitAddress(const std::string& cidr) {
  auto slash = cidr.find('/');
  if (slash == std::string::npos) return {cidr, 0};
  return {cidr.substr(0, slash), static_cast<unsigned>(std::strtoul(cidr.c_str() + slash + 1, nullptr, 10))};
}

bool IsV6(const std::string& address) { return address.find(':') != std::string::npos; }
bool IsDefault(const host::HostRoute& r) { return r.destination == "0.0.0.0/0" || r.destination == "::/0"; }

// One interface's configuration, split the way every format below needs it.
struct Plan {
  std::vector<Address> v4, v6;
  std::string gateway4, gateway6;    // the first default route of each family
  std::vector<host::HostRoute> other;      // every other route through this interface
  std::vector<std::string> off_subnet;  // gateways outside every prefix: each needs a host route first
  bool OffSubnet(const std::string& gateway) const {
    return std::find(off_subnet.begin(), off_subnet.end(), gateway) != off_subnet.end();
  }
};

Plan PlanFor(const host::HostNetwork& net, const host::HostInterface& iface) {
  Plan p;
  for (const auto& a : iface.addresses) (IsV6(a) ? p.v6 : p.v4).push_back(SplitAddress(a));
  for (const auto& r : net.routes) {
    if (r.interface != iface.name) continue;
    if (net.GatewayOffSubnet(r) && !p.OffSubnet(r.gateway)) p.off_subnet.push_back(r.gateway);
    std::string& gateway = r.ipv6 ? p.gateway6 : p.gateway4;
    if (IsDefault(r) && gateway.empty()) {
      gateway = r.gateway;
    } else {
      p.other.push_back(r);
    }
  }
  return p;
}

std::string StaticStanzas(const host::HostNetwork& net, const host::HostInterface& iface) {
  const Plan p = PlanFor(net, iface);
  const std::string& dev = iface.ramos_name;
  std::string out;
  const std::string names = std::string("\tpre-up /bin/sh /") + kInterfaceNamesPath + "\n";
  auto extra = [&](const std::vector<Address>& addresses, const char* ip) {
    for (std::size_t i = 1; i < addresses.size(); ++i) {
      out += "\tup " + std::string(ip) + " addr add " + addresses[i].ip + "/" + std::to_string(addresses[i].prefix) +
             " dev " + dev + "\n";
    }
  };
  // `gateway` in busybox's ifupdown is a plain `ip route add default via GW dev X`, which the kernel refuses
  // for a gateway outside the subnet (Debian's ifupdown and ifupdown-ng add `onlink`, busybox does not): such
  // a gateway gets a host route, then `onlink` routes, as `up` lines that all three run alike.
  auto routes = [&](bool v6) {
    const std::string ip = v6 ? "ip -6" : "ip";
    for (const auto& gw : p.off_subnet) {
      if (IsV6(gw) == v6) out += "\tup " + ip + " route add " + gw + " dev " + dev + "\n";
    }
    const std::string& gateway = v6 ? p.gateway6 : p.gateway4;
    if (!gateway.empty() && p.OffSubnet(gateway)) {
      out += "\tup " + ip + " route add default via " + gateway + " dev " + dev + " onlink\n";
    }
    for (const auto& r : p.other) {
      if (r.ipv6 != v6) continue;
      out += "\tup " + ip + " route add " + r.destination + " via " + r.gateway + " dev " + dev +
             (p.OffSubnet(r.gateway) ? " onlink" : "") + "\n";
    }
  };
  // `mtu` is an option of inet static and inet6 static in Debian's ifupdown, busybox's and ifupdown-ng: once is enough.
  const std::string mtu = iface.CarriesMtu() ? "\tmtu " + std::to_string(iface.mtu) + "\n" : "";
  if (!p.v4.empty()) {
    out +=
        "iface " + dev + " inet static\n\taddress " + p.v4[0].ip + "\n\tnetmask " + Ipv4Netmask(p.v4[0].prefix) + "\n";
    out += names + mtu;
    if (!p.gateway4.empty() && !p.OffSubnet(p.gateway4)) out += "\tgateway " + p.gateway4 + "\n";
    extra(p.v4, "ip");
    routes(false);
  }
  if (!p.v6.empty()) {
    out += "iface " + dev + " inet6 static\n\taddress " + p.v6[0].ip + "\n\tnetmask " + std::to_string(p.v6[0].prefix) +
           "\n";
    out += names;
    if (p.v4.empty()) out += mtu;
    if (!p.gateway6.empty() && !p.OffSubnet(p.gateway6)) out += "\tgateway " + p.gateway6 + "\n";
    extra(p.v6, "ip -6");
    routes(true);
  }
  return out;
}

// DHCP may not bring the MTU (busybox's udhcpc does not ask for option 26 unless told to), and
// `mtu` is not an option of busybox's inet dhcp: an `up` line works in all three ifupdowns.
std::string DhcpStanza(const host::HostInterface& iface) {
  std::string out = "iface " + iface.ramos_name + " inet dhcp\n";
  if (iface.CarriesMtu())
    out += "\tup ip link set dev " + iface.ramos_name + " mtu " + std::to_string(iface.mtu) + "\n";
  return out;
}

}  // namespace

std::string Ipv4Netmask(unsigned prefix) {
  const unsigned long mask = prefix == 0 ? 0 : (0xffffffffUL << (32 - (prefix > 32 ? 32 : prefix))) & 0xffffffffUL;
  return std::to_string(mask >> 24) + "." + std::to_string((mask >> 16) & 0xff) + "." +
         std::to_string((mask >> 8) & 0xff) + "." + std::to_string(mask & 0xff);
}

std::string InterfacesFile(const host::HostNetwork& net, host::NetworkMode mode) {
  std::string out = std::string("# Written by bootrino (network: ") + std::string(host::NetworkModeName(mode)) +
                    "). Interfaces are named as a kernel without udev renaming names them;\n"
                    "# the comment above each names its MAC address on the host that installed this OS.\n\n"
                    "auto lo\niface lo inet loopback\n";
  if (net.interfaces.empty()) return out + "\nauto eth0\niface eth0 inet dhcp\n";
  for (const auto& iface : net.interfaces) {
    out += "\n# " + iface.mac + " (" + iface.name + " on the host)\nauto " + iface.ramos_name + "\n";
    out += mode == host::NetworkMode::kDhcp ? DhcpStanza(iface) : StaticStanzas(net, iface);
  }
  return out;
}

// A shell function both scripts use: the name of the network device whose MAC address is $1, if there is one.
constexpr const char* kIfaceByMac =
    "iface() {  # MAC\n"
    "\tfor d in /sys/class/net/*; do\n"
    "\t\t[ \"$(cat \"$d/address\" 2>/dev/null)\" = \"$1\" ] && { echo \"${d##*/}\"; return; }\n"
    "\tdone\n"
    "}\n";

std::string InterfaceNamesScript(const host::HostNetwork& net) {
  std::string out =
      "#!/bin/sh\n"
      "# Written by bootrino: gives each network device the name /etc/network/interfaces uses for it, found by\n"
      "# its MAC address, since this kernel may number its devices otherwise than the host that installed\n"
      "# this OS. Run by each interface's pre-up: a device already named right is left alone, a device\n"
      "# holding a wanted name is moved aside first, and a failure leaves the names as they are.\n";
  out += kIfaceByMac;
  out +=
      "name() {  # MAC NAME\n"
      "\tcur=$(iface \"$1\")\n"
      "\t[ -n \"$cur\" ] && [ \"$cur\" != \"$2\" ] || return 0\n"
      "\tif [ -e \"/sys/class/net/$2\" ]; then\n"
      "\t\tip link set dev \"$2\" down && ip link set dev \"$2\" name \"old-$2\" || return 0\n"
      "\tfi\n"
      "\tip link set dev \"$cur\" down && ip link set dev \"$cur\" name \"$2\"\n"
      "}\n";
  for (const auto& iface : net.interfaces) {
    out += "name " + iface.mac + " " + iface.ramos_name + "  # " + iface.name + " on the host\n";
  }
  return out + "exit 0\n";
}

std::string ResolvConf(const host::HostNetwork& net) {
  if (net.nameservers.empty()) return "";
  std::string out = "# Written by bootrino: the name servers of the host that installed this OS.\n";
  for (const auto& n : net.nameservers) out += "nameserver " + n + "\n";
  if (!net.search.empty()) {
    out += "search";
    for (const auto& s : net.search) out += " " + s;
    out += "\n";
  }
  return out;
}

std::string TinyCoreNetworkScript(const host::HostNetwork& net) {
  std::string out =
      "#!/bin/sh\n"
      "# Written by bootrino: the static network of the host that installed this OS (the kernel\n"
      "# command line has nodhcp). Each interface is found by its MAC address.\n";
  out += kIfaceByMac;
  for (const auto& iface : net.interfaces) {
    const Plan p = PlanFor(net, iface);
    out += "\nIF=$(iface " + iface.mac + ")  # " + iface.name + " on the host\nif [ -n \"$IF\" ]; then\n";
    if (iface.CarriesMtu()) out += "\tifconfig \"$IF\" mtu " + std::to_string(iface.mtu) + "\n";
    if (p.v4.empty()) out += "\tifconfig \"$IF\" up\n";
    for (std::size_t i = 0; i < p.v4.size(); ++i) {
      out += "\tifconfig \"$IF" + (i == 0 ? std::string() : ":" + std::to_string(i)) + "\" " + p.v4[i].ip +
             " netmask " + Ipv4Netmask(p.v4[i].prefix) + " up\n";
    }
    for (const auto& a : p.v6) out += "\tifconfig \"$IF\" add " + a.ip + "/" + std::to_string(a.prefix) + "\n";
    for (const auto& gw : p.off_subnet) {  // before any route through it: the kernel refuses an unreachable gateway
      out +=
          IsV6(gw) ? "\troute -A inet6 add " + gw + "/128 dev \"$IF\"\n" : "\troute add -host " + gw + " dev \"$IF\"\n";
    }
    if (!p.gateway4.empty()) out += "\troute add default gw " + p.gateway4 + " dev \"$IF\"\n";
    if (!p.gateway6.empty()) out += "\troute -A inet6 add ::/0 gw " + p.gateway6 + " dev \"$IF\"\n";
    for (const auto& r : p.other) {
      if (r.ipv6) {
        out += "\troute -A inet6 add " + r.destination + " gw " + r.gateway + " dev \"$IF\"\n";
      } else {
        Address d = SplitAddress(r.destination);
        out += "\troute add -net " + d.ip + " netmask " + Ipv4Netmask(d.prefix) + " gw " + r.gateway + " dev \"$IF\"\n";
      }
    }
    out += "fi\n";
  }
  if (std::string resolv = ResolvConf(net); !resolv.empty()) {
    out += "\ncat >/etc/resolv.conf <<'EOF'\n" + resolv + "EOF\n";
  }
  return out;
}

std::string AlpineIpParam(const host::HostNetwork& net) {
  for (const auto& r : net.routes) {
    if (r.ipv6 || r.destination != "0.0.0.0/0") continue;
    const host::HostInterface* iface = net.Find(r.interface);
    if (!iface) continue;
    const Plan p = PlanFor(net, *iface);
    if (p.v4.empty()) continue;
    // ip= has no way to say "on-link": a gateway outside the subnet is left out (the initramfs then reaches
    // only its own link), and the apkovl's interfaces file adds it once Alpine's networking service runs.
    const std::string gateway = net.GatewayOffSubnet(r) ? "" : r.gateway;
    std::string param = "ip=" + p.v4[0].ip + "::" + gateway + ":" + Ipv4Netmask(p.v4[0].prefix) + "::" +
                        iface->ramos_name + ":none";
    int dns = 0;
    for (const auto& n : net.nameservers) {
      if (!IsV6(n) && dns++ < 2) param += ":" + n;
    }
    return param;
  }
  return "";
}

}  // namespace ramos
