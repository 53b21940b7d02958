// This host's network as the RAM OS needs it: on a cloud that gives no DHCP
// (DigitalOcean's public interface), the RAM OS can only reach the network
// with the addresses, routes and DNS servers the host has now. Captured
// through base::Sys, so tests read a fake /proc and /sys.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/base.h"

namespace host {

/// Where an interface's IPv4 addresses came from, as this host's network
/// software records it (see Ipv4Origin).
struct AddressOrigin {
  enum class Kind { kUnknown, kDhcp, kStatic } kind = Kind::kUnknown;
  std::string evidence;  ///< "systemd-networkd's lease /run/systemd/netif/leases/2"; "" when kUnknown
};
std::string_view OriginName(AddressOrigin::Kind kind);

/// A network device of this host that has addresses the RAM OS should take over.
struct HostInterface {
  std::string name;        ///< on this host: "ens3", "eth0"
  std::string ramos_name;  ///< what a kernel without udev renaming calls it: "eth0", "eth1" … in ifindex order
  std::string mac;         ///< "52:54:00:12:34:56": the one name that holds in any OS
  std::vector<std::string> addresses;  ///< "203.0.113.5/20", "2001:db8::5/64"; link-local ones left out
  unsigned mtu = 0;        ///< /sys/class/net/NAME/mtu (GCP's 1460); 0 when unreadable
  long ifindex = 0;        ///< the name systemd-networkd and NetworkManager file their state under
  AddressOrigin origin;    ///< of its IPv4 addresses (kUnknown when it has none)

  /// The MTU the RAM OS must set: one that is not Ethernet's default 1500, which every OS starts with.
  bool CarriesMtu() const { return mtu != 0 && mtu != 1500; }
};

/// A route through a gateway (the default routes, and any other via a router).
struct HostRoute {
  std::string destination;  ///< "0.0.0.0/0", "10.0.0.0/8", "::/0"
  std::string gateway;      ///< "203.0.113.1", "fe80::1"
  std::string interface;    ///< the host's name of the interface
  bool ipv6 = false;
};

struct HostNetwork {
  std::vector<HostInterface> interfaces;
  std::vector<HostRoute> routes;         ///< only through `interfaces`
  std::vector<std::string> nameservers;  ///< never a loopback stub (127.0.0.53): nothing answers there in the RAM OS
  std::vector<std::string> search;

  /// The interface named `host_name` on this host; nullptr when not captured.
  const HostInterface* Find(std::string_view host_name) const;

  /// Whether `route`'s gateway lies outside every prefix of its family on its
  /// interface (GCP's 10.128.0.5/32 via 10.128.0.1, Hetzner's /32 via
  /// 172.31.1.1): the RAM OS must then add a host route to it first and the
  /// route itself `onlink`, or the kernel refuses the route. An IPv6
  /// link-local gateway (fe80::1) is on the link by definition: false.
  bool GatewayOffSubnet(const HostRoute& route) const;
};

/// How the RAM OS configures its network: by DHCP (its own default), or with
/// the captured configuration written into it.
enum class NetworkMode { kDhcp, kStatic };
std::string_view NetworkModeName(NetworkMode mode);

/// --network (or user-data's options.network): "dhcp", "static", or "auto",
/// which is static on DigitalOcean (its public interface has no DHCP server)
/// and, until the host's network is read (ChooseAutoMode decides then), dhcp
/// elsewhere. kUsage for anything else.
[[nodiscard]] base::Result<NetworkMode> ChooseNetworkMode(std::string_view option, bool on_digitalocean);

/// Where `iface`'s IPv4 addresses came from, read through `sys` (so tests give
/// a fake tree), first match wins:
///  - systemd-networkd: /run/systemd/netif/leases/IFINDEX naming one of its
///    addresses → DHCP; /run/systemd/netif/links/IFINDEX with a DHCP4_ADDRESS=
///    or DHCP_LEASE= line → DHCP, else ADMIN_STATE=configured → static;
///  - NetworkManager: /run/NetworkManager/devices/IFINDEX's connection-uuid=,
///    and its lease /var/lib/NetworkManager/{internal,dhclient}-UUID-NAME.lease
///    naming an address → DHCP; managed without such a lease → static;
///  - ifupdown: NAME up in /run/network/ifstate, and its `iface NAME inet …`
///    method in /etc/network/interfaces or interfaces.d/50-cloud-init(.cfg);
///  - dhclient's lease files (/var/lib/dhcp/dhclient.NAME.leases,
///    /var/lib/dhcp/dhclient.leases, /var/lib/dhclient/dhclient--NAME.lease)
///    naming the interface and one of its addresses → DHCP;
///  - dhcpcd's lease (/var/lib/dhcpcd/NAME.lease, dhcpcd-NAME.lease, or
///    /var/lib/dhcpcd5/), a DHCP message whose yiaddr is one of its addresses → DHCP.
/// A lease counts only when it names an address the interface has now: lease
/// files outlive a switch to a static configuration. Anything else is kUnknown.
AddressOrigin Ipv4Origin(base::Sys& sys, const HostInterface& iface);

/// `auto`'s choice and why, for the plan and network.json.
struct AutoMode {
  NetworkMode mode = NetworkMode::kDhcp;
  std::string reason;  ///< "DigitalOcean gives no DHCP", "eth0 (ens3 here): systemd-networkd's lease …"
};

/// `auto`: static on DigitalOcean (its public interface has no DHCP server);
/// DHCP when every carried interface with an IPv4 address got it from DHCP
/// (the RAM OS then asks the same servers) or nothing is carried at all;
/// static otherwise, the unknown included: the host's own configuration is
/// the one known to work here.
AutoMode ChooseAutoMode(const HostNetwork& net, bool on_digitalocean);

/// Reads the network: devices from /proc/net/dev that are Ethernet (type 1)
/// with a device behind them (/sys/class/net/NAME/device/uevent), their MAC and
/// ifindex and MTU from /sys/class/net/NAME, the origin of its IPv4
/// (Ipv4Origin), addresses from getifaddrs, routes through
/// a gateway from /proc/net/route and /proc/net/ipv6_route, DNS from
/// /etc/resolv.conf, or /run/systemd/resolve/resolv.conf when that names only
/// systemd-resolved's stub. An unreadable /proc/net/dev is an error; a missing
/// resolv.conf or route table is empty. What the RAM OS's files could not
/// carry safely is left out: an interface whose name is not printable ASCII or
/// whose address is not a MAC, a nameserver that is not an IP address, a
/// search domain that is not a DNS name.
[[nodiscard]] base::Result<HostNetwork> CaptureHostNetwork(base::Sys& sys);

/// etc/bootrino/network.json: the mode, why (`reason`, for auto; omitted when
/// ""), and everything captured, for the RAM OS's own tools.
nlohmann::ordered_json NetworkJson(const HostNetwork& net, NetworkMode mode, const std::string& reason = "");

/// One line for a person: "static: eth0 (52:54:00:…) 203.0.113.5/20, via 203.0.113.1; DNS 1.1.1.1".
std::string DescribeNetwork(const HostNetwork& net, NetworkMode mode);

}  // namespace host
