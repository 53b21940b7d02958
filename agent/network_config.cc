#include "agent/network_config.h"

#include <cstdlib>

namespace agent {
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
bool IsDefault(const HostRoute& r) { return r.destination == "0.0.0.0/0" || r.destination == "::/0"; }

// One interface's configuration, split the way every format below needs it.
struct Plan {
  std::vector<Address> v4, v6;
  std::string gateway4, gateway6;    // the first default route of each family
  std::vector<HostRoute> other;      // every other route through this interface
};

Plan PlanFor(const HostNetwork& net, const HostInterface& iface) {
  Plan p;
  for (const auto& a : iface.addresses) (IsV6(a) ? p.v6 : p.v4).push_back(SplitAddress(a));
  for (const auto& r : net.routes) {
    if (r.interface != iface.name) continue;
    std::string& gateway = r.ipv6 ? p.gateway6 : p.gateway4;
    if (IsDefault(r) && gateway.empty()) {
      gateway = r.gateway;
    } else {
      p.other.push_back(r);
    }
  }
  return p;
}

std::string StaticStanzas(const HostNetwork& net, const HostInterface& iface) {
  const Plan p = PlanFor(net, iface);
  const std::string& dev = iface.ramos_name;
  std::string out;
  auto extra = [&](const std::vector<Address>& addresses, const char* ip) {
    for (std::size_t i = 1; i < addresses.size(); ++i) {
      out += "\tup " + std::string(ip) + " addr add " + addresses[i].ip + "/" + std::to_string(addresses[i].prefix) +
             " dev " + dev + "\n";
    }
  };
  auto routes = [&](bool v6) {
    for (const auto& r : p.other) {
      if (r.ipv6 == v6) out += std::string("\tup ip") + (v6 ? " -6" : "") + " route add " + r.destination + " via " +
                               r.gateway + " dev " + dev + "\n";
    }
  };
  if (!p.v4.empty()) {
    out += "iface " + dev + " inet static\n\taddress " + p.v4[0].ip + "\n\tnetmask " + Ipv4Netmask(p.v4[0].prefix) + "\n";
    if (!p.gateway4.empty()) out += "\tgateway " + p.gateway4 + "\n";
    extra(p.v4, "ip");
    routes(false);
  }
  if (!p.v6.empty()) {
    out += "iface " + dev + " inet6 static\n\taddress " + p.v6[0].ip + "\n\tnetmask " + std::to_string(p.v6[0].prefix) +
           "\n";
    if (!p.gateway6.empty()) out += "\tgateway " + p.gateway6 + "\n";
    extra(p.v6, "ip -6");
    routes(true);
  }
  return out;
}

}  // namespace

std::string Ipv4Netmask(unsigned prefix) {
  const unsigned long mask = prefix == 0 ? 0 : (0xffffffffUL << (32 - (prefix > 32 ? 32 : prefix))) & 0xffffffffUL;
  return std::to_string(mask >> 24) + "." + std::to_string((mask >> 16) & 0xff) + "." +
         std::to_string((mask >> 8) & 0xff) + "." + std::to_string(mask & 0xff);
}

std::string InterfacesFile(const HostNetwork& net, NetworkMode mode) {
  std::string out = std::string("# Written by bootrino (network: ") + std::string(NetworkModeName(mode)) +
                    "). Interfaces are named as a kernel without udev renaming names them;\n"
                    "# the comment above each names its MAC address on the host that installed this OS.\n\n"
                    "auto lo\niface lo inet loopback\n";
  if (net.interfaces.empty()) return out + "\nauto eth0\niface eth0 inet dhcp\n";
  for (const auto& iface : net.interfaces) {
    out += "\n# " + iface.mac + " (" + iface.name + " on the host)\nauto " + iface.ramos_name + "\n";
    out += mode == NetworkMode::kDhcp ? "iface " + iface.ramos_name + " inet dhcp\n" : StaticStanzas(net, iface);
  }
  return out;
}

std::string ResolvConf(const HostNetwork& net) {
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

std::string TinyCoreNetworkScript(const HostNetwork& net) {
  std::string out =
      "#!/bin/sh\n"
      "# Written by bootrino: the static network of the host that installed this OS (the kernel\n"
      "# command line has nodhcp). Each interface is found by its MAC address.\n"
      "iface() {\n"
      "\tfor d in /sys/class/net/*; do\n"
      "\t\t[ \"$(cat \"$d/address\" 2>/dev/null)\" = \"$1\" ] && { echo \"${d##*/}\"; return; }\n"
      "\tdone\n"
      "}\n";
  for (const auto& iface : net.interfaces) {
    const Plan p = PlanFor(net, iface);
    out += "\nIF=$(iface " + iface.mac + ")  # " + iface.name + " on the host\nif [ -n \"$IF\" ]; then\n";
    if (p.v4.empty()) out += "\tifconfig \"$IF\" up\n";
    for (std::size_t i = 0; i < p.v4.size(); ++i) {
      out += "\tifconfig \"$IF" + (i == 0 ? std::string() : ":" + std::to_string(i)) + "\" " + p.v4[i].ip +
             " netmask " + Ipv4Netmask(p.v4[i].prefix) + " up\n";
    }
    for (const auto& a : p.v6) out += "\tifconfig \"$IF\" add " + a.ip + "/" + std::to_string(a.prefix) + "\n";
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

std::string AlpineIpParam(const HostNetwork& net) {
  for (const auto& r : net.routes) {
    if (r.ipv6 || r.destination != "0.0.0.0/0") continue;
    const HostInterface* iface = net.Find(r.interface);
    if (!iface) continue;
    const Plan p = PlanFor(net, *iface);
    if (p.v4.empty()) continue;
    std::string param = "ip=" + p.v4[0].ip + "::" + r.gateway + ":" + Ipv4Netmask(p.v4[0].prefix) + "::" +
                        iface->ramos_name + ":none";
    int dns = 0;
    for (const auto& n : net.nameservers) {
      if (!IsV6(n) && dns++ < 2) param += ":" + n;
    }
    return param;
  }
  return "";
}

}  // namespace agent
