// A captured host network written in the forms RAM OSes read: ifupdown's
// /etc/network/interfaces (Debian's ifupdown, busybox's, Alpine's
// ifupdown-ng), /etc/resolv.conf, a Tiny Core boot script, and the ip= kernel
// parameter of Alpine's initramfs. Pure functions of HostNetwork.
#pragma once

#include <string>

#include "host/host.h"

namespace ramos {

/// /etc/network/interfaces: lo, then each captured interface under its RAM OS
/// name ("eth0"), after a comment naming its MAC. kDhcp: `inet dhcp` stanzas
/// (eth0 when nothing was captured), with an `up ip link set … mtu` line for
/// an MTU other than 1500. kStatic: an `inet static` and/or `inet6 static`
/// stanza with the first address of the family, the MTU (`mtu`, when not
/// 1500) and the default gateway; further addresses and routes as `up ip …`
/// lines. A gateway outside the interface's prefixes gets a host route and
/// `onlink` routes instead of `gateway`. Each static stanza first runs
/// kInterfaceNamesPath (pre-up), which the style must ship beside it.
std::string InterfacesFile(const host::HostNetwork& net, host::NetworkMode mode);

/// Where InterfaceNamesScript goes in the RAM OS (relative to its root).
inline constexpr const char* kInterfaceNamesPath = "etc/bootrino/ifnames.sh";

/// A busybox sh script, run as the `pre-up` of every static stanza, that
/// renames each captured interface's device (found by its MAC in
/// /sys/class/net) to its RAM OS name, so the stanzas bind by MAC and not by
/// the order the RAM OS's kernel finds devices in.
std::string InterfaceNamesScript(const host::HostNetwork& net);

/// /etc/resolv.conf with the captured name servers and search domains; "" when there are none.
std::string ResolvConf(const host::HostNetwork& net);

/// Tiny Core's static network, a busybox sh script run from /opt/bootlocal.sh:
/// finds each interface by its MAC (names differ between OSes), sets its
/// MTU and addresses with ifconfig and its routes with route, then writes resolv.conf.
std::string TinyCoreNetworkScript(const host::HostNetwork& net);

/// Alpine's initramfs network before the apkovl is applied (it fetches packages
/// from alpine_repo): ip=CLIENT::GATEWAY:NETMASK::DEVICE:none[:DNS[:DNS]] for
/// the interface holding the IPv4 default route (mkinitfs-bootparam(7)); ""
/// when there is no such route.
std::string AlpineIpParam(const host::HostNetwork& net);

/// "255.255.240.0" for 20.
std::string Ipv4Netmask(unsigned prefix);

}  // namespace ramos
